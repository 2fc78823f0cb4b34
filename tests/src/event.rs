//! CloudFormation custom-resource events, built as CloudFormation builds them.

use serde_json::{json, Map, Value};

pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/vaultfront-test/8a1b2c3d-0000-4000-8000-000000000001";
const SERVICE_TOKEN: &str = "arn:aws:lambda:us-east-1:123456789012:function:vaultfront-test";

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
pub struct CfnEvent {
    pub request_type: &'static str,
    pub resource_type: String,
    pub logical_id: String,
    pub request_id: String,
    pub physical_id: Option<String>,
    pub properties: Value,
    pub old_properties: Option<Value>,
    /// Send properties as written, not stringified (a hand-made event).
    pub native: bool,
}

impl CfnEvent {
    pub fn create(resource_type: &str, logical_id: &str, properties: Value) -> CfnEvent {
        CfnEvent {
            request_type: "Create",
            resource_type: resource_type.to_owned(),
            logical_id: logical_id.to_owned(),
            request_id: next_request_id(),
            physical_id: None,
            properties,
            old_properties: None,
            native: false,
        }
    }

    pub fn update(&self, physical_id: &str, properties: Value) -> CfnEvent {
        CfnEvent {
            request_type: "Update",
            request_id: next_request_id(),
            physical_id: Some(physical_id.to_owned()),
            old_properties: Some(self.properties.clone()),
            properties,
            ..self.clone()
        }
    }

    pub fn delete(&self, physical_id: &str) -> CfnEvent {
        CfnEvent {
            request_type: "Delete",
            request_id: next_request_id(),
            physical_id: Some(physical_id.to_owned()),
            old_properties: None,
            ..self.clone()
        }
    }

    pub fn native(mut self) -> CfnEvent {
        self.native = true;
        self
    }

    /// The JSON CloudFormation would send, answering to `response_url`.
    pub fn to_json(&self, response_url: &str) -> Value {
        let properties = |props: &Value| {
            let mut map = props.as_object().cloned().unwrap_or_else(Map::new);
            map.insert("ServiceToken".into(), json!(SERVICE_TOKEN));
            map.insert("ServiceTimeout".into(), json!(300));
            let value = Value::Object(map);
            if self.native {
                value
            } else {
                stringify(&value)
            }
        };
        let mut event = json!({
            "RequestType": self.request_type,
            "ServiceToken": SERVICE_TOKEN,
            "ResponseURL": response_url,
            "StackId": STACK_ID,
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

fn next_request_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    format!(
        "{:08x}-test-4000-8000-{:012}",
        std::process::id(),
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
        let create = CfnEvent::create("Custom::Probe", "Probe", json!({"Count": 3}));
        let event = create.to_json("http://sink/x");
        assert_eq!(event["ResourceProperties"]["Count"], "3");
        assert_eq!(event["ResourceProperties"]["ServiceTimeout"], "300");
        assert!(event.get("PhysicalResourceId").is_none());
        let update = create
            .update("id-1", json!({"Count": 4}))
            .to_json("http://sink/x");
        assert_eq!(update["OldResourceProperties"]["Count"], "3");
        assert_eq!(update["PhysicalResourceId"], "id-1");
        assert_ne!(update["RequestId"], event["RequestId"]);
    }
}
