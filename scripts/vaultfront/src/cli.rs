//! The command line, parsed by hand: four subcommands and a few options
//! are not worth a dependency that `scripts/deploy` would compile first.

pub const USAGE: &str = "\
usage: vaultfront <command> [options]

commands:
  build     sam build (release, arm64) and check the three bootstrap binaries
  check     check samconfig.toml's parameters, then scripts/check-template
  deploy    preflight, sam build, sam deploy, then print the stack's outputs
  destroy   explain what is retained, then sam delete the stack
  verify    audit a deployed stack (local or AWS): a table of guarantees, PASS or FAIL
  url       a signed URL for one object of the stack (CdnAccess=signed), or signed cookies
  sign-url  sign any CloudFront URL with a given key; prints the URL only, for scripts
  sign-cookies  signed cookies for a resource with a given key, for scripts
  cp        copy a file to or from the stack's S3 API: cp FILE s3api://KEY, cp s3api://KEY FILE

options (deploy, destroy):
  --stack-name NAME        stack to deploy or delete (default: samconfig.toml's)
  --region REGION          AWS region (default: samconfig.toml, AWS_REGION, AWS_DEFAULT_REGION, profile)
  --profile PROFILE        AWS CLI profile (default: AWS_PROFILE)
  --instance-credentials   use the EC2/ECS role, which cannot be seen without a network call
options (deploy):
  --parameter NAME=VALUE   override one template parameter (repeatable), e.g. RetentionDays=90
  --no-build               deploy what the last `vaultfront build` made
  --rotate-cdn-key         CdnAccess=signed: make a second signing key and trust both;
                           `url` signs with the new one (README: Signed URLs and cookies)
  --retire-cdn-key         stop trusting the older of the two keys (after the URLs it
                           signed have expired)
options (destroy):
  --yes                    do not ask for confirmation
options (verify):
  --json                   print the guarantees as JSON
  --probe                  AWS: also put a 0-byte object under vaultfront-verify/ and try to
                           delete its version (it must be refused); the probe stays until its
                           default retention ends, which is the point
  --stack-name, --region, --profile as above (AWS), or --local

options (cp SOURCE DESTINATION): one side is s3api://KEY (a key ending in / is a prefix)
  -r, --recursive          upload every file under a directory, keys below the prefix
  --api-url URL            the API (default: the stack's ApiInvokeUrl output, from --stack-name)
  --part-size MIB          part and range size, 5 to 9 (default 8); more goes multipart
  --parallel N             requests in flight (default 4); memory is about N x part size
  --stack-name, --region, --profile as above; credentials: the AWS CLI's chain

local mode (deploy, destroy, verify --local): no AWS account needed
  --local                  the stack in moto on loopback: native resources through the SDK,
                           each custom resource's real handler under `cargo lambda watch`,
                           driven with CloudFormation's events. moto is left running
                           between runs (it keeps its data in memory); destroy stops it.
  --state-dir DIR          the local stack's state and logs (default: target/local-stack)
  --template FILE          the SAM template to deploy (default: infra/template.yaml)
  --keep-emulator          destroy: leave moto running afterwards (to inspect what is left)
  VAULTFRONT_LOCAL_PROFILE=debug   run debug builds of the functions (default: release)
  OriginAccess=OAI is refused locally: moto has no CloudFront OAI API.

url KEY [options]          <CdnUrl>/KEY signed with the stack's key (canned policy)
  --prefix PREFIX          instead of KEY: signed cookies for every key under PREFIX
                           (custom policy on <CdnUrl>/PREFIX*), as curl -b options
                           and as Set-Cookie values
  --expires-in DURATION    how long it is valid: 90s, 15m, 2h, 7d (default 1h)
  --private-key FILE       sign with this key (one you brought as CdnPublicKey) instead
                           of the one deploy made
  --stack-name, --region, --profile as above (AWS), or --local [--state-dir DIR]
sign-url URL --private-key FILE --key-pair-id ID --expires-in SECONDS
                           URL signed with a canned policy (RSA SHA-256), on stdout only
                           (spaces and non-ASCII characters are percent-encoded first)
sign-cookies RESOURCE --private-key FILE --key-pair-id ID --expires-in SECONDS
                           signed cookies (custom policy) for RESOURCE, which may end
                           in *: one NAME=VALUE line per cookie, on stdout only";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Build,
    Check,
    Deploy(DeployArgs),
    Destroy(DestroyArgs),
    Verify(VerifyArgs),
    Url(UrlArgs),
    SignUrl(SignUrlArgs),
    SignCookies(SignUrlArgs),
    Cp(CpArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpArgs {
    pub source: String,
    pub destination: String,
    pub recursive: bool,
    pub api_url: Option<String>,
    pub part_size_mib: Option<u64>,
    pub parallel: Option<usize>,
    pub target: Target,
}

/// `url KEY` or `url --prefix PREFIX`: from the stack's outputs and key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlArgs {
    pub target: Target,
    pub local: Local,
    pub key: Option<String>,
    pub prefix: Option<String>,
    /// A key of the user's own instead of the one deploy made.
    pub private_key: Option<String>,
    /// Seconds from now.
    pub expires_in: u64,
}

/// `sign-url`: everything given, nothing read from a stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignUrlArgs {
    pub url: String,
    pub private_key: String,
    pub key_pair_id: String,
    pub expires_in: u64,
}

/// `url`'s validity when --expires-in is not given: an hour.
pub const DEFAULT_URL_LIFETIME: u64 = 3_600;

/// `--local` and where its state lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Local {
    pub enabled: bool,
    pub state_dir: Option<String>,
    pub template: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyArgs {
    pub target: Target,
    pub local: Local,
    pub json: bool,
    /// Write a probe object to prove a new version is locked (AWS opt-in).
    pub probe: bool,
}

/// Which stack, where, and as whom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub stack_name: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub instance_credentials: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployArgs {
    pub target: Target,
    /// `NAME=VALUE` as given; parsed and checked with samconfig's.
    pub parameters: Vec<String>,
    pub no_build: bool,
    pub local: Local,
    /// --rotate-cdn-key / --retire-cdn-key.
    pub cdn_key_change: crate::cdn_key::KeyChange,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestroyArgs {
    pub target: Target,
    pub yes: bool,
    pub local: Local,
    pub keep_emulator: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("no command given")]
    NoCommand,
    #[error("unknown command `{0}`")]
    UnknownCommand(String),
    #[error("unknown option `{option}` for `{command}`")]
    UnknownOption { command: String, option: String },
    #[error("`{0}` needs a value")]
    MissingValue(String),
    #[error("`{0}` works only with --local")]
    LocalOnly(String),
    #[error("`{0}` is for AWS and means nothing with --local (moto takes test credentials in us-east-1)")]
    NotWithLocal(String),
    #[error("`{option}`: `{value}` is not a duration; use seconds (3600) or 90s, 15m, 2h, 7d")]
    Duration { option: String, value: String },
    #[error("`{command}` needs {what}")]
    Missing {
        command: &'static str,
        what: &'static str,
    },
    #[error("`url` takes a KEY or --prefix PREFIX, not both")]
    KeyAndPrefix,
    #[error("`cp` takes a SOURCE and a DESTINATION, one of them s3api://KEY; got {0} path(s)")]
    CpPaths(usize),
    #[error("`{option}` takes a whole number, not `{value}`")]
    NotANumber { option: String, value: String },
    #[error("`--probe` is for AWS: locally moto refuses every object write to the data bucket (the TLS-only Deny on its plain-HTTP endpoint), so there is nothing to probe")]
    ProbeNotLocal,
}

pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(UsageError::NoCommand);
    };
    if rest.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    match command.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "build" => no_options("build", rest).map(|()| Command::Build),
        "check" => no_options("check", rest).map(|()| Command::Check),
        "deploy" => {
            let mut deploy = DeployArgs::default();
            let mut options = Options::new("deploy", rest);
            while let Some(option) = options.next_option() {
                match option.as_str() {
                    "--parameter" => deploy.parameters.push(options.value(&option)?),
                    "--no-build" => deploy.no_build = true,
                    "--rotate-cdn-key" => deploy.cdn_key_change = crate::cdn_key::KeyChange::Rotate,
                    "--retire-cdn-key" => deploy.cdn_key_change = crate::cdn_key::KeyChange::Retire,
                    _ if local_option(&mut deploy.local, &option, &mut options)? => {}
                    _ => target_option(&mut deploy.target, &option, &mut options)?,
                }
            }
            check_local(&deploy.local, &deploy.target, deploy.no_build)?;
            Ok(Command::Deploy(deploy))
        }
        "destroy" => {
            let mut destroy = DestroyArgs::default();
            let mut options = Options::new("destroy", rest);
            while let Some(option) = options.next_option() {
                match option.as_str() {
                    "--yes" | "-y" => destroy.yes = true,
                    "--keep-emulator" => destroy.keep_emulator = true,
                    _ if local_option(&mut destroy.local, &option, &mut options)? => {}
                    _ => target_option(&mut destroy.target, &option, &mut options)?,
                }
            }
            if destroy.keep_emulator && !destroy.local.enabled {
                return Err(UsageError::LocalOnly("--keep-emulator".into()));
            }
            check_local(&destroy.local, &destroy.target, false)?;
            Ok(Command::Destroy(destroy))
        }
        "verify" => {
            let mut verify = VerifyArgs::default();
            let mut options = Options::new("verify", rest);
            while let Some(option) = options.next_option() {
                match option.as_str() {
                    "--json" => verify.json = true,
                    "--probe" => verify.probe = true,
                    _ if local_option(&mut verify.local, &option, &mut options)? => {}
                    _ => target_option(&mut verify.target, &option, &mut options)?,
                }
            }
            check_local(&verify.local, &verify.target, false)?;
            if verify.probe && verify.local.enabled {
                return Err(UsageError::ProbeNotLocal);
            }
            Ok(Command::Verify(verify))
        }
        "url" => {
            let mut url = UrlArgs {
                expires_in: DEFAULT_URL_LIFETIME,
                ..UrlArgs::default()
            };
            let mut options = Options::new("url", rest);
            while let Some(option) = options.next_option() {
                match option.as_str() {
                    "--prefix" => url.prefix = Some(options.value(&option)?),
                    "--private-key" => url.private_key = Some(options.value(&option)?),
                    "--expires-in" => url.expires_in = duration(&option, &mut options)?,
                    _ if local_option(&mut url.local, &option, &mut options)? => {}
                    key if !key.starts_with('-') && url.key.is_none() => {
                        url.key = Some(key.to_owned())
                    }
                    _ => target_option(&mut url.target, &option, &mut options)?,
                }
            }
            match (&url.key, &url.prefix) {
                (Some(_), Some(_)) => return Err(UsageError::KeyAndPrefix),
                (None, None) => {
                    return Err(UsageError::Missing {
                        command: "url",
                        what: "a KEY (an object key) or --prefix PREFIX",
                    })
                }
                _ => {}
            }
            check_local(&url.local, &url.target, false)?;
            Ok(Command::Url(url))
        }
        name @ ("sign-url" | "sign-cookies") => {
            let command: &'static str = if name == "sign-url" {
                "sign-url"
            } else {
                "sign-cookies"
            };
            let mut sign = SignUrlArgs::default();
            let mut options = Options::new(command, rest);
            while let Some(option) = options.next_option() {
                match option.as_str() {
                    "--private-key" => sign.private_key = options.value(&option)?,
                    "--key-pair-id" => sign.key_pair_id = options.value(&option)?,
                    "--expires-in" => sign.expires_in = duration(&option, &mut options)?,
                    url if !url.starts_with('-') && sign.url.is_empty() => {
                        sign.url = url.to_owned()
                    }
                    _ => {
                        return Err(UsageError::UnknownOption {
                            command: command.into(),
                            option,
                        })
                    }
                }
            }
            for (missing, what) in [
                (
                    sign.url.is_empty(),
                    "a URL (a resource, which may end in *)",
                ),
                (sign.private_key.is_empty(), "--private-key FILE"),
                (sign.key_pair_id.is_empty(), "--key-pair-id ID"),
                (sign.expires_in == 0, "--expires-in SECONDS"),
            ] {
                if missing {
                    return Err(UsageError::Missing { command, what });
                }
            }
            if command == "sign-url" {
                Ok(Command::SignUrl(sign))
            } else {
                Ok(Command::SignCookies(sign))
            }
        }
        "cp" => {
            let mut cp = CpArgs::default();
            let mut paths = Vec::new();
            let mut options = Options::new("cp", rest);
            while let Some(option) = options.next_option() {
                match option.as_str() {
                    "-r" | "--recursive" => cp.recursive = true,
                    "--api-url" => cp.api_url = Some(options.value(&option)?),
                    "--part-size" => cp.part_size_mib = Some(number(&option, &mut options)?),
                    "--parallel" => cp.parallel = Some(number(&option, &mut options)?),
                    path if !path.starts_with('-') => paths.push(option.clone()),
                    _ => target_option(&mut cp.target, &option, &mut options)?,
                }
            }
            let [source, destination] =
                <[String; 2]>::try_from(paths).map_err(|paths| UsageError::CpPaths(paths.len()))?;
            cp.source = source;
            cp.destination = destination;
            Ok(Command::Cp(cp))
        }
        other => Err(UsageError::UnknownCommand(other.to_owned())),
    }
}

