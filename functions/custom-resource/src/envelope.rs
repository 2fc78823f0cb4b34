//! The part of a CloudFormation event needed to answer it, read from raw JSON
//! before anything else, so that no malformed property can stop the answer.

use serde_json::{Map, Value};
use std::fmt;

/// CloudFormation's `RequestType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

impl RequestType {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Create => "Create",
            RequestType::Update => "Update",
            RequestType::Delete => "Delete",
        }
    }
}

impl fmt::Display for RequestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The presigned URL the answer goes to. It is a credential: it has no
/// `Display`, and its `Debug` never shows it.
#[derive(Clone)]
pub struct ResponseUrl(String);

impl ResponseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ResponseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseUrl(<redacted>)")
    }
}

/// The event's envelope. Every field is read leniently: a missing or
/// mistyped field is recorded, never fatal.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub response_url: Option<ResponseUrl>,
    /// The `RequestType`, or the raw value when it is not one CloudFormation sends.
    pub request_type: Result<RequestType, String>,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub resource_type: String,
    pub physical_resource_id: Option<String>,
    pub properties: Value,
    pub old_properties: Option<Value>,
}

impl Envelope {
    pub fn read(event: &Value) -> Envelope {
        let text = |key: &str| event.get(key).and_then(Value::as_str).map(str::to_owned);
        let request_type = match event.get("RequestType") {
            Some(Value::String(s)) if s == "Create" => Ok(RequestType::Create),
            Some(Value::String(s)) if s == "Update" => Ok(RequestType::Update),
            Some(Value::String(s)) if s == "Delete" => Ok(RequestType::Delete),
            Some(other) => Err(other.to_string()),
            None => Err("<missing>".to_owned()),
        };
        Envelope {
            response_url: text("ResponseURL")
                .filter(|u| !u.is_empty())
                .map(ResponseUrl),
            request_type,
            stack_id: text("StackId").unwrap_or_default(),
            request_id: text("RequestId").unwrap_or_default(),
            logical_resource_id: text("LogicalResourceId").unwrap_or_default(),
            resource_type: text("ResourceType").unwrap_or_default(),
            physical_resource_id: text("PhysicalResourceId").filter(|id| !id.is_empty()),
            properties: event
                .get("ResourceProperties")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
            old_properties: event.get("OldResourceProperties").cloned(),
        }
    }

    /// Envelope fields CloudFormation always sends that this event lacks.
    pub fn missing_fields(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.stack_id.is_empty() {
            missing.push("StackId");
        }
        if self.request_id.is_empty() {
            missing.push("RequestId");
        }
        if self.logical_resource_id.is_empty() {
            missing.push("LogicalResourceId");
        }
        missing
    }
}

/// The event from the raw bytes Lambda delivered. JSON allows a string to
/// hold a UTF-16 surrogate escape without its pair (`"\ud800"`), but such a
/// string has no Unicode value, so serde_json refuses the whole document. So
/// that such an event can still be answered, every lone surrogate escape is
/// replaced by U+FFFD (`\ufffd`) and the document parsed again; everything
/// else in it is kept as sent. Text that is not JSON even then yields
/// `Null`, whose envelope has no ResponseURL.
pub fn parse_event(raw: &str) -> Value {
    match serde_json::from_str(raw) {
        Ok(event) => event,
        Err(first) => {
            let repaired = replace_lone_surrogates(raw);
            serde_json::from_str(&repaired).unwrap_or_else(|_| {
                tracing::error!(error = %first, "the event is not JSON");
                Value::Null
            })
        }
    }
}

/// `raw` with each `\uD800`–`\uDFFF` escape that is not half of a valid
/// pair replaced by `\ufffd`. Escapes are only read inside strings, where a
/// backslash always starts one, so a scan from escape to escape is enough.
fn replace_lone_surrogates(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let hex = bytes.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out = String::with_capacity(raw.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        match unit(at) {
            Some(0xD800..=0xDBFF)
                if unit(at + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) =>
            {
                at += 12
            }
            Some(0xD800..=0xDFFF) => {
                out.push_str(&raw[copied..at]);
                out.push_str("\\ufffd");
                at += 6;
                copied = at;
            }
            // Any other escape: skip the backslash and the escaped character.
            _ => at += 2,
        }
    }
    out.push_str(&raw[copied.min(raw.len())..]);
    out
}

