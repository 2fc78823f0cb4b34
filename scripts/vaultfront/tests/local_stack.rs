//! `scripts/deploy --local` end to end: the real command brings the stack
//! up in moto with the real handler binaries, `vaultfront verify --local`
//! audits it, a re-run with changed parameters updates it, and
//! `--local --destroy` removes everything but what the template retains.
//!
//! The functions run as debug builds (VAULTFRONT_LOCAL_PROFILE=debug): the
//! release profile (LTO, one codegen unit) would add minutes per test on
//! this machine, and the protocol does not depend on the profile.
//! Each test has its own state directory and its own moto, and kills moto's
//! process group when it ends, passing or not.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh state directory, and moto's process group killed on drop.
struct LocalStack {
    dir: PathBuf,
}

impl LocalStack {
    fn new(name: &str) -> LocalStack {
        let dir = root()
            .join("target/local-stack-tests")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the state directory");
        LocalStack { dir }
    }

    fn state(&self) -> Option<Value> {
        let text = std::fs::read_to_string(self.dir.join("state.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn moto_port(&self) -> u16 {
        let state = self.state().expect("a state file");
        state["moto"]["port"].as_u64().expect("moto's port") as u16
    }

    fn physical_id(&self, logical: &str) -> String {
        let state = self.state().expect("a state file");
        state["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["logical_id"] == logical)
            .and_then(|r| r["physical_id"].as_str())
            .unwrap_or_else(|| panic!("{logical} is not in the state"))
            .to_owned()
    }

    fn deploy(&self, args: &[&str]) -> Output {
        let output = Command::new(root().join("scripts/deploy"))
            .arg("--local")
            .arg("--state-dir")
            .arg(&self.dir)
            .args(args)
            .env("VAULTFRONT_LOCAL_PROFILE", "debug")
            .output()
            .expect("run scripts/deploy");
        print_output("scripts/deploy", &output);
        output
    }

    fn verify(&self) -> Output {
        self.verify_with(&[])
    }

    fn verify_with(&self, args: &[&str]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_vaultfront"))
            .args(["verify", "--local", "--state-dir"])
            .arg(&self.dir)
            .args(args)
            .env("VAULTFRONT_ROOT", root())
            .output()
            .expect("run vaultfront verify");
        print_output("vaultfront verify", &output);
        output
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        if let Some(pid) = self.state().and_then(|s| s["moto"]["pid"].as_u64()) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
        // kept-moto.pid: this test's note after --keep-emulator;
        // lambda-watch.pid: the command's emulator, there only if the
        // command itself was killed before it could stop it.
        for pid in ["kept-moto.pid", "lambda-watch.pid"]
            .iter()
            .filter_map(|file| std::fs::read_to_string(self.dir.join(file)).ok())
            .filter_map(|p| p.trim().parse::<u32>().ok())
        {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
        // Kept after a failure: its moto.log and lambda-watch.log say why.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn print_output(what: &str, output: &Output) {
    println!(
        "--- {what} ({})\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn config(port: u16) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://localhost:{port}"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await
}

async fn s3(port: u16) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&config(port).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// No REST API, role, log group, Firehose stream, distribution or OAC left
/// in moto: what a destroy or a rollback must leave (the buckets are checked
/// by the caller).
async fn nothing_of_ours_left(config: &aws_config::SdkConfig) {
    let apis = aws_sdk_apigateway::Client::new(config)
        .get_rest_apis()
        .send()
        .await
        .expect("list APIs");
    assert!(
        apis.items().is_empty(),
        "REST APIs left: {:?}",
        apis.items()
    );
    let roles = aws_sdk_iam::Client::new(config)
        .list_roles()
        .send()
        .await
        .expect("list roles");
    assert!(roles.roles().is_empty(), "roles left: {:?}", roles.roles());
    let groups = aws_sdk_cloudwatchlogs::Client::new(config)
        .describe_log_groups()
        .send()
        .await
        .expect("list log groups");
    assert!(
        groups.log_groups().is_empty(),
        "log groups left: {:?}",
        groups.log_groups()
    );
    let streams = aws_sdk_firehose::Client::new(config)
        .list_delivery_streams()
        .send()
        .await
        .expect("list Firehose streams");
    assert!(
        streams.delivery_stream_names().is_empty(),
        "Firehose streams left: {:?}",
        streams.delivery_stream_names()
    );
    let cloudfront = aws_sdk_cloudfront::Client::new(config);
    let distributions = cloudfront
        .list_distributions()
        .send()
        .await
        .expect("list distributions");
    let left = distributions
        .distribution_list()
        .map(|l| l.items().len())
        .unwrap_or(0);
    assert_eq!(left, 0, "distributions left");
    let oacs = cloudfront
        .list_origin_access_controls()
        .send()
        .await
        .expect("list OACs");
    let left = oacs
        .origin_access_control_list()
        .map(|l| l.items().len())
        .unwrap_or(0);
    assert_eq!(left, 0, "origin access controls left");
    let keys = cloudfront
        .list_public_keys()
        .send()
        .await
        .expect("list public keys");
    let left = keys.public_key_list().map(|l| l.items().len()).unwrap_or(0);
    assert_eq!(left, 0, "CloudFront public keys left");
    // Key groups are not checked: moto 5.2.5 has no DeleteKeyGroup.
}

/// The guarantee's line in verify's table.
fn line<'a>(table: &'a str, guarantee: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.starts_with(guarantee))
        .unwrap_or_else(|| panic!("no `{guarantee}` line in:\n{table}"))
}

/// The private key's base64 lines (the short last one aside): none may
/// appear in anything the tool prints or logs.
fn secret_lines(key: &Path) -> Vec<String> {
    std::fs::read_to_string(key)
        .expect("read the private key")
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 32)
        .map(str::to_owned)
        .collect()
}

/// No line of the private key in `outputs`, nor in any file of the state
/// directory but the key itself (moto.log, lambda-watch.log, state.json).
fn assert_key_never_shown(stack: &LocalStack, key: &Path, outputs: &[&Output]) {
    let secrets = secret_lines(key);
    assert!(secrets.len() > 20, "a 2048-bit PKCS#8 key has ~25 lines");
    let mut texts: Vec<(String, String)> = outputs
        .iter()
        .map(|o| ("the tool's output".to_owned(), text(o)))
        .collect();
    for entry in std::fs::read_dir(&stack.dir)
        .expect("list the state directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap_or_default();
            texts.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    for (name, text) in &texts {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a line of the private key is in {name}"
            );
        }
    }
}

fn url_command(stack: &LocalStack, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_vaultfront"))
        .arg("url")
        .args(args)
        .args(["--local", "--state-dir"])
        .arg(&stack.dir)
        .env("VAULTFRONT_ROOT", root())
        .output()
        .expect("run vaultfront url");
    print_output("vaultfront url", &output);
    output
}

#[test]
fn up_verify_update_tamper_destroy() {
    let stack = LocalStack::new("e2e");
    let up = stack.deploy(&[]);
    assert!(up.status.success(), "up failed:\n{}", text(&up));
    let out = String::from_utf8_lossy(&up.stdout);
    for custom in ["DataBucketObjectLock", "OriginBucketPolicy", "S3Api"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("CREATE_COMPLETE") && l.contains(custom)),
            "{custom} not created:\n{out}"
        );
    }
    assert!(out.contains("EffectiveObjectLock"), "{out}");
    assert!(
        out.contains("GOVERNANCE for 30 days") || out.contains("GOVERNANCE for 30"),
        "{out}"
    );
    // CdnAccess=signed, the default: the stack's key was made with it,
    // readable by the user only, and its path printed.
    let key = stack.dir.join("cdn-key/cdn-private-key.pem");
    assert!(
        out.lines().any(|l| l.contains("signing key")
            && l.contains("cdn-key/cdn-private-key.pem (CdnPublicKey, made now")),
        "{out}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key)
        .expect("the private key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the private key's mode");
    let first_key = std::fs::read(&key).expect("read the private key");
    let key_pair_id = stack.state().expect("state")["outputs"]["CdnKeyPairId"]
        .as_str()
        .expect("a CdnKeyPairId output")
        .to_owned();
    assert_eq!(
        key_pair_id,
        stack.physical_id("CdnSigningKey"),
        "CdnKeyPairId is the public key's id"
    );

    let verify = stack.verify();
    let table = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(verify.status.success(), "verify failed:\n{}", text(&verify));
    for guarantee in [
        "Block Public Access all on",
        "Bucket policy grants only the origin",
        "TLS-only deny on bucket and objects",
        "Versioning on",
        "Object Lock default retention",
        "Distribution HTTPS only",
        "API integrations AWS, this bucket only",
        "API stage logs access to the stack's destination",
        "Distribution serves signed requests only",
    ] {
        assert!(
            line(&table, guarantee).contains("PASS"),
            "{guarantee}:\n{table}"
        );
    }
    assert!(
        line(&table, "Distribution serves signed requests only").contains(&key_pair_id),
        "{table}"
    );

    // A signed URL and cookies for the local stack, from its outputs and key.
    let cdn_url = stack.state().expect("state")["outputs"]["CdnUrl"]
        .as_str()
        .expect("CdnUrl")
        .to_owned();
    let url = url_command(&stack, &["models/my model.bin", "--expires-in", "15m"]);
    assert!(url.status.success(), "{}", text(&url));
    let signed = String::from_utf8_lossy(&url.stdout).trim_end().to_owned();
    assert!(
        signed.starts_with(&format!("{cdn_url}/models/my%20model.bin?Expires="))
            && signed.contains(&format!("&Key-Pair-Id={key_pair_id}&Hash-Algorithm=SHA256")),
        "{signed}"
    );
    let cookies = url_command(&stack, &["--prefix", "datasets/", "--expires-in", "1d"]);
    assert!(cookies.status.success(), "{}", text(&cookies));
    let printed = String::from_utf8_lossy(&cookies.stdout).into_owned();
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("-b 'CloudFront-Policy=")),
        "{printed}"
    );
    assert_eq!(
        printed
            .lines()
            .filter(|l| l.ends_with("; Path=/; Secure; HttpOnly"))
            .count(),
        4,
        "{printed}"
    );
    assert_key_never_shown(&stack, &key, &[&up, &verify, &url, &cookies]);
    // moto cannot show the data path (see the README): never a PASS here.
    for unprovable in [
        "New version locked, delete refused",
        "Anonymous direct S3 GET refused",
    ] {
        assert!(
            line(&table, unprovable).contains("N/A"),
            "{unprovable}:\n{table}"
        );
    }

    // Update: retention raised, PUT added to the API.
    // A new stage name is a new S3ProxyApi physical id (the stage's ARN):
    // a replacement, whose old id gets its Delete after the run succeeded.
    let old_stage = stack.physical_id("S3Api");
    let update = stack.deploy(&[
        "--parameter",
        "RetentionDays=60",
        "--parameter",
        "ApiMethods=GET,HEAD,PUT",
        "--parameter",
        "ApiStageName=v2",
    ]);
    assert!(update.status.success(), "update failed:\n{}", text(&update));
    let out = String::from_utf8_lossy(&update.stdout);
    // The second deploy reuses the key: same file, same public key, so the
    // CloudFront public key is not touched (no CREATE below either).
    assert!(
        out.lines().any(|l| l.contains("signing key")
            && l.contains("cdn-key/cdn-private-key.pem (CdnPublicKey, reused")),
        "{out}"
    );
    assert_eq!(
        std::fs::read(&key).expect("read the private key"),
        first_key,
        "the second deploy changed the private key"
    );
    assert!(
        !out.lines()
            .any(|l| l.contains("CdnSigningKey") || l.contains("CdnKeyGroup")),
        "the key or key group changed on an update that did not touch them:\n{out}"
    );
    assert_key_never_shown(&stack, &key, &[&update]);
    let new_stage = stack.physical_id("S3Api");
    assert_ne!(old_stage, new_stage, "a new stage kept the physical id");
    let (_, after_replacement) = out
        .split_once("replaced: new physical id")
        .unwrap_or_else(|| panic!("no replacement reported:\n{out}"));
    assert!(
        after_replacement
            .lines()
            .any(|l| l.starts_with("DELETE_COMPLETE") && l.contains("S3Api")),
        "the old physical id was not deleted after the update:\n{out}"
    );
    let api_id = stack.physical_id("RestApi");
    let stages = runtime().block_on(async {
        let config = config(stack.moto_port()).await;
        aws_sdk_apigateway::Client::new(&config)
            .get_stages()
            .rest_api_id(&api_id)
            .send()
            .await
            .expect("list stages")
            .item()
            .iter()
            .filter_map(|s| s.stage_name().map(str::to_owned))
            .collect::<Vec<_>>()
    });
    assert_eq!(stages, ["v2"], "the old stage outlived its Delete");
    for changed in ["DataBucketObjectLock", "S3Api", "ApiS3Role"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("UPDATE_COMPLETE") && l.contains(changed)),
            "{changed} not updated:\n{out}"
        );
    }
    assert!(
        !out.contains("CREATE_IN_PROGRESS"),
        "an update created something:\n{out}"
    );
    let verify = stack.verify();
    let table = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(
        verify.status.success(),
        "verify after update failed:\n{}",
        text(&verify)
    );
    assert!(
        line(&table, "Object Lock default retention").contains("Days=60"),
        "{table}"
    );
    assert!(
        line(&table, "API integrations AWS, this bucket only").contains("PUT"),
        "{table}"
    );

    // The same parameters again: nothing to do, no event sent.
    let again = stack.deploy(&[
        "--parameter",
        "RetentionDays=60",
        "--parameter",
        "ApiMethods=GET,HEAD,PUT",
        "--parameter",
        "ApiStageName=v2",
    ]);
    assert!(again.status.success(), "re-run failed:\n{}", text(&again));
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(
        !out.contains("_IN_PROGRESS") && !out.contains("cargo lambda watch"),
        "an unchanged re-run changed something:\n{out}"
    );
    let json = stack.verify_with(&["--json"]);
    assert!(json.status.success(), "{}", text(&json));
    let report: Value = serde_json::from_slice(&json.stdout).expect("verify --json prints JSON");
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(report["target"], "local", "{report}");

    // Someone adds a public read to the bucket policy by hand.
    let port = stack.moto_port();
    let bucket = stack.physical_id("DataBucket");
    runtime().block_on(async {
        let s3 = s3(port).await;
        let policy = s3.get_bucket_policy().bucket(&bucket).send().await.expect("read the policy");
        let mut document: Value = serde_json::from_str(policy.policy().unwrap_or_default()).expect("policy JSON");
        let public = serde_json::json!({"Sid": "ByHandPublicRead", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")});
        document["Statement"].as_array_mut().expect("statements").push(public);
        s3.put_bucket_policy().bucket(&bucket).policy(document.to_string()).send().await.expect("write the policy");
    });
    let verify = stack.verify();
    let table = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(
        !verify.status.success(),
        "verify passed a public policy:\n{table}"
    );
    let policy_line = line(&table, "Bucket policy grants only the origin");
    assert!(
        policy_line.contains("FAIL") && policy_line.contains("ByHandPublicRead"),
        "{table}"
    );
    assert!(
        String::from_utf8_lossy(&verify.stderr).contains("1 guarantee(s) FAILED"),
        "{}",
        text(&verify)
    );

    // And switches one Block Public Access flag off.
    runtime().block_on(async {
        let s3 = s3(port).await;
        let off = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .block_public_policy(true)
            .ignore_public_acls(true)
            .restrict_public_buckets(false)
            .build();
        s3.put_public_access_block()
            .bucket(&bucket)
            .public_access_block_configuration(off)
            .send()
            .await
            .expect("switch a Block Public Access flag off");
    });
    let verify = stack.verify();
    let table = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(!verify.status.success(), "{table}");
    let bpa = line(&table, "Block Public Access all on");
    assert!(
        bpa.contains("FAIL") && bpa.contains("RestrictPublicBuckets=false"),
        "{table}"
    );
    assert!(
        String::from_utf8_lossy(&verify.stderr).contains("2 guarantee(s) FAILED"),
        "{}",
        text(&verify)
    );

    // And stops the API stage's access log.
    let api_id = stack.physical_id("RestApi");
    runtime().block_on(async {
        use aws_sdk_apigateway::types::{Op, PatchOperation};
        let config = config(port).await;
        aws_sdk_apigateway::Client::new(&config)
            .update_stage()
            .rest_api_id(&api_id)
            .stage_name("v2")
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Remove)
                    .path("/accessLogSettings")
                    .build(),
            )
            .send()
            .await
            .expect("remove the access log");
    });
    let verify = stack.verify();
    let table = String::from_utf8_lossy(&verify.stdout).into_owned();
    let access = line(&table, "API stage logs access to the stack's destination");
    assert!(
        access.contains("FAIL") && access.contains("no accessLogSettings"),
        "{table}"
    );
    assert!(
        String::from_utf8_lossy(&verify.stderr).contains("3 guarantee(s) FAILED"),
        "{}",
        text(&verify)
    );

    // And drops the key group from the distribution: anyone may read again.
    let distribution = stack.physical_id("Distribution");
    runtime().block_on(async {
        use aws_sdk_cloudfront::types::TrustedKeyGroups;
        let cloudfront = aws_sdk_cloudfront::Client::new(&config(port).await);
        let current = cloudfront
            .get_distribution_config()
            .id(&distribution)
            .send()
            .await
            .expect("read the distribution");
        let mut changed = current.distribution_config().expect("a config").clone();
        let mut behaviour = changed
            .default_cache_behavior
            .clone()
            .expect("a default behaviour");
        behaviour.trusted_key_groups = Some(
            TrustedKeyGroups::builder()
                .enabled(false)
                .quantity(0)
                .build()
                .expect("an empty TrustedKeyGroups"),
        );
        changed.default_cache_behavior = Some(behaviour);
        cloudfront
            .update_distribution()
            .id(&distribution)
            .distribution_config(changed)
            .set_if_match(current.e_tag().map(str::to_owned))
            .send()
            .await
            .expect("drop the key group");
    });
    let verify = stack.verify();
    let table = String::from_utf8_lossy(&verify.stdout).into_owned();
    let signed_only = line(&table, "Distribution serves signed requests only");
    assert!(
        signed_only.contains("FAIL") && signed_only.contains("trusts no key group"),
        "{table}"
    );
    assert!(
        String::from_utf8_lossy(&verify.stderr).contains("4 guarantee(s) FAILED"),
        "{}",
        text(&verify)
    );

    // Destroy, keeping moto up to look at what is left.
    let pid = stack
        .state()
        .and_then(|s| s["moto"]["pid"].as_u64())
        .expect("moto's pid");
    std::fs::write(stack.dir.join("kept-moto.pid"), pid.to_string()).expect("remember moto's pid");
    let log_bucket = stack.physical_id("LogBucket");
    let destroy = stack.deploy(&["--destroy", "--keep-emulator"]);
    assert!(
        destroy.status.success(),
        "destroy failed:\n{}",
        text(&destroy)
    );
    assert!(stack.state().is_none(), "the state file outlived destroy");
    runtime().block_on(async {
        let config = config(port).await;
        let s3 = s3(port).await;
        let mut buckets: Vec<String> = s3
            .list_buckets()
            .send()
            .await
            .expect("list buckets")
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect();
        buckets.sort();
        let mut retained = vec![bucket.clone(), log_bucket.clone()];
        retained.sort();
        // Both buckets are DeletionPolicy: Retain in the template.
        assert_eq!(buckets, retained);
        nothing_of_ours_left(&config).await;
    });
}

