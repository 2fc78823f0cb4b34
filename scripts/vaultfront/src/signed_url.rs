//! `vaultfront url` and `vaultfront sign-url`: signed URLs and cookies for
//! a stack with CdnAccess=signed (README, "Signed URLs and cookies").

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cdn_key;
use crate::cli::{SignUrlArgs, UrlArgs};
use crate::error::Error;
use crate::local;
use crate::outputs;
use crate::project::{self, Project};
use crate::signing::{self, Signer};
use crate::tools::{Part, Tools};

/// The local stack's key directory, under its state directory.
pub fn local_key_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("cdn-key")
}

fn expires(seconds: u64) -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|now| now.as_secs())
        .unwrap_or_default()
        .saturating_add(seconds)
}

pub fn sign_url(args: &SignUrlArgs) -> Result<(), Error> {
    let signer = Signer::from_file(Path::new(&args.private_key), &args.key_pair_id)?;
    let url = signing::encode_url(&args.url);
    println!("{}", signer.canned_url(&url, expires(args.expires_in))?);
    Ok(())
}

pub fn sign_cookies(args: &SignUrlArgs) -> Result<(), Error> {
    let signer = Signer::from_file(Path::new(&args.private_key), &args.key_pair_id)?;
    let resource = signing::encode_url(&args.url);
    for cookie in signer.cookies(&resource, expires(args.expires_in))? {
        println!("{}={}", cookie.name, cookie.value);
    }
    Ok(())
}

/// What `url` needs from a deployed stack.
struct Stack {
    cdn_url: String,
    access: String,
    /// CdnKeyPairId and CdnKeyPairId2, by slot ("" when the slot is empty).
    key_pair_ids: [String; 2],
    key_dir: PathBuf,
}

pub fn url(project: &Project, args: &UrlArgs) -> Result<(), Error> {
    let stack = if args.local.enabled {
        let options = crate::local_stack::options(project, &args.local, None, false)?;
        let state = local::load(&options.state_dir)?;
        let output = |key: &str| state.outputs.get(key).cloned().unwrap_or_default();
        Stack {
            cdn_url: output("CdnUrl"),
            access: output("CdnAccessMode"),
            key_pair_ids: cdn_key::SLOT_OUTPUTS.map(output),
            key_dir: local_key_dir(&options.state_dir),
        }
    } else {
        let name = project.stack_name(&args.target)?;
        let (_, region) = project.account(&args.target)?;
        let tools = Tools::from_env(&project.env);
        tools.ensure(&project.root, Part::Deploy, &["sam"])?;
        let list =
            outputs::list_command(&tools, &name, &project::account_args(&args.target, &region));
        let output = project::capture(list, &project.root)?;
        let found =
            outputs::parse(&String::from_utf8_lossy(&output.stdout)).map_err(Error::Outputs)?;
        let value = |key: &str| outputs::value(&found, key).unwrap_or_default().to_owned();
        Stack {
            cdn_url: value("CdnUrl"),
            access: value("CdnAccessMode"),
            key_pair_ids: cdn_key::SLOT_OUTPUTS.map(value),
            key_dir: cdn_key::aws_key_dir(&project.env, &region.name, &name)?,
        }
    };
    if stack.cdn_url.is_empty() {
        return Err(Error::SignedUrl(
            "the stack has no CdnUrl output; deploy it first (scripts/deploy)".into(),
        ));
    }
    if stack.access == "public" {
        return match &args.key {
            Some(key) => {
                eprintln!("vaultfront: CdnAccess=public: the URL needs no signature, and anyone who has it can read the object");
                println!("{}", signing::object_url(&stack.cdn_url, key));
                Ok(())
            }
            None => Err(Error::SignedUrl(
                "CdnAccess=public: CloudFront serves every key unsigned, so there are no cookies to make".into(),
            )),
        };
    }
    // The newest key the stack trusts (after --rotate-cdn-key, the new one).
    let (key_file, key_pair_id) = match &args.private_key {
        Some(file) => {
            let id = stack.key_pair_ids.iter().find(|id| !id.is_empty());
            (PathBuf::from(file), id.cloned().unwrap_or_default())
        }
        None => cdn_key::newest_trusted(&stack.key_dir, &stack.key_pair_ids)
            .ok_or_else(|| {
                Error::SignedUrl(format!(
                    "no private key in {} for a key the stack trusts: keys are made by the first \
                     signed deploy from this machine; with a key of your own, pass --private-key FILE",
                    stack.key_dir.display()
                ))
            })?,
    };
    if key_pair_id.is_empty() {
        return Err(Error::SignedUrl(
            "the stack has no CdnKeyPairId output: deploy it again with this version of scripts/deploy (CdnAccess=signed is the default)".into(),
        ));
    }
    let signer = Signer::from_file(&key_file, &key_pair_id)?;
    let until = expires(args.expires_in);
    match (&args.key, &args.prefix) {
        (Some(key), _) => {
            println!(
                "{}",
                signer.canned_url(&signing::object_url(&stack.cdn_url, key), until)?
            );
        }
        (None, Some(prefix)) => {
            let resource = format!("{}*", signing::object_url(&stack.cdn_url, prefix));
            let cookies = signer.cookies(&resource, until)?;
            let pairs: Vec<String> = cookies
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect();
            println!("# signed cookies for {resource}, valid until {until} (Unix time)");
            println!("# curl:");
            println!("-b '{}'", pairs.join("; "));
            println!("# Set-Cookie values:");
            for pair in &pairs {
                println!("{pair}; Path=/; Secure; HttpOnly");
            }
        }
        (None, None) => {
            return Err(Error::SignedUrl("give a KEY or --prefix PREFIX".into()));
        }
    }
    Ok(())
}
