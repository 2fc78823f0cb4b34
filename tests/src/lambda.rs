//! The real Lambda runtime emulator, `cargo lambda watch`, running a
//! workspace binary, invoked over its HTTP invoke endpoint.

use crate::process::{free_port, tool, workspace_root, Service};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct LambdaEmulator {
    service: Service,
    port: u16,
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
        let port = free_port();
        let mut command = Command::new(tool("cargo-lambda"));
        command
            .current_dir(workspace_root())
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "--quiet",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .env("PATH", tools_path());
        for (key, value) in env {
            command.arg("--env-var").arg(format!("{key}={value}"));
        }
        let service = Service::start("lambda-watch", command, port, Duration::from_secs(120));
        LambdaEmulator { service, port }
    }

    /// Invoke `function` (a workspace binary) with `event` and wait for it.
    pub async fn invoke(&self, function: &str, event: &Value) -> Invocation {
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{function}/invocations",
            self.port
        );
        let started = Instant::now();
        let (status, body) = crate::http::post(&url, event.to_string().into_bytes())
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

/// PATH with the tool cache in front, so `cargo lambda` finds its zig and
/// the function's `cargo run` finds cargo.
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
