//! `Custom::S3ProxyApi`: an authenticated, binary-safe S3 proxy on a REST
//! API, defined in one PutRestApi and deployed to a stage.
//!
//! - [`properties`]: the input contract and its validation.
//! - [`openapi`]: the OpenAPI document, rendered purely from the properties.
//! - [`logging`]: the stage's access-log destination and format.
//! - [`plan`]: what changed, and which writes follow.
//! - [`aws`]: the API Gateway calls, retried when throttled.
//! - [`handler`]: the lifecycle.

pub mod aws;
pub mod handler;
pub mod logging;
pub mod openapi;
pub mod plan;
pub mod properties;
