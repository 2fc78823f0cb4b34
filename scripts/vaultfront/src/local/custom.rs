//! Custom resources, driven as CloudFormation drives them: the event with
//! every scalar property stringified and ServiceToken/ServiceTimeout inside
//! ResourceProperties, a presigned S3 PUT URL (on a moto bucket) as the
//! ResponseURL, and a wait for that one PUT up to ServiceTimeout.

use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use serde_json::{json, Map, Value};

use super::clients::Clients;
use super::processes::LambdaEmulator;
use super::LocalError;

/// The engine's own bucket for responses; removed by `--destroy`.
pub const RESPONSE_BUCKET: &str = "vaultfront-local-cfn-responses";
/// CloudFormation's default when a custom resource sets none.
const DEFAULT_SERVICE_TIMEOUT_S: u64 = 3600;

/// CloudFormation passes every scalar property as a string (`90` → `"90"`,
/// `true` → `"true"`) and keeps lists and maps.
pub fn stringify(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(stringify).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), stringify(v))).collect())
        }
        other => other.clone(),
    }
}

/// One request to a custom resource.
pub struct Request<'a> {
    pub request_type: &'static str,
    pub stack_id: &'a str,
    pub logical_id: &'a str,
    pub resource_type: &'a str,
    /// Resolved properties, ServiceToken and ServiceTimeout included.
    pub properties: &'a Value,
    pub old_properties: Option<&'a Value>,
    pub physical_id: Option<&'a str>,
}

/// What the handler PUT to the ResponseURL.
#[derive(Debug, Clone)]
pub struct Response {
    pub success: bool,
    pub reason: String,
    pub physical_id: String,
    pub data: Map<String, Value>,
}

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

pub async fn send(
    clients: &Clients,
    lambda: &LambdaEmulator,
    binary: &str,
    request: &Request<'_>,
) -> Result<Response, LocalError> {
    let s3 = &clients.s3;
    // Already there (an earlier request made it) is fine.
    let _ = s3.create_bucket().bucket(RESPONSE_BUCKET).send().await;
    let request_id = request_id();
    let key = format!("{}/{request_id}", request.logical_id);
    let timeout = service_timeout(request.properties);
    let presigned = s3
        .put_object()
        .bucket(RESPONSE_BUCKET)
        .key(&key)
        .presigned(
            PresigningConfig::expires_in(timeout + Duration::from_secs(60))
                .map_err(|e| LocalError::Aws(format!("presigning the ResponseURL: {e}")))?,
        )
        .await
        .map_err(|e| LocalError::Aws(format!("presigning the ResponseURL: {e}")))?;
    let service_token = request
        .properties
        .get("ServiceToken")
        .cloned()
        .unwrap_or_default();
    let mut event = json!({
        "RequestType": request.request_type,
        "ServiceToken": service_token,
        "ResponseURL": presigned.uri(),
        "StackId": request.stack_id,
        "RequestId": request_id,
        "LogicalResourceId": request.logical_id,
        "ResourceType": request.resource_type,
        "ResourceProperties": stringify(request.properties),
    });
    if let Some(id) = request.physical_id {
        event["PhysicalResourceId"] = json!(id);
    }
    if let Some(old) = request.old_properties {
        event["OldResourceProperties"] = stringify(old);
    }
    // CloudFormation invokes asynchronously and only ever reads the
    // ResponseURL: the invoke runs on its own, and its result is only a hint.
    let invocation = {
        let event = event.clone();
        let binary = binary.to_owned();
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{binary}/invocations",
            lambda.port
        );
        let client = crate::https::client().map_err(LocalError::Process)?;
        tokio::spawn(async move {
            let request = http::Request::post(url)
                .header("content-type", "application/json")
                .body(http_body_util::Full::new(bytes::Bytes::from(
                    event.to_string(),
                )));
            match request {
                Ok(request) => client
                    .request(request)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(err) => Err(err.to_string()),
            }
        })
    };
    let started = Instant::now();
    // CloudFormation says nothing while it waits; we say so every 30 s.
    let mut next_note = Duration::from_secs(30);
    loop {
        if let Ok(object) = s3
            .get_object()
            .bucket(RESPONSE_BUCKET)
            .key(&key)
            .send()
            .await
        {
            let bytes = object
                .body
                .collect()
                .await
                .map_err(|e| LocalError::Aws(format!("reading the response: {e}")))?
                .into_bytes();
            invocation.abort();
            return parse_response(&bytes, request);
        }
        if started.elapsed() >= timeout {
            invocation.abort();
            return Ok(Response {
                success: false,
                reason: format!(
                    "no response within ServiceTimeout ({} s): the handler never answered; see {}",
                    timeout.as_secs(),
                    lambda.log.display()
                ),
                physical_id: request.physical_id.unwrap_or_default().to_owned(),
                data: Map::new(),
            });
        }
        if started.elapsed() >= next_note {
            println!(
                "vaultfront: still waiting for {}'s answer ({} s of its ServiceTimeout of {} s; the function's log: {})",
                request.logical_id,
                next_note.as_secs(),
                timeout.as_secs(),
                lambda.log.display()
            );
            next_note += Duration::from_secs(30);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn parse_response(bytes: &[u8], request: &Request<'_>) -> Result<Response, LocalError> {
    let body: Value = serde_json::from_slice(bytes).map_err(|e| {
        LocalError::Protocol(format!(
            "{}: the response is not JSON ({e})",
            request.logical_id
        ))
    })?;
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if field("LogicalResourceId") != request.logical_id || field("StackId") != request.stack_id {
        return Err(LocalError::Protocol(format!(
            "{}: the response does not echo the request's LogicalResourceId and StackId",
            request.logical_id
        )));
    }
    if bytes.len() > 4096 {
        return Err(LocalError::Protocol(format!(
            "{}: response of {} bytes (CloudFormation allows 4096)",
            request.logical_id,
            bytes.len()
        )));
    }
    let status = field("Status");
    let physical_id = field("PhysicalResourceId");
    if status == "SUCCESS" && physical_id.is_empty() {
        return Err(LocalError::Protocol(format!(
            "{}: SUCCESS without a PhysicalResourceId",
            request.logical_id
        )));
    }
    Ok(Response {
        success: status == "SUCCESS",
        reason: field("Reason"),
        physical_id,
        data: body
            .get("Data")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

fn request_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{:08x}-{:04x}-4000-8000-{:012}",
        std::process::id(),
        nanos & 0xffff,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stringifies_scalars_and_keeps_shapes() {
        let value =
            json!({"Days": 90, "On": true, "Name": "n", "List": [1, false], "Map": {"N": 1.5}});
        assert_eq!(
            stringify(&value),
            json!({"Days": "90", "On": "true", "Name": "n", "List": ["1", "false"], "Map": {"N": "1.5"}})
        );
    }
}
