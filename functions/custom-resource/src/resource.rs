//! What a handler crate implements: the lifecycle of one resource type over
//! its own typed properties. Everything about answering CloudFormation is the
//! runner's job, not the handler's.

use crate::envelope::Request;
use crate::guard::Guarded;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::future::Future;

/// Any error a handler returns; its message (with its sources) becomes the
/// FAILED response's `Reason`, so it should say what to fix.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A custom resource's lifecycle. Each call must be idempotent: the same
/// event can arrive twice, so reconcile against what AWS reports.
pub trait Resource: Send + Sync + 'static {
    /// The resource's `ResourceProperties`, minus `ServiceToken` and
    /// `ServiceTimeout`. Use `#[serde(deny_unknown_fields)]` and the
    /// [`crate::properties`] deserializers for numbers and booleans.
    type Properties: DeserializeOwned + Send + 'static;

    fn create(
        &self,
        request: &Request,
        properties: Self::Properties,
    ) -> impl Future<Output = Result<Success, HandlerError>> + Send;

    /// `old` is `None` when the old properties no longer parse (for example
    /// after the handler's contract changed); reconcile against AWS instead.
    /// Returning a different physical id replaces the resource: CloudFormation
    /// later sends a Delete for `physical_id`.
    fn update(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Self::Properties,
        old: Option<Self::Properties>,
    ) -> impl Future<Output = Result<Success, HandlerError>> + Send;

    fn delete(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Self::Properties,
    ) -> impl Future<Output = Result<Deletion, HandlerError>> + Send;

    /// What the runner calls for a Create: the answer, and work to keep
    /// doing once it is delivered (see [`crate::Guard`]). By default `create`,
    /// with nothing after. A resource that overrides it keeps `create` doing
    /// both, for callers that do not answer early.
    fn create_guarded(
        &self,
        request: &Request,
        properties: Self::Properties,
    ) -> impl Future<Output = Result<Guarded<Success>, HandlerError>> + Send {
        async move {
            self.create(request, properties)
                .await
                .map(Guarded::unguarded)
        }
    }

    /// [`Resource::create_guarded`] for an Update.
    fn update_guarded(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Self::Properties,
        old: Option<Self::Properties>,
    ) -> impl Future<Output = Result<Guarded<Success>, HandlerError>> + Send {
        async move {
            self.update(request, physical_id, properties, old)
                .await
                .map(Guarded::unguarded)
        }
    }

    /// [`Resource::create_guarded`] for a Delete.
    fn delete_guarded(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Self::Properties,
    ) -> impl Future<Output = Result<Guarded<Deletion>, HandlerError>> + Send {
        async move {
            self.delete(request, physical_id, properties)
                .await
                .map(Guarded::unguarded)
        }
    }
}

/// A successful Create or Update.
#[derive(Debug, Clone, PartialEq)]
pub struct Success {
    pub physical_id: String,
    pub data: Map<String, Value>,
    pub no_echo: bool,
}

impl Success {
    pub fn new(physical_id: impl Into<String>) -> Self {
        Success {
            physical_id: physical_id.into(),
            data: Map::new(),
            no_echo: false,
        }
    }

    /// Attributes for `Fn::GetAtt`. Values may be any JSON.
    pub fn with_data(mut self, data: Map<String, Value>) -> Self {
        self.data = data;
        self
    }

    /// Hide `Data` from `Fn::GetAtt` output and from this function's logs.
    pub fn no_echo(mut self) -> Self {
        self.no_echo = true;
        self
    }
}

/// How a Delete ended; both succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// There was nothing left to delete.
    AlreadyGone,
}
