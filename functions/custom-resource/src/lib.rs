//! The CloudFormation custom-resource protocol, in one place.
//!
//! A handler crate implements [`Resource`] (create, update, delete over its
//! own typed properties) and calls [`run`] from `main`. This crate owns the
//! rest and guarantees it (the README's "Guarantees of the custom-resource runtime"):
//! exactly one response for every event, whatever the handler does (error,
//! bad property, panic, or running out of time); work a handler leaves for
//! after its answer done within the deadline, once the answer is out; a body within CloudFormation's
//! 4096 bytes; delivery with bounded retries; the physical-id rules (a failed
//! Create answers with the id it claimed before writing, see [`claim`]); and logs
//! that never show the `ResponseURL`.

pub mod backoff;
pub mod bucket_name;
pub mod claim;
mod deliver;
mod envelope;
mod guard;
pub mod in_flight;
mod logging;
pub mod properties;
mod resource;
mod response;
mod runner;

pub use deliver::{Delivered, DeliveryError};
pub use envelope::{Request, RequestType, StackArn};
pub use guard::{Guard, Guarded};
pub use resource::{Deletion, HandlerError, Resource, Success};
pub use response::{MAX_BODY_BYTES, MAX_PHYSICAL_ID_BYTES};
pub use runner::{run, CREATE_FAILED_PREFIX};

/// An error and its sources as one line, skipping a source whose text the
/// line already holds (many errors repeat their cause). Handlers use it too:
/// the SDK's own `DisplayErrorContext` is too long for a `Reason`.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