#[test]
fn public_access_makes_no_key_and_signs_nothing() {
    let stack = LocalStack::new("public");
    let up = stack.deploy(&["--parameter", "CdnAccess=public"]);
    assert!(up.status.success(), "up failed:\n{}", text(&up));
    let out = String::from_utf8_lossy(&up.stdout);
    assert!(
        out.contains("CDN access   public: every object is readable by anyone who has its URL"),
        "{out}"
    );
    assert!(
        !stack.dir.join("cdn-key").exists(),
        "a key was made for a public stack"
    );
    assert!(
        !out.contains("AWS::CloudFront::PublicKey") && !out.contains("AWS::CloudFront::KeyGroup"),
        "{out}"
    );
    let state = stack.state().expect("state");
    assert!(state["outputs"].get("CdnKeyPairId").is_none(), "{state}");
    assert_eq!(state["outputs"]["CdnAccessMode"], "public");

    let verify = stack.verify();
    assert!(verify.status.success(), "{}", text(&verify));
    let table = String::from_utf8_lossy(&verify.stdout).into_owned();
    let signed_only = line(&table, "Distribution serves signed requests only");
    assert!(
        signed_only.contains("N/A") && signed_only.contains("CdnAccess=public"),
        "{table}"
    );

    let url = url_command(&stack, &["a b/c.bin"]);
    assert!(url.status.success(), "{}", text(&url));
    let plain = String::from_utf8_lossy(&url.stdout).trim_end().to_owned();
    assert!(
        plain.ends_with("/a%20b/c.bin") && !plain.contains('?'),
        "{plain}"
    );
    let cookies = url_command(&stack, &["--prefix", "a/"]);
    assert!(!cookies.status.success());
    assert!(
        text(&cookies).contains("CdnAccess=public"),
        "{}",
        text(&cookies)
    );
}

