//! The command line, parsed by hand: four subcommands and a few options
//! are not worth a dependency that `scripts/deploy` would compile first.

pub const USAGE: &str = "\
usage: vaultfront <command> [options]

commands:
  build     sam build (release, arm64) and check the three bootstrap binaries
  check     check samconfig.toml's parameters, then scripts/check-template
  deploy    preflight, sam build, sam deploy, then print the stack's outputs
  destroy   explain what is retained, then sam delete the stack

options (deploy, destroy):
  --stack-name NAME        stack to deploy or delete (default: samconfig.toml's)
  --region REGION          AWS region (default: samconfig.toml, AWS_REGION, AWS_DEFAULT_REGION, profile)
  --profile PROFILE        AWS CLI profile (default: AWS_PROFILE)
  --instance-credentials   use the EC2/ECS role, which cannot be seen without a network call
options (deploy):
  --parameter NAME=VALUE   override one template parameter (repeatable), e.g. RetentionDays=90
  --no-build               deploy what the last `vaultfront build` made
options (destroy):
  --yes                    do not ask for confirmation

`--local` (deploy to an emulator) is not available yet.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Build,
    Check,
    Deploy(DeployArgs),
    Destroy(DestroyArgs),
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
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestroyArgs {
    pub target: Target,
    pub yes: bool,
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
    #[error("`--local` (deploy to a local emulator) is not there yet: it arrives with issue 7; deploy to AWS without it")]
    LocalNotAvailable,
}

pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(UsageError::NoCommand);
    };
    if rest.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    if rest
        .iter()
        .any(|a| a == "--local" || a.starts_with("--local="))
    {
        return Err(UsageError::LocalNotAvailable);
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
                    _ => target_option(&mut deploy.target, &option, &mut options)?,
                }
            }
            Ok(Command::Deploy(deploy))
        }
        "destroy" => {
            let mut destroy = DestroyArgs::default();
            let mut options = Options::new("destroy", rest);
            while let Some(option) = options.next_option() {
                match option.as_str() {
                    "--yes" | "-y" => destroy.yes = true,
                    _ => target_option(&mut destroy.target, &option, &mut options)?,
                }
            }
            Ok(Command::Destroy(destroy))
        }
        other => Err(UsageError::UnknownCommand(other.to_owned())),
    }
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
            }))
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(parse_words(""), Err(UsageError::NoCommand));
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
            parse_words("deploy --local"),
            Err(UsageError::LocalNotAvailable)
        );
        assert_eq!(parse_words("deploy --help"), Ok(Command::Help));
    }
}
