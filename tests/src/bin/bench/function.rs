//! One Lambda execution environment: a function process started the way
//! Lambda starts one (a clean environment with the Lambda variables and
//! `AWS_LAMBDA_RUNTIME_API`), under the bench's own Runtime API.

use crate::runtime_api::{Answer, Invoked, RuntimeApi, FUNCTION_TIMEOUT};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a process may take to ask for its first event.
const INIT_WITHIN: Duration = Duration::from_secs(30);

/// What to start, and how.
#[derive(Debug, Clone)]
pub struct Program {
    /// Shown in errors and used for the log file's name.
    pub name: String,
    pub path: PathBuf,
    pub args: Vec<String>,
    pub dir: Option<PathBuf>,
    /// On top of the Lambda variables.
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
}

/// A started function process.
pub struct Instance {
    child: Child,
    api: RuntimeApi,
    name: String,
    log: PathBuf,
    pub spawned: Instant,
    /// Process start until the runtime's first `next` poll.
    pub init: Duration,
}

impl Instance {
    /// Spawn `program` and wait until it asks for an event.
    pub async fn start(program: &Program) -> Result<Instance, String> {
        let api = RuntimeApi::start().await?;
        let log = open_log(&program.log)?;
        let mut command = Command::new(&program.path);
        command
            .args(&program.args)
            .env_clear()
            .envs(lambda_env(&program.name, &api.address()))
            .envs(program.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(
                log.try_clone()
                    .map_err(|err| format!("log handle: {err}"))?,
            )
            .stderr(log);
        if let Some(dir) = &program.dir {
            command.current_dir(dir);
        }
        let spawned = Instant::now();
        let child = command
            .spawn()
            .map_err(|err| format!("start {}: {err}", program.path.display()))?;
        let mut instance = Instance {
            child,
            api,
            name: program.name.clone(),
            log: program.log.clone(),
            spawned,
            init: Duration::ZERO,
        };
        loop {
            match instance.api.first_poll(Duration::from_millis(100)).await {
                Ok(Some(at)) => {
                    instance.init = at.saturating_duration_since(spawned);
                    return Ok(instance);
                }
                Ok(None) if spawned.elapsed() > INIT_WITHIN => {
                    let err = format!("no request for an event within {INIT_WITHIN:?}");
                    return Err(instance.failure(&err));
                }
                Ok(None) => {
                    if let Ok(Some(_)) = instance.child.try_wait() {
                        return Err(instance.failure("exited before asking for an event"));
                    }
                }
                Err(err) => return Err(instance.failure(&err)),
            }
        }
    }

    /// Send `event` and wait for the runtime to report the result.
    pub async fn invoke(&mut self, event: &Value) -> Result<Invoked, String> {
        let within = FUNCTION_TIMEOUT + Duration::from_secs(5);
        match self.api.invoke(event, within).await {
            Ok(invoked) => Ok(invoked),
            Err(err) => Err(self.failure(&err)),
        }
    }

    /// A ResponseURL for an event of this instance (see [`RuntimeApi::response_url`]).
    pub fn response_url(&self, token: &str) -> String {
        self.api.response_url(token)
    }

    /// The response PUT to `token`'s ResponseURL, if any.
    pub fn answer(&self, token: &str) -> Option<Answer> {
        self.api.answer(token)
    }

    /// The process's peak resident set so far (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line
            .trim_start_matches("VmHWM:")
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    }

    /// Read the peak RSS, then kill the process. Lambda freezes and later
    /// discards an environment; it never asks the runtime to exit.
    pub fn stop(mut self) -> Option<u64> {
        let peak = self.peak_rss();
        self.kill();
        peak
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `err`, with the process's exit status if it died, and where its log is.
    fn failure(&mut self, err: &str) -> String {
        let exited = match self.child.try_wait() {
            Ok(Some(status)) => format!(" (the process exited: {status})"),
            _ => String::new(),
        };
        format!("{}: {err}{exited}; see {}", self.name, self.log.display())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn open_log(path: &PathBuf) -> Result<File, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|err| format!("{}: {err}", path.display()))
}

/// What Lambda puts in a function's environment (less credentials and
/// region, which come from the emulator's environment).
fn lambda_env(function: &str, runtime_api: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", function),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/vaultfront-bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "C.UTF-8"),
        ("TZ", ":UTC"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
