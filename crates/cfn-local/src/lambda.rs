//! `cargo lambda watch --only-lambda-apis`: the Lambda Runtime API and its
//! invoke endpoint, with the function binaries (already built by a
//! workspace build) started here, each polling `/.rt/<binary>`. The
//! emulator builds nothing, so a function is the binary the build made,
//! with no second compile. Everything stops when this is dropped.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::process::{free_port, spawn_logged, stop_group, Service};
use crate::Error;

pub struct LambdaOptions<'a> {
    pub cargo_lambda: &'a Path,
    /// PATH for `cargo lambda` (it must find its zig).
    pub path: &'a OsString,
    /// Where `cargo lambda` runs: the workspace root.
    pub root: &'a Path,
    /// The emulator's and the functions' output, together.
    pub log: &'a Path,
    /// Where the function binaries are (`target/<profile>`).
    pub binaries: &'a Path,
    /// Environment for every function.
    pub env: &'a [(String, String)],
    /// Remembers the emulator's pid so that the next start stops one left
    /// by a killed run (its own process group is beyond Ctrl-C's reach).
    pub pid_file: Option<&'a Path>,
}

/// The result of one synchronous invoke.
#[derive(Debug)]
pub struct Invocation {
    /// The emulator's HTTP status: 200 when the function returned Ok.
    pub status: u16,
    pub body: String,
    pub elapsed: Duration,
}

pub struct LambdaEmulator {
    service: Service,
    pub port: u16,
    binaries: PathBuf,
    env: Vec<(String, String)>,
    pid_file: Option<PathBuf>,
    functions: Mutex<BTreeMap<String, Child>>,
}

impl LambdaEmulator {
    pub fn start(options: &LambdaOptions<'_>) -> Result<LambdaEmulator, Error> {
        if let Some(pid) = options
            .pid_file
            .and_then(|file| std::fs::read_to_string(file).ok())
            .and_then(|text| text.trim().parse::<u32>().ok())
        {
            stop_group(pid);
        }
        let port = free_port()?;
        let mut command = Command::new(options.cargo_lambda);
        command
            .env("PATH", options.path)
            .current_dir(options.root)
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
            ]);
        let service = Service::start(
            "cargo lambda watch",
            command,
            options.log,
            port,
            Duration::from_secs(120),
        )?;
        if let Some(file) = options.pid_file {
            // Best effort: only a leftover from a killed run is ever read back.
            let _ = std::fs::write(file, service.pid().to_string());
        }
        Ok(LambdaEmulator {
            service,
            port,
            binaries: options.binaries.to_path_buf(),
            env: options.env.to_vec(),
            pid_file: options.pid_file.map(Path::to_path_buf),
            functions: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn log(&self) -> &Path {
        &self.service.log
    }

    /// Everything the emulator and the functions printed so far.
    pub fn log_text(&self) -> String {
        self.service.log_text()
    }

    /// Make sure `binary` is running and polling for its events: started on
    /// first use, and again if it died, as Lambda starts a new sandbox. It
    /// joins the emulator's process group, so stopping one stops both.
    pub fn ensure_function(&self, binary: &str) -> Result<(), Error> {
        let mut functions = self.functions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(child) = functions.get_mut(binary) {
            if matches!(child.try_wait(), Ok(None)) {
                return Ok(());
            }
        }
        let program = self.binaries.join(binary);
        if !program.is_file() {
            return Err(Error::Process(format!(
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
        let child = spawn_logged(command, &self.service.log, binary, self.service.pid())?;
        functions.insert(binary.to_owned(), child);
        Ok(())
    }

    /// Where a synchronous invoke of `binary` is POSTed.
    pub fn invoke_url(&self, binary: &str) -> String {
        format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{binary}/invocations",
            self.port
        )
    }

    /// Invoke `binary` with `payload` exactly as given (which need not be
    /// JSON) and wait for it.
    pub async fn invoke(&self, binary: &str, payload: Vec<u8>) -> Result<Invocation, Error> {
        self.ensure_function(binary)?;
        let started = Instant::now();
        let (status, body) = crate::http::post(&self.invoke_url(binary), payload)
            .await
            .map_err(|err| {
                Error::Process(format!(
                    "invoke {binary}: {err}; see {}",
                    self.service.log.display()
                ))
            })?;
        Ok(Invocation {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            elapsed: started.elapsed(),
        })
    }

    /// SIGKILL the emulator and its functions, mid-invocation if need be.
    pub fn kill_now(&mut self) {
        self.service.kill_now();
    }
}

impl Drop for LambdaEmulator {
    fn drop(&mut self) {
        // The service stops its group, the functions in it too; these
        // handles are only reaped.
        for child in self
            .functions
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .values_mut()
        {
            let _ = child.kill();
            let _ = child.try_wait();
        }
        if let Some(file) = &self.pid_file {
            let _ = std::fs::remove_file(file);
        }
    }
}
