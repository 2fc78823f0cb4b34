//! Emulator processes: each leads its own process group (a Lambda
//! function joins its emulator's), logs to a file, and is stopped with
//! everything in its group when dropped, unless detached.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16, Error> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| Error::Process(format!("no free loopback port: {e}")))
}

/// Start `command` with its output appended to `log`, in process group
/// `group` (0: a new group it leads).
pub fn spawn_logged(
    mut command: Command,
    log: &Path,
    name: &str,
    group: u32,
) -> Result<Child, Error> {
    use std::os::unix::process::CommandExt;
    let file = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::Process(format!("opening {}: {e}", log.display())))?;
    let stderr = file
        .try_clone()
        .map_err(|e| Error::Process(e.to_string()))?;
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        .process_group(i32::try_from(group).unwrap_or(0));
    command
        .spawn()
        .map_err(|e| Error::Process(format!("starting {name}: {e}")))
}

/// A process group's leader, stopped with its whole group when dropped.
pub struct Service {
    child: Child,
    pub log: PathBuf,
    detached: bool,
}

impl Service {
    /// Start `command` logging to `log` (a fresh file) and wait until it
    /// listens on `port`.
    pub fn start(
        name: &str,
        command: Command,
        log: &Path,
        port: u16,
        within: Duration,
    ) -> Result<Service, Error> {
        let _ = std::fs::remove_file(log);
        let child = spawn_logged(command, log, name, 0)?;
        let mut service = Service {
            child,
            log: log.to_path_buf(),
            detached: false,
        };
        let started = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = service.child.try_wait() {
                return Err(Error::Process(format!(
                    "{name} exited ({status}) before listening; see {}:\n{}",
                    log.display(),
                    service.log_text()
                )));
            }
            if started.elapsed() > within {
                return Err(Error::Process(format!(
                    "{name} did not listen on port {port} within {within:?}; see {}",
                    log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(service)
    }

    /// The process id, which is also its group's.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL the whole group at once, as Lambda does when it loses an
    /// execution environment: nothing gets to clean up.
    pub fn kill_now(&mut self) {
        signal_group(self.pid(), "-KILL");
        let _ = self.child.wait();
    }

    /// Leave it running after this handle is gone (moto, whose data lives
    /// in its memory, outlives a run of the engine); its pid stops it later.
    pub fn detach(mut self) -> u32 {
        self.detached = true;
        self.pid()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if !self.detached {
            stop_group(self.child.id());
            let _ = self.child.try_wait();
        }
    }
}

fn signal_group(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .args([signal, "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// TERM, then KILL, the process group led by `pid`.
pub fn stop_group(pid: u32) {
    for signal in ["-TERM", "-KILL"] {
        signal_group(pid, signal);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !signal_group(pid, "-0") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Is a process group led by `pid` still there?
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}
