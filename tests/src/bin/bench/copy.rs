//! `vaultfront cp` through the stack's S3 API against `aws s3 cp` straight
//! to S3, in the same run: a 100 MiB text file up and down through
//! LocalStack (its API Gateway really serves S3 integrations; text only, so
//! the file is text). The API is applied by the real `s3-proxy-api` binary.
//! Wall time and peak RSS of each process come from GNU time.

use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use vaultfront_tests::process::tools_dir;
use vaultfront_tests::s3_api;

const BUCKET: &str = "bench-copy";
const MIB: usize = 1024 * 1024;
pub const SIZE_MIB: usize = 100;
pub const ROUNDS: usize = 3;

/// One copy: seconds and peak resident memory in MB.
#[derive(Debug, Clone, Copy)]
pub struct Copied {
    pub seconds: f64,
    pub peak_mb: f64,
}

#[derive(Debug, Default)]
pub struct Figures {
    pub cp_up: Vec<Copied>,
    pub aws_up: Vec<Copied>,
    pub cp_down: Vec<Copied>,
    pub aws_down: Vec<Copied>,
    pub versions: String,
}

/// Under `target` (the cargo target directory): the debug `vaultfront`
/// runs, and `bench/copy` holds the files for the run.
pub async fn run(target: &Path) -> Result<Figures, String> {
    let work = &target.join("bench").join("copy");
    let vaultfront = &target.join("debug").join("vaultfront");
    let aws = tools_dir().join("venv-localstack/bin/aws");
    if !aws.is_file() {
        return Err(format!("{} is missing: run scripts/setup", aws.display()));
    }
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    let rig = s3_api::Rig::start(BUCKET, &["GET", "HEAD", "PUT"]).await;
    let localstack = &rig.localstack;
    let env = localstack.env();
    let api_url = rig.invoke_url();

    let file = work.join("shard.txt");
    let data = shard(SIZE_MIB * MIB);
    std::fs::write(&file, &data).map_err(|e| format!("{}: {e}", file.display()))?;
    let back = work.join("back.txt");
    let cache = work.join("cache");
    let mut figures = Figures {
        versions: version(&aws),
        ..Figures::default()
    };
    for round in 0..ROUNDS {
        eprintln!(
            "bench: copy round {}/{ROUNDS}: vaultfront cp up, down",
            round + 1
        );
        let key = format!("cp/{round}.txt");
        let remote = format!("s3api://{key}");
        let cp = |args: &[&str]| {
            let mut command = Command::new(vaultfront);
            command
                .arg("cp")
                .args(args)
                .args(["--api-url", &api_url])
                .env("XDG_CACHE_HOME", &cache)
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            command
        };
        figures.cp_up.push(timed(cp(&[path(&file)?, &remote]))?);
        let _ = std::fs::remove_file(&back);
        figures.cp_down.push(timed(cp(&[&remote, path(&back)?]))?);
        same(&data, &back)?;

        eprintln!(
            "bench: copy round {}/{ROUNDS}: aws s3 cp up, down",
            round + 1
        );
        let object = format!("s3://{BUCKET}/aws/{round}.txt");
        let s3 = |from: &str, to: &str| {
            let mut command = Command::new(&aws);
            command
                .args(["s3", "cp", "--only-show-errors", "--endpoint-url"])
                .arg(localstack.endpoint())
                .args([from, to])
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            command
        };
        figures.aws_up.push(timed(s3(path(&file)?, &object))?);
        let _ = std::fs::remove_file(&back);
        figures.aws_down.push(timed(s3(&object, path(&back)?))?);
        same(&data, &back)?;
    }
    let _ = std::fs::remove_dir_all(work);
    Ok(figures)
}

fn path(file: &Path) -> Result<&str, String> {
    file.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", file.display()))
}

/// Numbered ASCII lines (LocalStack's API Gateway carries text only).
fn shard(bytes: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(bytes + 64);
    let mut line = 0u64;
    while text.len() < bytes {
        text.extend_from_slice(
            format!("vaultfront bench line {line:010} of the shard\n").as_bytes(),
        );
        line += 1;
    }
    text.truncate(bytes);
    text
}

fn same(data: &[u8], file: &Path) -> Result<(), String> {
    let back = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    if back != data {
        return Err(format!("{} is not the file sent", file.display()));
    }
    Ok(())
}

/// Run `command` under GNU time: its wall seconds and peak RSS.
fn timed(command: Command) -> Result<Copied, String> {
    let report = std::env::temp_dir().join(format!("vaultfront-bench-time-{}", std::process::id()));
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%e %M", "-o"])
        .arg(&report)
        .arg(command.get_program())
        .args(command.get_args())
        .envs(
            command
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        );
    let output = timed
        .output()
        .map_err(|e| format!("run /usr/bin/time (GNU time): {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = std::fs::read_to_string(&report).map_err(|e| format!("GNU time's report: {e}"))?;
    let _ = std::fs::remove_file(&report);
    let mut fields = text.split_whitespace();
    let seconds = fields.next().and_then(|s| s.parse::<f64>().ok());
    let kib = fields.next().and_then(|s| s.parse::<f64>().ok());
    match (seconds, kib) {
        (Some(seconds), Some(kib)) => Ok(Copied {
            seconds,
            peak_mb: kib / 1024.0,
        }),
        _ => Err(format!("GNU time printed `{}`", text.trim())),
    }
}

fn version(aws: &Path) -> String {
    Command::new(aws)
        .arg("--version")
        .output()
        .map(|o| {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_default()
}

fn median(samples: &[Copied], field: fn(&Copied) -> f64) -> f64 {
    let mut values: Vec<f64> = samples.iter().map(field).collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

impl Figures {
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\ncopy: a {SIZE_MIB} MiB text file through LocalStack on loopback, median of {ROUNDS} rounds; \
             vaultfront cp (debug build, as the README runs it) through the S3 API vs {} straight to S3",
            self.versions
        );
        let _ = writeln!(
            out,
            "{:<12}{:<34}{:<34}cp / aws time",
            "", "vaultfront cp (API)", "aws s3 cp (S3)"
        );
        for (label, ours, theirs) in [
            ("upload", &self.cp_up, &self.aws_up),
            ("download", &self.cp_down, &self.aws_down),
        ] {
            let cell = |samples: &[Copied]| {
                let seconds = median(samples, |c| c.seconds);
                format!(
                    "{seconds:.2} s, {:.0} MiB/s, peak {:.0} MB",
                    SIZE_MIB as f64 / seconds,
                    median(samples, |c| c.peak_mb)
                )
            };
            let ratio = median(ours, |c| c.seconds) / median(theirs, |c| c.seconds);
            let _ = writeln!(
                out,
                "{label:<12}{:<34}{:<34}{ratio:.2}",
                cell(ours),
                cell(theirs)
            );
        }
        out
    }

    pub fn json(&self) -> Value {
        let series = |samples: &[Copied]| {
            json!(samples
                .iter()
                .map(|c| json!({"seconds": c.seconds, "peak_mb": c.peak_mb}))
                .collect::<Vec<_>>())
        };
        json!({
            "size_mib": SIZE_MIB,
            "aws_cli": self.versions,
            "vaultfront_cp_upload": series(&self.cp_up),
            "aws_s3_cp_upload": series(&self.aws_up),
            "vaultfront_cp_download": series(&self.cp_down),
            "aws_s3_cp_download": series(&self.aws_down),
        })
    }
}
