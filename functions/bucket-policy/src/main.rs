//! The Lambda function behind `Custom::OriginBucketPolicy`.

use bucket_policy::aws::{self, S3PolicyStore};
use bucket_policy::{OriginBucketPolicy, Pacing};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let s3 = aws::client().await;
    custom_resource::run(OriginBucketPolicy::new(
        S3PolicyStore::new(s3),
        Pacing::DEFAULT,
    ))
    .await
}
