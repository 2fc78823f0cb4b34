//! The Lambda function behind `Custom::ObjectLock`.

use object_lock::{aws, handler};

// One event at a time per Lambda instance: a single-threaded runtime is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let s3 = aws::client().await;
    custom_resource::run(handler::ObjectLock::new(aws::S3LockApi::new(s3))).await
}
