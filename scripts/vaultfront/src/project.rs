//! The checkout the tool works on, its samconfig.toml, the target stack,
//! and running the external commands (`sam`, scripts) in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::cli::Target;
use crate::error::Error;
use crate::preflight::{self, Credentials, Environment, Region};
use crate::samconfig::SamConfig;

/// samconfig.toml's environment; the tool always uses the default one.
pub const CONFIG_ENV: &str = "default";

pub struct Project {
    pub root: PathBuf,
    pub samconfig: SamConfig,
    pub env: Environment,
}

impl Project {
    /// VAULTFRONT_ROOT, else the nearest directory upwards holding both
    /// samconfig.toml and infra/template.yaml.
    pub fn open(env: Environment) -> Result<Project, Error> {
        let root = match env.get("VAULTFRONT_ROOT") {
            Some(root) => PathBuf::from(root),
            None => {
                let here = std::env::current_dir()
                    .map_err(|err| Error::NoRoot(format!("the current directory ({err})")))?;
                here.ancestors()
                    .find(|dir| is_root(dir))
                    .map(Path::to_path_buf)
                    .ok_or_else(|| Error::NoRoot(here.display().to_string()))?
            }
        };
        if !is_root(&root) {
            return Err(Error::NoRoot(root.display().to_string()));
        }
        let samconfig = SamConfig::read(&root.join("samconfig.toml"))?;
        Ok(Project {
            root,
            samconfig,
            env,
        })
    }

    pub fn stack_name(&self, target: &Target) -> Result<String, Error> {
        let name = target
            .stack_name
            .clone()
            .or_else(|| {
                self.samconfig
                    .get_str(CONFIG_ENV, "deploy", "stack_name")
                    .map(str::to_owned)
            })
            .ok_or(Error::NoStackName)?;
        let valid = name.len() <= 128
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if valid {
            Ok(name)
        } else {
            Err(Error::StackName(name))
        }
    }

    /// Credentials, then region: both from local state only.
    pub fn account(&self, target: &Target) -> Result<(Credentials, Region), Error> {
        let credentials = preflight::credentials(
            &self.env,
            target.profile.as_deref(),
            target.instance_credentials,
        )?;
        let region = preflight::region(
            &self.env,
            target.region.as_deref(),
            self.samconfig.get_str(CONFIG_ENV, "deploy", "region"),
            target.profile.as_deref(),
        )?;
        Ok((credentials, region))
    }
}

fn is_root(dir: &Path) -> bool {
    dir.join("samconfig.toml").is_file() && dir.join("infra/template.yaml").is_file()
}

/// `--region`, and `--profile` when one was named: what every sam call needs.
pub fn account_args(target: &Target, region: &Region) -> Vec<String> {
    let mut args = vec!["--region".to_owned(), region.name.clone()];
    if let Some(profile) = &target.profile {
        args.extend(["--profile".to_owned(), profile.clone()]);
    }
    args
}

/// How a command reads in messages.
pub fn shown(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program())
        .to_string_lossy()
        .into_owned();
    std::iter::once(program)
        .chain(command.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run with the terminal attached (sam streams its progress), in `root`.
pub fn run(mut command: Command, root: &Path) -> Result<(), Error> {
    let text = shown(&command);
    println!("\n$ {text}");
    let status = command
        .current_dir(root)
        .status()
        .map_err(|source| Error::Spawn {
            command: text.clone(),
            source,
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::StepFailed {
            command: text,
            status: status.to_string(),
        })
    }
}

/// Run and capture stdout and stderr (for output that is parsed).
pub fn capture(mut command: Command, root: &Path) -> Result<Output, Error> {
    let text = shown(&command);
    command
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            command: text,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_the_checkout_and_names_the_stack() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let env = Environment::from_pairs([("VAULTFRONT_ROOT", root.to_str().unwrap())]);
        let project = Project::open(env).unwrap();
        assert_eq!(
            project.stack_name(&Target::default()).unwrap(),
            "vaultfront"
        );
        let target = Target {
            stack_name: Some("my-data-2".into()),
            ..Target::default()
        };
        assert_eq!(project.stack_name(&target).unwrap(), "my-data-2");
        for bad in ["2data", "my_data", "a".repeat(129).as_str()] {
            let target = Target {
                stack_name: Some(bad.into()),
                ..Target::default()
            };
            assert!(
                matches!(project.stack_name(&target), Err(Error::StackName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_wrong_root_is_named() {
        let env = Environment::from_pairs([("VAULTFRONT_ROOT", "/nonexistent")]);
        let err = Project::open(env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("/nonexistent") && err.contains("VAULTFRONT_ROOT"),
            "{err}"
        );
    }

    #[test]
    fn commands_read_as_typed() {
        let mut command = Command::new("/opt/tools/sam");
        command.args(["deploy", "--region", "eu-west-1"]);
        assert_eq!(shown(&command), "sam deploy --region eu-west-1");
        let target = Target {
            profile: Some("ops".into()),
            ..Target::default()
        };
        let region = Region {
            name: "eu-west-1".into(),
            source: "AWS_REGION".into(),
        };
        assert_eq!(
            account_args(&target, &region),
            ["--region", "eu-west-1", "--profile", "ops"]
        );
    }
}
