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
const CDN_PATH: &str = "CDN refuses unsigned GET, serves signed";

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
        self.outputs_with(bucket, effective_lock, &[]);
    }

    fn outputs_with(&self, bucket: &str, effective_lock: &str, more: &[(&str, &str)]) {
        let mut outputs = json!([
            {"OutputKey": "DataBucketName", "OutputValue": bucket},
            {"OutputKey": "DistributionId", "OutputValue": "E2EXAMPLE"},
            {"OutputKey": "ApiInvokeUrl",
             "OutputValue": "https://abc123.execute-api.us-east-1.amazonaws.com/v1"},
            {"OutputKey": "OriginAccessMode", "OutputValue": "OAC"},
            {"OutputKey": "EffectiveObjectLock", "OutputValue": effective_lock},
        ]);
        if let Some(list) = outputs.as_array_mut() {
            for (key, value) in more {
                list.push(json!({"OutputKey": key, "OutputValue": value}));
            }
        }
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
            .env("VAULTFRONT_KEY_DIR", self.dir.join("keys"))
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

/// A stand-in for CloudFront with a trusted key group, on loopback: it
/// answers as CloudFront documents. A request without a Key-Pair-Id gets
/// 403 MissingKey; an unknown key id 403 "Unknown Key"; a canned-policy
/// URL whose RSA-SHA256 signature verifies with the trusted public key and
/// has not expired gets the object; anything else 403 AccessDenied. `leaky`
/// serves everything, as a distribution without trusted key groups does.
struct StandInCdn {
    addr: std::net::SocketAddr,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

const KEY_PAIR_ID: &str = "K2VERIFYEXAMPLE";

impl StandInCdn {
    async fn start(public_key: Vec<u8>, leaky: bool) -> StandInCdn {
        use hyper::service::service_fn;
        use hyper_util::rt::TokioIo;
        use std::sync::{Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stand-in CDN");
        let addr = listener.local_addr().expect("its address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let public_key = Arc::new(public_key);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = Arc::clone(&seen);
                let public_key = Arc::clone(&public_key);
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let uri = request.uri().to_string();
                            if let Ok(mut seen) = seen.lock() {
                                seen.push(uri.clone());
                            }
                            let (status, body) = if leaky {
                                (200, "weights".to_owned())
                            } else {
                                cloudfront_answer(&format!("http://{addr}"), &uri, &public_key)
                            };
                            let response = hyper::Response::builder()
                                .status(status)
                                .body(http_body_util::Full::new(bytes::Bytes::from(body)));
                            async move { response }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        StandInCdn { addr, requests }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn cloudfront_answer(base: &str, uri: &str, public_key: &[u8]) -> (u16, String) {
    use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    use base64::Engine as _;
    let error = |code: &str, message: &str| {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>")
    };
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let field = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    };
    let Some(id) = field("Key-Pair-Id") else {
        return (
            403,
            error(
                "MissingKey",
                "Missing Key-Pair-Id query parameter or cookie value",
            ),
        );
    };
    if id != KEY_PAIR_ID {
        return (403, error("InvalidKey", "Unknown Key"));
    }
    let expires: u64 = field("Expires").and_then(|e| e.parse().ok()).unwrap_or(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(u64::MAX);
    let signature = field("Signature")
        .map(|s| s.replace('-', "+").replace('_', "=").replace('~', "/"))
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .unwrap_or_default();
    let policy = format!(
        r#"{{"Statement":[{{"Resource":"{base}{path}","Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
    );
    let verified = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key)
        .verify(policy.as_bytes(), &signature)
        .is_ok();
    if verified && expires > now && field("Hash-Algorithm").as_deref() == Some("SHA256") {
        (200, "weights".to_owned())
    } else {
        (403, error("AccessDenied", "Access denied"))
    }
}

/// A new RSA key: its PKCS#8 PEM, and its public key as CloudFront holds it.
fn rsa_key() -> (String, Vec<u8>) {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair as _;
    let key =
        aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("an RSA key");
    let der: aws_lc_rs::encoding::Pkcs8V1Der = key.as_der().expect("its PKCS#8 form");
    let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
    (pem, key.public_key().as_ref().to_vec())
}

fn write_key(stack: &FakeStack, pem: &str) {
    use std::os::unix::fs::PermissionsExt;
    let dir = stack.dir.join("keys/us-east-1/vaultfront");
    std::fs::create_dir_all(&dir).expect("the key directory");
    let file = dir.join("cdn-private-key.pem");
    std::fs::write(&file, pem).expect("write the key");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
}

// moto's CloudFront serves no content, so the distribution is a stand-in
// here: what this shows is that verify makes both GETs, signs the second
// with the stack's key as CloudFront checks it, and passes nothing else.
#[test]
fn the_cdn_is_asked_unsigned_then_signed_on_the_aws_path() {
    let moto = Moto::start();
    let s3 = moto.s3();
    let rt = runtime();
    rt.block_on(bucket(&s3, "cdn-data", Some(30)));
    let stack = FakeStack::new("cdn-path");
    let (private_key, public_key) = rsa_key();
    write_key(&stack, &private_key);
    let signed = |cdn: &StandInCdn| {
        stack.outputs_with(
            "cdn-data",
            "GOVERNANCE for 30 days",
            &[
                ("CdnUrl", &cdn.url()),
                ("CdnAccessMode", "signed"),
                ("CdnKeyPairId", KEY_PAIR_ID),
            ],
        );
    };

    // A distribution that trusts the key: refused unsigned, served signed.
    let cdn = rt.block_on(StandInCdn::start(public_key.clone(), false));
    signed(&cdn);
    let (_, report) = stack.verify(&moto, &[]);
    let (status, evidence) = guarantee(&report, CDN_PATH);
    assert_eq!(status, "PASS", "{evidence}");
    assert!(
        evidence.contains("unsigned GET datasets/a.bin: 403 MissingKey")
            && evidence.contains("signed GET: 200, served"),
        "{evidence}"
    );
    let requests = cdn.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0], "/datasets/a.bin");
    assert!(
        requests[1].starts_with("/datasets/a.bin?Expires="),
        "{requests:?}"
    );
    assert!(!format!("{report}").contains(private_key.lines().nth(1).unwrap_or("-")));

    // A key the distribution does not trust: the signed GET is refused.
    let (other_key, _) = rsa_key();
    write_key(&stack, &other_key);
    let (_, report) = stack.verify(&moto, &[]);
    let (status, evidence) = guarantee(&report, CDN_PATH);
    assert_eq!(status, "FAIL", "{evidence}");
    assert!(
        evidence.contains("signed GET was refused too (HTTP 403"),
        "{evidence}"
    );

    // No key on this machine: the unsigned refusal alone, said so.
    std::fs::remove_dir_all(stack.dir.join("keys")).expect("remove the keys");
    let (_, report) = stack.verify(&moto, &[]);
    let (status, evidence) = guarantee(&report, CDN_PATH);
    assert_eq!(status, "PASS", "{evidence}");
    assert!(
        evidence.contains("signed GET not tried: no private key"),
        "{evidence}"
    );

    // A distribution that serves unsigned requests.
    let leaky = rt.block_on(StandInCdn::start(public_key, true));
    signed(&leaky);
    let (_, report) = stack.verify(&moto, &[]);
    let (status, evidence) = guarantee(&report, CDN_PATH);
    assert_eq!(status, "FAIL", "{evidence}");
    assert!(
        evidence.contains("HTTP 200: CloudFront answers requests without a signature"),
        "{evidence}"
    );
}
