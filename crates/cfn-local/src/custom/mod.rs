//! Custom resources, driven as CloudFormation drives them: the event (see
//! `event`), a presigned S3 PUT URL as the ResponseURL (see `response`), an
//! asynchronous invoke, and a wait for that one PUT up to ServiceTimeout.

pub mod event;
pub mod response;

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::lambda::LambdaEmulator;
use crate::Error;
pub use event::{stringify, Event};
pub use response::{check, Response, ResponseSlot, RESPONSE_BUCKET};

/// CloudFormation's default when a custom resource sets none.
const DEFAULT_SERVICE_TIMEOUT_S: u64 = 3600;

pub fn service_timeout(properties: &Value) -> Duration {
    let seconds = properties
        .get("ServiceTimeout")
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
        .unwrap_or(DEFAULT_SERVICE_TIMEOUT_S);
    // An override for tests and impatient users: never longer than the template's.
    let cap = std::env::var("VAULTFRONT_LOCAL_SERVICE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    Duration::from_secs(seconds.min(cap))
}

/// Send `event` to `binary` and wait for its answer. A handler that never
/// answers is a FAILED after ServiceTimeout, as on AWS.
pub async fn send(
    s3: &aws_sdk_s3::Client,
    lambda: &LambdaEmulator,
    binary: &str,
    event: &Event,
) -> Result<Response, Error> {
    let timeout = service_timeout(&event.properties);
    let slot = ResponseSlot::new(s3, &event.logical_id, timeout + Duration::from_secs(60)).await?;
    let payload = event.to_json(&slot.url).to_string().into_bytes();
    // CloudFormation invokes asynchronously and only ever reads the
    // ResponseURL: the invoke runs on its own, and its result is only a hint.
    lambda.ensure_function(binary)?;
    let url = lambda.invoke_url(binary);
    let invocation = tokio::spawn(async move { crate::http::post(&url, payload).await });
    let started = Instant::now();
    // CloudFormation says nothing while it waits; we say so every 30 s.
    let mut next_note = Duration::from_secs(30);
    loop {
        if let Some(bytes) = slot.read_raw().await {
            invocation.abort();
            return check(&bytes, event);
        }
        if started.elapsed() >= timeout {
            invocation.abort();
            return Ok(Response {
                success: false,
                reason: format!(
                    "no response within ServiceTimeout ({} s): the handler never answered; see {}",
                    timeout.as_secs(),
                    lambda.log().display()
                ),
                physical_id: event.physical_id.clone().unwrap_or_default(),
                data: Default::default(),
            });
        }
        if started.elapsed() >= next_note {
            println!(
                "vaultfront: still waiting for {}'s answer ({} s of its ServiceTimeout of {} s; the function's log: {})",
                event.logical_id,
                next_note.as_secs(),
                timeout.as_secs(),
                lambda.log().display()
            );
            next_note += Duration::from_secs(30);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
