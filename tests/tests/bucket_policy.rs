//! `Custom::OriginBucketPolicy` end to end: the real `bucket-policy` binary
//! under `cargo lambda watch`, talking to S3 on moto, answering to a real
//! presigned ResponseURL on moto.
//!
//! Emulator gaps, and what the code does instead (it follows AWS):
//! - `cargo lambda watch` sends a past deadline: `AWS_LAMBDA_FUNCTION_TIMEOUT`
//!   is set, as in the protocol tests.
//! - moto does not validate bucket policies: it stores any text (so a
//!   malformed policy can be planted here, which AWS would refuse on PUT), does
//!   not check that an OAI principal exists (AWS answers `MalformedPolicy:
//!   Invalid principal`), and does not apply Block Public Access (AWS refuses
//!   to store a public policy when `BlockPublicPolicy` is on).
//! - moto returns a policy exactly as it was PUT; AWS may render a principal
//!   in another form (a `CanonicalUser` as the OAI's ARN, an unresolvable
//!   principal as its unique id). That comparison is unit-tested in the crate
//!   (`statement.rs`, and `handler/tests.rs` with an S3 fake that re-renders).

use custom_resource::CREATE_FAILED_PREFIX;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vaultfront_tests::moto::ACCOUNT;
use vaultfront_tests::{CfnEvent, LambdaEmulator, Moto};

const FUNCTION: &str = "bucket-policy";
const RESOURCE_TYPE: &str = "Custom::OriginBucketPolicy";
const OAI_ID: &str = "E74FTE3AJFJ256A";
const OAI_ARN: &str =
    "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E74FTE3AJFJ256A";
const DISTRIBUTION_ID: &str = "EDFDVBD6EXAMPLE";
const MANAGED_SID_PREFIX: &str = "VaultfrontOrigin";

/// Two foreign statements, spelled as a person might write them: odd
/// spacing, a line break, keys out of the usual order, a number with a
/// trailing zero. A parse-and-reserialise merge would change every one of those.
const FOREIGN_ALLOW: &str = "{\"Sid\": \"AllowAnalyticsRole\",  \"Principal\": {\"AWS\": \"arn:aws:iam::111122223333:role/analytics\"},\n      \"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": \"arn:aws:s3:::BUCKET/reports/*\"}";
const FOREIGN_DENY: &str = "{\"Sid\":\"DenyOldTls\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::BUCKET/*\",\"Condition\":{\"NumericLessThan\":{\"s3:TlsVersion\":1.20}}}";

fn foreign(bucket: &str) -> [String; 2] {
    [
        FOREIGN_ALLOW.replace("BUCKET", bucket),
        FOREIGN_DENY.replace("BUCKET", bucket),
    ]
}

fn foreign_policy(bucket: &str) -> String {
    let [allow, deny] = foreign(bucket);
    format!("{{\n  \"Version\": \"2012-10-17\", \"Id\": \"team-policy\",\n  \"Statement\": [\n    {allow},\n    {deny}\n  ]\n}}")
}

