//! `vaultfront destroy`: say plainly what stays behind (the locked bucket
//! cannot be deleted while any object version is under retention, and it
//! keeps costing storage), ask, then `sam delete`.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::DestroyArgs;
use crate::error::Error;
use crate::outputs::{self, Output};
use crate::project::{self, Project};
use crate::tools::{Part, Tools};

pub fn destroy(project: &Project, args: &DestroyArgs) -> Result<(), Error> {
    let stack = project.stack_name(&args.target)?;
    let (credentials, region) = project.account(&args.target)?;
    println!(
        "vaultfront: stack {stack} in {} (from {}), as {credentials}",
        region.name, region.source
    );
    let tools = Tools::from_env(&project.env);
    tools.ensure(&project.root, Part::Deploy, &["sam"])?;
    let account = project::account_args(&args.target, &region);

    // The outputs name the buckets that will be left behind.
    let list = outputs::list_command(&tools, &stack, &account);
    let listed = project::capture(list, &project.root)?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&listed.stdout),
        String::from_utf8_lossy(&listed.stderr)
    );
    if !listed.status.success() && said.contains("does not exist") {
        println!(
            "vaultfront: there is no stack {stack} in {}; nothing to delete",
            region.name
        );
        return Ok(());
    }
    let found = if listed.status.success() {
        outputs::parse(&said).unwrap_or_default()
    } else {
        Vec::new()
    };
    print!("{}", explanation(&stack, &found));

    if !args.yes {
        confirm(&stack)?;
    }
    let mut sam = tools.command("sam");
    sam.args(["delete", "--stack-name", &stack, "--no-prompts"])
        .args(&account);
    project::run(sam, &project.root)?;
    print!("{}", afterwards(&found));
    Ok(())
}

/// What deleting the stack removes and what it keeps, and why.
fn explanation(stack: &str, found: &[Output]) -> String {
    let bucket = |key| outputs::value(found, key).unwrap_or("(its name is in the stack's outputs)");
    let lock =
        outputs::value(found, "EffectiveObjectLock").unwrap_or("its Object Lock default retention");
    format!(
        "\nDeleting stack {stack} removes the CloudFront distribution, the REST API and its stage, \
the three functions, their roles and log groups.\n\
It keeps, on purpose (DeletionPolicy: Retain):\n  \
- the data bucket {data}, with every object version, its versioning, its bucket policy and {lock}.\n    \
Object Lock cannot be turned off, and no version can be deleted before its retention date: under\n    \
COMPLIANCE not by anyone, the root user included; under GOVERNANCE only with s3:BypassGovernanceRetention.\n    \
Its storage is billed until you empty and delete it, which S3 allows only after the last retention ends.\n  \
- the access-log bucket {logs}; its lifecycle rule keeps expiring old logs.\n",
        data = bucket("DataBucketName"),
        logs = bucket("LogBucketName"),
    )
}

fn afterwards(found: &[Output]) -> String {
    let names: Vec<&str> = ["DataBucketName", "LogBucketName"]
        .iter()
        .filter_map(|key| outputs::value(found, key))
        .collect();
    if names.is_empty() {
        return "\nvaultfront: stack deleted; its buckets are retained (see above).\n".to_owned();
    }
    format!(
        "\nvaultfront: stack deleted. Retained: {}.\n\
To remove a retained bucket later, once no version is under retention: delete every object version \
and delete marker (for example in the S3 console: Empty), then delete the bucket.\n",
        names.join(", ")
    )
}

/// The user types the stack's name, as the S3 console asks for a bucket's.
fn confirm(stack: &str) -> Result<(), Error> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::NeedsConfirmation);
    }
    print!("\nType the stack name ({stack}) to delete it: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|_| Error::NotConfirmed)?;
    if answer.trim() == stack {
        Ok(())
    } else {
        Err(Error::NotConfirmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(key: &str, value: &str) -> Output {
        Output {
            key: key.into(),
            value: value.into(),
            description: String::new(),
        }
    }

    #[test]
    fn names_what_is_retained() {
        let found = [
            output("DataBucketName", "vf-databucket-1"),
            output("LogBucketName", "vf-logbucket-2"),
            output("EffectiveObjectLock", "COMPLIANCE for 7 years"),
        ];
        let text = explanation("vf", &found);
        for expected in [
            "vf-databucket-1",
            "vf-logbucket-2",
            "COMPLIANCE for 7 years",
            "root user",
            "billed",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from {text}");
        }
        assert!(afterwards(&found).contains("Retained: vf-databucket-1, vf-logbucket-2"));
        // Without outputs (a stack that failed half-way) it still explains.
        assert!(explanation("vf", &[]).contains("stack's outputs"));
        assert!(afterwards(&[]).contains("retained"));
    }
}
