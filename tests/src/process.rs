//! Where fixtures find their tools and write their logs, and their
//! processes: cfn-local's, each in its own process group, logged to a file
//! under `target/test-logs/` and stopped with its children when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use cfn_local::process::Service;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where fixtures write their logs.
pub fn log_dir() -> PathBuf {
    let dir = workspace_root().join("target").join("test-logs");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The tool cache `scripts/setup` fills.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("VAULTFRONT_TOOLS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/vaultfront"))
        })
        .unwrap_or_default()
}

/// `name` on PATH, else in the tool cache.
pub fn tool(name: &str) -> PathBuf {
    let cache = tools_dir();
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([cache.join("venv/bin"), cache.join("cargo/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` not found on PATH or in {}; run scripts/setup",
                cache.display()
            )
        })
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    cfn_local::process::free_port().expect("no free loopback port")
}

/// A fresh log file for a fixture that picks its own port.
pub fn log_file(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    log_dir().join(format!(
        "{name}-{}-{}.log",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Start `command` logging to `target/test-logs/<name>-<port>.log` and wait
/// until it listens on `port`; a fixture that cannot start fails the test.
pub fn start_service(name: &str, command: Command, port: u16, within: Duration) -> Service {
    let log = log_dir().join(format!("{name}-{port}.log"));
    Service::start(name, command, &log, port, within).unwrap_or_else(|err| panic!("{err}"))
}
