//! `vaultfront deploy`: a preflight that needs no network (parameters,
//! credentials, region), then `sam build`, `sam deploy` with every
//! parameter spelled out, and the stack's outputs.

use std::time::Instant;

use crate::artifacts;
use crate::build::{self, print_artifacts};
use crate::cdn_key;
use crate::cli::DeployArgs;
use crate::error::Error;
use crate::local::Clients;
use crate::outputs;
use crate::parameters::{self, Parameters};
use crate::preflight;
use crate::project::{self, Project, CONFIG_ENV};
use crate::samconfig::Value;
use crate::stack_status;
use crate::tools::{Part, Tools};

/// samconfig.toml's parameter overrides, then the command line's, over the
/// template defaults.
pub fn parameters(project: &Project, cli: &[String]) -> Result<Parameters, Error> {
    let mut merged = Parameters::defaults();
    match project
        .samconfig
        .get(CONFIG_ENV, "deploy", "parameter_overrides")
    {
        Some(Value::String(text)) => merged.apply(&parameters::parse_overrides(text)?),
        Some(Value::Array(items)) => {
            for item in items {
                let text = item.as_str().unwrap_or_default();
                merged.apply(&parameters::parse_overrides(text)?);
            }
        }
        _ => {}
    }
    let from_cli = cli
        .iter()
        .map(|assignment| parameters::parse_assignment(assignment))
        .collect::<Result<Vec<_>, _>>()?;
    merged.apply(&from_cli);
    // A PEM pasted whole becomes the body the template takes.
    let given = merged.get("CdnPublicKey").to_owned();
    if given.contains("-----BEGIN") || given.contains('\n') {
        let body = crate::cdn_key::normalize_public_key(&given)?;
        merged.apply(&[("CdnPublicKey".to_owned(), body)]);
    }
    Ok(merged)
}

