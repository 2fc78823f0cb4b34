//! The table on stdout, the targets, and the JSON file.

use crate::artifacts::Artifact;
use crate::calls::Calls;
use crate::crowd::WRITERS;
use crate::scenario::{Op, Resource};
use crate::stats::{summarise, Summary};
use crate::{Comparison, Measured};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use vaultfront_tests::process::tools_dir;

const INIT_TARGET_MS: f64 = 15.0;
const COLD_RATIO_TARGET: f64 = 0.2;
/// Sizes in decimal megabytes (10^6 bytes), the stricter reading of "MB".
const MB: f64 = 1_000_000.0;
const RSS_TARGET: f64 = 20.0 * MB;
const BOOTSTRAP_TARGET: f64 = 8.0 * MB;
const ZIP_TARGET: f64 = 4.0 * MB;

/// The machine and tools a run was made on.
#[derive(Debug, Default)]
pub struct Machine {
    pub date: String,
    pub cpu: String,
    pub cores: usize,
    pub memory: String,
    pub kernel: String,
    pub load_at_start: String,
    pub rustc: String,
    pub moto: String,
    pub python_versions: String,
}

fn command_output(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn proc_field(file: &str, key: &str) -> Option<String> {
    std::fs::read_to_string(file)
        .ok()?
        .lines()
        .find(|line| line.starts_with(key))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim().to_owned())
}

