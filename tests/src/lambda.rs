//! The real Lambda runtime emulator, `cargo lambda watch
//! --only-lambda-apis`, with the workspace's function binaries polling it,
//! invoked over its HTTP invoke endpoint. The local engine runs functions
//! the same way: the binaries are the ones `cargo build --workspace` made,
//! so no test compiles the SDK with a feature set of its own.

use crate::event::CfnEvent;
use crate::moto::Moto;
use crate::process::{free_port, tool, workspace_root, Service};
use crate::sink::PresignedSink;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The emulator, which also remembers every ResponseURL its functions were
/// given and, when dropped at the end of a passing test, asserts that none of
/// them (nor its signature) reached the log: the URL is a credential.
pub struct LambdaEmulator {
    service: Service,
    port: u16,
    env: Vec<(String, String)>,
    functions: Mutex<BTreeMap<String, Child>>,
    secrets: Mutex<Vec<String>>,
}

/// The result of one synchronous invoke.
#[derive(Debug)]
pub struct Invocation {
    /// The emulator's HTTP status: 200 when the function returned Ok.
    pub status: u16,
    pub body: String,
    pub elapsed: Duration,
}

impl LambdaEmulator {
    /// Start the emulator; `env` is passed to the function.
    pub fn start(env: &[(String, String)]) -> LambdaEmulator {
        build_functions();
        let port = free_port();
        let mut command = Command::new(tool("cargo-lambda"));
        command
            .current_dir(workspace_root())
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--ignore-changes",
                "--quiet",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .env("PATH", tools_path());
        let service = Service::start("lambda-watch", command, port, Duration::from_secs(120));
        LambdaEmulator {
            service,
            port,
            env: env.to_vec(),
            functions: Mutex::new(BTreeMap::new()),
            secrets: Mutex::new(Vec::new()),
        }
    }

    /// Make sure `function` runs and polls for its events: started on first
    /// use, and again after it died, as Lambda starts a new sandbox. It joins
    /// the emulator's process group, so killing one kills both.
    fn ensure_function(&self, function: &str) {
        let mut functions = self.functions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(child) = functions.get_mut(function) {
            if matches!(child.try_wait(), Ok(None)) {
                return;
            }
        }
        let program = binaries_dir().join(function);
        assert!(
            program.is_file(),
            "{} does not exist: is `{function}` a binary of this workspace?",
            program.display()
        );
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.service.log)
            .expect("cannot open the emulator's log");
        let stderr = log.try_clone().expect("cannot clone log handle");
        use std::os::unix::process::CommandExt;
        let child = Command::new(&program)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt/{function}", self.port),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .process_group(i32::try_from(self.service.pid()).unwrap_or(0))
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", program.display()));
        functions.insert(function.to_owned(), child);
    }

    /// Send `event` to `function` as CloudFormation does, answering to a
    /// fresh presigned URL on `moto`; the response the function PUT there.
    /// Panics unless the function returned Ok and echoed the request's ids.
    pub async fn answer(&self, function: &str, moto: &Moto, event: &CfnEvent) -> Value {
        let sink = PresignedSink::new(moto, &event.logical_id).await;
        self.guard_secret(&sink.url);
        let invocation = self.invoke(function, &event.to_json(&sink.url)).await;
        assert_eq!(
            invocation.status, 200,
            "the function must return Ok once it answered: {}",
            invocation.body
        );
        let response = sink.response().await;
        assert_eq!(response["RequestId"], json!(event.request_id));
        assert_eq!(response["LogicalResourceId"], json!(event.logical_id));
        assert_eq!(response["StackId"], json!(crate::event::STACK_ID));
        response
    }

    /// Check at the end of the test that `url` was never logged.
    pub fn guard_secret(&self, url: &str) {
        if let Ok(mut secrets) = self.secrets.lock() {
            secrets.push(url.to_owned());
        }
    }

    /// Panics if a guarded URL, or its signature, is in the log.
    pub fn assert_secrets_not_logged(&self) {
        let log = self.log();
        for url in self.secrets.lock().map(|s| s.clone()).unwrap_or_default() {
            assert!(
                !log.contains(&url),
                "a ResponseURL was logged; see {}",
                self.service.log.display()
            );
            if let Some(signature) = url
                .split("X-Amz-Signature=")
                .nth(1)
                .and_then(|s| s.split('&').next())
            {
                assert!(
                    !log.contains(signature),
                    "a ResponseURL's signature was logged; see {}",
                    self.service.log.display()
                );
            }
        }
    }

    /// Invoke `function` (a workspace binary) with `event` and wait for it.
    pub async fn invoke(&self, function: &str, event: &Value) -> Invocation {
        self.invoke_raw(function, event.to_string().into_bytes())
            .await
    }

    /// Invoke `function` with `payload` exactly as given (which need not be
    /// something a `Value` can hold) and wait for it.
    pub async fn invoke_raw(&self, function: &str, payload: Vec<u8>) -> Invocation {
        self.ensure_function(function);
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{function}/invocations",
            self.port
        );
        let started = Instant::now();
        let (status, body) = crate::http::post(&url, payload)
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "invoke {function}: {err}; see {}",
                    self.service.log.display()
                )
            });
        Invocation {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            elapsed: started.elapsed(),
        }
    }

    /// SIGKILL the emulator and the function it runs, mid-invocation if
    /// need be. An invoke still waiting then fails.
    pub fn kill(&mut self) {
        self.service.kill_now();
    }

    /// Everything the emulator and the function printed so far.
    pub fn log(&self) -> String {
        self.service.log_text()
    }

    /// The function's JSON log lines.
    pub fn function_logs(&self) -> Vec<Value> {
        self.log()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
            .filter(Value::is_object)
            .collect()
    }
}

impl Drop for LambdaEmulator {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_secrets_not_logged();
        }
    }
}

/// Where the function binaries are: beside this executable, a test's
/// (`target/debug/deps/<test>`) or a binary's (`target/debug/bench`).
fn binaries_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let dir = exe.parent()?;
            match dir.file_name() {
                Some(name) if name == "deps" => dir.parent().map(PathBuf::from),
                _ => Some(dir.to_path_buf()),
            }
        })
        .unwrap_or_else(|| workspace_root().join("target/debug"))
}

/// Build the function binaries if a source changed since they were built:
/// a second or less when they are fresh (scripts/test builds them first),
/// and the same feature set as the test build, so nothing compiles twice.
fn build_functions() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--workspace",
            "--exclude",
            "vaultfront-tests",
        ])
        .output()
        .expect("cannot run cargo build");
    assert!(
        output.status.success(),
        "cargo build of the function binaries failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// PATH with the tool cache in front, so `cargo lambda` finds its zig.
fn tools_path() -> std::ffi::OsString {
    let cargo_lambda = tool("cargo-lambda");
    let mut dirs: Vec<std::path::PathBuf> = cargo_lambda
        .parent()
        .map(|d| vec![d.to_path_buf()])
        .unwrap_or_default();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap_or_default()
}