// moto gap: it has no UpdateKeyGroup, so a key group cannot change in place
// locally (CloudFormation updates it in place on AWS). Rotation is refused
// before anything is made, rather than failing half-way through an update.
#[test]
fn key_rotation_is_refused_locally_before_anything_changes() {
    let stack = LocalStack::new("rotate");
    let up = stack.deploy(&[]);
    assert!(up.status.success(), "up failed:\n{}", text(&up));
    let before = stack.state().expect("state");
    for option in ["--rotate-cdn-key", "--retire-cdn-key"] {
        let refused = stack.deploy(&[option]);
        assert!(!refused.status.success(), "{option} was not refused");
        let all = text(&refused);
        assert!(
            all.contains(option) && all.contains("UpdateKeyGroup"),
            "{option}: the refusal does not name the gap:\n{all}"
        );
        assert!(
            !stack.dir.join("cdn-key/cdn-private-key-2.pem").exists(),
            "{option} made a second key"
        );
        assert_eq!(
            stack.state().expect("state"),
            before,
            "{option} changed the stack"
        );
    }
}

#[test]
fn a_handler_failing_mid_create_rolls_the_run_back() {
    let stack = LocalStack::new("rollback");
    // The real ObjectLock handler, given a mode S3 does not have, answers
    // FAILED after the buckets, roles and functions exist.
    let template =
        std::fs::read_to_string(root().join("infra/template.yaml")).expect("read the template");
    let broken = template.replacen("      Mode: !Ref RetentionMode\n", "      Mode: BOGUS\n", 1);
    assert_ne!(
        broken, template,
        "the template no longer has the line this test edits"
    );
    let path = stack.dir.join("broken-template.yaml");
    std::fs::write(&path, broken).expect("write the broken template");
    let up = stack.deploy(&["--template", path.to_str().expect("UTF-8 path")]);
    let all = text(&up);
    assert!(
        !up.status.success(),
        "a failing handler did not fail the run:\n{all}"
    );
    assert!(all.contains("DataBucketObjectLock failed"), "{all}");
    assert!(
        all.contains("BOGUS"),
        "the reason does not name the bad value:\n{all}"
    );
    let out = String::from_utf8_lossy(&up.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with("CREATE_FAILED") && l.contains("DataBucketObjectLock")),
        "{out}"
    );
    let (_, rollback) = out.split_once("ROLLBACK_IN_PROGRESS").expect("a rollback");
    assert!(rollback.contains("ROLLBACK_COMPLETE"), "{out}");
    for undone in ["ObjectLockFunctionRole", "LogBucketPolicy", "RestApi"] {
        assert!(
            rollback
                .lines()
                .any(|l| l.starts_with("DELETE_COMPLETE") && l.contains(undone)),
            "{undone} not rolled back:\n{out}"
        );
    }
    assert!(
        !out.contains("S3Api "),
        "a resource after the failure was touched:\n{out}"
    );
    let state = stack.state().expect("the state file");
    assert_eq!(
        state["resources"],
        serde_json::json!([]),
        "the state still lists resources"
    );
    assert_eq!(state["status"], "ROLLBACK_COMPLETE");
    let failed_stack_id = state["stack_id"].clone();
    let port = stack.moto_port();
    runtime().block_on(async {
        nothing_of_ours_left(&config(port).await).await;
    });

    // The next normal run: CloudFormation cannot update a ROLLBACK_COMPLETE
    // stack, so it is created afresh under a new stack id, in the same moto.
    let again = stack.deploy(&[]);
    let all = text(&again);
    assert!(again.status.success(), "{all}");
    assert!(
        all.contains("is ROLLBACK_COMPLETE") && all.contains("creating it afresh"),
        "the recreate was not announced:\n{all}"
    );
    assert!(!all.contains("updating the local stack"), "{all}");
    let state = stack.state().expect("the state file");
    assert_eq!(state["status"], "CREATE_COMPLETE");
    assert_eq!(stack.moto_port(), port, "moto was restarted");
    assert_ne!(
        state["stack_id"], failed_stack_id,
        "the failed stack's id carried over"
    );
    // Every custom resource was sent the one stack id the state holds.
    let stack_id = state["stack_id"].as_str().expect("a stack id");
    let log = std::fs::read_to_string(stack.dir.join("lambda-watch.log")).unwrap_or_default();
    let failed_id = failed_stack_id.as_str().expect("a stack id");
    assert!(
        !log.contains(failed_id),
        "a handler was sent the failed stack's id"
    );
    assert!(log.contains(stack_id), "no handler logged the stack id");
    let verify = stack.verify();
    let table = text(&verify);
    assert!(verify.status.success(), "{table}");
    assert!(!table.contains("FAIL "), "{table}");
    assert!(
        line(&table, "Bucket policy grants only the origin").contains("PASS"),
        "{table}"
    );
    runtime().block_on(async {
        let distributions = aws_sdk_cloudfront::Client::new(&config(port).await)
            .list_distributions()
            .send()
            .await
            .expect("list distributions");
        let count = distributions
            .distribution_list()
            .map(|l| l.items().len())
            .unwrap_or(0);
        assert_eq!(count, 1, "distributions in moto");
    });

    // A moto started by another Python (a system moto of another version)
    // is never reused: it is stopped, and the stack starts anew.
    let path = stack.dir.join("state.json");
    let mut edited = stack.state().expect("the state file");
    edited["moto"]["python"] = serde_json::json!("/usr/bin/python3");
    std::fs::write(&path, edited.to_string()).expect("edit the state");
    let old_pid = edited["moto"]["pid"].clone();
    let restarted = stack.deploy(&[]);
    let all = text(&restarted);
    assert!(restarted.status.success(), "{all}");
    assert!(
        all.contains("was started with /usr/bin/python3") && all.contains("moto started on"),
        "{all}"
    );
    assert_ne!(
        stack.state().expect("the state file")["moto"]["pid"],
        old_pid
    );
    assert!(
        Command::new("kill")
            .args(["-0", &old_pid.to_string()])
            .status()
            .is_ok_and(|s| !s.success()),
        "the other moto still runs"
    );
}

