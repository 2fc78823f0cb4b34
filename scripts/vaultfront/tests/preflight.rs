//! The built `vaultfront` binary, run as a user without AWS set up would
//! run it: it must stop at once, before any tool or network call, and say
//! what to set.
//!
//! Each run gets an empty environment: an empty HOME (no ~/.aws), a PATH
//! without `sam`, and an empty VAULTFRONT_TOOLS, so that reaching the tool
//! bootstrap (scripts/setup) or `sam` would show up as a different failure
//! and a much slower one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Far above the milliseconds it takes, far below a `sam` call or a
/// network time-out.
const FAST: Duration = Duration::from_secs(2);

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vaultfront-it-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(dir.join("home")).expect("create a scratch HOME");
        std::fs::create_dir_all(dir.join("tools")).expect("create a scratch tools dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run `vaultfront ARGS` with only `vars` (plus the scratch HOME and tools).
fn vaultfront(args: &[&str], vars: &[(&str, &str)]) -> (Output, Duration) {
    let scratch = Scratch::new();
    let mut command = Command::new(env!("CARGO_BIN_EXE_vaultfront"));
    command
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", scratch.0.join("home"))
        .env("VAULTFRONT_TOOLS", scratch.0.join("tools"))
        .env("VAULTFRONT_ROOT", root())
        .envs(vars.iter().copied());
    let started = Instant::now();
    let output = command.output().expect("run the vaultfront binary");
    (output, started.elapsed())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_fast_failure(output: &Output, took: Duration, expected: &[&str]) {
    let text = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "exit status; stderr:\n{text}"
    );
    assert!(took < FAST, "took {took:?}; stderr:\n{text}");
    for phrase in expected {
        assert!(
            text.contains(phrase),
            "{phrase:?} missing from stderr:\n{text}"
        );
    }
    assert!(
        !text.contains("scripts/setup") && output.stdout.is_empty(),
        "it went past the preflight:\nstdout:\n{}\nstderr:\n{text}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn deploy_without_credentials_says_what_to_set() {
    let (output, took) = vaultfront(&["deploy"], &[]);
    assert_fast_failure(
        &output,
        took,
        &[
            "no AWS credentials found",
            "without any network call",
            "export AWS_PROFILE=",
            "export AWS_ACCESS_KEY_ID=",
            "AWS_SECRET_ACCESS_KEY",
        ],
    );
}

#[test]
fn destroy_without_credentials_says_what_to_set() {
    let (output, took) = vaultfront(&["destroy", "--yes"], &[]);
    assert_fast_failure(
        &output,
        took,
        &["no AWS credentials found", "export AWS_PROFILE="],
    );
}

#[test]
fn a_profile_that_does_not_exist_is_named() {
    let (output, took) = vaultfront(&["deploy"], &[("AWS_PROFILE", "prod")]);
    assert_fast_failure(
        &output,
        took,
        &[
            "AWS profile \"prod\" is not in",
            "aws configure --profile prod",
        ],
    );
}

#[test]
fn deploy_without_a_region_says_what_to_set() {
    let keys = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "example"),
    ];
    let (output, took) = vaultfront(&["deploy"], &keys);
    assert_fast_failure(
        &output,
        took,
        &["no AWS region set", "export AWS_REGION=", "--region"],
    );
}

#[test]
fn retention_out_of_range_is_refused_before_anything_else() {
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "example"),
        ("AWS_REGION", "eu-west-1"),
    ];
    let (output, took) = vaultfront(
        &[
            "deploy",
            "--parameter",
            "RetentionDays=0",
            "--parameter",
            "RetentionYears=101",
        ],
        &env,
    );
    assert_fast_failure(
        &output,
        took,
        &["RetentionYears: 101 is out of range", "from 0 to 100"],
    );
    let (output, took) = vaultfront(&["deploy", "--parameter", "RetentionDays=40000"], &env);
    assert_fast_failure(
        &output,
        took,
        &["RetentionDays: 40000 is out of range", "36500"],
    );
}

#[test]
fn local_oai_is_refused_plainly_before_anything_starts() {
    // moto has no CloudFront OAI API: --local says so and makes nothing
    // (no credentials needed, no emulator started).
    let (output, took) = vaultfront(
        &["deploy", "--local", "--parameter", "OriginAccess=OAI"],
        &[],
    );
    assert_fast_failure(
        &output,
        took,
        &[
            "moto has no CloudFront origin access identity API",
            "OriginAccess=OAC",
        ],
    );
    let (output, _) = vaultfront(&["destroy", "--keep-emulator"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`--keep-emulator` works only with --local"),
        "{}",
        stderr(&output)
    );
}
