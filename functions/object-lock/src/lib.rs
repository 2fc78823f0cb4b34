//! `Custom::ObjectLock`: Object Lock (WORM) retention on a new or existing
//! bucket, which can be strengthened freely but weakened only on purpose.
//! The README's "`Custom::ObjectLock`" says what it guarantees.
//!
//! - [`properties`]: the input contract and its validation.
//! - [`plan`]: the pure decision, desired + observed -> writes or a refusal.
//! - [`aws`]: the four S3 calls.
//! - [`handler`]: the lifecycle.

pub mod aws;
pub mod handler;
pub mod plan;
pub mod properties;
