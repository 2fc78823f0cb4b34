//! Native resources, created in moto through the SDK as CloudFormation would
//! create them: a generated physical name, the properties applied, the
//! attributes other resources read (Arn, DomainName, ...).
//!
//! One file per CloudFormation type holds its create, update, delete and
//! read-back; [`REGISTERED`] is the one list of the types. A type not in it
//! is refused on every verb, delete included, so a resource is never
//! reported deleted while nothing removed it. moto's gaps are named in the
//! file of the type they concern (and CloudFront's OAI API, which moto
//! lacks, is refused by the engine before anything is made).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::clients::Clients;
use crate::template::Resource;
use crate::Error;

mod apigateway_rest_api;
mod cloudfront_distribution;
mod cloudfront_key_group;
mod cloudfront_origin_access_control;
mod cloudfront_public_key;
mod firehose_delivery_stream;
mod iam_role;
mod lambda_event_invoke_config;
pub mod lambda_function;
mod logs_log_group;
mod s3_bucket;
mod s3_bucket_policy;

/// Every native type the local engine makes, each once.
pub static REGISTERED: &[NativeType] = &[
    s3_bucket::TYPE,
    s3_bucket_policy::TYPE,
    cloudfront_origin_access_control::TYPE,
    cloudfront_public_key::TYPE,
    cloudfront_key_group::TYPE,
    cloudfront_distribution::TYPE,
    apigateway_rest_api::TYPE,
    iam_role::TYPE,
    firehose_delivery_stream::TYPE,
    logs_log_group::TYPE,
    lambda_function::TYPE,
    lambda_event_invoke_config::TYPE,
];

/// The one place a type is looked up: `None` for a type the engine cannot make.
pub fn registered(kind: &str) -> Option<&'static NativeType> {
    REGISTERED.iter().find(|native| native.kind == kind)
}

/// An SDK call in flight, borrowing its arguments.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

pub type Create = for<'a> fn(&'a Clients, &'a str, &'a Resource, &'a Value) -> Pending<'a, Made>;
pub type Update = for<'a> fn(&'a Clients, &'a str, &'a Value, &'a Value) -> Pending<'a, ()>;
pub type Delete = for<'a> fn(&'a Clients, &'a str) -> Pending<'a, ()>;
pub type Read = for<'a> fn(&'a Clients, &'a str) -> Pending<'a, Option<Value>>;

/// One CloudFormation type's lifecycle in moto.
pub struct NativeType {
    pub kind: &'static str,
    /// `(clients, stack name, resource, resolved properties)`.
    pub create: Create,
    /// `(clients, physical id, properties before, properties after)`: in
    /// place, where CloudFormation changes the type in place; a change
    /// CloudFormation would meet with a replacement is [`refused`]. `None`:
    /// every change is a replacement.
    pub update: Option<Update>,
    /// `(clients, physical id)`; [`delete`] counts "not found" as deleted.
    pub delete: Delete,
    /// `(clients, physical id)`: the key settings moto holds, `None` when
    /// nothing by that id exists there.
    pub read: Read,
}

pub struct Made {
    pub physical_id: String,
    pub attributes: BTreeMap<String, Value>,
}

pub async fn create(
    clients: &Clients,
    stack: &str,
    resource: &Resource,
    properties: &Value,
) -> Result<Made, Error> {
    let native = registered(&resource.kind).ok_or_else(|| {
        Error::Unsupported(format!(
            "{} ({}) has no local implementation",
            resource.logical_id, resource.kind
        ))
    })?;
    (native.create)(clients, stack, resource, properties).await
}

/// Change a native resource in place, where CloudFormation would too (no
/// replacement). Other changes are refused, naming the resource: the local
/// engine does not replace native resources.
pub async fn update(
    clients: &Clients,
    kind: &str,
    physical_id: &str,
    before: &Value,
    after: &Value,
) -> Result<(), Error> {
    match registered(kind)
        .ok_or_else(|| unregistered(kind, physical_id))?
        .update
    {
        Some(update) => update(clients, physical_id, before, after).await,
        None => Err(refused(kind, physical_id)),
    }
}

/// Delete one native resource; gone already counts as deleted.
pub async fn delete(clients: &Clients, kind: &str, physical_id: &str) -> Result<(), Error> {
    let native = registered(kind).ok_or_else(|| unregistered(kind, physical_id))?;
    match (native.delete)(clients, physical_id).await {
        Err(err) if gone(&err) => Ok(()),
        other => other,
    }
}

/// What moto holds for one native resource (`None`: nothing by that id).
pub async fn read(
    clients: &Clients,
    kind: &str,
    physical_id: &str,
) -> Result<Option<Value>, Error> {
    let native = registered(kind).ok_or_else(|| unregistered(kind, physical_id))?;
    (native.read)(clients, physical_id).await
}

fn unregistered(kind: &str, physical_id: &str) -> Error {
    Error::Unsupported(format!("{kind} {physical_id} has no local implementation"))
}

