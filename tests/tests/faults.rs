//! What real AWS does and moto never does, injected by the fault proxy
//! between the real handler binaries (under `cargo lambda watch`) and moto:
//! throttling and 5xx, calls that never return, a process killed mid-way
//! whose event Lambda delivers again, and the bucket policy on AWS's timing
//! (a principal not yet valid, a Create failing after its write, a stale read).
//!
//! Emulator gap: `cargo lambda watch` sends a past deadline; the runtime
//! falls back to `AWS_LAMBDA_FUNCTION_TIMEOUT`, which each test sets.

use cfn_local::custom::RESPONSE_BUCKET;
use serde_json::{json, Value};
use std::time::Duration;
use vaultfront_tests::moto::REGION;
use vaultfront_tests::{CfnEvent, Fault, FaultProxy, LambdaEmulator, Match, Moto, Rule};

const BUCKET: &str = "vault-data";
const ROLE: &str = "arn:aws:iam::123456789012:role/vault-api-s3";
const OAI_ID: &str = "E74FTE3AJFJ256A";

/// moto, the proxy in front of it, and the emulator whose function talks
/// to AWS through the proxy.
struct Rig {
    moto: Moto,
    proxy: FaultProxy,
    lambda: LambdaEmulator,
    timeout_s: u32,
}

impl Rig {
    async fn start(timeout_s: u32) -> Rig {
        let moto = Moto::start();
        let proxy = FaultProxy::start(&moto.endpoint()).await;
        let lambda = LambdaEmulator::start(&env(&proxy, timeout_s));
        Rig {
            moto,
            proxy,
            lambda,
            timeout_s,
        }
    }

    /// Kill the function's process (and its emulator) with SIGKILL and start
    /// a fresh one: a new execution environment.
    fn replace_process(&mut self) {
        self.lambda.kill();
        self.lambda = LambdaEmulator::start(&env(&self.proxy, self.timeout_s));
    }

    async fn answer(&self, function: &str, event: &CfnEvent) -> Value {
        self.lambda.answer(function, &self.moto, event).await
    }

    async fn bucket(&self, name: &str, lock_enabled: bool) {
        self.moto
            .s3()
            .create_bucket()
            .bucket(name)
            .object_lock_enabled_for_bucket(lock_enabled)
            .send()
            .await
            .expect("create bucket");
    }

    async fn rest_api(&self) -> String {
        self.moto
            .apigateway()
            .create_rest_api()
            .name("vault-api")
            .send()
            .await
            .expect("create the template's REST API")
            .id()
            .expect("an id")
            .to_owned()
    }

    async fn deployments(&self, api: &str) -> Vec<String> {
        self.moto
            .apigateway()
            .get_deployments()
            .rest_api_id(api)
            .send()
            .await
            .expect("GetDeployments")
            .items()
            .iter()
            .filter_map(|d| d.id().map(str::to_owned))
            .collect()
    }

    async fn stage_deployment(&self, api: &str, stage: &str) -> Option<String> {
        self.moto
            .apigateway()
            .get_stage()
            .rest_api_id(api)
            .stage_name(stage)
            .send()
            .await
            .ok()
            .and_then(|s| s.deployment_id().map(str::to_owned))
    }