fn environment(moto: &Moto) -> Vec<(String, String)> {
    let mut env = moto.env();
    env.push(("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), "30".into()));
    env
}

struct Harness {
    moto: Moto,
    lambda: LambdaEmulator,
    s3: aws_sdk_s3::Client,
}

impl Harness {
    fn start() -> Harness {
        let moto = Moto::start();
        let lambda = LambdaEmulator::start(&environment(&moto));
        let s3 = moto.s3();
        Harness { moto, lambda, s3 }
    }

    async fn bucket(&self, name: &str) {
        self.s3
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .expect("create the test bucket");
    }

    async fn set_policy(&self, bucket: &str, text: &str) {
        self.s3
            .put_bucket_policy()
            .bucket(bucket)
            .policy(text)
            .send()
            .await
            .expect("plant a bucket policy");
    }

    /// The policy text, `None` when the bucket has none.
    async fn policy(&self, bucket: &str) -> Option<String> {
        match self.s3.get_bucket_policy().bucket(bucket).send().await {
            Ok(output) => output.policy,
            Err(err) => {
                let code = aws_sdk_s3::error::ProvideErrorMetadata::code(&err).map(str::to_owned);
                assert_eq!(code.as_deref(), Some("NoSuchBucketPolicy"), "{err:?}");
                None
            }
        }
    }

    async fn answer(&self, event: &CfnEvent) -> Value {
        answer(&self.moto, &self.lambda, event).await
    }

    /// `PutBucketPolicy` and `DeleteBucketPolicy` requests on `bucket` so far
    /// (the SDK sends path-style `/<bucket>/?policy`).
    fn policy_writes(&self, bucket: &str) -> usize {
        self.moto
            .count_requests("PUT", &format!("/{bucket}/?policy"))
            + self
                .moto
                .count_requests("DELETE", &format!("/{bucket}/?policy"))
    }
}

/// Invoke the function with `event`, answering to a fresh presigned URL; the response.
async fn answer(moto: &Moto, lambda: &LambdaEmulator, event: &CfnEvent) -> Value {
    lambda.answer(FUNCTION, moto, event).await
}

fn statements(policy: &str) -> Vec<Value> {
    let document: Value = serde_json::from_str(policy).expect("the policy is JSON");
    document["Statement"]
        .as_array()
        .expect("a Statement list")
        .clone()
}

fn sids(policy: &str) -> Vec<String> {
    statements(policy)
        .iter()
        .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
        .collect()
}

fn data_sids(response: &Value) -> Vec<String> {
    response["Data"]["Sids"]
        .as_str()
        .expect("Data.Sids")
        .split(',')
        .map(str::to_owned)
        .collect()
}

fn reason(response: &Value) -> &str {
    response["Reason"].as_str().unwrap_or("")
}

fn oai(bucket: &str) -> Value {
    json!({"BucketName": bucket, "Mode": "OAI", "OriginAccessIdentityId": OAI_ID})
}

fn oac(bucket: &str) -> Value {
    json!({"BucketName": bucket, "Mode": "OAC", "DistributionId": DISTRIBUTION_ID})
}

fn create(logical_id: &str, properties: Value) -> CfnEvent {
    CfnEvent::create(RESOURCE_TYPE, logical_id, properties)
}

/// The TLS-only deny: everyone, every S3 action, the bucket and its objects, over plain HTTP.
fn assert_tls_deny(statement: &Value, bucket: &str) {
    assert_eq!(statement["Effect"], "Deny", "{statement}");
    assert_eq!(statement["Principal"], "*", "{statement}");
    assert_eq!(statement["Action"], "s3:*", "{statement}");
    assert_eq!(
        statement["Resource"],
        json!([
            format!("arn:aws:s3:::{bucket}"),
            format!("arn:aws:s3:::{bucket}/*")
        ])
    );
    assert_eq!(
        statement["Condition"],
        json!({"Bool": {"aws:SecureTransport": "false"}})
    );
}

/// No Allow in the policy names the account root or everyone.
fn assert_no_broad_allow(policy: &str) {
    for statement in statements(policy) {
        if statement["Effect"] == "Allow" {
            let principal = statement["Principal"].to_string();
            assert!(
                !principal.contains(":root")
                    && statement["Principal"] != "*"
                    && !principal.contains("\"*\""),
                "a broad grant: {statement}"
            );
        }
    }
}

#[tokio::test]
async fn create_in_oai_mode_grants_exactly_the_identity_and_denies_plain_http() {
    let h = Harness::start();
    h.bucket("oai-bucket").await;
    let response = h.answer(&create("OriginPolicy", oai("oai-bucket"))).await;
    assert_eq!(response["Status"], "SUCCESS", "{response}");
    let physical_id = response["PhysicalResourceId"].as_str().unwrap();
    assert!(
        physical_id.starts_with("oai-bucket/OriginPolicy-"),
        "{physical_id}"
    );

    let policy = h.policy("oai-bucket").await.expect("a policy");
    let statements = statements(&policy);
    assert_eq!(statements.len(), 2, "{policy}");
    let grant = &statements[0];
    assert_eq!(grant["Effect"], "Allow");
    // moto gap: it does not check that this OAI exists; AWS would refuse an unknown one.
    assert_eq!(grant["Principal"], json!({"AWS": OAI_ARN}));
    assert_eq!(grant["Action"], "s3:GetObject", "read, and nothing else");
    assert_eq!(grant["Resource"], "arn:aws:s3:::oai-bucket/*");
    assert!(grant.get("Condition").is_none());
    assert_tls_deny(&statements[1], "oai-bucket");
    assert_no_broad_allow(&policy);

    let data = &response["Data"];
    assert_eq!(data_sids(&response), sids(&policy));
    assert_eq!(data["GrantSid"], statements[0]["Sid"]);
    assert_eq!(data["TlsDenySid"], statements[1]["Sid"]);
    assert_eq!(data["Principal"], json!({"AWS": OAI_ARN}).to_string());
    assert_eq!(data["Mode"], "OAI");
    assert!(sids(&policy)
        .iter()
        .all(|sid| sid.starts_with(MANAGED_SID_PREFIX)));
}

#[tokio::test]
async fn create_in_oac_mode_grants_the_service_principal_for_one_distribution_under_a_prefix() {
    let h = Harness::start();
    h.bucket("oac-bucket").await;
    let mut properties = oac("oac-bucket");
    properties["KeyPrefix"] = json!("media/");
    properties["EnforceTls"] = json!(false);
    let response = h.answer(&create("OriginPolicy", properties)).await;
    assert_eq!(response["Status"], "SUCCESS", "{response}");

    let policy = h.policy("oac-bucket").await.expect("a policy");
    let statements = statements(&policy);
    assert_eq!(
        statements.len(),
        1,
        "EnforceTls false adds no deny: {policy}"
    );
    let source_arn = format!("arn:aws:cloudfront::{ACCOUNT}:distribution/{DISTRIBUTION_ID}");
    assert_eq!(
        statements[0],
        json!({"Sid": response["Data"]["GrantSid"], "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::oac-bucket/media/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": source_arn}}})
    );
    assert_eq!(response["Data"]["SourceArn"], json!(source_arn));
    assert_eq!(response["Data"]["TlsDenySid"], "");
    assert_eq!(response["Data"]["Mode"], "OAC");
}

