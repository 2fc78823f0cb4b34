//! The Lambda function behind `Custom::OriginBucketPolicy`.

use bucket_policy::aws::S3PolicyStore;
use bucket_policy::{OriginBucketPolicy, Pacing};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let store = S3PolicyStore::from_env().await;
    custom_resource::run(OriginBucketPolicy::new(store, Pacing::DEFAULT)).await
}
