//! A test-only custom resource that does whatever its properties ask:
//! succeed, fail, panic, hang, or return large data. It exercises the
//! custom-resource runtime through a real binary until the real handlers
//! exist, and keeps doing so after.

use custom_resource::properties::{optional_boolean, optional_number};
use custom_resource::{Deletion, HandlerError, Request, Resource, Success};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Debug, Default, Deserialize, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    #[default]
    Succeed,
    Fail,
    Panic,
    Hang,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Properties {
    name: String,
    #[serde(default)]
    behaviour: Behaviour,
    /// The error message of a `Fail`.
    #[serde(default)]
    message: Option<String>,
    #[serde(default, deserialize_with = "optional_number")]
    count: Option<u32>,
    #[serde(default, deserialize_with = "optional_boolean")]
    flag: Option<bool>,
    /// Pad `Data` with this many bytes.
    #[serde(default, deserialize_with = "optional_number")]
    data_bytes: Option<usize>,
    #[serde(default, deserialize_with = "optional_boolean")]
    no_echo: Option<bool>,
}

struct Probe;

impl Probe {
    async fn act(&self, properties: &Properties) -> Result<(), HandlerError> {
        match properties.behaviour {
            Behaviour::Succeed => Ok(()),
            Behaviour::Fail => Err(properties
                .message
                .clone()
                .unwrap_or_else(|| "asked to fail".into())
                .into()),
            Behaviour::Panic => panic!("probe asked to panic"),
            Behaviour::Hang => std::future::pending().await,
        }
    }

    fn success(&self, properties: &Properties) -> Success {
        let mut data = Map::new();
        data.insert("Name".into(), json!(properties.name));
        data.insert("Count".into(), json!(properties.count));
        data.insert("Flag".into(), json!(properties.flag));
        data.insert("Nested".into(), json!({"List": [1, 2, 3], "Ok": true}));
        if let Some(bytes) = properties.data_bytes {
            data.insert("Padding".into(), Value::String("p".repeat(bytes)));
        }
        let success = Success::new(format!("probe-{}", properties.name)).with_data(data);
        if properties.no_echo == Some(true) {
            success.no_echo()
        } else {
            success
        }
    }
}

impl Resource for Probe {
    type Properties = Properties;

    async fn create(
        &self,
        _request: &Request,
        properties: Properties,
    ) -> Result<Success, HandlerError> {
        self.act(&properties).await?;
        Ok(self.success(&properties))
    }

    async fn update(
        &self,
        _request: &Request,
        _physical_id: &str,
        properties: Properties,
        _old: Option<Properties>,
    ) -> Result<Success, HandlerError> {
        self.act(&properties).await?;
        Ok(self.success(&properties))
    }

    async fn delete(
        &self,
        _request: &Request,
        _physical_id: &str,
        properties: Properties,
    ) -> Result<Deletion, HandlerError> {
        self.act(&properties).await?;
        Ok(Deletion::Deleted)
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    custom_resource::run(Probe).await
}
