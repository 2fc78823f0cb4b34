//! `scripts/bench`: what a user of vaultfront's custom resources pays for
//! them: start-up, handler latency, memory, artifact size and AWS calls.
//!
//! Each handler's release binary runs as Lambda runs it, under a minimal
//! Lambda Runtime API served by this program (see `bench/runtime_api.rs`),
//! against a local moto server, answering to a ResponseURL the same server
//! serves. For every function:
//!
//! - cold: a fresh process per run: init (process start until the runtime
//!   first asks for an event), then one Create (the event handed over until
//!   its response PUT to the ResponseURL arrived: what CloudFormation waits
//!   for; the bench checks it is a SUCCESS for that request), the whole
//!   invocation (until the runtime reports its result, work after the answer
//!   included), and the process's peak RSS;
//! - warm: one process, Create, no-op Update and Delete per run;
//! - AWS calls per operation, from moto's request log (the ResponseURL PUT
//!   excluded), split into reads (GET, HEAD) and writes (PUT, POST, PATCH, DELETE);
//! - artifact sizes of the arm64 builds made by `scripts/bench`.
//!
//! And the same `Custom::OriginBucketPolicy` written the plain way with
//! crhelper and boto3 (`tests/bench/crhelper_bucket_policy.py`) under AWS's
//! Python runtime interface client, cold and warm, on the same Runtime API
//! and moto; and both with eight writers granting on one bucket at once
//! (`bench/crowd.rs`): how many grants the policy holds at the end.
//!
//! And `vaultfront cp` through the S3 API against `aws s3 cp` straight to
//! S3, a 100 MiB file up and down through LocalStack (`bench/copy.rs`).
//!
//! Usage: bench [--runs N] [--only FUNCTION|copy]... [--no-compare] [--no-copy] [--json PATH]
//!
//! The modules live in `bench/` beside this file (a binary's root finds
//! modules beside itself, hence the `path` attributes).

#[path = "bench/artifacts.rs"]
mod artifacts;
#[path = "bench/calls.rs"]
mod calls;
#[path = "bench/copy.rs"]
mod copy;
#[path = "bench/crowd.rs"]
mod crowd;
#[path = "bench/function.rs"]
mod function;
#[path = "bench/report.rs"]
mod report;
#[path = "bench/runtime_api.rs"]
mod runtime_api;
#[path = "bench/scenario.rs"]
mod scenario;
#[path = "bench/stats.rs"]
mod stats;

use calls::Calls;
use function::{Instance, Program};
use runtime_api::Outcome;
use scenario::{Op, Resource};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use vaultfront_tests::process::{tools_dir, workspace_root};
use vaultfront_tests::{CfnEvent, Moto};

const USAGE: &str =
    "usage: bench [--runs N] [--only FUNCTION|copy]... [--no-compare] [--no-copy] [--json PATH]";