/// What a handler knows about the request besides its properties.
#[derive(Debug, Clone)]
pub struct Request {
    pub request_type: RequestType,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub resource_type: String,
}

impl Request {
    /// The stack's ARN split into parts, when `StackId` is a well-formed ARN
    /// (`arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<guid>`).
    pub fn stack(&self) -> Option<StackArn<'_>> {
        StackArn::parse(&self.stack_id)
    }
}

/// The parts of a CloudFormation stack ARN a handler needs to build other ARNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackArn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub name: &'a str,
}

impl<'a> StackArn<'a> {
    pub fn parse(arn: &'a str) -> Option<StackArn<'a>> {
        let mut parts = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some("cloudformation"),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        let name = resource.strip_prefix("stack/")?.split('/').next()?;
        (!partition.is_empty() && !region.is_empty() && !account.is_empty() && !name.is_empty())
            .then_some(StackArn {
                partition,
                region,
                account,
                name,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_complete_event() {
        let envelope = Envelope::read(&json!({
            "RequestType": "Update",
            "ResponseURL": "https://example.com/x?X-Amz-Signature=secret",
            "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/guid",
            "RequestId": "r1",
            "LogicalResourceId": "Lock",
            "ResourceType": "Custom::ObjectLock",
            "PhysicalResourceId": "p1",
            "ResourceProperties": {"Days": "90"},
            "OldResourceProperties": {"Days": "30"}
        }));
        assert_eq!(envelope.request_type, Ok(RequestType::Update));
        assert_eq!(envelope.physical_resource_id.as_deref(), Some("p1"));
        assert_eq!(envelope.properties, json!({"Days": "90"}));
        assert_eq!(envelope.old_properties, Some(json!({"Days": "30"})));
        assert!(envelope.missing_fields().is_empty());
        let debug = format!("{envelope:?}");
        assert!(
            !debug.contains("secret"),
            "Debug leaked the ResponseURL: {debug}"
        );
    }

    #[test]
    fn survives_garbage() {
        let envelope = Envelope::read(&json!({"RequestType": 7, "ResourceProperties": "x"}));
        assert_eq!(envelope.request_type, Err("7".to_owned()));
        assert!(envelope.response_url.is_none());
        assert_eq!(
            envelope.missing_fields(),
            ["StackId", "RequestId", "LogicalResourceId"]
        );
        let envelope = Envelope::read(&json!([1, 2]));
        assert_eq!(envelope.request_type, Err("<missing>".to_owned()));
    }

    #[test]
    fn lone_surrogate_escapes_are_replaced_and_the_rest_kept() {
        let raw = r#"{"ResponseURL":"http://x/r","RequestId":"a\ud800b","LogicalResourceId":"\udc00",
            "StackId":"pair \ud83e\udd80 ok","ResourceProperties":{"K":"\\ud800 is text","E":"\u00e9"}}"#;
        assert!(serde_json::from_str::<Value>(raw).is_err());
        let event = parse_event(raw);
        assert_eq!(event["RequestId"], "a\u{fffd}b");
        assert_eq!(event["LogicalResourceId"], "\u{fffd}");
        assert_eq!(event["StackId"], "pair \u{1f980} ok");
        assert_eq!(event["ResourceProperties"]["K"], "\\ud800 is text");
        assert_eq!(event["ResourceProperties"]["E"], "é");
        let envelope = Envelope::read(&event);
        assert_eq!(
            envelope
                .response_url
                .map(|u| u.expose().to_owned())
                .as_deref(),
            Some("http://x/r")
        );
        assert_eq!(parse_event("not json"), Value::Null);
        assert_eq!(parse_event(r#"{"A":"\ud800"#), Value::Null);
    }

    #[test]
    fn parses_stack_arns() {
        let arn = "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/vault/1234-abcd";
        assert_eq!(
            StackArn::parse(arn),
            Some(StackArn {
                partition: "aws-cn",
                region: "cn-north-1",
                account: "123456789012",
                name: "vault"
            })
        );
        assert_eq!(StackArn::parse("arn:aws:s3:::bucket"), None);
        assert_eq!(StackArn::parse("not an arn"), None);
    }
}