#[tokio::test]
async fn create_keeps_two_foreign_statements_byte_for_byte() {
    let h = Harness::start();
    h.bucket("shared-bucket").await;
    h.set_policy("shared-bucket", &foreign_policy("shared-bucket"))
        .await;
    let response = h
        .answer(&create("OriginPolicy", oac("shared-bucket")))
        .await;
    assert_eq!(response["Status"], "SUCCESS", "{response}");

    let policy = h.policy("shared-bucket").await.expect("a policy");
    let [allow, deny] = foreign("shared-bucket");
    let at_allow = policy
        .find(&allow)
        .unwrap_or_else(|| panic!("the first foreign statement changed: {policy}"));
    let at_deny = policy
        .find(&deny)
        .unwrap_or_else(|| panic!("the second foreign statement changed: {policy}"));
    assert!(at_allow < at_deny, "their order is kept");
    assert!(
        policy.contains("\"Id\":\"team-policy\""),
        "the document's Id is kept: {policy}"
    );
    let sids = sids(&policy);
    assert_eq!(sids[..2], ["AllowAnalyticsRole", "DenyOldTls"]);
    assert_eq!(
        sids[2..],
        data_sids(&response)[..],
        "the grant and the TLS deny follow"
    );
    assert_tls_deny(&statements(&policy)[3], "shared-bucket");
}

#[tokio::test]
async fn a_repeated_create_makes_no_second_write() {
    let h = Harness::start();
    h.bucket("repeat-bucket").await;
    let event = create("OriginPolicy", oai("repeat-bucket"));
    let first = h.answer(&event).await;
    assert_eq!(first["Status"], "SUCCESS", "{first}");
    assert_eq!(
        h.policy_writes("repeat-bucket"),
        1,
        "one PUT for a quiet bucket"
    );
    let policy = h.policy("repeat-bucket").await;
    let reads = h.moto.count_requests("GET", "/repeat-bucket/?policy");

    // Lambda's async retry delivers the very same event again.
    let second = h.answer(&event).await;
    assert_eq!(second["Status"], "SUCCESS", "{second}");
    assert_eq!(second["PhysicalResourceId"], first["PhysicalResourceId"]);
    assert_eq!(second["Data"], first["Data"]);
    assert_eq!(h.policy_writes("repeat-bucket"), 1, "no second write");
    assert_eq!(
        h.moto.count_requests("GET", "/repeat-bucket/?policy") - reads,
        1,
        "one read found everything in place; nothing to settle"
    );
    assert_eq!(h.policy("repeat-bucket").await, policy);
}