#[derive(Debug)]
struct Options {
    runs: usize,
    only: Vec<Resource>,
    compare: bool,
    copy: bool,
    /// `--only copy`: the copy benchmark alone.
    only_copy: bool,
    json: PathBuf,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            runs: 20,
            only: Vec::new(),
            compare: true,
            copy: true,
            only_copy: false,
            json: target_dir().join("bench").join("results.json"),
        };
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value; {USAGE}"));
            match arg.as_str() {
                "--runs" => {
                    let text = value()?;
                    options.runs = text
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or(format!("--runs: `{text}` is not a positive number"))?;
                }
                "--only" => {
                    let name = value()?;
                    if name == "copy" {
                        options.only_copy = true;
                        continue;
                    }
                    options.only.push(Resource::from_name(&name).ok_or(format!(
                        "--only: `{name}` is not one of bucket-policy, object-lock, s3-proxy-api, copy"
                    ))?);
                }
                "--no-compare" => options.compare = false,
                "--no-copy" => options.copy = false,
                "--json" => options.json = PathBuf::from(value()?),
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument `{other}`; {USAGE}")),
            }
        }
        Ok(options)
    }

    fn resources(&self) -> Vec<Resource> {
        if self.only.is_empty() {
            scenario::ALL.to_vec()
        } else {
            self.only.clone()
        }
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(err) => {
            eprintln!("bench: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("bench: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench: FAILED: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Everything measured of one function.
#[derive(Debug, Default)]
pub struct Measured {
    pub init_ms: Vec<f64>,
    pub cold_create_ms: Vec<f64>,
    /// Process start until the Create's answer: what a cold start costs.
    pub cold_total_ms: Vec<f64>,
    /// The cold Create's whole invocation, work after the answer included.
    pub cold_invocation_ms: Vec<f64>,
    pub cold_rss: Vec<u64>,
    pub cold_calls: Vec<Calls>,
    pub warm_ms: BTreeMap<Op, Vec<f64>>,
    pub warm_invocation_ms: BTreeMap<Op, Vec<f64>>,
    pub warm_rss: Option<u64>,
    pub warm_calls: BTreeMap<Op, Vec<Calls>>,
    /// The calls of the first measured warm cycle, as `METHOD path`.
    pub listing: BTreeMap<Op, Vec<String>>,
}

/// The crhelper comparison, bucket-policy only.
#[derive(Debug, Default)]
pub struct Comparison {
    pub python: Measured,
    pub rust_crowd: crowd::Crowd,
    pub python_crowd: crowd::Crowd,
    /// A Create delivered again to a fresh process after it succeeded: one
    /// read, no write, so no settle period. Process start until the result.
    pub rust_redelivered_ms: Vec<f64>,
    pub python_redelivered_ms: Vec<f64>,
    pub rust_redelivered_calls: Vec<Calls>,
    pub versions: String,
}

struct Bench {
    moto: Moto,
    next_run: usize,
    logs: PathBuf,
}

/// One operation's result.
struct Done {
    /// Event handed over until the answer arrived.
    latency_ms: f64,
    /// Event handed over until the invocation ended.
    invocation_ms: f64,
    since_spawn_ms: f64,
    calls: Calls,
    physical_id: String,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

impl Bench {
    fn run_id(&mut self) -> usize {
        self.next_run += 1;
        self.next_run
    }

    fn rust_program(&self, resource: Resource, host_dir: &std::path::Path) -> Program {
        Program {
            name: resource.binary().to_owned(),
            path: host_dir.join(resource.binary()),
            args: Vec::new(),
            dir: None,
            env: self.aws_env(),
            log: self.logs.join(format!("{}.log", resource.binary())),
        }
    }

    fn python_program(&self, python: PathBuf) -> Program {
        let dir = workspace_root().join("tests").join("bench");
        let mut env = self.aws_env();
        env.extend(
            [
                ("AWS_EXECUTION_ENV", "AWS_Lambda_python3.13"),
                ("LAMBDA_TASK_ROOT", &dir.to_string_lossy()),
                // Like a read-only /var/task: no __pycache__ in the source tree.
                ("PYTHONDONTWRITEBYTECODE", "1"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        Program {
            name: "crhelper-bucket-policy".to_owned(),
            path: python,
            args: ["-m", "awslambdaric", "crhelper_bucket_policy.handler"]
                .map(str::to_owned)
                .to_vec(),
            dir: Some(dir),
            env,
            log: self.logs.join("crhelper-bucket-policy.log"),
        }
    }

    fn aws_env(&self) -> Vec<(String, String)> {
        let mut env = self.moto.env();
        env.push((
            "AWS_DEFAULT_REGION".to_owned(),
            vaultfront_tests::moto::REGION.to_owned(),
        ));
        env
    }

    /// Send `event` to `instance` and wait for the invocation to end; check
    /// that a SUCCESS for this request reached the ResponseURL.
    async fn operate(&self, instance: &mut Instance, event: &CfnEvent) -> Result<Done, String> {
        let mark = calls::mark(&self.moto);
        let (invoked, answer) = invoke(instance, event).await?;
        let calls = calls::since(&self.moto, mark);
        let response = success(event, &answer.body)?;
        Ok(Done {
            latency_ms: ms(answer.at.saturating_duration_since(invoked.delivered)),
            invocation_ms: ms(invoked
                .completed
                .saturating_duration_since(invoked.delivered)),
            since_spawn_ms: ms(answer.at.saturating_duration_since(instance.spawned)),
            calls,
            physical_id: response["PhysicalResourceId"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// `runs` fresh processes (after one discarded warm-up), one Create
    /// each. With `redelivered`, each Create is then sent again to another
    /// fresh process: process start until that result, and its calls.
    async fn cold(
        &mut self,
        resource: Resource,
        program: &Program,
        runs: usize,
        measured: &mut Measured,
        mut redelivered: Option<(&mut Vec<f64>, &mut Vec<Calls>)>,
    ) -> Result<(), String> {
        for run in 0..=runs {
            let run_id = self.run_id();
            let target = resource.prepare(&self.moto, run_id).await?;
            let event = CfnEvent::create(
                resource.resource_type(),
                resource.logical_id(),
                target.properties.clone(),
            );
            let mut instance = Instance::start(program).await?;
            let init = instance.init;
            let done = self.operate(&mut instance, &event).await?;
            let rss = instance.stop();
            let again = match redelivered.as_mut() {
                Some(_) => {
                    let mut instance = Instance::start(program).await?;
                    let repeat = CfnEvent::create(
                        resource.resource_type(),
                        resource.logical_id(),
                        target.properties.clone(),
                    );
                    let done = self.operate(&mut instance, &repeat).await?;
                    drop(instance);
                    Some(done)
                }
                None => None,
            };
            if run == 0 {
                continue;
            }
            measured.init_ms.push(ms(init));
            measured.cold_create_ms.push(done.latency_ms);
            measured.cold_total_ms.push(done.since_spawn_ms);
            measured.cold_invocation_ms.push(done.invocation_ms);
            measured.cold_rss.extend(rss);
            measured.cold_calls.push(done.calls);
            if let (Some((times, calls)), Some(again)) = (redelivered.as_mut(), again) {
                times.push(again.since_spawn_ms);
                calls.push(again.calls);
            }
        }
        Ok(())
    }

    /// One process; per run a fresh target, Create, no-op Update, Delete.
    async fn warm(
        &mut self,
        resource: Resource,
        program: &Program,
        runs: usize,
        measured: &mut Measured,
    ) -> Result<(), String> {
        let mut instance = Instance::start(program).await?;
        for run in 0..=runs {
            let run_id = self.run_id();
            let target = resource.prepare(&self.moto, run_id).await?;
            let create = CfnEvent::create(
                resource.resource_type(),
                resource.logical_id(),
                target.properties.clone(),
            );
            let created = self.operate(&mut instance, &create).await?;
            let update = create.update(&created.physical_id, target.properties.clone());
            let updated = self.operate(&mut instance, &update).await?;
            if updated.physical_id != created.physical_id {
                return Err(format!(
                    "{}: the no-op Update changed the physical id from {} to {}",
                    resource.binary(),
                    created.physical_id,
                    updated.physical_id
                ));
            }
            let deleted = self
                .operate(&mut instance, &create.delete(&created.physical_id))
                .await?;
            if run == 0 {
                continue;
            }
            for (op, done) in [
                (Op::Create, created),
                (Op::Update, updated),
                (Op::Delete, deleted),
            ] {
                measured
                    .listing
                    .entry(op)
                    .or_insert_with(|| done.calls.describe(&target.name, resource.placeholder()));
                measured
                    .warm_ms
                    .entry(op)
                    .or_default()
                    .push(done.latency_ms);
                measured
                    .warm_invocation_ms
                    .entry(op)
                    .or_default()
                    .push(done.invocation_ms);
                measured.warm_calls.entry(op).or_default().push(done.calls);
            }
        }
        measured.warm_rss = instance.stop();
        Ok(())
    }
}

/// Hand `event` to `instance` with a ResponseURL of its own; the invocation
/// and the answer that reached the ResponseURL.
pub async fn invoke(
    instance: &mut Instance,
    event: &CfnEvent,
) -> Result<(runtime_api::Invoked, runtime_api::Answer), String> {
    let payload = event.to_json(&instance.response_url(&event.request_id));
    let invoked = instance.invoke(&payload).await?;
    let what = format!("{} {}", event.resource_type, event.request_type);
    if let Outcome::Error(body) = &invoked.outcome {
        return Err(format!(
            "{what}: the function reported an error to Lambda: {}",
            String::from_utf8_lossy(body)
        ));
    }
    let answer = instance
        .answer(&event.request_id)
        .ok_or(format!("{what}: no response reached the ResponseURL"))?;
    Ok((invoked, answer))
}

/// The response in `body`, if it is a SUCCESS for `event`.
pub fn success(event: &CfnEvent, body: &[u8]) -> Result<Value, String> {
    let what = format!("{} {}", event.resource_type, event.request_type);
    let response: Value = serde_json::from_slice(body)
        .map_err(|err| format!("{what}: the response is not JSON: {err}"))?;
    if response["Status"] != "SUCCESS" || response["RequestId"] != event.request_id.as_str() {
        return Err(format!(
            "{what}: expected SUCCESS for request {}, got {} for {}: {}",
            event.request_id, response["Status"], response["RequestId"], response["Reason"]
        ));
    }
    Ok(response)
}

async fn bench(options: Options) -> Result<(), String> {
    let started = Instant::now();
    let target = target_dir();
    if options.only_copy {
        let copied = copy::run(&target).await?;
        print!("{}", copied.text());
        return write_json(&options, serde_json::json!({ "copy": copied.json() }));
    }
    let host_dir = target.join("release");
    let lambda_dir = target.join("bench").join("lambda");
    let resources = options.resources();
    for resource in &resources {
        let binary = host_dir.join(resource.binary());
        if !binary.is_file() {
            return Err(format!(
                "{} is missing: build it with `cargo build --release -p {}` (scripts/bench does)",
                binary.display(),
                resource.binary()
            ));
        }
    }
    let python = tools_dir().join("venv-bench").join("bin").join("python");
    let compare = options.compare && resources.contains(&Resource::BucketPolicy);
    if compare && !python.is_file() {
        return Err(format!(
            "{} is missing: scripts/bench installs it (or pass --no-compare)",
            python.display()
        ));
    }
    let machine = report::Machine::read(compare.then_some(python.as_path()));
    eprintln!(
        "bench: {} runs per series; moto on loopback; logs in {}",
        options.runs,
        target.join("bench").join("logs").display()
    );

    let logs = target.join("bench").join("logs");
    let _ = std::fs::remove_dir_all(&logs);
    let mut bench = Bench {
        moto: Moto::start(),
        next_run: 0,
        logs,
    };
    let mut results: Vec<(Resource, Measured)> = Vec::new();
    let mut comparison = None;
    for resource in resources {
        let program = bench.rust_program(resource, &host_dir);
        let mut measured = Measured::default();
        let mut compared = Comparison::default();
        eprintln!("bench: {}: cold starts", resource.binary());
        let redelivered = (compare && resource == Resource::BucketPolicy).then_some((
            &mut compared.rust_redelivered_ms,
            &mut compared.rust_redelivered_calls,
        ));
        bench
            .cold(resource, &program, options.runs, &mut measured, redelivered)
            .await?;
        eprintln!(
            "bench: {}: warm Create, no-op Update, Delete",
            resource.binary()
        );
        bench
            .warm(resource, &program, options.runs, &mut measured)
            .await?;
        if compare && resource == Resource::BucketPolicy {
            eprintln!("bench: crhelper + boto3 bucket policy: cold starts");
            let python_program = bench.python_program(python.clone());
            bench
                .cold(
                    resource,
                    &python_program,
                    options.runs,
                    &mut compared.python,
                    Some((&mut compared.python_redelivered_ms, &mut Vec::new())),
                )
                .await?;
            eprintln!("bench: crhelper + boto3 bucket policy: warm Create, no-op Update, Delete");
            bench
                .warm(
                    resource,
                    &python_program,
                    options.runs,
                    &mut compared.python,
                )
                .await?;
            for (program, crowd) in [
                (&program, &mut compared.rust_crowd),
                (&python_program, &mut compared.python_crowd),
            ] {
                eprintln!(
                    "bench: {}: {} writers on one bucket at once",
                    program.name,
                    crowd::WRITERS
                );
                for _ in 0..options.runs {
                    let run_id = bench.run_id();
                    crowd.push(crowd::run(&bench.moto, program, run_id).await?);
                }
            }
            compared.versions = machine.python_versions.clone();
            comparison = Some(compared);
        }
        results.push((resource, measured));
    }
    let artifacts: Vec<(Resource, Result<artifacts::Artifact, String>)> = results
        .iter()
        .map(|(resource, _)| {
            (
                *resource,
                artifacts::measure(&lambda_dir, resource.binary()),
            )
        })
        .collect();
    let copied = if options.copy {
        eprintln!(
            "bench: copy: {} MiB through LocalStack, vaultfront cp and aws s3 cp",
            copy::SIZE_MIB
        );
        Some(copy::run(&target).await?)
    } else {
        None
    };
    let report = report::Report {
        machine,
        runs: options.runs,
        results,
        comparison,
        artifacts,
        elapsed: started.elapsed(),
    };
    print!("{}", report.text());
    let mut json = report.json();
    if let Some(copied) = &copied {
        print!("{}", copied.text());
        json["copy"] = copied.json();
    }
    write_json(&options, json)
}

fn write_json(options: &Options, json: Value) -> Result<(), String> {
    let json =
        serde_json::to_string_pretty(&json).map_err(|err| format!("encode the results: {err}"))?;
    if let Some(dir) = options.json.parent() {
        std::fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    }
    std::fs::write(&options.json, json + "\n")
        .map_err(|err| format!("{}: {err}", options.json.display()))?;
    println!("\nJSON: {}", options.json.display());
    Ok(())
}
