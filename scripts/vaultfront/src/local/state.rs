//! The local stack's state, kept in `<state dir>/state.json` so that a
//! re-run and `--destroy` know what exists: moto's pid and port (moto keeps
//! its data in memory, so it is left running between runs), the parameters,
//! and every resource made, in creation order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::LocalError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MotoState {
    pub pid: u32,
    pub port: u16,
    pub log: PathBuf,
}

impl MotoState {
    /// `localhost`, not `127.0.0.1`: moto routes S3 by host name.
    pub fn endpoint(&self) -> String {
        format!("http://localhost:{}", self.port)
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackState {
    pub stack_name: String,
    pub stack_id: String,
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

    pub fn load(dir: &Path) -> Result<Option<StackState>, LocalError> {
        let path = Self::path(dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                LocalError::State(format!(
                    "{} is not valid ({e}); delete it and the moto it names",
                    path.display()
                ))
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(LocalError::State(format!(
                "reading {}: {err}",
                path.display()
            ))),
        }
    }

    /// Written after every resource, so a crash loses at most the one in flight.
    pub fn save(&self, dir: &Path) -> Result<(), LocalError> {
        let path = Self::path(dir);
        let text =
            serde_json::to_string_pretty(self).map_err(|e| LocalError::State(e.to_string()))?;
        let temporary = dir.join("state.json.tmp");
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|e| LocalError::State(format!("writing {}: {e}", path.display())))
    }

    pub fn remove(dir: &Path) -> Result<(), LocalError> {
        match std::fs::remove_file(Self::path(dir)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(LocalError::State(err.to_string())),
        }
    }

    pub fn resource(&self, logical_id: &str) -> Option<&ResourceState> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }
}
