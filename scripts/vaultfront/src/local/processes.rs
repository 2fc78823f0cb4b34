//! The local processes: moto (started detached and left running between
//! runs, because it keeps its data in memory; `--destroy` stops it), and,
//! only while a run needs them, the Lambda Runtime API of `cargo lambda
//! watch` with the function binaries polling it. moto and the emulator each
//! lead their own process group (the functions join the emulator's), so
//! stopping a group stops everything in it.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::state::MotoState;
use super::LocalError;
use crate::tools::{Part, Tools};

pub fn free_port() -> Result<u16, LocalError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| LocalError::Process(format!("no free loopback port: {e}")))
}

/// Start `command` logging to `log` (appended) in process group `group`
/// (0: a new group it leads).
fn spawn_grouped(
    mut command: Command,
    log: &Path,
    name: &str,
    group: u32,
) -> Result<Child, LocalError> {
    use std::os::unix::process::CommandExt;
    let file = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| LocalError::Process(format!("opening {}: {e}", log.display())))?;
    let stderr = file
        .try_clone()
        .map_err(|e| LocalError::Process(e.to_string()))?;
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        .process_group(i32::try_from(group).unwrap_or(0));
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
    let python = tools.venv_python(root)?;
    let port = free_port()?;
    let log = dir.join("moto.log");
    let _ = std::fs::remove_file(&log);
    let mut command = Command::new(&python);
    command
        .arg(root.join("tests/emulators/moto_server.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let mut child = spawn_grouped(command, &log, "moto", 0)?;
    if let Err(err) = wait_listening(&mut child, port, "moto", &log, Duration::from_secs(60)) {
        stop_group(child.id());
        return Err(err);
    }
    Ok(MotoState {
        pid: child.id(),
        port,
        log,
        python,
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

/// `cargo lambda watch --only-lambda-apis`: the Lambda Runtime API and its
/// invoke endpoint, with the function binaries (already built) started by
/// us, each polling `/.rt/<binary>`. The emulator builds nothing, so the
/// binaries are the ones the build step made, with no second compile.
/// Everything is stopped when dropped.
pub struct LambdaEmulator {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    pid_file: PathBuf,
    binaries: PathBuf,
    env: Vec<(String, String)>,
    functions: BTreeMap<String, Child>,
}

impl LambdaEmulator {
    pub fn start(
        root: &Path,
        tools: &Tools,
        dir: &Path,
        binaries: &Path,
        env: &[(String, String)],
    ) -> Result<LambdaEmulator, LocalError> {
        tools.ensure(root, Part::Local, &["cargo-lambda"])?;
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
        let _ = std::fs::remove_file(&log);
        let mut command = tools.command("cargo-lambda");
        command.current_dir(root).args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--ignore-changes",
            "--quiet",
            "-A",
            "127.0.0.1",
            "-P",
            &port.to_string(),
        ]);
        let mut child = spawn_grouped(command, &log, "cargo lambda watch", 0)?;
        // Best effort: only a leftover from a killed run is ever read back.
        let _ = std::fs::write(&pid_file, child.id().to_string());
        if let Err(err) = wait_listening(
            &mut child,
            port,
            "cargo lambda watch",
            &log,
            Duration::from_secs(60),
        ) {
            stop_group(child.id());
            return Err(err);
        }
        Ok(LambdaEmulator {
            child,
            port,
            log,
            pid_file,
            binaries: binaries.to_path_buf(),
            env: env.to_vec(),
            functions: BTreeMap::new(),
        })
    }

    /// Make sure `binary` is running and polling for its events: started on
    /// first use, and again if it died (as Lambda starts a new sandbox).
    pub fn ensure_function(&mut self, binary: &str) -> Result<(), LocalError> {
        if let Some(child) = self.functions.get_mut(binary) {
            if matches!(child.try_wait(), Ok(None)) {
                return Ok(());
            }
        }
        let program = self.binaries.join(binary);
        if !program.is_file() {
            return Err(LocalError::Process(format!(
                "the function binary {} does not exist: is `{binary}` a binary of this workspace?",
                program.display()
            )));
        }
        let mut command = Command::new(&program);
        command
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt/{binary}", self.port),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", binary)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        let child = spawn_grouped(command, &self.log, binary, self.child.id())?;
        self.functions.insert(binary.to_owned(), child);
        Ok(())
    }
}

impl Drop for LambdaEmulator {
    fn drop(&mut self) {
        stop_group(self.child.id());
        let _ = self.child.try_wait();
        for child in self.functions.values_mut() {
            let _ = child.kill();
            let _ = child.try_wait();
        }
        let _ = std::fs::remove_file(&self.pid_file);
    }
}
