//! Where a handler answers: a presigned S3 PUT URL on a bucket of the
//! emulator, as CloudFormation's ResponseURL is; read back and checked as
//! CloudFormation checks it.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use serde_json::{Map, Value};

use super::event::Event;
use crate::Error;

/// The bucket responses go to; `--destroy` removes it.
pub const RESPONSE_BUCKET: &str = "vaultfront-local-cfn-responses";

/// One presigned PUT URL and the object behind it.
pub struct ResponseSlot {
    s3: aws_sdk_s3::Client,
    key: String,
    pub url: String,
}

impl ResponseSlot {
    /// A fresh URL under `name`, valid for `expires`.
    pub async fn new(
        s3: &aws_sdk_s3::Client,
        name: &str,
        expires: Duration,
    ) -> Result<ResponseSlot, Error> {
        // Already there (an earlier slot made it) is fine.
        let _ = s3.create_bucket().bucket(RESPONSE_BUCKET).send().await;
        let key = format!("{name}/{}", super::event::unique_id());
        let presigned = s3
            .put_object()
            .bucket(RESPONSE_BUCKET)
            .key(&key)
            .presigned(
                PresigningConfig::expires_in(expires)
                    .map_err(|e| Error::Aws(format!("presigning the ResponseURL: {e}")))?,
            )
            .await
            .map_err(|e| Error::Aws(format!("presigning the ResponseURL: {e}")))?;
        Ok(ResponseSlot {
            s3: s3.clone(),
            key,
            url: presigned.uri().to_owned(),
        })
    }

    /// The raw response, if one was PUT.
    pub async fn read_raw(&self) -> Option<Vec<u8>> {
        let object = self
            .s3
            .get_object()
            .bucket(RESPONSE_BUCKET)
            .key(&self.key)
            .send()
            .await
            .ok()?;
        Some(object.body.collect().await.ok()?.into_bytes().to_vec())
    }

    /// The response as JSON.
    pub async fn response(&self) -> Result<Value, Error> {
        let raw = self
            .read_raw()
            .await
            .ok_or_else(|| Error::Protocol("no response was PUT to the presigned URL".into()))?;
        serde_json::from_slice(&raw).map_err(|e| {
            Error::Protocol(format!(
                "the response is not JSON ({e}): {}",
                String::from_utf8_lossy(&raw)
            ))
        })
    }
}

/// What the handler PUT to the ResponseURL.
#[derive(Debug, Clone)]
pub struct Response {
    pub success: bool,
    pub reason: String,
    pub physical_id: String,
    pub data: Map<String, Value>,
}

/// Read a response as CloudFormation does: JSON that echoes the request,
/// at most 4096 bytes, and a PhysicalResourceId on SUCCESS.
pub fn check(bytes: &[u8], event: &Event) -> Result<Response, Error> {
    let logical_id = &event.logical_id;
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Protocol(format!("{logical_id}: the response is not JSON ({e})")))?;
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if field("LogicalResourceId") != *logical_id
        || field("StackId") != event.stack_id
        || field("RequestId") != event.request_id
    {
        return Err(Error::Protocol(format!(
            "{logical_id}: the response does not echo the request's RequestId, LogicalResourceId and StackId"
        )));
    }
    if bytes.len() > 4096 {
        return Err(Error::Protocol(format!(
            "{logical_id}: response of {} bytes (CloudFormation allows 4096)",
            bytes.len()
        )));
    }
    let status = field("Status");
    let physical_id = field("PhysicalResourceId");
    if status == "SUCCESS" && physical_id.is_empty() {
        return Err(Error::Protocol(format!(
            "{logical_id}: SUCCESS without a PhysicalResourceId"
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(event: &Event, status: &str, physical_id: &str) -> Vec<u8> {
        json!({
            "Status": status, "Reason": "r", "PhysicalResourceId": physical_id,
            "StackId": event.stack_id, "RequestId": event.request_id,
            "LogicalResourceId": event.logical_id, "Data": {"A": "1"},
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_response_is_read_as_cloudformation_reads_it() {
        let event = Event::create("Custom::X", "X", json!({}));
        let ok = check(&answer(&event, "SUCCESS", "id-1"), &event).expect("a valid answer");
        assert!(ok.success);
        assert_eq!(ok.physical_id, "id-1");
        assert_eq!(ok.data["A"], "1");
        let failed = check(&answer(&event, "FAILED", ""), &event).expect("FAILED needs no id");
        assert!(!failed.success);
        assert!(check(&answer(&event, "SUCCESS", ""), &event).is_err());
        let other = Event::create("Custom::X", "X", json!({}));
        assert!(
            check(&answer(&other, "SUCCESS", "id-1"), &event).is_err(),
            "another request's answer"
        );
        let mut big = answer(&event, "SUCCESS", "id-1");
        big.truncate(big.len() - 1);
        big.extend(format!(",\"Pad\":\"{}\"}}", "x".repeat(4096)).bytes());
        assert!(check(&big, &event).is_err(), "over 4096 bytes");
    }
}
