//! `Custom::OriginBucketPolicy`: grants one CloudFront origin identity (an
//! origin access identity, or a distribution through origin access control)
//! read access to a bucket, merging its statements into the bucket's one
//! policy by Sid and keeping everything else byte for byte.
//!
//! - [`properties`]: the input contract and its validation.
//! - [`naming`]: physical ids, and the Sids derived from them.
//! - [`document`]: the policy as text, foreign statements kept verbatim.
//! - [`statement`]: what a statement means (principals, public grants, TLS denies).
//! - [`plan`]: the pure reconcile step, read policy + intent -> one write.
//! - [`aws`]: the three S3 calls.
//! - [`handler`]: the lifecycle and the converge loop.

pub mod aws;
pub mod document;
pub mod handler;
pub mod naming;
pub mod plan;
pub mod properties;
pub mod statement;

pub use handler::{OriginBucketPolicy, Pacing};