impl Machine {
    pub fn read(python: Option<&Path>) -> Machine {
        let memory = proc_field("/proc/meminfo", "MemTotal")
            .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kib| format!("{:.0} GiB", kib / 1024.0 / 1024.0))
            .unwrap_or_else(|| "unknown".to_owned());
        let moto_python = tools_dir().join("venv").join("bin").join("python");
        Machine {
            date: command_output(Path::new("date"), &["-u", "+%Y-%m-%d %H:%M UTC"]),
            cpu: proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            load_at_start: load_average(),
            rustc: command_output(Path::new("rustc"), &["--version"]),
            moto: command_output(
                &moto_python,
                &["-c", "import importlib.metadata as m; print(m.version('moto'))"],
            ),
            python_versions: python.map_or_else(String::new, |python| {
                command_output(
                    python,
                    &[
                        "-c",
                        "import importlib.metadata as m, platform; print('Python ' + platform.python_version() + ', ' + ', '.join(p + ' ' + m.version(p) for p in ('awslambdaric', 'crhelper', 'boto3')))",
                    ],
                )
            }),
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

pub struct Report {
    pub machine: Machine,
    pub runs: usize,
    pub results: Vec<(Resource, Measured)>,
    pub comparison: Option<Comparison>,
    pub artifacts: Vec<(Resource, Result<Artifact, String>)>,
    pub elapsed: Duration,
}

fn time(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn size(bytes: f64) -> String {
    format!("{:.1} MB", bytes / MB)
}

fn pair(summary: Option<Summary>) -> String {
    summary.map_or_else(
        || "-".to_owned(),
        |s| format!("{} / {}", time(s.median), time(s.p95)),
    )
}

fn median(samples: &[f64]) -> Option<f64> {
    summarise(samples).map(|s| s.median)
}

/// `reads / writes` (medians), with the range when runs differed.
fn call_counts(calls: &[Calls]) -> String {
    let counts = |f: fn(&Calls) -> usize| {
        let values: Vec<usize> = calls.iter().map(f).collect();
        let summary = summarise(&values.iter().map(|v| *v as f64).collect::<Vec<_>>());
        match summary {
            None => "-".to_owned(),
            Some(s) if s.min == s.max => format!("{}", s.median),
            Some(s) => format!("{} ({}-{})", s.median, s.min, s.max),
        }
    };
    format!("{} / {}", counts(Calls::reads), counts(Calls::writes))
}

fn max_writes(calls: &[Calls]) -> Option<usize> {
    calls.iter().map(Calls::writes).max()
}

/// One target's verdict.
pub struct Verdict {
    pub met: bool,
    pub target: String,
    pub detail: String,
}

impl Report {
    fn measured(&self, resource: Resource) -> Option<&Measured> {
        self.results
            .iter()
            .find(|(r, _)| *r == resource)
            .map(|(_, m)| m)
    }

    pub fn verdicts(&self) -> Vec<Verdict> {
        let mut verdicts = Vec::new();
        for (resource, measured) in &self.results {
            if let Some(init) = median(&measured.init_ms) {
                verdicts.push(Verdict {
                    met: init <= INIT_TARGET_MS,
                    target: format!("init <= {INIT_TARGET_MS} ms median, {}", resource.binary()),
                    detail: format!("{} median", time(init)),
                });
            }
        }
        if let (Some(compared), Some(rust)) =
            (&self.comparison, self.measured(Resource::BucketPolicy))
        {
            if let (Some(r), Some(p)) = (
                median(&rust.cold_total_ms),
                median(&compared.python.cold_total_ms),
            ) {
                let ratio = r / p;
                verdicts.push(Verdict {
                    met: ratio <= COLD_RATIO_TARGET,
                    target: "cold Create <= 1/5 of crhelper + boto3 (process start to answer, bucket-policy)".into(),
                    detail: format!(
                        "{} vs {} = {ratio:.2}{}",
                        time(r),
                        time(p),
                        if ratio <= COLD_RATIO_TARGET {
                            String::new()
                        } else {
                            format!(", over by {:.1}x the target", ratio / COLD_RATIO_TARGET)
                        }
                    ),
                });
            }
            let python = &compared.python;
            let warm = |m: &Measured, op: Op| m.warm_ms.get(&op).cloned().unwrap_or_default();
            for (label, r, p) in [
                (
                    "cold Create",
                    rust.cold_create_ms.clone(),
                    python.cold_create_ms.clone(),
                ),
                (
                    "warm Create",
                    warm(rust, Op::Create),
                    warm(python, Op::Create),
                ),
                (
                    "warm Delete",
                    warm(rust, Op::Delete),
                    warm(python, Op::Delete),
                ),
            ] {
                if let (Some(r), Some(p)) = (median(&r), median(&p)) {
                    verdicts.push(Verdict {
                        met: r <= p,
                        target: format!(
                            "{label} at or below crhelper + boto3 (event to answer, bucket-policy)"
                        ),
                        detail: format!("{} vs {} = {:.3}", time(r), time(p), r / p),
                    });
                }
            }
            if !compared.rust_crowd.kept.is_empty() {
                verdicts.push(Verdict {
                    met: compared.rust_crowd.all_kept(),
                    target: format!(
                        "{WRITERS} writers on one bucket all keep their grant, bucket-policy"
                    ),
                    detail: format!(
                        "{} (crhelper + boto3: {})",
                        compared.rust_crowd.kept_text(),
                        compared.python_crowd.kept_text()
                    ),
                });
            }
        }
        for (resource, measured) in &self.results {
            let peak = measured
                .cold_rss
                .iter()
                .copied()
                .chain(measured.warm_rss)
                .max();
            if let Some(peak) = peak {
                verdicts.push(Verdict {
                    met: peak as f64 <= RSS_TARGET,
                    target: format!("peak RSS <= 20 MB, {}", resource.binary()),
                    detail: format!("{} (the largest of all its processes)", size(peak as f64)),
                });
            }
        }
        for (resource, artifact) in &self.artifacts {
            match artifact {
                Ok(a) => {
                    verdicts.push(Verdict {
                        met: a.bootstrap_bytes as f64 <= BOOTSTRAP_TARGET,
                        target: format!("bootstrap <= 8 MB, {}", resource.binary()),
                        detail: format!(
                            "{} ({}, {})",
                            size(a.bootstrap_bytes as f64),
                            a.machine,
                            if a.stripped {
                                "stripped"
                            } else {
                                "NOT stripped"
                            }
                        ),
                    });
                    verdicts.push(Verdict {
                        met: a.zip_bytes as f64 <= ZIP_TARGET,
                        target: format!("zip <= 4 MB, {}", resource.binary()),
                        detail: size(a.zip_bytes as f64),
                    });
                }
                Err(err) => verdicts.push(Verdict {
                    met: false,
                    target: format!("bootstrap <= 8 MB and zip <= 4 MB, {}", resource.binary()),
                    detail: format!("not measured: {err}"),
                }),
            }
        }
        for (resource, measured) in &self.results {
            let mut parts = Vec::new();
            let mut met = true;
            for op in Op::ALL {
                let calls = measured
                    .warm_calls
                    .get(&op)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let (aws, moto, _) = resource.minimum_writes(op);
                let most = max_writes(calls);
                let cold = if op == Op::Create {
                    max_writes(&measured.cold_calls)
                } else {
                    None
                };
                let worst = most.max(cold);
                met &= worst.is_some_and(|w| w <= moto);
                let minimum = if aws == moto {
                    format!("min {aws}")
                } else {
                    format!("min {aws} on AWS, {moto} on moto")
                };
                parts.push(format!(
                    "{} {} ({minimum})",
                    op.label(),
                    worst.map_or_else(|| "-".to_owned(), |w| w.to_string())
                ));
            }
            verdicts.push(Verdict {
                met,
                target: format!("writes at the minimum, {}", resource.binary()),
                detail: format!("most in any run: {}", parts.join(", ")),
            });
        }
        verdicts
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(out, "vaultfront bench, {}", m.date);
        let _ = writeln!(
            out,
            "machine: {}, {} cores, {} RAM, Linux {}, load average at start {}; {}",
            m.cpu, m.cores, m.memory, m.kernel, m.load_at_start, m.rustc
        );
        let _ = writeln!(
            out,
            "functions: host x86_64 release builds (arm64 cannot run on this machine) under the bench's \
             Lambda Runtime API, against moto {} on loopback; {} runs per series after one discarded \
             warm-up; times are median / p95",
            m.moto, self.runs
        );

        let names: Vec<&str> = self.results.iter().map(|(r, _)| r.binary()).collect();
        let header = |out: &mut String, title: &str| {
            let _ = write!(out, "\n{title:<34}");
            for name in &names {
                let _ = write!(out, "{name:<24}");
            }
            out.push('\n');
        };
        let row = |out: &mut String, label: &str, cells: Vec<String>| {
            let _ = write!(out, "{label:<34}");
            for cell in cells {
                let _ = write!(out, "{cell:<24}");
            }
            out.push('\n');
        };
        let each = |f: &dyn Fn(&Measured) -> String| -> Vec<String> {
            self.results.iter().map(|(_, m)| f(m)).collect()
        };

        header(&mut out, "latency (median / p95)");
        row(
            &mut out,
            "init (start to first poll)",
            each(&|m| pair(summarise(&m.init_ms))),
        );
        row(
            &mut out,
            "cold Create (event to answer)",
            each(&|m| pair(summarise(&m.cold_create_ms))),
        );
        row(
            &mut out,
            "cold start + Create (to answer)",
            each(&|m| pair(summarise(&m.cold_total_ms))),
        );
        for op in Op::ALL {
            row(
                &mut out,
                &format!("warm {}", op.label()),
                each(&|m| pair(m.warm_ms.get(&op).and_then(|s| summarise(s)))),
            );
        }
        row(
            &mut out,
            "cold Create, whole invocation",
            each(&|m| pair(summarise(&m.cold_invocation_ms))),
        );
        for op in [Op::Create, Op::Delete] {
            row(
                &mut out,
                &format!("warm {}, whole invocation", op.label()),
                each(&|m| pair(m.warm_invocation_ms.get(&op).and_then(|s| summarise(s)))),
            );
        }

        header(&mut out, "memory and artifacts");
        row(
            &mut out,
            "peak RSS, cold (median / max)",
            each(&|m| {
                let values: Vec<f64> = m.cold_rss.iter().map(|b| *b as f64).collect();
                summarise(&values).map_or_else(
                    || "-".to_owned(),
                    |s| format!("{} / {}", size(s.median), size(s.max)),
                )
            }),
        );
        row(
            &mut out,
            "peak RSS, warm process",
            each(&|m| {
                m.warm_rss
                    .map_or_else(|| "-".to_owned(), |b| size(b as f64))
            }),
        );
        let artifact = |f: &dyn Fn(&Artifact) -> String| -> Vec<String> {
            self.artifacts
                .iter()
                .map(|(_, a)| a.as_ref().map_or_else(|_| "not built".to_owned(), f))
                .collect()
        };
        row(
            &mut out,
            "bootstrap (arm64, stripped)",
            artifact(&|a| {
                format!(
                    "{}{}",
                    size(a.bootstrap_bytes as f64),
                    if a.stripped && a.machine == "aarch64" {
                        String::new()
                    } else {
                        format!(" ({}, stripped: {})", a.machine, a.stripped)
                    }
                )
            }),
        );
        row(&mut out, "zip", artifact(&|a| size(a.zip_bytes as f64)));

        header(&mut out, "AWS calls: reads / writes");
        row(
            &mut out,
            "cold Create",
            each(&|m| call_counts(&m.cold_calls)),
        );
        for op in Op::ALL {
            row(
                &mut out,
                &format!("warm {}", op.label()),
                each(&|m| {
                    call_counts(m.warm_calls.get(&op).map(Vec::as_slice).unwrap_or_default())
                }),
            );
        }
        let _ = writeln!(out, "(a number in brackets is the range over runs; the bucket policy's read-back loop polls at random intervals)");

        let _ = writeln!(
            out,
            "\nwrites of the first measured run, and the fewest possible:"
        );
        for (resource, measured) in &self.results {
            for op in Op::ALL {
                let writes: Vec<&String> = measured
                    .listing
                    .get(&op)
                    .map(|l| {
                        l.iter()
                            .filter(|c| !c.starts_with("GET ") && !c.starts_with("HEAD "))
                            .collect()
                    })
                    .unwrap_or_default();
                let (aws, moto, why) = resource.minimum_writes(op);
                let minimum = if aws == moto {
                    format!("{aws}")
                } else {
                    format!("{aws} on AWS, {moto} on moto")
                };
                let _ = writeln!(
                    out,
                    "  {:<14} {:<13} {:<60} minimum {minimum}: {why}",
                    resource.binary(),
                    op.label(),
                    if writes.is_empty() {
                        "none".to_owned()
                    } else {
                        writes
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
            }
        }

        if let (Some(compared), Some(rust)) =
            (&self.comparison, self.measured(Resource::BucketPolicy))
        {
            let python = &compared.python;
            let _ = writeln!(
                out,
                "\ncomparison: Custom::OriginBucketPolicy, Rust vs the plain crhelper + boto3 version ({}; tests/bench/crhelper_bucket_policy.py)",
                compared.versions
            );
            let _ = writeln!(
                out,
                "{:<48}{:<24}{:<24}ratio of medians",
                "", "Rust", "crhelper + boto3"
            );
            let line = |out: &mut String, label: &str, r: &[f64], p: &[f64]| {
                let ratio = match (median(r), median(p)) {
                    (Some(r), Some(p)) if p > 0.0 => format!("{:.3}", r / p),
                    _ => "-".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "{label:<48}{:<24}{:<24}{ratio}",
                    pair(summarise(r)),
                    pair(summarise(p))
                );
            };
            let warm = |m: &Measured, op: Op| m.warm_ms.get(&op).cloned().unwrap_or_default();
            let warm_whole =
                |m: &Measured, op: Op| m.warm_invocation_ms.get(&op).cloned().unwrap_or_default();
            line(
                &mut out,
                "init (start to first poll)",
                &rust.init_ms,
                &python.init_ms,
            );
            line(
                &mut out,
                "cold Create (event to answer)",
                &rust.cold_create_ms,
                &python.cold_create_ms,
            );
            line(
                &mut out,
                "cold start + Create (to answer)",
                &rust.cold_total_ms,
                &python.cold_total_ms,
            );
            for op in Op::ALL {
                line(
                    &mut out,
                    &format!("warm {} (event to answer)", op.label()),
                    &warm(rust, op),
                    &warm(python, op),
                );
            }
            line(
                &mut out,
                "cold start + re-delivered Create (no write)",
                &compared.rust_redelivered_ms,
                &compared.python_redelivered_ms,
            );
            let _ = writeln!(
                out,
                "whole invocation, the guard after the answer included (billed, not waited for):"
            );
            line(
                &mut out,
                "  cold Create",
                &rust.cold_invocation_ms,
                &python.cold_invocation_ms,
            );
            for op in [Op::Create, Op::Delete] {
                line(
                    &mut out,
                    &format!("  warm {}", op.label()),
                    &warm_whole(rust, op),
                    &warm_whole(python, op),
                );
            }
            let _ = writeln!(
                out,
                "{WRITERS} writers on one bucket at once ({} runs):",
                compared.rust_crowd.kept.len()
            );
            let _ = writeln!(
                out,
                "  {:<46}{:<24}{:<24}",
                "grants in the policy at the end",
                compared
                    .rust_crowd
                    .kept_text()
                    .split(';')
                    .next()
                    .unwrap_or_default(),
                compared
                    .python_crowd
                    .kept_text()
                    .split(';')
                    .next()
                    .unwrap_or_default()
            );
            let lost = |c: &crate::crowd::Crowd| c.kept.iter().filter(|k| **k < WRITERS).count();
            let _ = writeln!(
                out,
                "  {:<46}{:<24}{:<24}",
                "runs that lost a grant",
                lost(&compared.rust_crowd),
                lost(&compared.python_crowd)
            );
            line(
                &mut out,
                "  each writer, event to answer",
                &compared.rust_crowd.answer_ms,
                &compared.python_crowd.answer_ms,
            );
            line(
                &mut out,
                "  events handed over to last invocation's end",
                &compared.rust_crowd.all_done_ms,
                &compared.python_crowd.all_done_ms,
            );
            let rss = |m: &Measured| -> Vec<f64> { m.cold_rss.iter().map(|b| *b as f64).collect() };
            let (r, p) = (median(&rss(rust)), median(&rss(python)));
            let _ = writeln!(
                out,
                "{:<48}{:<24}{:<24}{}",
                "peak RSS, cold (median)",
                r.map_or_else(|| "-".to_owned(), size),
                p.map_or_else(|| "-".to_owned(), size),
                match (r, p) {
                    (Some(r), Some(p)) if p > 0.0 => format!("{:.3}", r / p),
                    _ => "-".to_owned(),
                }
            );
            let _ = writeln!(
                out,
                "AWS calls of the re-delivered Create (Rust), reads / writes: {}",
                call_counts(&compared.rust_redelivered_calls)
            );
        }

        let _ = writeln!(out, "\ntargets:");
        for verdict in self.verdicts() {
            let _ = writeln!(
                out,
                "{:<7}{}: {}",
                if verdict.met { "MET" } else { "MISSED" },
                verdict.target,
                verdict.detail
            );
        }
        let _ = writeln!(
            out,
            "\nload average at end {}; {:.0} s in all",
            load_average(),
            self.elapsed.as_secs_f64()
        );
        out
    }

    pub fn json(&self) -> Value {
        let summary = |samples: &[f64]| json!(summarise(samples));
        let calls = |calls: &[Calls]| {
            let reads: Vec<f64> = calls.iter().map(|c| c.reads() as f64).collect();
            let writes: Vec<f64> = calls.iter().map(|c| c.writes() as f64).collect();
            json!({"reads": summarise(&reads), "writes": summarise(&writes)})
        };
        let crowd_json = |c: &crate::crowd::Crowd| {
            json!({
                "grants_kept_per_run": c.kept,
                "answer_ms": summary(&c.answer_ms),
                "all_done_ms": summary(&c.all_done_ms),
            })
        };
        let measured_json = |m: &Measured| {
            let warm: serde_json::Map<String, Value> = Op::ALL
                .into_iter()
                .map(|op| {
                    let samples = m.warm_ms.get(&op).map(Vec::as_slice).unwrap_or_default();
                    let op_calls = m.warm_calls.get(&op).map(Vec::as_slice).unwrap_or_default();
                    (
                        op.key().to_owned(),
                        json!({
                            "latency_ms": summary(samples),
                            "invocation_ms": summary(m.warm_invocation_ms.get(&op).map(Vec::as_slice).unwrap_or_default()),
                            "calls": calls(op_calls),
                            "calls_first_run": m.listing.get(&op),
                        }),
                    )
                })
                .collect();
            json!({
                "init_ms": summary(&m.init_ms),
                "cold_create_ms": summary(&m.cold_create_ms),
                "cold_start_and_create_ms": summary(&m.cold_total_ms),
                "cold_create_invocation_ms": summary(&m.cold_invocation_ms),
                "cold_create_calls": calls(&m.cold_calls),
                "peak_rss_bytes": {
                    "cold": summarise(&m.cold_rss.iter().map(|b| *b as f64).collect::<Vec<_>>()),
                    "warm_process": m.warm_rss,
                },
                "warm": warm,
            })
        };
        let functions: serde_json::Map<String, Value> = self
            .results
            .iter()
            .map(|(resource, m)| {
                let mut value = measured_json(m);
                let minimum: serde_json::Map<String, Value> = Op::ALL
                    .into_iter()
                    .map(|op| {
                        let (aws, moto, why) = resource.minimum_writes(op);
                        (
                            op.key().to_owned(),
                            json!({"aws": aws, "moto": moto, "why": why}),
                        )
                    })
                    .collect();
                value["minimum_writes"] = Value::Object(minimum);
                value["artifact"] = match self.artifacts.iter().find(|(r, _)| r == resource) {
                    Some((_, Ok(a))) => json!(a),
                    Some((_, Err(err))) => json!({"error": err}),
                    None => Value::Null,
                };
                (resource.binary().to_owned(), value)
            })
            .collect();
        let comparison = self.comparison.as_ref().map(|c| {
            json!({
                "python": c.versions,
                "crhelper": measured_json(&c.python),
                "rust_redelivered_create_start_to_answer_ms": summary(&c.rust_redelivered_ms),
                "python_redelivered_create_start_to_answer_ms": summary(&c.python_redelivered_ms),
                "rust_redelivered_create_calls": calls(&c.rust_redelivered_calls),
                "writers_on_one_bucket": {
                    "writers": WRITERS,
                    "rust": crowd_json(&c.rust_crowd),
                    "crhelper": crowd_json(&c.python_crowd),
                },
            })
        });
        let m = &self.machine;
        json!({
            "date": m.date,
            "machine": {
                "cpu": m.cpu, "cores": m.cores, "memory": m.memory, "kernel": m.kernel,
                "load_average_at_start": m.load_at_start, "load_average_at_end": load_average(),
                "rustc": m.rustc,
            },
            "setup": {
                "binaries": "host x86_64 release builds (target/release); arm64 cannot run on this machine",
                "runtime": "the bench's Lambda Runtime API (tests/src/bin/bench/runtime_api.rs), real deadlines",
                "emulator": format!("moto {}", m.moto),
                "runs": self.runs,
                "warm_up_runs_discarded": 1,
                "latency": "event handed to the runtime until its response PUT to the ResponseURL arrived (invocation_ms: until the runtime reported the result, work after the answer included)",
                "sizes": "MB = 10^6 bytes",
            },
            "functions": functions,
            "comparison": comparison,
            "targets": self.verdicts().iter().map(|v| json!({
                "status": if v.met { "MET" } else { "MISSED" },
                "target": v.target,
                "detail": v.detail,
            })).collect::<Vec<_>>(),
            "elapsed_s": self.elapsed.as_secs_f64(),
        })
    }
}
