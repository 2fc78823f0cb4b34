//! Child processes for fixtures: found on PATH or in the project's tool
//! cache, started in their own process group, logged to a file, and killed
//! with all their children when dropped.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free loopback port")
}

/// A started child process and its log file.
pub struct Service {
    child: Child,
    pub log: PathBuf,
    name: String,
}

impl Service {
    /// Start `command` with output to `target/test-logs/<name>-<port>.log`
    /// and wait until it listens on `port`.
    pub fn start(name: &str, mut command: Command, port: u16, ready_within: Duration) -> Service {
        let log = log_dir().join(format!("{name}-{port}.log"));
        // Appending: a service's children may write to the same log.
        let _ = std::fs::remove_file(&log);
        let file = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("cannot create fixture log");
        let stderr = file.try_clone().expect("cannot clone log handle");
        use std::os::unix::process::CommandExt;
        command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .process_group(0);
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {name}: {err}"));
        let mut service = Service {
            child,
            log,
            name: name.to_owned(),
        };
        let started = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = service.child.try_wait() {
                panic!(
                    "{name} exited ({status}) before listening; see {}:\n{}",
                    service.log.display(),
                    service.log_text()
                );
            }
            if started.elapsed() > ready_within {
                panic!(
                    "{name} did not listen on port {port} within {ready_within:?}; see {}",
                    service.log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        service
    }

    /// SIGKILL the whole process group at once, as Lambda does when it
    /// loses an execution environment: nothing gets to clean up.
    pub fn kill_now(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }

    /// The process id, which is also its process group's.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // The whole group: `cargo lambda watch` runs the function as a grandchild.
        let group = format!("-{}", self.child.id());
        for signal in ["-TERM", "-KILL"] {
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
