//! The local stack's state, kept in `<state dir>/state.json` so that a
//! re-run and `--destroy` know what exists: moto's pid and port (moto keeps
//! its data in memory, so it is left running between runs), the parameters,
//! and every resource made, in creation order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MotoState {
    pub pid: u32,
    pub port: u16,
    pub log: PathBuf,
    /// The Python it runs on: a later run reuses it only if that is still
    /// the tool venv's (another moto version answers differently).
    #[serde(default)]
    pub python: PathBuf,
}

impl MotoState {
    pub fn endpoint(&self) -> String {
        crate::moto::endpoint(self.port)
    }

    /// Is the moto of an earlier run still answering?
    pub fn alive(&self) -> bool {
        std::net::TcpStream::connect((std::net::Ipv4Addr::LOCALHOST, self.port)).is_ok()
            && crate::process::alive(self.pid)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceState {
    pub logical_id: String,
    pub kind: String,
    pub physical_id: String,
    /// Properties with every intrinsic resolved (custom resources: as sent,
    /// before stringifying), for OldResourceProperties on an update.
    pub properties: Value,
    pub attributes: BTreeMap<String, Value>,
    pub retained: bool,
}

/// The stack's status, as CloudFormation names it, after the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StackStatus {
    /// A first Create under way (or killed before it ended).
    CreateInProgress,
    CreateComplete,
    /// The first Create failed and was rolled back: CloudFormation cannot
    /// update such a stack, only delete it.
    RollbackComplete,
    UpdateInProgress,
    UpdateComplete,
    UpdateRollbackComplete,
}

impl StackStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StackStatus::CreateInProgress => "CREATE_IN_PROGRESS",
            StackStatus::CreateComplete => "CREATE_COMPLETE",
            StackStatus::RollbackComplete => "ROLLBACK_COMPLETE",
            StackStatus::UpdateInProgress => "UPDATE_IN_PROGRESS",
            StackStatus::UpdateComplete => "UPDATE_COMPLETE",
            StackStatus::UpdateRollbackComplete => "UPDATE_ROLLBACK_COMPLETE",
        }
    }

    /// The status once a run that started in `self` has ended.
    pub fn after_run(self, succeeded: bool) -> StackStatus {
        match (self, succeeded) {
            (StackStatus::CreateInProgress, true) => StackStatus::CreateComplete,
            (StackStatus::CreateInProgress, false) => StackStatus::RollbackComplete,
            (_, true) => StackStatus::UpdateComplete,
            (_, false) => StackStatus::UpdateRollbackComplete,
        }
    }
}

/// What a run does with the stack the state file describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// No stack (or its moto, and so its data, is gone): start moto and create.
    Create,
    /// The first Create never completed (rolled back, or killed while in
    /// progress): delete what is left, except what is retained, and create
    /// afresh under a new stack id, as CloudFormation requires.
    Recreate(StackStatus),
    /// A stack that exists: update it.
    Update,
}

/// The decision for the next run, from the last run's state (and whether
/// the moto holding its data still runs).
pub fn start(previous: Option<&StackState>, moto_alive: bool) -> Start {
    match previous {
        Some(stack) if moto_alive => match stack.status() {
            status @ (StackStatus::RollbackComplete | StackStatus::CreateInProgress) => {
                Start::Recreate(status)
            }
            _ => Start::Update,
        },
        _ => Start::Create,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackState {
    pub stack_name: String,
    pub stack_id: String,
    /// None in a state file written before the status was kept: see `status()`.
    #[serde(default)]
    pub status: Option<StackStatus>,
    pub moto: MotoState,
    pub parameters: BTreeMap<String, String>,
    /// The functions' build profile at the last up: destroy runs the same
    /// binaries (and does not start a release build of its own).
    #[serde(default)]
    pub release: bool,
    /// In creation order; destroy walks it backwards.
    pub resources: Vec<ResourceState>,
    pub outputs: BTreeMap<String, String>,
}

impl StackState {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("state.json")
    }

    pub fn load(dir: &Path) -> Result<Option<StackState>, Error> {
        let path = Self::path(dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Error::State(format!(
                    "{} is not valid ({e}); delete it and the moto it names",
                    path.display()
                ))
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Error::State(format!("reading {}: {err}", path.display()))),
        }
    }

    /// Written after every resource, so a crash loses at most the one in flight.
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        let path = Self::path(dir);
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::State(e.to_string()))?;
        let temporary = dir.join("state.json.tmp");
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|e| Error::State(format!("writing {}: {e}", path.display())))
    }

    pub fn remove(dir: &Path) -> Result<(), Error> {
        match std::fs::remove_file(Self::path(dir)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(Error::State(err.to_string())),
        }
    }

    /// The status; a state file without one had outputs only if a Create
    /// had completed.
    pub fn status(&self) -> StackStatus {
        self.status.unwrap_or(if self.outputs.is_empty() {
            StackStatus::RollbackComplete
        } else {
            StackStatus::UpdateComplete
        })
    }

    pub fn resource(&self, logical_id: &str) -> Option<&ResourceState> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(status: Option<StackStatus>, outputs: &[(&str, &str)]) -> StackState {
        StackState {
            stack_name: "s".into(),
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1".into(),
            status,
            moto: MotoState {
                pid: 1,
                port: 1,
                log: PathBuf::new(),
                python: PathBuf::new(),
            },
            parameters: BTreeMap::new(),
            release: false,
            resources: Vec::new(),
            outputs: outputs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_failed_first_create_is_recreated_not_updated() {
        let first = StackStatus::CreateInProgress;
        let failed = stack(Some(first.after_run(false)), &[]);
        assert_eq!(failed.status(), StackStatus::RollbackComplete);
        assert_eq!(
            start(Some(&failed), true),
            Start::Recreate(StackStatus::RollbackComplete)
        );
        // A run killed mid-Create never wrote its outcome.
        let killed = stack(Some(first), &[]);
        assert_eq!(
            start(Some(&killed), true),
            Start::Recreate(StackStatus::CreateInProgress)
        );
        // Its moto gone, nothing is left to delete: a plain create.
        assert_eq!(start(Some(&failed), false), Start::Create);
        assert_eq!(start(None, false), Start::Create);
    }

    #[test]
    fn a_created_or_updated_stack_is_updated_even_after_a_failed_update() {
        assert_eq!(
            StackStatus::CreateInProgress.after_run(true),
            StackStatus::CreateComplete
        );
        for status in [
            StackStatus::CreateComplete,
            StackStatus::UpdateComplete,
            StackStatus::UpdateRollbackComplete,
        ] {
            assert_eq!(start(Some(&stack(Some(status), &[])), true), Start::Update);
            assert_eq!(
                status.after_run(false),
                StackStatus::UpdateRollbackComplete,
                "{status:?}"
            );
        }
    }

    #[test]
    fn a_state_file_without_a_status_is_judged_by_its_outputs() {
        assert_eq!(stack(None, &[]).status(), StackStatus::RollbackComplete);
        assert_eq!(
            stack(None, &[("CdnUrl", "https://x")]).status(),
            StackStatus::UpdateComplete
        );
    }
}