#[tokio::test]
async fn update_from_oai_to_oac_rewrites_the_statements_in_place() {
    let h = Harness::start();
    h.bucket("migrate-bucket").await;
    h.set_policy("migrate-bucket", &foreign_policy("migrate-bucket"))
        .await;
    let event = create("OriginPolicy", oai("migrate-bucket"));
    let created = h.answer(&event).await;
    let id = created["PhysicalResourceId"].as_str().unwrap().to_owned();

    let updated = h.answer(&event.update(&id, oac("migrate-bucket"))).await;
    assert_eq!(updated["Status"], "SUCCESS", "{updated}");
    assert_eq!(
        updated["PhysicalResourceId"],
        json!(id),
        "same resource, same id"
    );
    let policy = h.policy("migrate-bucket").await.expect("a policy");
    assert!(!policy.contains(OAI_ARN), "the OAI grant is gone: {policy}");
    for statement in foreign("migrate-bucket") {
        assert!(
            policy.contains(&statement),
            "foreign statement changed: {policy}"
        );
    }
    let statements = statements(&policy);
    assert_eq!(statements.len(), 4, "{policy}");
    assert_eq!(
        statements[2]["Principal"],
        json!({"Service": "cloudfront.amazonaws.com"})
    );
    assert_eq!(
        updated["Data"]["TlsDenySid"], created["Data"]["TlsDenySid"],
        "the deny is unchanged"
    );
    assert_ne!(updated["Data"]["GrantSid"], created["Data"]["GrantSid"]);
    assert_eq!(updated["Data"]["Mode"], "OAC");
}

#[tokio::test]
async fn a_replacement_and_then_the_old_delete_touch_only_their_own_statements() {
    let h = Harness::start();
    h.bucket("old-bucket").await;
    h.bucket("new-bucket").await;
    h.set_policy("old-bucket", &foreign_policy("old-bucket"))
        .await;
    let event = create("OriginPolicy", oac("old-bucket"));
    let created = h.answer(&event).await;
    let old_id = created["PhysicalResourceId"].as_str().unwrap().to_owned();
    let old_policy = h.policy("old-bucket").await.expect("a policy");

    let replaced = h.answer(&event.update(&old_id, oac("new-bucket"))).await;
    assert_eq!(replaced["Status"], "SUCCESS", "{replaced}");
    let new_id = replaced["PhysicalResourceId"].as_str().unwrap().to_owned();
    assert_ne!(new_id, old_id, "another bucket is a replacement");
    assert!(new_id.starts_with("new-bucket/"), "{new_id}");
    let new_policy = h
        .policy("new-bucket")
        .await
        .expect("a policy on the new bucket");
    assert_eq!(sids(&new_policy), data_sids(&replaced));
    assert!(
        data_sids(&replaced)
            .iter()
            .all(|sid| !data_sids(&created).contains(sid)),
        "new Sids"
    );
    assert_eq!(
        h.policy("old-bucket").await.as_ref(),
        Some(&old_policy),
        "untouched until the old Delete"
    );

    // CloudFormation deletes the old resource after the new one is in place,
    // with the old physical id and the old properties.
    let deleted = h.answer(&event.delete(&old_id)).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert_eq!(deleted["PhysicalResourceId"], json!(old_id));
    let old_after = h
        .policy("old-bucket")
        .await
        .expect("the foreign statements remain");
    assert_eq!(sids(&old_after), ["AllowAnalyticsRole", "DenyOldTls"]);
    assert_eq!(
        h.policy("new-bucket").await,
        Some(new_policy),
        "the new statements are untouched"
    );
}

