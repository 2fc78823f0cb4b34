//! The two local processes: moto (started detached and left running between
//! runs, because it keeps its data in memory; `--destroy` stops it) and the
//! Lambda runtime emulator `cargo lambda watch` (only while a run needs it).
//! Both run in their own process group, so stopping one stops its children.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::state::MotoState;
use super::LocalError;
use crate::tools::Tools;

pub fn free_port() -> Result<u16, LocalError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| LocalError::Process(format!("no free loopback port: {e}")))
}

fn spawn_grouped(mut command: Command, log: &Path, name: &str) -> Result<Child, LocalError> {
    use std::os::unix::process::CommandExt;
    let file = File::create(log)
        .map_err(|e| LocalError::Process(format!("creating {}: {e}", log.display())))?;
    let stderr = file
        .try_clone()
        .map_err(|e| LocalError::Process(e.to_string()))?;
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        .process_group(0);
    command
        .spawn()
        .map_err(|e| LocalError::Process(format!("starting {name}: {e}")))
}

fn wait_listening(
    child: &mut Child,
    port: u16,
    name: &str,
    log: &Path,
    within: Duration,
) -> Result<(), LocalError> {
    let started = Instant::now();
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(LocalError::Process(format!(
                "{name} exited ({status}) before listening; see {}",
                log.display()
            )));
        }
        if started.elapsed() > within {
            return Err(LocalError::Process(format!(
                "{name} did not listen on port {port} within {within:?}; see {}",
                log.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Start moto through `tests/emulators/moto_server.py` (it fixes a
/// GetBucketVersioning answer the Rust SDK cannot parse), detached.
pub fn start_moto(root: &Path, tools: &Tools, dir: &Path) -> Result<MotoState, LocalError> {
    // The tool directories come first, so this is the SAM venv's python,
    // where scripts/setup installed moto.
    let python = tools.find("python").ok_or_else(|| {
        LocalError::Process("the SAM venv's python is missing; run scripts/setup".into())
    })?;
    let port = free_port()?;
    let log = dir.join("moto.log");
    let mut command = Command::new(python);
    command
        .arg(root.join("tests/emulators/moto_server.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let mut child = spawn_grouped(command, &log, "moto")?;
    if let Err(err) = wait_listening(&mut child, port, "moto", &log, Duration::from_secs(60)) {
        stop_group(child.id());
        return Err(err);
    }
    Ok(MotoState {
        pid: child.id(),
        port,
        log,
    })
}

/// Is the moto of an earlier run still answering?
pub fn moto_alive(moto: &MotoState) -> bool {
    TcpStream::connect((Ipv4Addr::LOCALHOST, moto.port)).is_ok()
        && Path::new(&format!("/proc/{}", moto.pid)).exists()
}

/// TERM, then KILL, the process group led by `pid`.
pub fn stop_group(pid: u32) {
    let group = format!("-{pid}");
    for signal in ["-TERM", "-KILL"] {
        let _ = Command::new("kill")
            .args([signal, "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !group_alive(pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn group_alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `cargo lambda watch`, running the workspace's function binaries (it
/// builds them with cargo on first invoke). Stopped when dropped.
pub struct LambdaEmulator {
    child: Child,
    pub port: u16,
    pub log: std::path::PathBuf,
    pid_file: std::path::PathBuf,
}

impl LambdaEmulator {
    pub fn start(
        root: &Path,
        tools: &Tools,
        dir: &Path,
        env: &[(String, String)],
        release: bool,
    ) -> Result<LambdaEmulator, LocalError> {
        // A run killed by Ctrl-C cannot stop its emulator (it runs in its own
        // process group, which the terminal's signal does not reach): the
        // next run does.
        let pid_file = dir.join("lambda-watch.pid");
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
        {
            stop_group(pid);
        }
        let port = free_port()?;
        let log = dir.join("lambda-watch.log");
        let mut command = tools.command("cargo-lambda");
        command.current_dir(root).args([
            "lambda",
            "watch",
            "--ignore-changes",
            "--quiet",
            "-A",
            "127.0.0.1",
            "-P",
            &port.to_string(),
        ]);
        if release {
            command.arg("--release");
        }
        for (key, value) in env {
            command.arg("--env-var").arg(format!("{key}={value}"));
        }
        let mut child = spawn_grouped(command, &log, "cargo lambda watch")?;
        // Best effort: only a leftover from a killed run is ever read back.
        let _ = std::fs::write(&pid_file, child.id().to_string());
        if let Err(err) = wait_listening(
            &mut child,
            port,
            "cargo lambda watch",
            &log,
            Duration::from_secs(120),
        ) {
            stop_group(child.id());
            return Err(err);
        }
        Ok(LambdaEmulator {
            child,
            port,
            log,
            pid_file,
        })
    }
}

impl Drop for LambdaEmulator {
    fn drop(&mut self) {
        stop_group(self.child.id());
        let _ = self.child.try_wait();
        let _ = std::fs::remove_file(&self.pid_file);
    }
}
