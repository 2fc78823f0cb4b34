//! The Lambda runtime emulator for a test: cfn-local's (`cargo lambda watch
//! --only-lambda-apis` with the workspace's function binaries polling it),
//! so the tests run functions exactly as the local engine does, with the
//! binaries `cargo build --workspace` made and no compile of their own.

use crate::moto::Moto;
use crate::process::{log_file, tool, workspace_root};
use crate::CfnEvent;
use cfn_local::custom::check;
use cfn_local::LambdaOptions;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

pub use cfn_local::Invocation;

/// The emulator, which also remembers every ResponseURL its functions were
/// given and, when dropped at the end of a passing test, asserts that none of
/// them (nor its signature) reached the log: the URL is a credential.
pub struct LambdaEmulator {
    emulator: cfn_local::LambdaEmulator,
    secrets: Mutex<Vec<String>>,
}

impl LambdaEmulator {
    /// Start the emulator; `env` is passed to the function.
    pub fn start(env: &[(String, String)]) -> LambdaEmulator {
        build_functions();
        let emulator = cfn_local::LambdaEmulator::start(&LambdaOptions {
            cargo_lambda: &tool("cargo-lambda"),
            path: &tools_path(),
            root: &workspace_root(),
            log: &log_file("lambda-watch"),
            binaries: &binaries_dir(),
            env,
            pid_file: None,
        })
        .unwrap_or_else(|err| panic!("{err}"));
        LambdaEmulator {
            emulator,
            secrets: Mutex::new(Vec::new()),
        }
    }

    /// Send `event` to `function` as CloudFormation does, answering to a
    /// fresh presigned URL on `moto`; the response the function PUT there.
    /// Panics unless the function returned Ok and the response is one
    /// CloudFormation accepts (it echoes the request's ids).
    pub async fn answer(&self, function: &str, moto: &Moto, event: &CfnEvent) -> Value {
        let slot = moto.response_slot(&event.logical_id).await;
        self.guard_secret(&slot.url);
        let invocation = self.invoke(function, &event.to_json(&slot.url)).await;
        assert_eq!(
            invocation.status, 200,
            "the function must return Ok once it answered: {}",
            invocation.body
        );
        let raw = slot
            .read_raw()
            .await
            .expect("no response was PUT to the presigned URL");
        if let Err(err) = check(&raw, event) {
            panic!("{err}: {}", String::from_utf8_lossy(&raw));
        }
        serde_json::from_slice(&raw).unwrap_or_default()
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
        let path = self.emulator.log().display();
        for url in self.secrets.lock().map(|s| s.clone()).unwrap_or_default() {
            assert!(!log.contains(&url), "a ResponseURL was logged; see {path}");
            if let Some(signature) = url
                .split("X-Amz-Signature=")
                .nth(1)
                .and_then(|s| s.split('&').next())
            {
                assert!(
                    !log.contains(signature),
                    "a ResponseURL's signature was logged; see {path}"
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
        self.emulator
            .invoke(function, payload)
            .await
            .unwrap_or_else(|err| panic!("{err}"))
    }

    /// SIGKILL the emulator and the function it runs, mid-invocation if
    /// need be. An invoke still waiting then fails.
    pub fn kill(&mut self) {
        self.emulator.kill_now();
    }

    /// Everything the emulator and the function printed so far.
    pub fn log(&self) -> String {
        self.emulator.log_text()
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
        .args(["build", "--quiet"])
        .args(cfn_local::FUNCTIONS_BUILD)
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
