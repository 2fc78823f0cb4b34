//! `vaultfront verify` on its AWS path (no `--local`): stack outputs from
//! `sam list stack-outputs`, clients from the environment, and the data
//! path exercised — pointed at moto through `AWS_ENDPOINT_URL`, with a `sam`
//! that prints the outputs of a stack this test laid out by hand.
//!
//! Emulator gaps, and what each means here:
//! - moto does not authenticate: it serves an unsigned ListObjectsV2, and
//!   refuses an unsigned GetObject of a private object only through its
//!   object-ACL check, with an empty 403 where S3 answers 403 AccessDenied.
//!   So here the anonymous-GET guarantee must FAIL, which is what shows that
//!   both requests are really made and that the AWS path never excuses what
//!   it did not see (the PASS side, S3's 403 AccessDenied on both, is the
//!   unit test in src/verify/data_path.rs).
//! - moto refuses every object request on a bucket whose policy has a
//!   condition (it evaluates conditions against no request context), so the
//!   buckets here have no policy; the policy guarantees are not looked at.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_sdk_s3::types::{
    DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
    ObjectLockRule,
};
use serde_json::{json, Value};
use vaultfront_tests::Moto;

const LOCKED: &str = "New version locked, delete refused";
const ANONYMOUS: &str = "Anonymous direct S3 GET refused";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A stack's outputs as `sam list stack-outputs --output json` prints them,
/// served by a `sam` in a tools directory of this test's own.
struct FakeStack {
    dir: PathBuf,
}

impl FakeStack {
    fn new(name: &str) -> FakeStack {
        let dir = root()
            .join("target/verify-aws-tests")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let bin = dir.join("tools/bin");
        std::fs::create_dir_all(&bin).expect("create the tools directory");
        let sam = bin.join("sam");
        std::fs::write(
            &sam,
            format!("#!/bin/sh\ncat '{}'\n", dir.join("outputs.json").display()),
        )
        .expect("write the fake sam");
        let made_executable = Command::new("chmod")
            .arg("+x")
            .arg(&sam)
            .status()
            .expect("chmod");
        assert!(made_executable.success());
        FakeStack { dir }
    }

    /// The outputs of a stack whose data bucket is `bucket` and whose
    /// Object Lock handler reported `effective_lock`.
    fn outputs(&self, bucket: &str, effective_lock: &str) {
        let outputs = json!([
            {"OutputKey": "DataBucketName", "OutputValue": bucket},
            {"OutputKey": "DistributionId", "OutputValue": "E2EXAMPLE"},
            {"OutputKey": "ApiInvokeUrl",
             "OutputValue": "https://abc123.execute-api.us-east-1.amazonaws.com/v1"},
            {"OutputKey": "OriginAccessMode", "OutputValue": "OAC"},
            {"OutputKey": "EffectiveObjectLock", "OutputValue": effective_lock},
        ]);
        std::fs::write(self.dir.join("outputs.json"), outputs.to_string())
            .expect("write the outputs");
    }

    /// `vaultfront verify --json` on the AWS path, credentials and region
    /// from the environment only (an empty HOME: no ~/.aws).
    fn verify(&self, moto: &Moto, args: &[&str]) -> (Output, Value) {
        let output = Command::new(env!("CARGO_BIN_EXE_vaultfront"))
            .args(["verify", "--json"])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &self.dir)
            .env("VAULTFRONT_ROOT", root())
            .env("VAULTFRONT_TOOLS", self.dir.join("tools"))
            .envs(moto.env())
            .output()
            .expect("run vaultfront verify");
        println!(
            "--- vaultfront verify {args:?} ({})\n{}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let report = serde_json::from_slice(&output.stdout).expect("verify --json prints JSON");
        (output, report)
    }
}

