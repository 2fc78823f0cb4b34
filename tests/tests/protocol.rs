//! The custom-resource protocol, end to end: the real `probe-resource`
//! binary under `cargo lambda watch`, answering to a real presigned S3 URL on
//! moto (or to a scripted local sink for delivery faults).
//!
//! Emulator gap: `cargo lambda watch` sends a fixed, past deadline
//! (`600000` ms since 1970). The runtime then falls back to
//! `AWS_LAMBDA_FUNCTION_TIMEOUT`, which these tests set, as AWS's runtime
//! interface emulator does.

use custom_resource::{CREATE_FAILED_PREFIX, MAX_BODY_BYTES};
use serde_json::{json, Value};
use std::time::Duration;
use vaultfront_tests::sink::Received;
use vaultfront_tests::{CfnEvent, HttpSink, LambdaEmulator, Moto, Reply};

const PROBE: &str = "probe-resource";

struct Harness {
    moto: Moto,
    lambda: LambdaEmulator,
}

impl Harness {
    fn start(timeout_s: u32) -> Harness {
        let moto = Moto::start();
        let lambda =
            LambdaEmulator::start(&[("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), timeout_s.to_string())]);
        Harness { moto, lambda }
    }

    /// Invoke with `event` answering to a fresh presigned URL; the response.
    async fn answer(&self, event: &CfnEvent) -> Value {
        self.lambda.answer(PROBE, &self.moto, event).await
    }
}

fn probe(properties: Value) -> CfnEvent {
    CfnEvent::create("Custom::Probe", "Probe", properties)
}

#[tokio::test]
async fn create_succeeds_with_typed_data_from_stringified_scalars() {
    let h = Harness::start(30);
    // CloudFormation's form: every scalar a string.
    let created = h
        .answer(&probe(json!({"Name": "a", "Count": 90, "Flag": true})))
        .await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(created["PhysicalResourceId"], "probe-a");
    assert_eq!(created["Data"]["Count"], 90);
    assert_eq!(created["Data"]["Flag"], true);
    assert_eq!(
        created["Data"]["Nested"],
        json!({"List": [1, 2, 3], "Ok": true}),
        "Data keeps any JSON"
    );
    // A hand-written event with native scalars parses the same.
    let native = h
        .answer(&probe(json!({"Name": "a", "Count": 90, "Flag": true})).native())
        .await;
    assert_eq!(native["Data"], created["Data"]);
}

#[tokio::test]
async fn bad_properties_fail_naming_the_property_and_the_fix() {
    let h = Harness::start(30);
    let missing = h.answer(&probe(json!({"Count": 1}))).await;
    assert_eq!(missing["Status"], "FAILED");
    assert!(
        missing["Reason"]
            .as_str()
            .unwrap()
            .contains("missing required property `Name`"),
        "{missing}"
    );
    assert!(missing["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .starts_with(CREATE_FAILED_PREFIX));

    let mistyped = h
        .answer(&probe(json!({"Name": "a", "Count": "ninety"})))
        .await;
    let reason = mistyped["Reason"].as_str().unwrap();
    assert!(
        reason.contains("ResourceProperties.Count")
            && reason.contains("\"ninety\"")
            && reason.contains("whole number"),
        "{reason}"
    );

    let unknown = h
        .answer(&probe(json!({"Name": "a", "Colour": "red"})))
        .await;
    assert!(
        unknown["Reason"]
            .as_str()
            .unwrap()
            .contains("unknown property `Colour`"),
        "{unknown}"
    );
}

#[tokio::test]
async fn long_reasons_are_trimmed_to_fit_4096_bytes() {
    let h = Harness::start(30);
    for (name, message) in [
        ("ascii", "x".repeat(5000)),
        ("multibyte", "€".repeat(2000)),
        ("emoji", "🦀".repeat(1500)),
    ] {
        let event = probe(json!({"Name": name, "Behaviour": "Fail", "Message": message}));
        let sink = h.moto.response_slot(name).await;
        h.lambda.guard_secret(&sink.url);
        h.lambda.invoke(PROBE, &event.to_json(&sink.url)).await;
        let raw = sink.read_raw().await.expect("a response");
        assert!(
            raw.len() <= MAX_BODY_BYTES,
            "{name}: body is {} bytes",
            raw.len()
        );
        assert!(
            raw.len() > MAX_BODY_BYTES - 8,
            "{name}: trimmed more than a character's worth ({} bytes)",
            raw.len()
        );
        let response: Value =
            serde_json::from_slice(&raw).expect("valid JSON and UTF-8 after the cut");
        let reason = response["Reason"].as_str().unwrap();
        assert!(reason.ends_with("[truncated]"), "{name}");
        assert!(
            message.starts_with(reason.trim_end_matches(" [truncated]")),
            "{name}: the kept part is a prefix"
        );
    }
}

#[tokio::test]
async fn data_too_large_fails_clearly_and_keeps_the_real_id() {
    let h = Harness::start(30);
    let response = h
        .answer(&probe(json!({"Name": "big", "DataBytes": 5000})))
        .await;
    assert_eq!(response["Status"], "FAILED");
    assert!(
        response["Reason"]
            .as_str()
            .unwrap()
            .contains("return less in Data"),
        "{response}"
    );
    // The resource exists: the rollback's Delete must be able to find it.
    assert_eq!(response["PhysicalResourceId"], "probe-big");
    assert!(response.get("Data").is_none());
}

#[tokio::test]
async fn a_panic_becomes_failed() {
    let h = Harness::start(30);
    let response = h
        .answer(&probe(json!({"Name": "p", "Behaviour": "Panic"})))
        .await;
    assert_eq!(response["Status"], "FAILED");
    assert!(
        response["Reason"]
            .as_str()
            .unwrap()
            .contains("panicked: probe asked to panic"),
        "{response}"
    );
}

#[tokio::test]
async fn a_hung_handler_is_answered_before_the_deadline() {
    let h = Harness::start(3);
    // Warm the function first: the cold start happens before the deadline clock runs.
    h.answer(&probe(json!({"Name": "warm"}))).await;
    let event = probe(json!({"Name": "h", "Behaviour": "Hang"}));
    let sink = h.moto.response_slot("hang").await;
    h.lambda.guard_secret(&sink.url);
    let invocation = h.lambda.invoke(PROBE, &event.to_json(&sink.url)).await;
    let response = sink.response().await.expect("a JSON response");
    assert_eq!(response["Status"], "FAILED");
    assert!(
        response["Reason"]
            .as_str()
            .unwrap()
            .starts_with("timed out after"),
        "{response}"
    );
    // Not a speed check: past 3 s Lambda would have killed the function unanswered.
    assert!(
        invocation.elapsed < Duration::from_secs(3),
        "answered only after {:?}",
        invocation.elapsed
    );
}

#[tokio::test]
async fn failed_update_keeps_the_old_id_and_failed_create_marker_deletes_cleanly() {
    let h = Harness::start(30);
    let create = probe(json!({"Name": "u"}));
    let created = h.answer(&create).await;
    let failed = h
        .answer(&create.update("probe-u", json!({"Name": "v", "Behaviour": "Fail"})))
        .await;
    assert_eq!(
        (
            failed["Status"].as_str(),
            failed["PhysicalResourceId"].as_str()
        ),
        (Some("FAILED"), Some("probe-u"))
    );
    let replaced = h
        .answer(&create.update("probe-u", json!({"Name": "v"})))
        .await;
    assert_eq!(
        replaced["PhysicalResourceId"], "probe-v",
        "a new id is a replacement"
    );
    assert_eq!(created["Status"], "SUCCESS");

    let broken = probe(json!({"Name": "x", "Behaviour": "Fail"}));
    let failed_create = h.answer(&broken).await;
    let marker = failed_create["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(marker.starts_with(CREATE_FAILED_PREFIX));
    // The handler would fail this Delete; the marker means it is never called.
    let deleted = h.answer(&broken.delete(&marker)).await;
    assert_eq!(
        (
            deleted["Status"].as_str(),
            deleted["PhysicalResourceId"].as_str()
        ),
        (Some("SUCCESS"), Some(marker.as_str()))
    );
    // A real id with the same properties does reach the handler.
    let real = h.answer(&broken.delete("probe-x")).await;
    assert_eq!(real["Status"], "FAILED");
}

#[tokio::test]
async fn no_echo_data_is_returned_but_never_logged() {
    let h = Harness::start(30);
    let response = h
        .answer(&probe(json!({"Name": "secret-name-42", "NoEcho": true})))
        .await;
    assert_eq!(response["NoEcho"], true);
    assert_eq!(response["Data"]["Name"], "secret-name-42");
    let answered: Vec<Value> = h
        .lambda
        .function_logs()
        .into_iter()
        .filter(|l| l["message"] == "answering CloudFormation")
        .collect();
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0]["data"], "<redacted: NoEcho>");
    assert!(
        !h.lambda.log().contains("\\\"Name\\\":\\\"secret-name-42"),
        "Data reached the log"
    );
}

#[tokio::test]
async fn an_event_without_response_url_is_logged_and_returns() {
    let h = Harness::start(30);
    let mut event = probe(json!({"Name": "n", "Behaviour": "Hang"})).to_json("");
    event.as_object_mut().unwrap().remove("ResponseURL");
    let invocation = h.lambda.invoke(PROBE, &event).await;
    assert_eq!(invocation.status, 200, "{}", invocation.body);
    assert!(h.lambda.function_logs().iter().any(|l| l["message"]
        .as_str()
        .unwrap_or("")
        .contains("no ResponseURL")));
}

/// Invoke the probe answering to a scripted local sink. A first, warm-up
/// invocation starts the function, so the measured one is the warm one.
async fn deliver_to(
    script: Vec<Reply>,
    timeout_s: u32,
) -> (Vec<Received>, vaultfront_tests::lambda::Invocation, String) {
    let sink = HttpSink::start([Reply::Status(200)].into_iter().chain(script).collect()).await;
    let lambda =
        LambdaEmulator::start(&[("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), timeout_s.to_string())]);
    let warm_up = lambda
        .invoke(PROBE, &probe(json!({"Name": "warm"})).to_json(&sink.url()))
        .await;
    assert_eq!(warm_up.status, 200, "{}", warm_up.body);
    let invocation = lambda
        .invoke(PROBE, &probe(json!({"Name": "d"})).to_json(&sink.url()))
        .await;
    lambda.guard_secret(&sink.url());
    (sink.received().split_off(1), invocation, lambda.log())
}

#[tokio::test]
async fn delivery_retries_5xx_then_succeeds() {
    let (received, invocation, _) =
        deliver_to(vec![Reply::Status(503), Reply::Status(503)], 30).await;
    assert_eq!(invocation.status, 200);
    assert_eq!(received.len(), 3, "two 503s, then the 200");
    for request in &received {
        assert_eq!(request.method, "PUT");
        assert_eq!(
            request.header("content-type"),
            Some(""),
            "presigned URLs are signed without a content type"
        );
        assert_eq!(
            request.header("content-length"),
            Some(request.body.len().to_string().as_str())
        );
        assert_eq!(
            request.body, received[0].body,
            "every attempt sends the same body"
        );
    }
    let body: Value = serde_json::from_slice(&received[2].body).unwrap();
    assert_eq!(body["Status"], "SUCCESS");
}

#[tokio::test]
async fn delivery_does_not_retry_4xx() {
    let (received, invocation, log) = deliver_to(vec![Reply::Status(403)], 30).await;
    assert_eq!(received.len(), 1, "a 4xx is final");
    assert_eq!(
        invocation.status, 200,
        "retrying the event cannot fix a 4xx: {}",
        invocation.body
    );
    assert!(log.contains("HTTP 403"), "the refusal is logged");
}

#[tokio::test]
async fn delivery_gives_up_inside_the_deadline_when_the_sink_stalls() {
    let (received, invocation, _) =
        deliver_to(vec![Reply::Stall(Duration::from_secs(30))], 3).await;
    assert!(!received.is_empty());
    // Lambda retries a failed async invocation: the response may yet arrive.
    assert_ne!(
        invocation.status, 200,
        "an undelivered response fails the invocation"
    );
    assert!(
        invocation.body.contains("gave up after"),
        "{}",
        invocation.body
    );
    assert!(
        invocation.elapsed < Duration::from_secs(3),
        "stopped only after {:?}",
        invocation.elapsed
    );
}
