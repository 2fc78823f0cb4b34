//! `Custom::ObjectLock`: Object Lock (WORM) retention on a new or existing
//! bucket, which can be strengthened freely but weakened only on purpose.
//! See DESIGN.md, "Custom::ObjectLock".

mod aws;
mod handler;
mod plan;
mod properties;

// One event at a time per Lambda instance: a single-threaded runtime is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let s3 = aws::client().await;
    custom_resource::run(handler::ObjectLock::new(aws::Sdk(s3))).await
}