#[test]
fn a_function_whose_binary_is_missing_fails_at_once_naming_it() {
    let stack = LocalStack::new("missing");
    // The local engine builds each function's workspace binary before its
    // first event; one that does not exist fails the resource at once,
    // naming the binary, instead of leaving CloudFormation to wait.
    let template =
        std::fs::read_to_string(root().join("infra/template.yaml")).expect("read the template");
    let broken = template.replacen(
        "        Binary: object-lock\n",
        "        Binary: vaultfront-no-such-handler\n",
        1,
    );
    assert_ne!(
        broken, template,
        "the template no longer has the line this test edits"
    );
    let path = stack.dir.join("missing-template.yaml");
    std::fs::write(&path, broken).expect("write the template");
    let up = stack.deploy(&["--template", path.to_str().expect("UTF-8 path")]);
    let all = text(&up);
    assert!(!up.status.success(), "{all}");
    assert!(
        all.lines().any(|l| l.starts_with("CREATE_FAILED")
            && l.contains("DataBucketObjectLock")
            && l.contains("`vaultfront-no-such-handler`")),
        "the failure does not name the binary:\n{all}"
    );
    assert!(all.contains("ROLLBACK_COMPLETE"), "{all}");
}

/// A stack of one test-only probe resource, in `stack`'s directory.
fn probe_template(stack: &LocalStack, timeout: u32, behaviour: &str) -> PathBuf {
    let template = format!(
        "\
AWSTemplateFormatVersion: \"2010-09-09\"
Transform: AWS::Serverless-2016-10-31
Resources:
  ProbeFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: probe-resource
    Properties:
      CodeUri: ..
      Handler: bootstrap
      Runtime: provided.al2023
      Architectures: [arm64]
      Timeout: {timeout}
  Probe:
    Type: Custom::Probe
    Properties:
      ServiceToken: !GetAtt ProbeFunction.Arn
      ServiceTimeout: 8
      Name: probe
      Behaviour: {behaviour}
"
    );
    let path = stack.dir.join("probe-template.yaml");
    std::fs::write(&path, template).expect("write the template");
    path
}

