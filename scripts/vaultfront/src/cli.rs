//! The command line, with clap: every command and option, and `--help` for
//! each. What clap cannot say (options that only mean something with, or
//! without, `--local`) is checked after parsing, in [`parse`].

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::cdn_key::KeyChange;

#[derive(Debug, Parser)]
#[command(
    name = "vaultfront",
    about = "Build, check, deploy and verify vaultfront: a private, immutable store for AI data on AWS",
    after_help = "\
Local mode (deploy, destroy, verify and url with --local) needs no AWS account: the stack in
moto on loopback, native resources through the SDK, each custom resource's real handler under
`cargo lambda watch`, driven with CloudFormation's events. moto is left running between runs
(it keeps its data in memory); destroy stops it. OriginAccess=OAI is refused locally: moto has
no CloudFront OAI API. VAULTFRONT_LOCAL_PROFILE=release runs the release builds of the functions."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Build the three functions (cargo lambda, release, arm64), pack them with sam build, check each bootstrap
    Build,
    /// Check samconfig.toml's parameters, then scripts/check-template
    Check,
    /// Preflight, sam build, sam deploy, then print the stack's outputs
    Deploy(DeployArgs),
    /// Explain what is retained, then sam delete the stack
    Destroy(DestroyArgs),
    /// Audit a deployed stack (local or AWS): a table of guarantees, PASS or FAIL
    Verify(VerifyArgs),
    /// A signed URL for one object of the stack (CdnAccess=signed), or signed cookies
    Url(UrlArgs),
    /// Sign any CloudFront URL with a given key (canned policy); prints the URL only, for scripts
    SignUrl(SignUrlArgs),
    /// Signed cookies (custom policy) for a resource with a given key; one NAME=VALUE per line
    SignCookies(SignUrlArgs),
    /// Copy a file to or from the stack's S3 API: cp FILE s3api://KEY, cp s3api://KEY FILE
    Cp(CpArgs),
}

/// Which stack, where, and as whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct Target {
    /// The stack (default: samconfig.toml's stack_name)
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,
    /// AWS region (default: samconfig.toml, AWS_REGION, AWS_DEFAULT_REGION, the profile's)
    #[arg(long)]
    pub region: Option<String>,
    /// AWS CLI profile (default: AWS_PROFILE)
    #[arg(long)]
    pub profile: Option<String>,
    /// Use the EC2/ECS role, which cannot be seen without a network call
    #[arg(long)]
    pub instance_credentials: bool,
}

/// `--local` and where its state lives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct Local {
    /// The stack in moto on loopback, no AWS account (see the end of `vaultfront --help`)
    #[arg(long = "local")]
    pub enabled: bool,
    /// With --local: the local stack's state and logs (default: target/local-stack)
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<String>,
    /// With --local: the SAM template to deploy (default: infra/template.yaml)
    #[arg(long, value_name = "FILE")]
    pub template: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub target: Target,
    /// Override one template parameter (repeatable), e.g. RetentionDays=90
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// Deploy what the last `vaultfront build` made
    #[arg(long)]
    pub no_build: bool,
    #[command(flatten)]
    pub local: Local,
    /// CdnAccess=signed: make a second signing key and trust both; `url` signs with the new one
    #[arg(long, conflicts_with = "retire_cdn_key")]
    pub rotate_cdn_key: bool,
    /// Stop trusting the older of the two keys (after the URLs it signed have expired)
    #[arg(long)]
    pub retire_cdn_key: bool,
}