#[tokio::test]
async fn delete_leaves_foreign_statements_and_removes_a_policy_left_empty() {
    let h = Harness::start();
    h.bucket("shared-bucket").await;
    h.bucket("own-bucket").await;
    h.set_policy("shared-bucket", &foreign_policy("shared-bucket"))
        .await;
    let shared = create("Shared", oai("shared-bucket"));
    let shared_id = h.answer(&shared).await["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let alone = create("Alone", oai("own-bucket"));
    let alone_id = h.answer(&alone).await["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();

    let deleted = h.answer(&shared.delete(&shared_id)).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    let policy = h
        .policy("shared-bucket")
        .await
        .expect("the foreign statements remain");
    let [allow, deny] = foreign("shared-bucket");
    assert_eq!(
        policy,
        format!(
            "{{\"Version\":\"2012-10-17\",\"Id\":\"team-policy\",\"Statement\":[{allow},{deny}]}}"
        ),
        "exactly the foreign statements, as written (the document around them is compacted)"
    );

    let deleted = h.answer(&alone.delete(&alone_id)).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert_eq!(
        h.policy("own-bucket").await,
        None,
        "nothing else was there: the policy is deleted"
    );
    assert_eq!(h.moto.count_requests("DELETE", "/own-bucket/?policy"), 1);
}

#[tokio::test]
async fn delete_succeeds_when_the_policy_or_the_bucket_is_already_gone() {
    let h = Harness::start();
    h.bucket("gone-bucket").await;
    let event = create("OriginPolicy", oai("gone-bucket"));
    let id = h.answer(&event).await["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    h.s3.delete_bucket_policy()
        .bucket("gone-bucket")
        .send()
        .await
        .expect("remove the policy");
    let writes = h.policy_writes("gone-bucket");

    let deleted = h.answer(&event.delete(&id)).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert_eq!(deleted["PhysicalResourceId"], json!(id));
    assert_eq!(
        h.policy_writes("gone-bucket"),
        writes,
        "nothing to remove, nothing written"
    );

    h.s3.delete_bucket()
        .bucket("gone-bucket")
        .send()
        .await
        .expect("remove the bucket");
    let deleted = h.answer(&event.delete(&id)).await;
    assert_eq!(
        deleted["Status"], "SUCCESS",
        "a missing bucket has no statements left: {deleted}"
    );
}

#[tokio::test]
async fn eight_resources_created_at_once_on_one_bucket_all_end_up_present() {
    let moto = Moto::start();
    let s3 = moto.s3();
    s3.create_bucket()
        .bucket("busy-bucket")
        .send()
        .await
        .expect("bucket");
    s3.put_bucket_policy()
        .bucket("busy-bucket")
        .policy(foreign_policy("busy-bucket"))
        .send()
        .await
        .expect("foreign policy");
    let env = environment(&moto);
    let moto = Arc::new(moto);
    // One emulator per function instance, as Lambda runs concurrent events.
    let lambdas: Vec<Arc<LambdaEmulator>> = (0..8)
        .map(|_| Arc::new(LambdaEmulator::start(&env)))
        .collect();
    // Warm each up (the emulator starts the function on the first invoke) with
    // a Delete of a failed Create, which touches nothing.
    for (i, lambda) in lambdas.iter().enumerate() {
        let warm = create(&format!("Warm{i}"), oai("busy-bucket"))
            .delete(&format!("{CREATE_FAILED_PREFIX}warm-{i}"));
        assert_eq!(answer(&moto, lambda, &warm).await["Status"], "SUCCESS");
    }
    let writes_before = moto.count_requests("PUT", "/busy-bucket/?policy");

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, lambda) in lambdas.iter().enumerate() {
        let (moto, lambda) = (Arc::clone(&moto), Arc::clone(lambda));
        let properties = if i % 2 == 0 {
            oai("busy-bucket")
        } else {
            oac("busy-bucket")
        };
        let event = create(&format!("Origin{i}"), properties);
        tasks.spawn(async move { (event.clone(), answer(&moto, &lambda, &event).await) });
    }
    let mut created = Vec::new();
    while let Some(done) = tasks.join_next().await {
        created.push(done.expect("invoke task"));
    }
    let elapsed = started.elapsed();
    let puts = moto.count_requests("PUT", "/busy-bucket/?policy") - writes_before;
    eprintln!("8 concurrent creates: {elapsed:?}, {puts} PUTs (8 if none collided)");

    let policy = s3
        .get_bucket_policy()
        .bucket("busy-bucket")
        .send()
        .await
        .expect("policy")
        .policy
        .unwrap_or_default();
    let present = sids(&policy);
    for (_, response) in &created {
        assert_eq!(response["Status"], "SUCCESS", "{response}");
        for sid in data_sids(response) {
            assert!(present.contains(&sid), "{sid} lost: {policy}");
        }
    }
    for statement in foreign("busy-bucket") {
        assert!(
            policy.contains(&statement),
            "a foreign statement changed: {policy}"
        );
    }
    assert_eq!(
        present.len(),
        2 + 8 * 2,
        "every writer's grant and deny, once each: {present:?}"
    );
    assert!(puts >= 8, "each writer wrote at least once ({puts})");

    // Deleting one of them leaves the seven others and the foreign statements.
    let (event, response) = &created[0];
    let id = response["PhysicalResourceId"].as_str().unwrap();
    let deleted = answer(&moto, &lambdas[0], &event.delete(id)).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    let after = s3
        .get_bucket_policy()
        .bucket("busy-bucket")
        .send()
        .await
        .expect("policy")
        .policy
        .unwrap_or_default();
    let remaining = sids(&after);
    assert_eq!(remaining.len(), 2 + 7 * 2, "{remaining:?}");
    for sid in data_sids(response) {
        assert!(!remaining.contains(&sid), "{sid} should be gone");
    }
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

/// A ResponseURL on loopback that, when the answer arrives, runs `on_answer`
/// with it before replying 200. The runner starts the work it does after the
/// answer only once the response PUT was answered, so whatever `on_answer`
/// does lands after SUCCESS was sent and before that work begins.
async fn response_url_acting_on_answer<F, Fut>(
    on_answer: F,
) -> (String, tokio::task::JoinHandle<Value>)
where
    F: FnOnce(Value) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the response URL");
    let url = format!(
        "http://{}/response?X-Amz-Signature=acting-sink-signature",
        listener.local_addr().expect("its address")
    );
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("the response PUT");
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 8192];
        let body = loop {
            let n = stream.read(&mut chunk).await.expect("read the response");
            assert!(
                n > 0,
                "the connection closed before the whole response arrived"
            );
            buffer.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buffer).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .filter_map(|line| line.split_once(':'))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if body.len() >= length {
                    break body.to_owned();
                }
            }
        };
        let response: Value = serde_json::from_str(&body).expect("the response is JSON");
        on_answer(response.clone()).await;
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await
            .expect("reply 200");
        response
    });
    (url, task)
}

