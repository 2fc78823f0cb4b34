//! Events at the edge of the protocol, against the real `probe-resource`
//! binary under `cargo lambda watch`: JSON that a `serde_json::Value` cannot
//! hold, and ids too long for any 4096-byte answer.
//!
//! Emulator gap: `cargo lambda watch` sends a past deadline; the runtime
//! falls back to `AWS_LAMBDA_FUNCTION_TIMEOUT`, which these tests set.

use custom_resource::MAX_BODY_BYTES;
use serde_json::json;
use vaultfront_tests::{CfnEvent, LambdaEmulator, Moto};

const PROBE: &str = "probe-resource";

fn start() -> (Moto, LambdaEmulator) {
    let moto = Moto::start();
    let lambda = LambdaEmulator::start(&[("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), "30".into())]);
    (moto, lambda)
}

#[tokio::test]
async fn an_event_with_a_lone_surrogate_escape_is_answered() {
    let (moto, lambda) = start();
    let event = CfnEvent::create("Custom::Probe", "Probe", json!({"Name": "SURROGATE"}));
    let sink = moto.response_slot("surrogate").await;
    lambda.guard_secret(&sink.url);
    // Valid JSON with no Unicode value: serde_json refuses it as a Value.
    let text = event
        .to_json(&sink.url)
        .to_string()
        .replace("SURROGATE", "a\\ud800b");
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
    let invocation = lambda.invoke_raw(PROBE, text.into_bytes()).await;
    assert_eq!(invocation.status, 200, "{}", invocation.body);
    let response = sink.response().await.expect("a JSON response");
    assert_eq!(response["Status"], "SUCCESS", "{response}");
    assert_eq!(response["RequestId"], json!(event.request_id));
    assert_eq!(
        response["PhysicalResourceId"], "probe-a\u{fffd}b",
        "the lone surrogate became U+FFFD, the rest as sent"
    );
}

#[tokio::test]
async fn ids_too_long_for_any_answer_are_cut_to_fit() {
    let (moto, lambda) = start();
    let mut event = CfnEvent::create("Custom::Probe", "Probe", json!({"Name": "long"}));
    event.request_id = format!("req-{}", "r".repeat(5000));
    event.logical_id = format!("Logical{}", "L".repeat(3000));
    let sink = moto.response_slot("long-ids").await;
    lambda.guard_secret(&sink.url);
    let invocation = lambda.invoke(PROBE, &event.to_json(&sink.url)).await;
    assert_eq!(invocation.status, 200, "{}", invocation.body);
    let raw = sink.read_raw().await.expect("an answer was PUT");
    assert!(
        !raw.is_empty() && raw.len() <= MAX_BODY_BYTES,
        "{} bytes",
        raw.len()
    );
    let response: serde_json::Value = serde_json::from_slice(&raw).expect("the answer is JSON");
    assert_eq!(response["Status"], "FAILED", "{response}");
    assert!(
        response["Reason"]
            .as_str()
            .is_some_and(|r| r.contains("cut to fit")),
        "{response}"
    );
    let request_id = response["RequestId"].as_str().expect("a RequestId");
    let logical_id = response["LogicalResourceId"]
        .as_str()
        .expect("a LogicalResourceId");
    assert!(event.request_id.starts_with(request_id) && request_id.len() > 100);
    assert!(event.logical_id.starts_with(logical_id) && logical_id.len() > 100);
    assert_eq!(
        response["StackId"],
        vaultfront_tests::event::STACK_ID,
        "short ids stay whole"
    );
}
