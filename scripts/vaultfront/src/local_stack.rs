//! `deploy --local` and `destroy --local`: the command-line side of the
//! local engine (`local/`): parameters from samconfig.toml and the command
//! line, checked as for AWS, and where the local stack's state lives.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::cdn_key;
use crate::cli::{DeployArgs, DestroyArgs, Local, Target};
use crate::deploy;
use crate::error::Error;
use crate::local::{self, LocalOptions};
use crate::parameters::{Parameters, SPECS};
use crate::project::Project;
use crate::signed_url;
use crate::tools::Tools;

/// The default stack name locally (samconfig.toml's, else this).
const LOCAL_STACK_NAME: &str = "vaultfront-local";

/// Where the local stack lives; `install`: its tools are installed first
/// (a deploy or destroy), else only looked up (reading its state).
pub fn options(
    project: &Project,
    local: &Local,
    stack_name: Option<&str>,
    install: bool,
) -> Result<LocalOptions, Error> {
    let relative = |path: &str| {
        let path = PathBuf::from(path);
        if path.is_absolute() {
            path
        } else {
            project
                .env
                .get("PWD")
                .map(PathBuf::from)
                .unwrap_or_else(|| project.root.clone())
                .join(path)
        }
    };
    let target_dir = project
        .env
        .get("CARGO_TARGET_DIR")
        .map(&relative)
        .unwrap_or_else(|| project.root.join("target"));
    let tools = Tools::from_env(&project.env);
    Ok(LocalOptions {
        root: project.root.clone(),
        toolchain: local::toolchain(&project.root, &tools, install)?,
        state_dir: local
            .state_dir
            .as_deref()
            .map(relative)
            .unwrap_or_else(|| target_dir.join("local-stack")),
        template: local
            .template
            .as_deref()
            .map(relative)
            .unwrap_or_else(|| project.root.join("infra/template.yaml")),
        stack_name: stack_name.unwrap_or(LOCAL_STACK_NAME).to_owned(),
        target_dir,
        // Debug builds share what `scripts/deploy` built for itself; release
        // builds (what AWS runs) cost an LTO build of their own.
        release: project.env.get("VAULTFRONT_LOCAL_PROFILE") == Some("release"),
    })
}

pub fn up(project: &Project, args: &DeployArgs) -> Result<(), Error> {
    let mut parameters = deploy::parameters(project, &args.parameters)?;
    parameters.check().map_err(Error::Parameters)?;
    local::refuse_unsupported(&values(&parameters))?;
    let stack = local_stack_name(project, &args.target)?;
    let options = options(project, &args.local, stack.as_deref(), true)?;
    // The local stack's key lives with its state: it signs for moto only.
    let signing_key = cdn_key::provide(&mut parameters, args.cdn_key_change(), || {
        Ok(signed_url::local_key_dir(&options.state_dir))
    })?;
    println!("{}", signing_key.describe());
    local::up(&options, values(&parameters)).map_err(Error::from)
}

fn values(parameters: &Parameters) -> BTreeMap<String, String> {
    SPECS
        .iter()
        .map(|spec| (spec.name.to_owned(), parameters.get(spec.name).to_owned()))
        .collect()
}

pub fn destroy(project: &Project, args: &DestroyArgs) -> Result<(), Error> {
    let stack = local_stack_name(project, &args.target)?;
    let options = options(project, &args.local, stack.as_deref(), true)?;
    local::destroy(&options, args.keep_emulator).map_err(Error::from)
}

/// `--stack-name` if given (checked as for AWS); else the local default,
/// not samconfig.toml's, so a local stack is never mistaken for the real one.
fn local_stack_name(project: &Project, target: &Target) -> Result<Option<String>, Error> {
    match &target.stack_name {
        Some(_) => project.stack_name(target).map(Some),
        None => Ok(None),
    }
}