pub fn deploy(project: &Project, args: &DeployArgs) -> Result<(), Error> {
    let started = Instant::now();
    let stack = project.stack_name(&args.target)?;
    let mut parameters = parameters(project, &args.parameters)?;
    let summary = parameters.check().map_err(Error::Parameters)?;
    let (credentials, region) = project.account(&args.target)?;
    parameters
        .check_region(&region.name)
        .map_err(|problem| Error::Parameters(vec![problem]))?;
    let signing_key = cdn_key::provide(&mut parameters, args.cdn_key_change(), || {
        cdn_key::aws_key_dir(&project.env, &region.name, &stack)
    })?;

    println!(
        "vaultfront: preflight passed in {} ms",
        started.elapsed().as_millis()
    );
    println!("  stack        {stack}");
    println!("  region       {} (from {})", region.name, region.source);
    println!("  credentials  {credentials}");
    println!("  retention    {}", summary.retention);
    println!(
        "  CloudFront   {} origin access, {}",
        parameters.get("OriginAccess"),
        parameters.get("PriceClass")
    );
    println!(
        "  S3 API       {} on stage {}",
        parameters.get("ApiMethods"),
        parameters.get("ApiStageName")
    );
    println!(
        "  API logs     every request into the log bucket (Firehose, api-access/); execution logs {}",
        parameters.get("ApiExecutionLogging")
    );
    println!("{}", signing_key.describe());
    if parameters.get("ApiExecutionLogging") == "ERROR" {
        println!("\n  {}", preflight::EXECUTION_LOGS_NEED_THE_ACCOUNT_ROLE);
    }
    if summary.compliance {
        println!(
            "\n  COMPLIANCE retention: no one, the root user included, can delete an object version \
             or shorten its retention before it ends. The bucket and its storage bill outlive the stack."
        );
    }
    if summary.reduction_allowed {
        println!(
            "\n  AllowRetentionReduction=true: this update may shorten retention. Set it back to false afterwards."
        );
    }

    // Before the build: a stack only a delete can clear is said so now,
    // not as sam's change-set error minutes later.
    if let Some(blocked) = stack_is_blocked(&stack, &region.name, &args.target)? {
        return Err(Error::StackBlocked(blocked));
    }

    let tools = Tools::from_env(&project.env);
    if args.no_build {
        tools.ensure(&project.root, Part::Deploy, &["sam"])?;
        print_artifacts(&artifacts::check(&project.root.join(".aws-sam/build"))?);
    } else {
        build::build(project, &tools)?;
    }

    let account = project::account_args(&args.target, &region);
    // Every parameter, spelled out: what the preflight checked is what
    // CloudFormation gets (a bare --parameter-overrides would replace
    // samconfig.toml's list, not add to it).
    let overrides = parameters
        .to_overrides()
        .iter()
        .map(|word| quote_value(word))
        .collect::<Vec<_>>()
        .join(" ");
    let mut sam = tools.command("sam");
    sam.args(["deploy", "--stack-name", &stack])
        .args(&account)
        .args(["--parameter-overrides", &overrides]);
    project::run(sam, &project.root)?;

    let list = outputs::list_command(&tools, &stack, &account);
    let output = project::capture(list, &project.root)?;
    let text = String::from_utf8_lossy(&output.stdout);
    let stack_outputs = outputs::parse(&text).map_err(Error::Outputs)?;
    println!("\nvaultfront: deployed {stack} to {}:", region.name);
    print!("{}", outputs::table(&stack_outputs));
    if let cdn_key::Provided::Kept { keys, .. } = &signing_key {
        // Not a stack output: the private key never leaves this machine.
        for (slot, key) in keys {
            println!(
                "  (private key of {}: {})",
                cdn_key::SLOT_OUTPUTS[*slot],
                key.path.display()
            );
        }
    }
    if let Some(api) = outputs::value(&stack_outputs, "ApiInvokeUrl") {
        println!(
            "\nThe S3 API takes SigV4-signed requests (service execute-api), for example:\n  \
             curl --aws-sigv4 \"aws:amz:{}:execute-api\" --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" {api}/<key>\n\
             (with temporary credentials add -H \"x-amz-security-token: $AWS_SESSION_TOKEN\")",
            region.name
        );
    }
    Ok(())
}

/// The stack's state on AWS, as far as it stops a deploy; a failure to ask
/// is only a warning (sam meets the same cause and reports it).
fn stack_is_blocked(
    stack: &str,
    region: &str,
    target: &crate::cli::Target,
) -> Result<Option<stack_status::Blocked>, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Spawn {
            command: "the async runtime".into(),
            source,
        })?;
    let found = rt.block_on(async {
        let clients =
            Clients::from_environment(Some(region.to_owned()), target.profile.clone()).await;
        stack_status::check(&clients.cloudformation, stack).await
    });
    match found {
        Ok(blocked) => Ok(blocked),
        Err(err) => {
            println!("vaultfront: could not read the state of stack {stack} ({err}); going on");
            Ok(None)
        }
    }
}

/// `Key=value` -> `Key="value"`, escaped as sam's override parser expects.
fn quote_value(word: &str) -> String {
    match word.split_once('=') {
        Some((key, value)) => format!(
            "{key}=\"{}\"",
            value.replace('\\', "\\\\").replace('"', "\\\"")
        ),
        None => word.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_quoted_for_sam() {
        assert_eq!(
            quote_value("ApiMethods=GET,HEAD"),
            "ApiMethods=\"GET,HEAD\""
        );
        assert_eq!(quote_value("DomainName="), "DomainName=\"\"");
        assert_eq!(quote_value("X=a\"b"), "X=\"a\\\"b\"");
        // Round trip through our own reading of sam's syntax.
        let words = Parameters::defaults().to_overrides();
        let line = words
            .iter()
            .map(|w| quote_value(w))
            .collect::<Vec<_>>()
            .join(" ");
        let back = parameters::parse_overrides(&line).unwrap();
        assert_eq!(back.len(), words.len());
        assert!(back.contains(&("DomainName".into(), String::new())));
    }
}
