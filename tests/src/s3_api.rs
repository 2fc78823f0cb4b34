//! The S3 API applied to a LocalStack REST API by the real `s3-proxy-api`
//! binary, for data-path tests that call it over HTTP.

use crate::{CfnEvent, LambdaEmulator, LocalStack};
use cfn_local::ResponseSlot;
use serde_json::{json, Value};

pub const ROLE: &str = "arn:aws:iam::123456789012:role/vault-api-s3";

/// LocalStack holding `bucket` (Object Lock on, so versioned, and no default
/// retention: a caller's retention header, if it reached S3, would stick),
/// and the S3 API serving it with `methods` on stage `v1`.
pub struct Rig {
    pub localstack: LocalStack,
    pub lambda: LambdaEmulator,
    pub api: String,
}

impl Rig {
    pub async fn start(bucket: &str, methods: &[&str]) -> Rig {
        let localstack = LocalStack::start();
        localstack
            .s3()
            .create_bucket()
            .bucket(bucket)
            .object_lock_enabled_for_bucket(true)
            .send()
            .await
            .expect("bucket");
        let mut env = localstack.env();
        env.push(("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), "60".into()));
        let lambda = LambdaEmulator::start(&env);
        let api = deploy(&localstack, &lambda, bucket, methods).await;
        Rig {
            localstack,
            lambda,
            api,
        }
    }

    /// The stage's invoke URL, ending in `/`.
    pub fn invoke_url(&self) -> String {
        self.localstack.invoke_url(&self.api, "v1", "")
    }
}

/// Applies the API serving `bucket` with `methods` to a fresh REST API on
/// `localstack` (stage `v1`); its id.
pub async fn deploy(
    localstack: &LocalStack,
    lambda: &LambdaEmulator,
    bucket: &str,
    methods: &[&str],
) -> String {
    let s3 = localstack.s3();
    let api = localstack
        .apigateway()
        .create_rest_api()
        .name("vault-api")
        .send()
        .await
        .expect("the template's REST API")
        .id()
        .expect("an id")
        .to_owned();
    let event = CfnEvent::create(
        "Custom::S3ProxyApi",
        "ObjectApi",
        json!({
            "RestApiId": api,
            "BucketName": bucket,
            "RoleArn": ROLE,
            "StageName": "v1",
            "Methods": methods,
        }),
    );
    // The ResponseURL is a presigned URL on LocalStack's S3.
    let slot = ResponseSlot::new(&s3, "ObjectApi", std::time::Duration::from_secs(600))
        .await
        .expect("presign the ResponseURL");
    let invocation = lambda
        .invoke("s3-proxy-api", &event.to_json(&slot.url))
        .await;
    assert_eq!(invocation.status, 200, "{}", invocation.body);
    let response: Value = slot.response().await.expect("the response was delivered");
    assert_eq!(response["Status"], "SUCCESS", "{response}");
    api
}
