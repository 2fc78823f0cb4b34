//! Everything that can stop the tool, each with the fix in its message.

use crate::artifacts::ArtifactError;
use crate::cli::UsageError;
use crate::local::LocalError;
use crate::parameters::{OverridesError, Problem};
use crate::preflight::PreflightError;
use crate::samconfig::SamConfigError;
use crate::tools::ToolError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} (`vaultfront --help` lists the commands and options)")]
    Usage(#[from] UsageError),
    #[error("a command-line argument is not valid UTF-8: {0:?}")]
    Argument(std::ffi::OsString),
    #[error("cannot find the vaultfront checkout (samconfig.toml and infra/template.yaml) from {0}; run from inside it, or set VAULTFRONT_ROOT")]
    NoRoot(String),
    #[error(transparent)]
    SamConfig(#[from] SamConfigError),
    #[error(transparent)]
    Overrides(#[from] OverridesError),
    #[error("the parameters would not deploy; fix them in samconfig.toml or with --parameter NAME=VALUE:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Parameters(Vec<Problem>),
    #[error("no stack name: pass --stack-name NAME, or set stack_name in samconfig.toml")]
    NoStackName,
    #[error("stack name `{0}` is not valid: it must start with a letter and hold only letters, digits and hyphens (at most 128)")]
    StackName(String),
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error("`{command}` failed ({status}); its output is above")]
    StepFailed { command: String, status: String },
    #[error("could not run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    #[error("reading the stack's outputs: {0}")]
    Outputs(String),
    #[error("destroy asks for confirmation, and standard input is not a terminal: pass --yes to delete without asking")]
    NeedsConfirmation,
    #[error("the stack name was not typed; nothing was deleted")]
    NotConfirmed,
    #[error("{0}")]
    StackBlocked(crate::stack_status::Blocked),
    #[error("local stack: {0}")]
    Local(#[from] LocalError),
    #[error("{0} guarantee(s) FAILED (see the table above)")]
    VerifyFailed(usize),
    #[error(transparent)]
    CdnKey(#[from] crate::cdn_key::CdnKeyError),
    #[error(transparent)]
    Signing(#[from] crate::signing::SigningError),
    #[error("{0}")]
    SignedUrl(String),
    #[error("cp: {0}")]
    Cp(crate::cp::CpError),
}

impl Error {
    /// 2 for a command line that cannot be run as written, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Argument(_) => 2,
            _ => 1,
        }
    }
}