/// Another writer's statement, in what it writes from its older read.
const THEIRS: &str = "{\"Sid\":\"AllowAudit\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:role/audit\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::BUCKET/audit/*\"}";

#[tokio::test]
async fn a_stale_write_landing_right_after_success_is_repaired_before_the_invocation_ends() {
    let h = Harness::start();
    h.bucket("raced-bucket").await;
    let before = foreign_policy("raced-bucket");
    h.set_policy("raced-bucket", &before).await;
    // Another writer read the policy before our write, and stores its merge
    // of that read (without our statements) the moment SUCCESS arrives.
    let theirs = THEIRS.replace("BUCKET", "raced-bucket");
    let stale = before.replacen("\n  ]", &format!(",\n    {theirs}\n  ]"), 1);
    assert!(stale.contains(&theirs), "{stale}");
    let s3 = h.s3.clone();
    let stale_write = stale.clone();
    let (url, answered) = response_url_acting_on_answer(move |response| async move {
        assert_eq!(response["Status"], "SUCCESS", "{response}");
        s3.put_bucket_policy()
            .bucket("raced-bucket")
            .policy(stale_write)
            .send()
            .await
            .expect("the stale write");
    })
    .await;
    h.lambda.guard_secret(&url);
    let event = create("OriginPolicy", oac("raced-bucket"));
    let writes_before = h.policy_writes("raced-bucket");
    let invocation = h.lambda.invoke(FUNCTION, &event.to_json(&url)).await;
    assert_eq!(invocation.status, 200, "{}", invocation.body);
    let response = answered.await.expect("the response");
    assert_eq!(response["RequestId"], json!(event.request_id));

    let policy = h.policy("raced-bucket").await.expect("a policy");
    let present = sids(&policy);
    for sid in data_sids(&response) {
        assert!(present.contains(&sid), "{sid} not repaired: {policy}");
    }
    assert!(
        policy.contains(&theirs),
        "the other writer's statement was dropped: {policy}"
    );
    for statement in foreign("raced-bucket") {
        assert!(
            policy.contains(&statement),
            "a foreign statement changed: {policy}"
        );
    }
    assert_eq!(
        h.policy_writes("raced-bucket") - writes_before,
        3,
        "our write, the stale write, our repair"
    );
    let logs = h.lambda.log();
    assert!(logs.contains("guard done"), "no guard outcome logged");
    h.lambda.assert_secrets_not_logged();
}