#[test]
fn a_handler_that_never_answers_is_cut_off_at_service_timeout() {
    let stack = LocalStack::new("timeout");
    // The probe hangs, and its own deadline guard (Timeout 60) would answer
    // only long after the 8 s ServiceTimeout: only that ends the wait, as
    // CloudFormation's would.
    let path = probe_template(&stack, 60, "Hang");
    let started = std::time::Instant::now();
    let up = stack.deploy(&["--template", path.to_str().expect("UTF-8 path")]);
    let all = text(&up);
    assert!(
        !up.status.success(),
        "a silent handler did not fail the run:\n{all}"
    );
    assert!(
        all.contains("no response within ServiceTimeout (8 s)"),
        "the cut-off is not reported:\n{all}"
    );
    assert!(!all.contains("timed out after"), "{all}");
    assert!(all.contains("ROLLBACK_COMPLETE"), "{all}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(240),
        "the run took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_handler_killed_mid_run_is_cut_off_at_service_timeout() {
    let stack = LocalStack::new("killed");
    // One function, the test-only probe resource asked to hang. Alive, its
    // deadline guard would answer FAILED ("timed out after 4 s": Timeout 6
    // less the reserve kept for answering) well before the 8 s
    // ServiceTimeout; killed, nothing answers and only the ServiceTimeout
    // ends the wait, as CloudFormation's would. So the reason tells which.
    let path = probe_template(&stack, 6, "Hang");
    let deploy = Command::new(root().join("scripts/deploy"))
        .arg("--local")
        .arg("--state-dir")
        .arg(&stack.dir)
        .arg("--template")
        .arg(&path)
        .env("VAULTFRONT_LOCAL_PROFILE", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start scripts/deploy");
    // Only this run's own handler: other tests run probe-resource too.
    let mut killed = None;
    for _ in 0..600 {
        let handler = descendants(deploy.id())
            .into_iter()
            // The handler itself, not the `cargo build` that made it.
            .find(|pid| {
                cmdline(*pid)
                    .split(' ')
                    .next()
                    .is_some_and(|program| program.ends_with("/probe-resource"))
            });
        if let Some(pid) = handler {
            // Give it a moment to take the event, then kill it where it stands.
            std::thread::sleep(std::time::Duration::from_millis(500));
            let status = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            if status.is_ok_and(|s| s.success()) {
                killed = Some(pid);
            }
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let output = deploy.wait_with_output().expect("wait for scripts/deploy");
    print_output("scripts/deploy", &output);
    let all = text(&output);
    assert!(
        killed.is_some(),
        "the handler process never appeared:\n{all}"
    );
    assert!(
        !output.status.success(),
        "a killed handler did not fail the run:\n{all}"
    );
    assert!(
        all.contains("no response within ServiceTimeout (8 s)"),
        "the cut-off is not reported:\n{all}"
    );
    assert!(
        !all.contains("timed out after"),
        "the handler answered, so it was not killed in time:\n{all}"
    );
    assert!(all.contains("ROLLBACK_COMPLETE"), "{all}");
}

/// Every process below `parent`, from /proc.
fn descendants(parent: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command name's closing parenthesis: state, then ppid.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![parent];
    let mut index = 0;
    while index < found.len() {
        let current = found[index];
        found.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == current)
                .map(|(pid, _)| *pid),
        );
        index += 1;
    }
    found.split_off(1)
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

#[test]
fn a_generic_custom_resource_is_created_and_deleted_through_its_function() {
    // `AWS::CloudFormation::CustomResource` is a custom resource as much as
    // `Custom::X` is: the Delete goes to its function too, not to the
    // native side (which would report it deleted and remove nothing).
    let stack = LocalStack::new("generic-custom");
    let template = probe_template(&stack, 60, "Succeed");
    let generic = std::fs::read_to_string(&template)
        .expect("read the template")
        .replace(
            "Type: Custom::Probe",
            "Type: AWS::CloudFormation::CustomResource",
        );
    std::fs::write(&template, generic).expect("write the template");
    let template = template.to_str().expect("UTF-8 path");
    let up = stack.deploy(&["--template", template]);
    assert!(up.status.success(), "{}", text(&up));
    assert_eq!(stack.physical_id("Probe"), "probe-probe");
    let down = stack.deploy(&["--destroy", "--template", template]);
    let all = text(&down);
    assert!(down.status.success(), "{all}");
    let log = std::fs::read_to_string(stack.dir.join("lambda-watch.log")).unwrap_or_default();
    let deletes = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .filter(|entry| {
            entry["request_type"] == "Delete"
                && entry["logical_resource_id"] == "Probe"
                && entry["resource_type"] == "AWS::CloudFormation::CustomResource"
        })
        .count();
    assert_eq!(
        deletes, 1,
        "the function never saw the Delete:\n{all}\n{log}"
    );
}

#[test]
fn a_type_the_engine_cannot_make_is_refused_on_create_and_on_delete() {
    let stack = LocalStack::new("unregistered");
    let path = stack.dir.join("queue-template.yaml");
    std::fs::write(
        &path,
        "\
AWSTemplateFormatVersion: \"2010-09-09\"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Queue:
    Type: AWS::SQS::Queue
    DependsOn: Bucket
",
    )
    .expect("write the template");
    let template = path.to_str().expect("UTF-8 path");
    let up = stack.deploy(&["--template", template]);
    let all = text(&up);
    assert!(!up.status.success(), "{all}");
    assert!(
        all.lines().any(|l| l.starts_with("CREATE_FAILED")
            && l.contains("AWS::SQS::Queue")
            && l.contains("not available locally")),
        "the refusal does not name the type:\n{all}"
    );
    assert!(
        all.lines()
            .any(|l| l.starts_with("DELETE_COMPLETE") && l.contains("Bucket")),
        "the bucket made before it was not rolled back:\n{all}"
    );

    // A state that holds such a type (written by hand, or by another
    // version) is not reported deleted while nothing was removed.
    std::fs::write(
        &path,
        "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\n",
    )
    .expect("write the template");
    let up = stack.deploy(&["--template", template]);
    assert!(up.status.success(), "{}", text(&up));
    let mut state = stack.state().expect("a state file");
    let queue = json!({
        "logical_id": "Queue", "kind": "AWS::SQS::Queue", "physical_id": "https://sqs/q",
        "properties": {}, "attributes": {}, "retained": false,
    });
    state["resources"]
        .as_array_mut()
        .expect("resources")
        .push(queue);
    std::fs::write(stack.dir.join("state.json"), state.to_string()).expect("write the state");
    let down = stack.deploy(&["--destroy", "--template", template]);
    let all = text(&down);
    assert!(!down.status.success(), "{all}");
    assert!(
        all.lines().any(|l| l.starts_with("DELETE_FAILED")
            && l.contains("AWS::SQS::Queue")
            && l.contains("not available locally")),
        "the refusal does not name the type:\n{all}"
    );
    assert_eq!(stack.physical_id("Queue"), "https://sqs/q", "{all}");
    assert!(
        !stack.physical_id("Bucket").is_empty(),
        "nothing after the refusal is deleted"
    );
}