fn duration(option: &str, options: &mut Options<'_>) -> Result<u64, UsageError> {
    let value = options.value(option)?;
    crate::signing::parse_duration(&value).ok_or_else(|| UsageError::Duration {
        option: option.to_owned(),
        value,
    })
}

fn number<T: std::str::FromStr>(option: &str, options: &mut Options<'_>) -> Result<T, UsageError> {
    let value = options.value(option)?;
    value.parse().map_err(|_| UsageError::NotANumber {
        option: option.to_owned(),
        value,
    })
}

fn no_options(command: &str, rest: &[String]) -> Result<(), UsageError> {
    match rest.first() {
        None => Ok(()),
        Some(option) => Err(UsageError::UnknownOption {
            command: command.to_owned(),
            option: option.clone(),
        }),
    }
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

/// `--local`, `--state-dir`, `--template`; true when `option` was one.
fn local_option(
    local: &mut Local,
    option: &str,
    options: &mut Options<'_>,
) -> Result<bool, UsageError> {
    match option {
        "--local" => local.enabled = true,
        "--state-dir" => local.state_dir = Some(options.value(option)?),
        "--template" => local.template = Some(options.value(option)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn target_option(
    target: &mut Target,
    option: &str,
    options: &mut Options<'_>,
) -> Result<(), UsageError> {
    match option {
        "--stack-name" => target.stack_name = Some(options.value(option)?),
        "--region" => target.region = Some(options.value(option)?),
        "--profile" => target.profile = Some(options.value(option)?),
        "--instance-credentials" => target.instance_credentials = true,
        _ => {
            return Err(UsageError::UnknownOption {
                command: options.command.to_owned(),
                option: option.to_owned(),
            })
        }
    }
    Ok(())
}

/// `--name value` and `--name=value`, one at a time.
struct Options<'a> {
    command: &'a str,
    args: std::slice::Iter<'a, String>,
    inline_value: Option<String>,
}

impl<'a> Options<'a> {
    fn new(command: &'a str, args: &'a [String]) -> Options<'a> {
        Options {
            command,
            args: args.iter(),
            inline_value: None,
        }
    }

    fn next_option(&mut self) -> Option<String> {
        let arg = self.args.next()?;
        match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                self.inline_value = Some(value.to_owned());
                Some(name.to_owned())
            }
            _ => {
                self.inline_value = None;
                Some(arg.clone())
            }
        }
    }

    fn value(&mut self, option: &str) -> Result<String, UsageError> {
        self.inline_value
            .take()
            .or_else(|| self.args.next().cloned())
            .ok_or_else(|| UsageError::MissingValue(option.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Command, UsageError> {
        let args: Vec<String> = words.split_whitespace().map(str::to_owned).collect();
        parse(&args)
    }

    #[test]
    fn cp_takes_two_paths_and_its_options() {
        assert_eq!(
            parse_words("cp -r data s3api://sets/ --parallel 8 --part-size=6 --stack-name vault --api-url http://x/v1"),
            Ok(Command::Cp(CpArgs {
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
        assert_eq!(parse_words("cp a"), Err(UsageError::CpPaths(1)));
        assert_eq!(
            parse_words("cp a s3api://b --parallel many"),
            Err(UsageError::NotANumber {
                option: "--parallel".into(),
                value: "many".into()
            })
        );
        assert!(matches!(
            parse_words("cp a s3api://b --bogus"),
            Err(UsageError::UnknownOption { .. })
        ));
    }

    #[test]
    fn deploy_options_in_both_spellings() {
        assert_eq!(
            parse_words("deploy --stack-name=data --region eu-west-1 --parameter RetentionDays=90 --parameter=ApiMethods=GET,HEAD,PUT --no-build --instance-credentials"),
            Ok(Command::Deploy(DeployArgs {
                target: Target {
                    stack_name: Some("data".into()),
                    region: Some("eu-west-1".into()),
                    profile: None,
                    instance_credentials: true,
                },
                parameters: vec!["RetentionDays=90".into(), "ApiMethods=GET,HEAD,PUT".into()],
                no_build: true,
                local: Local::default(),
                cdn_key_change: crate::cdn_key::KeyChange::Keep,
            }))
        );
        assert_eq!(
            parse_words("destroy --yes --profile ops"),
            Ok(Command::Destroy(DestroyArgs {
                target: Target {
                    profile: Some("ops".into()),
                    ..Target::default()
                },
                yes: true,
                ..DestroyArgs::default()
            }))
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
            parse_words("verify --local --json"),
            Ok(Command::Verify(VerifyArgs {
                local: Local {
                    enabled: true,
                    ..Local::default()
                },
                json: true,
                ..VerifyArgs::default()
            }))
        );
        assert_eq!(
            parse_words("verify --probe --region eu-west-1"),
            Ok(Command::Verify(VerifyArgs {
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
        assert_eq!(parse_words(""), Err(UsageError::NoCommand));
        assert_eq!(
            parse_words("verify --local --probe"),
            Err(UsageError::ProbeNotLocal)
        );
        assert_eq!(
            parse_words("launch"),
            Err(UsageError::UnknownCommand("launch".into()))
        );
        assert_eq!(
            parse_words("deploy --yes"),
            Err(UsageError::UnknownOption {
                command: "deploy".into(),
                option: "--yes".into()
            })
        );
        assert_eq!(
            parse_words("deploy --region"),
            Err(UsageError::MissingValue("--region".into()))
        );
        assert_eq!(
            parse_words("build --region x")
                .map(|_| ())
                .unwrap_err()
                .to_string(),
            "unknown option `--region` for `build`"
        );
        assert_eq!(
            parse_words("destroy --keep-emulator"),
            Err(UsageError::LocalOnly("--keep-emulator".into()))
        );
        assert_eq!(
            parse_words("deploy --state-dir x"),
            Err(UsageError::LocalOnly("--state-dir".into()))
        );
        assert_eq!(
            parse_words("deploy --local --region eu-west-1"),
            Err(UsageError::NotWithLocal("--region".into()))
        );
        assert_eq!(parse_words("deploy --help"), Ok(Command::Help));
    }

    #[test]
    fn url_and_sign_url() {
        assert_eq!(
            parse_words("url models/m.bin --expires-in 2h --stack-name data"),
            Ok(Command::Url(UrlArgs {
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
        assert_eq!(cookies.expires_in, DEFAULT_URL_LIFETIME);
        assert_eq!(
            parse_words("url a --prefix b"),
            Err(UsageError::KeyAndPrefix)
        );
        assert!(matches!(
            parse_words("url"),
            Err(UsageError::Missing { .. })
        ));
        assert!(matches!(
            parse_words("url a --expires-in soon"),
            Err(UsageError::Duration { .. })
        ));
        assert_eq!(
            parse_words(
                "sign-url https://d.net/a --private-key k.pem --key-pair-id K1 --expires-in 60"
            ),
            Ok(Command::SignUrl(SignUrlArgs {
                url: "https://d.net/a".into(),
                private_key: "k.pem".into(),
                key_pair_id: "K1".into(),
                expires_in: 60,
            }))
        );
        assert_eq!(
            parse_words("sign-url https://d.net/a --private-key k.pem --expires-in 60")
                .map(|_| ())
                .unwrap_err()
                .to_string(),
            "`sign-url` needs --key-pair-id ID"
        );
    }
}
