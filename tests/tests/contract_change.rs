//! A Delete after the handler's contract changed: CloudFormation sends the
//! properties the resource was made with, which may hold a property the
//! handler no longer knows, or lack one it has since added. Each real
//! handler binary, under `cargo lambda watch` against moto, must still
//! remove what it made and answer SUCCESS.
//!
//! Emulator gap: `cargo lambda watch` sends a past deadline; the runtime
//! falls back to `AWS_LAMBDA_FUNCTION_TIMEOUT`, which these tests set.

use serde_json::{json, Value};
use vaultfront_tests::{CfnEvent, LambdaEmulator, Moto};

fn start() -> (Moto, LambdaEmulator) {
    let moto = Moto::start();
    let mut env = moto.env();
    env.push(("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), "60".into()));
    let lambda = LambdaEmulator::start(&env);
    (moto, lambda)
}

/// `event` with its properties changed by `change`.
fn with(event: &CfnEvent, change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> CfnEvent {
    let mut event = event.clone();
    if let Some(map) = event.properties.as_object_mut() {
        change(map);
    }
    event
}

/// The Deletes a newer handler may get for what an older one made.
fn contract_changes(delete: &CfnEvent, optional: &str) -> Vec<(&'static str, CfnEvent)> {
    vec![
        (
            "an unknown property",
            with(delete, |p| {
                p.insert("Legacy".into(), json!("from an older handler"));
            }),
        ),
        (
            "a missing optional property",
            with(delete, |p| {
                p.remove(optional);
            }),
        ),
        (
            "an optional property in a form no longer read",
            with(delete, |p| {
                p.insert(optional.into(), json!({"Old": "shape"}));
            }),
        ),
    ]
}

#[tokio::test]
async fn bucket_policy_delete_survives_a_contract_change() {
    let (moto, lambda) = start();
    let s3 = moto.s3();
    let create = CfnEvent::create(
        "Custom::OriginBucketPolicy",
        "OriginPolicy",
        json!({"BucketName": "PLACEHOLDER", "Mode": "OAI", "OriginAccessIdentityId": "E74FTE3AJFJ256A",
               "EnforceTls": true}),
    );
    for (n, (what, _)) in contract_changes(&create, "EnforceTls")
        .into_iter()
        .enumerate()
    {
        let bucket = format!("contract-{n}");
        s3.create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("bucket");
        let create = with(&create, |p| {
            p.insert("BucketName".into(), json!(bucket));
        });
        let created = lambda.answer("bucket-policy", &moto, &create).await;
        assert_eq!(created["Status"], "SUCCESS", "{created}");
        let id = created["PhysicalResourceId"].as_str().unwrap_or_default();
        let delete = &contract_changes(&create.delete(id), "EnforceTls")[n].1;
        let deleted = lambda.answer("bucket-policy", &moto, delete).await;
        assert_eq!(deleted["Status"], "SUCCESS", "{what}: {deleted}");
        let left = s3
            .get_bucket_policy()
            .bucket(&bucket)
            .send()
            .await
            .ok()
            .and_then(|p| p.policy)
            .unwrap_or_default();
        assert!(
            !left.contains("VaultfrontOrigin"),
            "{what}: our statements stayed: {left}"
        );
    }
}

#[tokio::test]
async fn object_lock_delete_survives_a_contract_change() {
    let (moto, lambda) = start();
    let s3 = moto.s3();
    s3.create_bucket()
        .bucket("contract")
        .send()
        .await
        .expect("bucket");
    let create = CfnEvent::create(
        "Custom::ObjectLock",
        "DatasetLock",
        json!({"BucketName": "contract", "Mode": "GOVERNANCE", "Days": 3, "AllowRetentionReduction": false}),
    );
    let created = lambda.answer("object-lock", &moto, &create).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    for (what, delete) in contract_changes(&create.delete("contract"), "AllowRetentionReduction") {
        let deleted = lambda.answer("object-lock", &moto, &delete).await;
        assert_eq!(deleted["Status"], "SUCCESS", "{what}: {deleted}");
        assert_eq!(deleted["PhysicalResourceId"], "contract");
    }
}

#[tokio::test]
async fn s3_proxy_api_delete_survives_a_contract_change() {
    let (moto, lambda) = start();
    let apigateway = moto.apigateway();
    let api = apigateway
        .create_rest_api()
        .name("vault-api")
        .send()
        .await
        .expect("API")
        .id()
        .unwrap_or_default()
        .to_owned();
    let create = CfnEvent::create(
        "Custom::S3ProxyApi",
        "ObjectApi",
        json!({"RestApiId": api, "BucketName": "vault-data", "RoleArn": "arn:aws:iam::123456789012:role/r",
               "StageName": "v1", "Throttling": {"RateLimit": 10, "BurstLimit": 5}}),
    );
    for n in 0..3 {
        let created = lambda.answer("s3-proxy-api", &moto, &create).await;
        assert_eq!(created["Status"], "SUCCESS", "{created}");
        let id = created["PhysicalResourceId"].as_str().unwrap_or_default();
        let (what, delete) = contract_changes(&create.delete(id), "Throttling").remove(n);
        let deleted = lambda.answer("s3-proxy-api", &moto, &delete).await;
        assert_eq!(deleted["Status"], "SUCCESS", "{what}: {deleted}");
        let stage = apigateway
            .get_stage()
            .rest_api_id(&api)
            .stage_name("v1")
            .send()
            .await;
        assert!(stage.is_err(), "{what}: the stage is still there");
    }
}