    /// Wait (without a time limit of its own: the test's own calls bound it)
    /// until the proxy has seen a request `on` names.
    async fn wait_for(&self, on: &Match) {
        while self.proxy.count(on) == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn env(proxy: &FaultProxy, timeout_s: u32) -> Vec<(String, String)> {
    let mut env = proxy.env();
    env.push(("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), timeout_s.to_string()));
    env
}

fn reason(response: &Value) -> &str {
    response["Reason"].as_str().unwrap_or_default()
}

fn object_lock(bucket: &str) -> CfnEvent {
    CfnEvent::create(
        "Custom::ObjectLock",
        "DatasetLock",
        json!({"BucketName": bucket, "Mode": "GOVERNANCE", "Days": 3}),
    )
}

fn s3_proxy_api(api: &str) -> CfnEvent {
    CfnEvent::create(
        "Custom::S3ProxyApi",
        "ObjectApi",
        json!({"RestApiId": api, "BucketName": BUCKET, "RoleArn": ROLE, "StageName": "v1",
               "Throttling": {"RateLimit": 10, "BurstLimit": 5}}),
    )
}

fn stage_arn(api: &str) -> String {
    format!("arn:aws:apigateway:{REGION}::/restapis/{api}/stages/v1")
}

/// The first two calls of `operation` fail: a throttle, then a 500.
fn throttle_twice(proxy: &FaultProxy, operation: &str, throttle: Fault, internal: Fault) {
    proxy.add(Rule::first(1, Match::operation(operation), throttle));
    proxy.add(Rule::first(1, Match::operation(operation), internal));
}

fn s3_throttle_twice(proxy: &FaultProxy, operation: &str) {
    throttle_twice(
        proxy,
        operation,
        Fault::s3_error(503, "SlowDown", "Please reduce your request rate."),
        Fault::s3_error(
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
    );
}

fn api_throttle_twice(proxy: &FaultProxy, operation: &str) {
    throttle_twice(
        proxy,
        operation,
        Fault::api_error(429, "TooManyRequestsException", "Too Many Requests")
            .with_header("Retry-After", "1"),
        Fault::api_error(500, "InternalFailure", "Internal server error"),
    );
}

/// Each write was tried three times and reached moto once.
fn assert_three_tries_one_write(proxy: &FaultProxy, operations: &[&str]) {
    for operation in operations {
        let on = Match::operation(operation);
        assert_eq!(proxy.count(&on), 3, "{operation}: two faults, then through");
        assert_eq!(proxy.passed(&on), 1, "{operation}");
    }
}

// --- throttling and 5xx -----------------------------------------------------

#[tokio::test]
async fn object_lock_create_rides_out_throttling_and_5xx() {
    let rig = Rig::start(60).await;
    rig.bucket("throttled", false).await;
    let writes = ["PutBucketVersioning", "PutObjectLockConfiguration"];
    for operation in writes {
        s3_throttle_twice(&rig.proxy, operation);
    }
    let created = rig.answer("object-lock", &object_lock("throttled")).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(created["PhysicalResourceId"], "throttled");
    assert_three_tries_one_write(&rig.proxy, &writes);
}

#[tokio::test]
async fn bucket_policy_create_rides_out_throttling_and_5xx() {
    let rig = Rig::start(60).await;
    rig.bucket("throttled", false).await;
    s3_throttle_twice(&rig.proxy, "PutBucketPolicy");
    let created = rig
        .answer(
            "bucket-policy",
            &CfnEvent::create(
                "Custom::OriginBucketPolicy",
                "OriginPolicy",
                json!({"BucketName": "throttled", "Mode": "OAI", "OriginAccessIdentityId": OAI_ID}),
            ),
        )
        .await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_three_tries_one_write(&rig.proxy, &["PutBucketPolicy"]);
}

#[tokio::test]
async fn s3_proxy_api_create_rides_out_throttling_and_5xx_with_one_deployment() {
    let rig = Rig::start(90).await;
    let api = rig.rest_api().await;
    // Every write a Create makes on moto (UpdateRestApi: the binary media
    // type, which moto ignores on import).
    let writes = [
        "PutRestApi",
        "CreateDeployment",
        "UpdateStage",
        "UpdateRestApi",
    ];
    for operation in writes {
        api_throttle_twice(&rig.proxy, operation);
    }
    let created = rig.answer("s3-proxy-api", &s3_proxy_api(&api)).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(created["PhysicalResourceId"], stage_arn(&api));
    assert_three_tries_one_write(&rig.proxy, &writes);
    let deployments = rig.deployments(&api).await;
    assert_eq!(deployments.len(), 1, "{deployments:?}");
    assert_eq!(
        rig.stage_deployment(&api, "v1").await.as_ref(),
        deployments.first()
    );
}

#[tokio::test]
async fn s3_proxy_api_a_call_that_stays_throttled_is_tried_only_by_the_sdk() {
    let rig = Rig::start(120).await;
    let api = rig.rest_api().await;
    rig.proxy.add(Rule::always(
        Match::operation("CreateDeployment"),
        Fault::api_error(429, "TooManyRequestsException", "Too Many Requests"),
    ));
    let failed = rig.answer("s3-proxy-api", &s3_proxy_api(&api)).await;
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    assert!(
        reason(&failed).contains("CreateDeployment")
            && reason(&failed).contains("TooManyRequestsException"),
        "{failed}"
    );
    // The SDK's 8 attempts (s3_proxy_api::aws::retry_config), and no second
    // loop around them multiplying that.
    assert_eq!(
        rig.proxy.count(&Match::operation("CreateDeployment")),
        s3_proxy_api::aws::retry_config().max_attempts() as usize
    );
}

// --- AWS stops answering ----------------------------------------------------

/// Every AWS call hangs: one FAILED, before the 20 s deadline, naming the
/// operation; then the same process serves the next event.
async fn hung_aws_gets_one_failed(
    function: &str,
    event: CfnEvent,
    waiting_on: &str,
    rig: &Rig,
    next: CfnEvent,
) {
    // (The callers warm the process first: its cold start is not the deadline's business.)
    rig.proxy.add(Rule::always(Match::any(), Fault::Hang));
    let sink = rig.moto.response_slot("hang").await;
    rig.lambda.guard_secret(&sink.url);
    let invocation = rig.lambda.invoke(function, &event.to_json(&sink.url)).await;
    assert_eq!(invocation.status, 200, "{}", invocation.body);
    let response = sink.response().await.expect("a JSON response");
    assert_eq!(response["Status"], "FAILED", "{response}");
    assert!(
        reason(&response).starts_with("timed out after"),
        "{response}"
    );
    assert!(reason(&response).contains(waiting_on), "{response}");
    // Not a speed check: past 20 s Lambda would have killed it unanswered.
    assert!(
        invocation.elapsed < Duration::from_secs(20),
        "answered after {:?}",
        invocation.elapsed
    );
    // One answer: the presigned URL was written exactly once.
    assert_eq!(
        rig.moto
            .count_requests("PUT", &format!("/{RESPONSE_BUCKET}/hang/")),
        1
    );

    rig.proxy.clear();
    let served = rig.answer(function, &next).await;
    assert_eq!(served["Status"], "SUCCESS", "{served}");
}

#[tokio::test]
async fn object_lock_answers_once_when_aws_stops_answering() {
    let rig = Rig::start(20).await;
    rig.bucket("hung", false).await;
    rig.bucket("next", false).await;
    let warm = rig.answer("object-lock", &object_lock("next")).await;
    assert_eq!(warm["Status"], "SUCCESS", "{warm}");
    hung_aws_gets_one_failed(
        "object-lock",
        object_lock("hung"),
        "waiting on S3 GetObjectLockConfiguration on bucket `hung`",
        &rig,
        object_lock("next"),
    )
    .await;
}

#[tokio::test]
async fn s3_proxy_api_answers_once_when_aws_stops_answering() {
    let rig = Rig::start(20).await;
    let api = rig.rest_api().await;
    let other = rig.rest_api().await;
    let warm = rig.answer("s3-proxy-api", &s3_proxy_api(&other)).await;
    assert_eq!(warm["Status"], "SUCCESS", "{warm}");
    hung_aws_gets_one_failed(
        "s3-proxy-api",
        s3_proxy_api(&api),
        &format!("waiting on API Gateway GetStage on stage v1 of REST API {api}"),
        &rig,
        s3_proxy_api(&api),
    )
    .await;
}

// --- the process dies mid-way -----------------------------------------------

/// Hang the call after `first_write`, SIGKILL the process once it is
/// waiting there, and deliver the same event to a new process with a new
/// ResponseURL: the answer a clean run gives.
async fn killed_after_first_write(
    rig: &mut Rig,
    function: &str,
    event: &CfnEvent,
    first_write: &str,
    hang_on: Match,
) -> Value {
    rig.proxy.add(Rule::always(hang_on.clone(), Fault::Hang));
    let sink = rig.moto.response_slot("killed").await;
    rig.lambda.guard_secret(&sink.url);
    {
        let payload = event.to_json(&sink.url);
        let first = rig.lambda.invoke(function, &payload);
        tokio::select! {
            invocation = first => panic!("answered although it should hang: {invocation:?}"),
            () = rig.wait_for(&hang_on) => {}
        }
    }
    assert_eq!(
        rig.proxy.passed(&Match::operation(first_write)),
        1,
        "the first write reached moto before the kill"
    );
    rig.replace_process();
    assert!(
        sink.read_raw().await.is_none(),
        "the killed process never answered"
    );
    rig.proxy.clear();
    // Lambda's retry: same event, same RequestId, a new ResponseURL.
    rig.answer(function, event).await
}

#[tokio::test]
async fn object_lock_killed_mid_create_converges_on_redelivery() {
    let mut rig = Rig::start(30).await;
    rig.bucket("killed", false).await;
    let event = object_lock("killed");
    let hang_on = Match::operation("PutObjectLockConfiguration");
    let response = killed_after_first_write(
        &mut rig,
        "object-lock",
        &event,
        "PutBucketVersioning",
        hang_on,
    )
    .await;
    assert_eq!(response["Status"], "SUCCESS", "{response}");
    assert_eq!(
        response["PhysicalResourceId"], "killed",
        "the id a clean run gives"
    );
    let lock = rig
        .moto
        .s3()
        .get_object_lock_configuration()
        .bucket("killed")
        .send()
        .await
        .expect("locked");
    let retention = lock
        .object_lock_configuration()
        .and_then(|c| c.rule())
        .and_then(|r| r.default_retention())
        .expect("a default retention");
    assert_eq!(retention.days(), Some(3));
    assert_eq!(
        rig.proxy.passed(&Match::operation("PutBucketVersioning")),
        1,
        "versioning, already on, is not written again"
    );
}

#[tokio::test]
async fn s3_proxy_api_killed_mid_create_converges_on_redelivery() {
    let mut rig = Rig::start(60).await;
    let api = rig.rest_api().await;
    let event = s3_proxy_api(&api);
    // PutRestApi and CreateDeployment have reached moto; the stage's
    // throttling (UpdateStage) never does.
    let hang_on = Match::operation("UpdateStage");
    let response =
        killed_after_first_write(&mut rig, "s3-proxy-api", &event, "PutRestApi", hang_on).await;
    assert_eq!(
        rig.proxy.passed(&Match::operation("CreateDeployment")),
        1,
        "the redelivery made no second deployment"
    );
    assert_eq!(response["Status"], "SUCCESS", "{response}");
    assert_eq!(
        response["PhysicalResourceId"],
        stage_arn(&api),
        "the id a clean run gives"
    );
    let deployments = rig.deployments(&api).await;
    assert_eq!(deployments.len(), 1, "{deployments:?}");
    assert_eq!(
        rig.stage_deployment(&api, "v1").await.as_ref(),
        deployments.first()
    );
    let stages = rig
        .moto
        .apigateway()
        .get_stages()
        .rest_api_id(&api)
        .send()
        .await
        .expect("GetStages");
    assert_eq!(stages.item().len(), 1);
    let settings = stages.item()[0]
        .method_settings()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        settings.get("*/*").map(|s| s.throttling_burst_limit()),
        Some(5),
        "the stage's throttling, which the killed run never wrote, is set"
    );
}

// --- the bucket policy on AWS's timing ------------------------------------------

fn origin_policy(bucket: &str, extra: Value) -> CfnEvent {
    let mut properties =
        json!({"BucketName": bucket, "Mode": "OAI", "OriginAccessIdentityId": OAI_ID});
    if let (Some(properties), Some(extra)) = (properties.as_object_mut(), extra.as_object()) {
        properties.extend(extra.clone());
    }
    CfnEvent::create("Custom::OriginBucketPolicy", "OriginPolicy", properties)
}

/// The Sids of the bucket's policy as moto holds it; empty without one.
async fn policy_sids(moto: &Moto, bucket: &str) -> Vec<String> {
    let Ok(output) = moto.s3().get_bucket_policy().bucket(bucket).send().await else {
        return Vec::new();
    };
    let document: Value = serde_json::from_str(output.policy().unwrap_or("{}")).expect("JSON");
    document["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
        .collect()
}

fn ours(sids: &[String]) -> Vec<&String> {
    sids.iter()
        .filter(|sid| sid.starts_with("VaultfrontOrigin"))
        .collect()
}

/// moto accepts any principal at once. On AWS, a policy naming an origin
/// access identity CloudFront created moments ago is refused for seconds.
#[tokio::test]
async fn bucket_policy_waits_for_a_new_identity_to_become_a_valid_principal() {
    let rig = Rig::start(60).await;
    rig.bucket("new-identity", false).await;
    let put = Match::operation("PutBucketPolicy");
    rig.proxy.add(Rule::first(
        3,
        put.clone(),
        Fault::s3_error(400, "MalformedPolicy", "Invalid principal in policy"),
    ));
    let created = rig
        .answer("bucket-policy", &origin_policy("new-identity", json!({})))
        .await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(rig.proxy.count(&put), 4, "three refusals, then through");
    assert_eq!(rig.proxy.passed(&put), 1);
    assert_eq!(ours(&policy_sids(&rig.moto, "new-identity").await).len(), 2);

    // Any other MalformedPolicy is final: one call, FAILED.
    rig.bucket("bad-policy", false).await;
    rig.proxy.add(Rule::always(
        put.clone(),
        Fault::s3_error(400, "MalformedPolicy", "Policy has invalid resource"),
    ));
    let refused = rig
        .answer("bucket-policy", &origin_policy("bad-policy", json!({})))
        .await;
    assert_eq!(refused["Status"], "FAILED", "{refused}");
    assert!(
        reason(&refused).contains("Policy has invalid resource"),
        "{refused}"
    );
    assert_eq!(rig.proxy.count(&put), 5, "one more call, no retry");
}

/// A Create that wrote its grant and then failed is rolled back by
/// CloudFormation with a Delete of the physical id it answered: that id
/// must lead to the grant, or the retained bucket keeps it for good.
#[tokio::test]
async fn bucket_policy_a_failed_create_is_removed_by_the_rollback() {
    let rig = Rig::start(60).await;
    rig.bucket("rolled-back", false).await;
    let get = Match::operation("GetBucketPolicy");
    // The first read passes; every read after the grant's write fails.
    rig.proxy.add(Rule::first(1, get.clone(), Fault::pass()));
    rig.proxy.add(Rule::always(
        get,
        Fault::s3_error(500, "InternalError", "We encountered an internal error."),
    ));
    let event = origin_policy("rolled-back", json!({}));
    let failed = rig.answer("bucket-policy", &event).await;
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    assert_eq!(rig.proxy.passed(&Match::operation("PutBucketPolicy")), 1);
    assert_eq!(
        ours(&policy_sids(&rig.moto, "rolled-back").await).len(),
        2,
        "the grant was written"
    );

    rig.proxy.clear();
    let physical_id = failed["PhysicalResourceId"].as_str().expect("an id");
    let rollback = rig
        .answer("bucket-policy", &event.delete(physical_id))
        .await;
    assert_eq!(rollback["Status"], "SUCCESS", "{rollback}");
    let left = policy_sids(&rig.moto, "rolled-back").await;
    assert!(ours(&left).is_empty(), "the rollback left {left:?}");
}

/// moto's reads are never stale. S3's bucket configuration is eventually
/// consistent: a read just after the native policy's write may not show it.
#[tokio::test]
async fn bucket_policy_a_stale_first_read_never_drops_the_native_statements() {
    let rig = Rig::start(60).await;
    rig.bucket("stale-read", false).await;
    let native = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::stale-read", "arn:aws:s3:::stale-read/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyTlsOlderThan12", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::stale-read", "arn:aws:s3:::stale-read/*"],
         "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}]});
    rig.moto
        .s3()
        .put_bucket_policy()
        .bucket("stale-read")
        .policy(native.to_string())
        .send()
        .await
        .expect("the native policy");
    rig.proxy.add(Rule::first(
        1,
        Match::operation("GetBucketPolicy"),
        Fault::s3_error(
            404,
            "NoSuchBucketPolicy",
            "The bucket policy does not exist",
        ),
    ));
    let event = origin_policy(
        "stale-read",
        json!({"ExpectedSids": ["DenyInsecureTransport", "DenyTlsOlderThan12"]}),
    );
    let created = rig.answer("bucket-policy", &event).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let sids = policy_sids(&rig.moto, "stale-read").await;
    for native in ["DenyInsecureTransport", "DenyTlsOlderThan12"] {
        assert!(
            sids.iter().any(|sid| sid == native),
            "{native} dropped: {sids:?}"
        );
    }
    assert_eq!(
        ours(&sids).len(),
        1,
        "the grant, and no TLS deny of its own: {sids:?}"
    );
}