impl Drop for FakeStack {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// (status, evidence) of one guarantee in verify's JSON.
fn guarantee(report: &Value, name: &str) -> (String, String) {
    let found = report["guarantees"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["guarantee"] == name)
        .unwrap_or_else(|| panic!("no `{name}` in {report}"));
    (
        found["status"].as_str().unwrap_or_default().to_owned(),
        found["evidence"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A bucket created with Object Lock (so versioned), with a GOVERNANCE
/// default retention of `retention_days` if given, holding one object.
async fn bucket(s3: &aws_sdk_s3::Client, name: &str, retention_days: Option<i32>) {
    s3.create_bucket()
        .bucket(name)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("create the bucket");
    if let Some(days) = retention_days {
        let rule = ObjectLockRule::builder()
            .default_retention(
                DefaultRetention::builder()
                    .mode(ObjectLockRetentionMode::Governance)
                    .days(days)
                    .build(),
            )
            .build();
        let config = ObjectLockConfiguration::builder()
            .object_lock_enabled(ObjectLockEnabled::Enabled)
            .rule(rule)
            .build();
        s3.put_object_lock_configuration()
            .bucket(name)
            .object_lock_configuration(config)
            .send()
            .await
            .expect("set the default retention");
    }
    s3.put_object()
        .bucket(name)
        .key("datasets/a.bin")
        .body(b"weights".to_vec().into())
        .send()
        .await
        .expect("put an object");
}

async fn probe_versions(s3: &aws_sdk_s3::Client, bucket: &str) -> usize {
    s3.list_object_versions()
        .bucket(bucket)
        .prefix("vaultfront-verify/")
        .send()
        .await
        .expect("list the probe's versions")
        .versions()
        .len()
}

#[test]
fn the_data_path_is_tried_on_the_aws_path_and_nothing_unseen_passes() {
    let moto = Moto::start();
    let s3 = moto.s3();
    let rt = runtime();
    // 45 days, where samconfig.toml says 30: what the stack deployed (its
    // EffectiveObjectLock output) is what verify must expect.
    rt.block_on(bucket(&s3, "locked-data", Some(45)));
    let stack = FakeStack::new("data-path");
    stack.outputs("locked-data", "GOVERNANCE for 45 days");

    // Without --probe nothing is written; the anonymous GET is still asked.
    let (output, report) = stack.verify(&moto, &[]);
    assert!(!output.status.success(), "verify passed against moto");
    let (status, evidence) = guarantee(&report, LOCKED);
    assert_eq!(status, "N/A", "{evidence}");
    assert!(evidence.contains("--probe"), "{evidence}");
    assert_eq!(rt.block_on(probe_versions(&s3, "locked-data")), 0);
    let (status, evidence) = guarantee(&report, ANONYMOUS);
    assert_eq!(status, "FAIL", "{evidence}");
    assert!(
        evidence.contains("anonymous GetObject datasets/a.bin: 403 no error code")
            && evidence.contains("anonymous ListObjectsV2: served"),
        "the anonymous requests were not both made, or moto changed: {evidence}"
    );
    let (status, evidence) = guarantee(&report, "Object Lock default retention");
    assert_eq!(
        status, "PASS",
        "expected from EffectiveObjectLock: {evidence}"
    );

    // With --probe: a version with the default retention, whose delete is refused.
    let (_, report) = stack.verify(&moto, &["--probe"]);
    let (status, evidence) = guarantee(&report, LOCKED);
    assert_eq!(status, "PASS", "{evidence}");
    assert!(
        evidence.contains("GOVERNANCE until") && evidence.contains("refused"),
        "{evidence}"
    );
    assert_eq!(rt.block_on(probe_versions(&s3, "locked-data")), 1);
    let (_, evidence) = guarantee(&report, ANONYMOUS);
    assert!(
        evidence.contains("anonymous GetObject vaultfront-verify/probe-"),
        "the anonymous GET did not ask for the probe: {evidence}"
    );

    // A bucket with Object Lock on but no default retention: the probe is
    // not locked, and its delete goes through.
    rt.block_on(bucket(&s3, "unlocked-data", None));
    stack.outputs("unlocked-data", "GOVERNANCE for 45 days");
    let (output, report) = stack.verify(&moto, &["--probe"]);
    assert!(!output.status.success());
    let (status, evidence) = guarantee(&report, LOCKED);
    assert_eq!(status, "FAIL", "{evidence}");
    assert!(
        evidence.contains("has no retention") && evidence.contains("Object Lock did not hold"),
        "{evidence}"
    );
    assert_eq!(rt.block_on(probe_versions(&s3, "unlocked-data")), 0);
}
