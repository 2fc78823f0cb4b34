//! CloudFormation on loopback, without an AWS account: the one simulation
//! the deploy tool's `--local` and the end-to-end tests share.
//!
//! The SAM template is transformed offline (`scripts/vaultfront/sam_to_cfn.py`),
//! then this small engine does CloudFormation's part: resolves intrinsics,
//! orders resources by their references, creates native resources in moto
//! through the SDK, and drives each custom resource's real handler binary
//! (under `cargo lambda watch`) with CloudFormation's events. A FAILED
//! response rolls back what the run created, in reverse order.
//!
//! moto keeps its data in memory, so it is started detached and left
//! running between runs (its pid and port are in the state file);
//! `--local --destroy` deletes the stack and then stops it.

pub mod clients;
pub mod custom;
mod engine;
pub mod http;
pub mod intrinsics;
pub mod lambda;
pub mod moto;
pub mod native;
pub mod plan;
pub mod process;
mod provision;
mod state;
mod table;
pub mod template;

pub use clients::{sdk_text, Clients, ACCOUNT, REGION};
pub use custom::{stringify, Event, ResponseSlot};
pub use engine::{destroy, load, refuse_unsupported, up, LocalOptions, Toolchain};
pub use lambda::{Invocation, LambdaEmulator, LambdaOptions};
pub use moto::Moto;
pub use provision::{FUNCTIONS_BUILD, FUNCTION_BINARIES};
pub use state::StackState;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the template: {0}")]
    Template(String),
    #[error(transparent)]
    Intrinsic(#[from] intrinsics::IntrinsicError),
    #[error("local state: {0}")]
    State(String),
    #[error("{0}")]
    Process(String),
    /// An AWS call the service (or the emulator) answered with an error;
    /// `code` is the service's error code, when it answered.
    #[error("{operation}: {text}")]
    Service {
        operation: String,
        code: Option<String>,
        text: String,
    },
    /// AWS work that failed before or after a call (a request that could
    /// not be built, an answer that could not be read).
    #[error("{0}")]
    Aws(String),
    #[error("custom-resource protocol: {0}")]
    Protocol(String),
    #[error("not available locally: {0}")]
    Unsupported(String),
    #[error("{logical_id} failed: {reason}; what this run created was rolled back")]
    RolledBack { logical_id: String, reason: String },
    #[error("{0}")]
    Destroy(String),
}