/// A change CloudFormation would make by replacement.
fn refused(kind: &str, physical_id: &str) -> Error {
    Error::Unsupported(format!(
        "changing the properties of {kind} {physical_id}; run `scripts/deploy --local --destroy` and deploy again"
    ))
}

/// The service said the thing is not there, by its error code
/// (NoSuchBucket, NoSuchEntity, NotFoundException,
/// ResourceNotFoundException, ObjectLockConfigurationNotFoundError, ...),
/// never by the words of a message.
fn gone(err: &Error) -> bool {
    matches!(
        err,
        Error::Service { code: Some(code), .. }
            if code.starts_with("NoSuch") || code.contains("NotFound")
    )
}

/// A read-back's answer: not found is `None`, other errors stay errors.
fn found<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if gone(&err) => Ok(None),
        Err(err) => Err(err),
    }
}

fn text<'a>(properties: &'a Value, pointer: &str) -> Option<&'a str> {
    properties.pointer(pointer).and_then(Value::as_str)
}

/// A number CloudFormation may send as a string.
fn integer(properties: &Value, pointer: &str) -> Option<i32> {
    properties
        .pointer(pointer)
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
        .and_then(|n| i32::try_from(n).ok())
}

fn truthy(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Bool(true)))
        || matches!(value, Some(Value::String(s)) if s == "true")
}

/// The strings of a JSON array property (absent: none).
fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn missing(resource: &Resource, property: &str) -> Error {
    Error::Template(format!(
        "{}: property {property} is missing",
        resource.logical_id
    ))
}

/// CloudFormation's generated names: `<stack>-<logical id>-<suffix>`.
pub fn generated_name(stack: &str, logical_id: &str, max: usize, lowercase: bool) -> String {
    let suffix = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
            .unwrap_or_default()
    );
    let suffix: String = suffix.chars().rev().take(12).collect();
    let mut head = format!("{stack}-{logical_id}");
    head.truncate(max.saturating_sub(suffix.len() + 1));
    let name = format!("{head}-{suffix}");
    if lowercase {
        name.to_lowercase()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: Option<&str>, text: &str) -> Error {
        Error::Service {
            operation: "Call".to_owned(),
            code: code.map(str::to_owned),
            text: text.to_owned(),
        }
    }

    #[test]
    fn gone_is_decided_by_the_error_code_not_the_words() {
        for code in [
            "NoSuchBucket",
            "NoSuchEntity",
            "NotFoundException",
            "ResourceNotFoundException",
            "ObjectLockConfigurationNotFoundError",
        ] {
            assert!(gone(&service(Some(code), "whatever")), "{code}");
        }
        assert!(!gone(&service(
            Some("AccessDenied"),
            "NoSuchBucket: not the code"
        )));
        assert!(!gone(&service(None, "dispatch failure: NotFound")));
        assert!(!gone(&Error::Aws("NoSuchKey in a builder".to_owned())));
    }

    #[test]
    fn each_type_is_registered_exactly_once() {
        let mut kinds: Vec<&str> = REGISTERED.iter().map(|native| native.kind).collect();
        let listed = kinds.len();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), listed, "a type is registered twice: {kinds:?}");
        for kind in kinds {
            assert!(kind.starts_with("AWS::"), "{kind} is not a native type");
            let found = registered(kind).map(|native| native.kind);
            assert_eq!(found, Some(kind));
        }
        assert!(registered("AWS::SQS::Queue").is_none());
        assert!(registered("Custom::ObjectLock").is_none());
    }

    /// Every verb refuses a type nobody registered, before any request: the
    /// clients point at a port where nothing listens.
    #[tokio::test]
    async fn an_unregistered_type_is_refused_on_every_verb() {
        let clients = Clients::for_endpoint("http://127.0.0.1:9").await;
        let queue = Resource {
            logical_id: "Queue".to_owned(),
            kind: "AWS::SQS::Queue".to_owned(),
            properties: Value::Null,
            depends_on: Vec::new(),
            condition: None,
            deletion_policy: None,
            metadata: Value::Null,
        };
        let refused = |result: Result<(), Error>, verb: &str| match result {
            Err(Error::Unsupported(text)) => assert!(
                text.contains("AWS::SQS::Queue") && text.contains("no local implementation"),
                "{verb}: {text}"
            ),
            other => panic!("{verb} of an unregistered type: {other:?}"),
        };
        refused(
            create(&clients, "stack", &queue, &Value::Null)
                .await
                .map(|_| ()),
            "create",
        );
        refused(
            update(&clients, &queue.kind, "queue-1", &Value::Null, &Value::Null).await,
            "update",
        );
        refused(delete(&clients, &queue.kind, "queue-1").await, "delete");
        refused(
            read(&clients, &queue.kind, "queue-1").await.map(|_| ()),
            "read",
        );
    }
}