#[tokio::test]
async fn a_missing_bucket_fails_saying_to_create_it() {
    let h = Harness::start();
    let response = h
        .answer(&create("OriginPolicy", oai("no-such-bucket")))
        .await;
    assert_eq!(response["Status"], "FAILED");
    let reason = reason(&response);
    assert!(
        reason.contains("`no-such-bucket`") && reason.contains("NoSuchBucket"),
        "{reason}"
    );
    assert!(reason.contains("create the bucket first"), "{reason}");
    assert!(response["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .starts_with(CREATE_FAILED_PREFIX));
}

#[tokio::test]
async fn a_malformed_existing_policy_fails_and_is_left_alone() {
    let h = Harness::start();
    h.bucket("broken-bucket").await;
    // moto gap: AWS validates a policy on PUT, moto stores any text.
    let broken = "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Half\", ";
    h.set_policy("broken-bucket", broken).await;
    let event = create("OriginPolicy", oai("broken-bucket"));
    let response = h.answer(&event).await;
    assert_eq!(response["Status"], "FAILED");
    let why = reason(&response);
    assert!(
        why.starts_with("bucket `broken-bucket`: the bucket's existing policy cannot be merged into: it is not JSON"),
        "{why}"
    );
    assert!(why.ends_with("Nothing was changed"), "{why}");

    // Well-formed JSON that is not a policy is refused the same way, also on Delete.
    h.set_policy("broken-bucket", "{\"Version\": \"2012-10-17\"}")
        .await;
    let response = h.answer(&event).await;
    assert!(
        reason(&response).contains("it has no `Statement`"),
        "{response}"
    );
    let response = h
        .answer(&event.delete("broken-bucket/OriginPolicy-000000000000"))
        .await;
    assert_eq!(
        response["Status"], "FAILED",
        "a Delete must not drop what it cannot read"
    );
    assert_eq!(
        h.policy("broken-bucket").await.as_deref(),
        Some("{\"Version\": \"2012-10-17\"}")
    );
    assert_eq!(
        h.moto.count_requests("PUT", "/broken-bucket/?policy"),
        2,
        "only this test's two plants"
    );
}

#[tokio::test]
async fn an_existing_public_statement_fails_naming_its_sid_unless_allowed() {
    let h = Harness::start();
    h.bucket("public-bucket").await;
    let public = "{\"Sid\": \"PublicRead\", \"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::public-bucket/*\"}";
    let planted = format!("{{\"Version\": \"2012-10-17\", \"Statement\": [{public}]}}");
    h.set_policy("public-bucket", &planted).await;

    let response = h
        .answer(&create("OriginPolicy", oai("public-bucket")))
        .await;
    assert_eq!(response["Status"], "FAILED");
    let reason = reason(&response);
    assert!(
        reason.contains("Sid `PublicRead`") && reason.contains("public"),
        "{reason}"
    );
    assert!(reason.contains("AllowExistingPublicStatements"), "{reason}");
    assert_eq!(
        h.policy("public-bucket").await,
        Some(planted),
        "nothing changed"
    );
    assert_eq!(h.policy_writes("public-bucket"), 1, "only the plant");

    // Knowingly kept: merged, the public statement byte for byte. moto gap: no
    // Block Public Access, so the PUT succeeds; on AWS with BlockPublicPolicy
    // on, S3 refuses it and the FAILED reason says so.
    let mut properties = oai("public-bucket");
    properties["AllowExistingPublicStatements"] = json!(true);
    let response = h.answer(&create("OriginPolicy", properties)).await;
    assert_eq!(response["Status"], "SUCCESS", "{response}");
    let policy = h.policy("public-bucket").await.expect("a policy");
    assert!(policy.contains(public), "{policy}");
    assert_eq!(statements(&policy).len(), 3);
    assert!(
        h.lambda.log().contains("PUBLIC statements"),
        "the kept public grant is logged loudly"
    );
}

#[tokio::test]
async fn bad_properties_fail_saying_what_to_fix_and_touch_nothing() {
    let h = Harness::start();
    h.bucket("input-bucket").await;
    let cases = [
        (
            json!({"BucketName": "input-bucket", "Mode": "OAI", "OriginAccessIdentityId": format!("origin-access-identity/cloudfront/{OAI_ID}")}),
            "give only the Id, `E74FTE3AJFJ256A`",
        ),
        (
            json!({"BucketName": "input-bucket", "Mode": "OAI", "OriginAccessIdentityId": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}),
            "S3CanonicalUserId",
        ),
        (
            json!({"BucketName": "input-bucket", "Mode": "OAC", "DistributionId": "d111111abcdef8.cloudfront.net"}),
            "domain name",
        ),
        (
            json!({"BucketName": "input-bucket", "Mode": "OAC", "DistributionId": format!("arn:aws:cloudfront::{ACCOUNT}:distribution/{DISTRIBUTION_ID}")}),
            "give only the Id, `EDFDVBD6EXAMPLE`",
        ),
        (
            json!({"BucketName": "input-bucket", "Mode": "OAC"}),
            "Mode OAC needs DistributionId",
        ),
        (
            json!({"BucketName": "input-bucket", "Mode": "OAI", "OriginAccessIdentityId": OAI_ID, "DistributionId": DISTRIBUTION_ID}),
            "DistributionId is only used with Mode OAC",
        ),
        (
            json!({"BucketName": "input-bucket", "Mode": "oai", "OriginAccessIdentityId": OAI_ID}),
            "ResourceProperties.Mode",
        ),
        (
            json!({"BucketName": "arn:aws:s3:::input-bucket", "Mode": "OAI", "OriginAccessIdentityId": OAI_ID}),
            "give the bucket's name, `input-bucket`",
        ),
        (
            json!({"BucketName": "input-bucket", "Mode": "OAI", "OriginAccessIdentityId": OAI_ID, "Principal": "*"}),
            "unknown property `Principal`",
        ),
        (
            json!({"BucketName": "input-bucket", "Mode": "OAI", "OriginAccessIdentityId": OAI_ID, "KeyPrefix": "*"}),
            "KeyPrefix `*` must not contain",
        ),
        (
            json!({"BucketName": "input-bucket", "Mode": "OAI", "OriginAccessIdentityId": OAI_ID, "EnforceTls": "maybe"}),
            "ResourceProperties.EnforceTls",
        ),
    ];
    for (properties, expected) in cases {
        let response = h.answer(&create("OriginPolicy", properties.clone())).await;
        assert_eq!(response["Status"], "FAILED", "{properties}");
        assert!(
            reason(&response).contains(expected),
            "{properties}: {}",
            reason(&response)
        );
        assert!(response["PhysicalResourceId"]
            .as_str()
            .unwrap()
            .starts_with(CREATE_FAILED_PREFIX));
    }
    assert_eq!(
        h.moto.count_requests("GET", "/input-bucket/?policy"),
        0,
        "rejected before any S3 call"
    );
    assert_eq!(h.policy_writes("input-bucket"), 0);
    // The counter does see requests to this bucket: the zeros above are real.
    assert_eq!(h.policy("input-bucket").await, None);
    assert_eq!(h.moto.count_requests("GET", "/input-bucket/?policy"), 1);
}

#[tokio::test]
async fn a_bad_update_fails_keeping_the_old_id_and_statements() {
    let h = Harness::start();
    h.bucket("steady-bucket").await;
    let event = create("OriginPolicy", oai("steady-bucket"));
    let created = h.answer(&event).await;
    let id = created["PhysicalResourceId"].as_str().unwrap().to_owned();
    let policy = h.policy("steady-bucket").await;

    let mut wrong = oac("steady-bucket");
    wrong["DistributionId"] = json!("not-an-id");
    let failed = h.answer(&event.update(&id, wrong)).await;
    assert_eq!(failed["Status"], "FAILED");
    assert_eq!(
        failed["PhysicalResourceId"],
        json!(id),
        "a failed Update keeps the old id"
    );
    assert!(
        reason(&failed).contains("DistributionId `not-an-id`"),
        "{failed}"
    );
    assert_eq!(
        h.policy("steady-bucket").await,
        policy,
        "the old grant still stands"
    );
}
