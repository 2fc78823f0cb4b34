//! Finding `sam` and `cargo-lambda`, and bootstrapping them with
//! `scripts/setup` when they are missing. scripts/setup installs into
//! VAULTFRONT_TOOLS (default ~/.cache/vaultfront), outside the checkout.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::preflight::Environment;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("`{name}` is still missing after scripts/setup; looked in {looked}")]
    StillMissing { name: String, looked: String },
    #[error("scripts/setup failed ({status}); run it by hand to see why, then try again")]
    SetupFailed { status: String },
    #[error("could not run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
}

/// Where tools are looked for: the project's tool directories first, then PATH.
#[derive(Debug, Clone)]
pub struct Tools {
    dirs: Vec<PathBuf>,
}

impl Tools {
    pub fn from_env(env: &Environment) -> Tools {
        let base = env.get("VAULTFRONT_TOOLS").map(PathBuf::from).or_else(|| {
            env.get("HOME")
                .map(|home| Path::new(home).join(".cache/vaultfront"))
        });
        let own = base
            .into_iter()
            .flat_map(|base| ["venv/bin", "bin", "cargo/bin"].map(|sub| base.join(sub)));
        let path = env
            .get("PATH")
            .map(|path| std::env::split_paths(path).collect::<Vec<_>>())
            .unwrap_or_default();
        Tools {
            dirs: own.chain(path).collect(),
        }
    }

    pub fn find(&self, name: &str) -> Option<PathBuf> {
        self.dirs
            .iter()
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable_file(candidate))
    }

    /// Make sure every tool in `names` is there, running scripts/setup once
    /// if any is not (it installs pinned versions; minutes on a first run).
    pub fn ensure(&self, root: &Path, names: &[&str]) -> Result<(), ToolError> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| self.find(n).is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        println!(
            "vaultfront: {} not found; bootstrapping the tools with scripts/setup (several minutes the first time)",
            missing.join(", ")
        );
        let setup = root.join("scripts/setup");
        let status = Command::new(&setup)
            .current_dir(root)
            .status()
            .map_err(|source| ToolError::Spawn {
                program: setup.display().to_string(),
                source,
            })?;
        if !status.success() {
            return Err(ToolError::SetupFailed {
                status: status.to_string(),
            });
        }
        match missing.into_iter().find(|name| self.find(name).is_none()) {
            Some(name) => Err(ToolError::StillMissing {
                name: name.to_owned(),
                looked: self
                    .dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(":"),
            }),
            None => Ok(()),
        }
    }

    /// A command for tool `name`, with the tool directories on its PATH
    /// (`sam build` runs `cargo lambda`, which must find its own zig).
    pub fn command(&self, name: &str) -> Command {
        let program = self.find(name).unwrap_or_else(|| PathBuf::from(name));
        let mut command = Command::new(program);
        // SAM's telemetry calls home on every run; off unless asked for.
        if name == "sam" && std::env::var_os("SAM_CLI_TELEMETRY").is_none() {
            command.env("SAM_CLI_TELEMETRY", "0");
        }
        if let Ok(path) = std::env::join_paths(&self.dirs) {
            command.env("PATH", path);
        }
        command
    }

    /// The PATH children get.
    #[cfg(test)]
    pub fn path(&self) -> std::ffi::OsString {
        std::env::join_paths(&self.dirs).unwrap_or_default()
    }
}

fn is_executable_file(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_tool_directories_come_before_path() {
        let env =
            Environment::from_pairs([("VAULTFRONT_TOOLS", "/opt/vf"), ("PATH", "/usr/bin:/bin")]);
        let tools = Tools::from_env(&env);
        let path = tools.path().into_string().unwrap();
        assert_eq!(
            path,
            "/opt/vf/venv/bin:/opt/vf/bin:/opt/vf/cargo/bin:/usr/bin:/bin"
        );
        let env = Environment::from_pairs([("HOME", "/home/u")]);
        let path = Tools::from_env(&env).path().into_string().unwrap();
        assert!(
            path.starts_with("/home/u/.cache/vaultfront/venv/bin:"),
            "{path}"
        );
    }

    #[test]
    fn finds_only_executables() {
        let env = Environment::from_pairs([("PATH", "/bin:/usr/bin")]);
        let tools = Tools::from_env(&env);
        assert!(tools.find("sh").is_some());
        assert!(tools.find("no-such-tool-vaultfront").is_none());
    }
}
