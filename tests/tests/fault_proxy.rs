//! The fault-injection proxy itself, between the AWS SDK and moto: it
//! forwards with the Host header intact (moto routes S3 by it), answers
//! what a rule names with AWS's own error formats, cuts replies off,
//! delays, and records what passed.

use std::time::Duration;
use vaultfront_tests::{Fault, FaultProxy, Match, Moto, Rule};

#[tokio::test]
async fn the_proxy_forwards_answers_for_aws_and_records_what_passed() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let s3 = vaultfront_tests::clients::s3(&proxy.endpoint());
    let apigateway = vaultfront_tests::clients::apigateway(&proxy.endpoint());
    s3.create_bucket()
        .bucket("through")
        .send()
        .await
        .expect("moto reached through the proxy (Host kept)");

    // A canned, final error: the SDK sees S3's own code.
    proxy.add(Rule::first(
        1,
        Match::operation("GetBucketVersioning"),
        Fault::s3_error(403, "AccessDenied", "Access Denied"),
    ));
    let err = s3
        .get_bucket_versioning()
        .bucket("through")
        .send()
        .await
        .expect_err("the canned error");
    use aws_sdk_s3::error::ProvideErrorMetadata;
    assert_eq!(err.code(), Some("AccessDenied"));
    s3.get_bucket_versioning()
        .bucket("through")
        .send()
        .await
        .expect("the rule was for the first call only");

    // A reply cut off mid-body: the SDK sees a broken response and retries.
    proxy.add(Rule::first(
        1,
        Match::operation("ListObjectsV2"),
        Fault::DropMidReply,
    ));
    s3.list_objects_v2()
        .bucket("through")
        .send()
        .await
        .expect("retried after the cut-off reply");
    assert_eq!(proxy.count(&Match::operation("ListObjectsV2")), 2);

    // API Gateway's throttling, in its JSON form, is retried by the SDK.
    proxy.add(Rule::first(
        1,
        Match::request("GET", "/restapis"),
        Fault::api_error(429, "TooManyRequestsException", "Too Many Requests"),
    ));
    apigateway.get_rest_apis().send().await.expect("retried");
    assert_eq!(proxy.count(&Match::operation("GetRestApis")), 2);
    assert_eq!(proxy.passed(&Match::operation("GetRestApis")), 1);

    // A delay still forwards.
    proxy.add(Rule::first(
        1,
        Match::operation("HeadBucket"),
        Fault::Delay(Duration::from_millis(200)),
    ));
    s3.head_bucket()
        .bucket("through")
        .send()
        .await
        .expect("delayed, then through");

    let seen = proxy.seen();
    assert_eq!(seen[0].operation.as_deref(), Some("CreateBucket"));
    assert_eq!(seen[0].service.as_deref(), Some("s3"));
    assert!(seen[0].passed());
    assert!(!seen[1].passed(), "the canned error never reached moto");
    assert!(seen
        .iter()
        .any(|s| s.service.as_deref() == Some("apigateway")));
}