impl DeployArgs {
    pub fn cdn_key_change(&self) -> KeyChange {
        match (self.rotate_cdn_key, self.retire_cdn_key) {
            (true, _) => KeyChange::Rotate,
            (_, true) => KeyChange::Retire,
            _ => KeyChange::Keep,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub target: Target,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub local: Local,
    /// With --local: leave moto running afterwards (to inspect what is left)
    #[arg(long)]
    pub keep_emulator: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub local: Local,
    /// Print the guarantees as JSON
    #[arg(long)]
    pub json: bool,
    /// AWS: also put a 0-byte object under vaultfront-verify/ and try to delete its version (it
    /// must be refused); the probe stays until its default retention ends, which is the point
    #[arg(long)]
    pub probe: bool,
}

/// `url KEY` or `url --prefix PREFIX`: from the stack's outputs and key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["key", "prefix"])))]
pub struct UrlArgs {
    /// The object key: prints <CdnUrl>/KEY signed with the stack's key (canned policy)
    pub key: Option<String>,
    /// Instead of KEY: signed cookies for every key under PREFIX (custom policy on
    /// <CdnUrl>/PREFIX*), as curl -b options and as Set-Cookie values
    #[arg(long, conflicts_with = "key")]
    pub prefix: Option<String>,
    /// How long it is valid: seconds, or 90s, 15m, 2h, 7d
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = duration)]
    pub expires_in: u64,
    /// Sign with this key (one you brought as CdnPublicKey) instead of the one deploy made
    #[arg(long, value_name = "FILE")]
    pub private_key: Option<String>,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub local: Local,
}

/// `sign-url` and `sign-cookies`: everything given, nothing read from a stack.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct SignUrlArgs {
    /// The URL (a resource for cookies, which may end in *); spaces and non-ASCII are
    /// percent-encoded first
    pub url: String,
    /// The private key (PEM, PKCS#8 or PKCS#1)
    #[arg(long, value_name = "FILE")]
    pub private_key: String,
    /// The CloudFront public key's id (the stack's CdnKeyPairId output)
    #[arg(long, value_name = "ID")]
    pub key_pair_id: String,
    /// How long it is valid: seconds, or 90s, 15m, 2h, 7d
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub expires_in: u64,
}

/// `cp SOURCE DESTINATION`: one side is s3api://KEY.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct CpArgs {
    /// A file or directory, or s3api://KEY
    pub source: String,
    /// s3api://KEY (a key ending in / is a prefix), or a file
    pub destination: String,
    /// Upload every file under a directory, keys below the prefix
    #[arg(long, short = 'r')]
    pub recursive: bool,
    /// The API (default: the stack's ApiInvokeUrl output)
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Part and range size in MiB, 5 to 9 (default 8); a larger file goes multipart
    #[arg(long = "part-size", value_name = "MIB")]
    pub part_size_mib: Option<u64>,
    /// Requests in flight (default 4); memory is about N x part size
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
    #[command(flatten)]
    pub target: Target,
}

/// What clap cannot check: options that need, or refuse, `--local`.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(transparent)]
    Clap(#[from] clap::Error),
    #[error("`{0}` works only with --local")]
    LocalOnly(String),
    #[error("`{0}` is for AWS and means nothing with --local (moto takes test credentials in us-east-1)")]
    NotWithLocal(String),
    #[error("`{0}` is for AWS: moto has no UpdateKeyGroup, so the local stack's key group cannot change (README: Signed URLs and cookies)")]
    RotationNotLocal(&'static str),
    #[error("`--probe` is for AWS: locally moto refuses every object write to the data bucket (the TLS-only Deny on its plain-HTTP endpoint), so there is nothing to probe")]
    ProbeNotLocal,
}

/// Parse the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let cli =
        Cli::try_parse_from(std::iter::once("vaultfront").chain(args.iter().map(String::as_str)))?;
    match &cli.command {
        Command::Deploy(deploy) => {
            check_local(&deploy.local, &deploy.target, deploy.no_build)?;
            if deploy.local.enabled {
                match deploy.cdn_key_change() {
                    KeyChange::Rotate => {
                        return Err(UsageError::RotationNotLocal("--rotate-cdn-key"))
                    }
                    KeyChange::Retire => {
                        return Err(UsageError::RotationNotLocal("--retire-cdn-key"))
                    }
                    KeyChange::Keep => {}
                }
            }
        }
        Command::Destroy(destroy) => {
            if destroy.keep_emulator && !destroy.local.enabled {
                return Err(UsageError::LocalOnly("--keep-emulator".into()));
            }
            check_local(&destroy.local, &destroy.target, false)?;
        }
        Command::Verify(verify) => {
            check_local(&verify.local, &verify.target, false)?;
            if verify.probe && verify.local.enabled {
                return Err(UsageError::ProbeNotLocal);
            }
        }
        Command::Url(url) => check_local(&url.local, &url.target, false)?,
        _ => {}
    }
    Ok(cli.command)
}

