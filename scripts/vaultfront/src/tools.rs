//! The pinned tools (`sam`, `cargo-lambda`, the venv's Python with moto and
//! the SAM translator), found only in the project's own tool directories
//! and bootstrapped with `scripts/setup <part>` when missing. scripts/setup
//! installs into VAULTFRONT_TOOLS (default ~/.cache/vaultfront), outside the
//! checkout. Nothing is taken from PATH: a system Python's moto or a
//! system-wide `sam` is whatever version it happens to be.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::preflight::Environment;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("`{name}` is still missing after `scripts/setup {part}` (looked in {looked}); run `scripts/setup {part}` by hand and fix what it reports")]
    StillMissing {
        name: String,
        part: &'static str,
        looked: String,
    },
    #[error("`scripts/setup {part}` failed ({status}); its output above says why. Fix that and run `scripts/setup {part}` again")]
    SetupFailed { part: &'static str, status: String },
    #[error("could not run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
}

/// Which of scripts/setup's parts installs what a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `--local`: the tool venv (SAM translator, moto, cargo-lambda).
    Local,
    /// AWS: the tool venv and the arm64 Rust target.
    Deploy,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Local => "local",
            Part::Deploy => "deploy",
        }
    }
}

/// The project's tool directories, and the PATH children inherit.
#[derive(Debug, Clone)]
pub struct Tools {
    /// Where pinned tools are looked for: only these.
    own: Vec<PathBuf>,
    /// What children get as PATH: `own`, then the caller's PATH (cargo, git).
    path: Vec<PathBuf>,
    /// Replaces scripts/setup (`VAULTFRONT_SETUP`): tests record the call.
    setup: Option<PathBuf>,
    /// `<tools>/venv/.pins`, which scripts/setup writes only once the venv's
    /// pinned install finished.
    venv_pins: Option<PathBuf>,
}

impl Tools {
    pub fn from_env(env: &Environment) -> Tools {
        let base = env.get("VAULTFRONT_TOOLS").map(PathBuf::from).or_else(|| {
            env.get("HOME")
                .map(|home| Path::new(home).join(".cache/vaultfront"))
        });
        let own: Vec<PathBuf> = base
            .iter()
            .flat_map(|base| ["venv/bin", "bin", "cargo/bin"].map(|sub| base.join(sub)))
            .collect();
        let inherited = env
            .get("PATH")
            .map(|path| std::env::split_paths(path).collect::<Vec<_>>())
            .unwrap_or_default();
        Tools {
            path: own.iter().cloned().chain(inherited).collect(),
            own,
            setup: env.get("VAULTFRONT_SETUP").map(PathBuf::from),
            venv_pins: base.map(|base| base.join("venv/.pins")),
        }
    }

    /// `name` in the project's tool directories. The venv's only once
    /// scripts/setup finished it: a `python` in a half-made venv, or a bare
    /// symlink put there by hand, runs with whatever its interpreter has
    /// (a system moto of another version, for one).
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        let venv_finished = self.venv_pins.as_deref().is_some_and(Path::is_file);
        self.own
            .iter()
            .filter(|dir| venv_finished || !dir.ends_with("venv/bin"))
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable_file(candidate))
    }

    /// Make sure every tool in `names` is there, running `scripts/setup
    /// <part>` once if any is not (pinned installs; minutes the first time).
    pub fn ensure(&self, root: &Path, part: Part, names: &[&str]) -> Result<(), ToolError> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| self.find(n).is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        println!(
            "vaultfront: {} not installed yet; running `scripts/setup {}` (pinned installs into the tool cache: about 2 minutes the first time)",
            missing.join(", "),
            part.name()
        );
        let setup = self
            .setup
            .clone()
            .unwrap_or_else(|| root.join("scripts/setup"));
        let status = Command::new(&setup)
            .arg(part.name())
            .current_dir(root)
            .status()
            .map_err(|source| ToolError::Spawn {
                program: setup.display().to_string(),
                source,
            })?;
        if !status.success() {
            return Err(ToolError::SetupFailed {
                part: part.name(),
                status: status.to_string(),
            });
        }
        match missing.into_iter().find(|name| self.find(name).is_none()) {
            Some(name) => Err(ToolError::StillMissing {
                name: name.to_owned(),
                part: part.name(),
                looked: self
                    .own
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(":"),
            }),
            None => Ok(()),
        }
    }

    /// The tool venv's Python, with moto and the SAM translator in it
    /// (bootstrapped if missing). `moto_server` and `sam` are the venv's own
    /// entry points: present only once its install finished.
    pub fn venv_python(&self, root: &Path) -> Result<PathBuf, ToolError> {
        self.ensure(root, Part::Local, &["moto_server", "sam", "python"])?;
        self.find("python").ok_or_else(|| ToolError::StillMissing {
            name: "python".into(),
            part: Part::Local.name(),
            looked: String::new(),
        })
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
        if let Ok(path) = std::env::join_paths(&self.path) {
            command.env("PATH", path);
        }
        command
    }

    /// The PATH children get.
    pub fn path(&self) -> std::ffi::OsString {
        std::env::join_paths(&self.path).unwrap_or_default()
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
    fn finds_tools_only_in_the_tool_directories() {
        let dir = std::env::temp_dir().join(format!("vaultfront-tools-{}", std::process::id()));
        let bin = dir.join("venv/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("not-executable"), "").unwrap();
        std::os::unix::fs::symlink("/bin/sh", bin.join("sam")).unwrap();
        let env = Environment::from_pairs([
            ("VAULTFRONT_TOOLS", dir.to_str().unwrap()),
            ("PATH", "/bin:/usr/bin"),
        ]);
        let tools = Tools::from_env(&env);
        // A venv scripts/setup did not finish (or a symlink put there by
        // hand) is not the tool venv.
        assert!(tools.find("sam").is_none());
        std::fs::write(dir.join("venv/.pins"), "pip==26.3").unwrap();
        assert_eq!(tools.find("sam"), Some(bin.join("sam")));
        assert!(tools.find("not-executable").is_none());
        // On PATH, but not ours: never used.
        assert!(tools.find("sh").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
