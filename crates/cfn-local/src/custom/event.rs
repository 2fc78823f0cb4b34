//! A custom resource's event, built as CloudFormation builds it: every
//! scalar property stringified, `ServiceToken` inside `ResourceProperties`,
//! a fresh `RequestId` per request.

use serde_json::{json, Map, Value};

use crate::clients::{ACCOUNT, REGION};

/// The stack an event names unless told otherwise (`in_stack`).
pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/vaultfront-test/8a1b2c3d-0000-4000-8000-000000000001";

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

#[derive(Debug, Clone)]
pub struct Event {
    /// `Create`, `Update` or `Delete`.
    pub request_type: &'static str,
    pub stack_id: String,
    pub service_token: String,
    pub resource_type: String,
    pub logical_id: String,
    pub request_id: String,
    pub physical_id: Option<String>,
    pub properties: Value,
    pub old_properties: Option<Value>,
    /// Send properties as written, not stringified (a hand-made event).
    pub native: bool,
}

impl Event {
    /// A Create; the ServiceToken is the properties' own, else a function
    /// of the emulator's account.
    pub fn create(resource_type: &str, logical_id: &str, properties: Value) -> Event {
        let service_token = properties
            .get("ServiceToken")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:vaultfront-test")
            });
        Event {
            request_type: "Create",
            stack_id: STACK_ID.to_owned(),
            service_token,
            resource_type: resource_type.to_owned(),
            logical_id: logical_id.to_owned(),
            request_id: unique_id(),
            physical_id: None,
            properties,
            old_properties: None,
            native: false,
        }
    }

    pub fn in_stack(mut self, stack_id: &str) -> Event {
        self.stack_id = stack_id.to_owned();
        self
    }

    /// An Update of this resource to `properties`, its old ones this event's.
    pub fn update(&self, physical_id: &str, properties: Value) -> Event {
        Event {
            request_type: "Update",
            request_id: unique_id(),
            physical_id: Some(physical_id.to_owned()),
            old_properties: Some(self.properties.clone()),
            properties,
            ..self.clone()
        }
    }

    pub fn delete(&self, physical_id: &str) -> Event {
        Event {
            request_type: "Delete",
            request_id: unique_id(),
            physical_id: Some(physical_id.to_owned()),
            old_properties: None,
            ..self.clone()
        }
    }

    pub fn native(mut self) -> Event {
        self.native = true;
        self
    }

    /// The JSON CloudFormation would send, answering to `response_url`.
    pub fn to_json(&self, response_url: &str) -> Value {
        let properties = |props: &Value| {
            let mut map = props.as_object().cloned().unwrap_or_else(Map::new);
            map.insert("ServiceToken".into(), json!(self.service_token));
            let value = Value::Object(map);
            if self.native {
                value
            } else {
                stringify(&value)
            }
        };
        let mut event = json!({
            "RequestType": self.request_type,
            "ServiceToken": self.service_token,
            "ResponseURL": response_url,
            "StackId": self.stack_id,
            "RequestId": self.request_id,
            "LogicalResourceId": self.logical_id,
            "ResourceType": self.resource_type,
            "ResourceProperties": properties(&self.properties),
        });
        if let Some(id) = &self.physical_id {
            event["PhysicalResourceId"] = json!(id);
        }
        if let Some(old) = &self.old_properties {
            event["OldResourceProperties"] = properties(old);
        }
        event
    }
}

/// Unique within a run of the engine or of a test binary, as CloudFormation's are.
pub(crate) fn unique_id() -> String {
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

    #[test]
    fn events_carry_the_protocol_fields() {
        let create = Event::create("Custom::Probe", "Probe", json!({"Count": 3}));
        let event = create.to_json("http://sink/x");
        assert_eq!(event["ResourceProperties"]["Count"], "3");
        assert_eq!(
            event["ResourceProperties"]["ServiceToken"],
            event["ServiceToken"]
        );
        assert!(event.get("PhysicalResourceId").is_none());
        let update = create
            .update("id-1", json!({"Count": 4}))
            .to_json("http://sink/x");
        assert_eq!(update["OldResourceProperties"]["Count"], "3");
        assert_eq!(update["PhysicalResourceId"], "id-1");
        assert_ne!(update["RequestId"], event["RequestId"]);
        let delete = create.delete("id-1").to_json("http://sink/x");
        assert_eq!(delete["RequestType"], "Delete");
        assert!(delete.get("OldResourceProperties").is_none());
    }

    #[test]
    fn a_template_service_token_is_kept_and_a_hand_made_event_is_not_stringified() {
        let token = "arn:aws:lambda:us-east-1:123456789012:function:Mine";
        let event = Event::create("Custom::X", "X", json!({"ServiceToken": token, "N": 1}))
            .in_stack("arn:aws:cloudformation:us-east-1:123456789012:stack/s/1")
            .native()
            .to_json("http://sink/x");
        assert_eq!(event["ServiceToken"], token);
        assert_eq!(event["ResourceProperties"]["N"], 1);
        assert_eq!(
            event["StackId"],
            "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"
        );
    }
}