fn duration(text: &str) -> Result<u64, String> {
    crate::signing::parse_duration(text)
        .ok_or_else(|| "not a duration; use seconds (3600) or 90s, 15m, 2h, 7d".to_owned())
}

/// With --local: no AWS-only options; without it: no local-only ones.
fn check_local(local: &Local, target: &Target, no_build: bool) -> Result<(), UsageError> {
    if local.enabled {
        let aws_only = [
            ("--region", target.region.is_some()),
            ("--profile", target.profile.is_some()),
            ("--instance-credentials", target.instance_credentials),
            ("--no-build", no_build),
        ];
        if let Some((option, _)) = aws_only.iter().find(|(_, given)| *given) {
            return Err(UsageError::NotWithLocal((*option).to_owned()));
        }
    } else if local.state_dir.is_some() {
        return Err(UsageError::LocalOnly("--state-dir".into()));
    } else if local.template.is_some() {
        return Err(UsageError::LocalOnly("--template".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse_words(words: &str) -> Result<Command, UsageError> {
        let args: Vec<String> = words.split_whitespace().map(str::to_owned).collect();
        parse(&args)
    }

    fn clap_error(words: &str) -> ErrorKind {
        match parse_words(words) {
            Err(UsageError::Clap(err)) => err.kind(),
            other => panic!("`{words}` gave {other:?}, not a clap error"),
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn cp_takes_two_paths_and_its_options() {
        assert_eq!(
            parse_words("cp -r data s3api://sets/ --parallel 8 --part-size=6 --stack-name vault --api-url http://x/v1").ok(),
            Some(Command::Cp(CpArgs {
                source: "data".into(),
                destination: "s3api://sets/".into(),
                recursive: true,
                api_url: Some("http://x/v1".into()),
                part_size_mib: Some(6),
                parallel: Some(8),
                target: Target {
                    stack_name: Some("vault".into()),
                    ..Target::default()
                },
            }))
        );
        assert_eq!(clap_error("cp a"), ErrorKind::MissingRequiredArgument);
        assert_eq!(
            clap_error("cp a s3api://b --parallel many"),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            clap_error("cp a s3api://b --bogus"),
            ErrorKind::UnknownArgument
        );
    }

    #[test]
    fn deploy_options_in_both_spellings() {
        assert_eq!(
            parse_words("deploy --stack-name=data --region eu-west-1 --parameter RetentionDays=90 --parameter=ApiMethods=GET,HEAD,PUT --no-build --instance-credentials").ok(),
            Some(Command::Deploy(DeployArgs {
                target: Target {
                    stack_name: Some("data".into()),
                    region: Some("eu-west-1".into()),
                    profile: None,
                    instance_credentials: true,
                },
                parameters: vec!["RetentionDays=90".into(), "ApiMethods=GET,HEAD,PUT".into()],
                no_build: true,
                ..DeployArgs::default()
            }))
        );
        assert_eq!(
            parse_words("destroy --yes --profile ops").ok(),
            Some(Command::Destroy(DestroyArgs {
                target: Target {
                    profile: Some("ops".into()),
                    ..Target::default()
                },
                yes: true,
                ..DestroyArgs::default()
            }))
        );
        let Ok(Command::Deploy(rotate)) = parse_words("deploy --rotate-cdn-key") else {
            panic!("deploy --rotate-cdn-key did not parse");
        };
        assert_eq!(rotate.cdn_key_change(), KeyChange::Rotate);
        assert_eq!(
            clap_error("deploy --rotate-cdn-key --retire-cdn-key"),
            ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn local_options() {
        let Ok(Command::Deploy(deploy)) = parse_words(
            "deploy --local --state-dir /tmp/s --template t.yaml --parameter RetentionDays=9",
        ) else {
            panic!("deploy --local did not parse");
        };
        assert_eq!(
            deploy.local,
            Local {
                enabled: true,
                state_dir: Some("/tmp/s".into()),
                template: Some("t.yaml".into())
            }
        );
        assert_eq!(
            parse_words("verify --local --json").ok(),
            Some(Command::Verify(VerifyArgs {
                local: Local {
                    enabled: true,
                    ..Local::default()
                },
                json: true,
                ..VerifyArgs::default()
            }))
        );
        assert_eq!(
            parse_words("verify --probe --region eu-west-1").ok(),
            Some(Command::Verify(VerifyArgs {
                target: Target {
                    region: Some("eu-west-1".into()),
                    ..Target::default()
                },
                probe: true,
                ..VerifyArgs::default()
            }))
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(
            clap_error(""),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        assert!(matches!(
            parse_words("verify --local --probe"),
            Err(UsageError::ProbeNotLocal)
        ));
        assert_eq!(clap_error("launch"), ErrorKind::InvalidSubcommand);
        assert_eq!(clap_error("deploy --yes"), ErrorKind::UnknownArgument);
        assert_eq!(clap_error("deploy --region"), ErrorKind::InvalidValue);
        assert_eq!(clap_error("build --region x"), ErrorKind::UnknownArgument);
        assert!(matches!(
            parse_words("destroy --keep-emulator"),
            Err(UsageError::LocalOnly(option)) if option == "--keep-emulator"
        ));
        assert!(matches!(
            parse_words("deploy --state-dir x"),
            Err(UsageError::LocalOnly(option)) if option == "--state-dir"
        ));
        assert!(matches!(
            parse_words("deploy --local --rotate-cdn-key"),
            Err(UsageError::RotationNotLocal("--rotate-cdn-key"))
        ));
        assert!(matches!(
            parse_words("deploy --local --region eu-west-1"),
            Err(UsageError::NotWithLocal(option)) if option == "--region"
        ));
        for command in [
            "deploy", "destroy", "verify", "url", "sign-url", "cp", "build",
        ] {
            assert_eq!(
                clap_error(&format!("{command} --help")),
                ErrorKind::DisplayHelp,
                "{command}"
            );
        }
    }

    #[test]
    fn url_and_sign_url() {
        assert_eq!(
            parse_words("url models/m.bin --expires-in 2h --stack-name data").ok(),
            Some(Command::Url(UrlArgs {
                target: Target {
                    stack_name: Some("data".into()),
                    ..Target::default()
                },
                key: Some("models/m.bin".into()),
                expires_in: 7_200,
                ..UrlArgs::default()
            }))
        );
        let Ok(Command::Url(cookies)) = parse_words("url --prefix datasets/ --local") else {
            panic!("url --prefix did not parse");
        };
        assert_eq!(cookies.prefix.as_deref(), Some("datasets/"));
        assert_eq!(cookies.expires_in, 3_600, "an hour unless told");
        assert_eq!(clap_error("url a --prefix b"), ErrorKind::ArgumentConflict);
        assert_eq!(clap_error("url"), ErrorKind::MissingRequiredArgument);
        assert_eq!(
            clap_error("url a --expires-in soon"),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            parse_words(
                "sign-url https://d.net/a --private-key k.pem --key-pair-id K1 --expires-in 60"
            )
            .ok(),
            Some(Command::SignUrl(SignUrlArgs {
                url: "https://d.net/a".into(),
                private_key: "k.pem".into(),
                key_pair_id: "K1".into(),
                expires_in: 60,
            }))
        );
        let Err(UsageError::Clap(err)) =
            parse_words("sign-url https://d.net/a --private-key k.pem --expires-in 60")
        else {
            panic!("sign-url without --key-pair-id parsed");
        };
        assert!(err.to_string().contains("--key-pair-id"), "{err}");
    }
}
