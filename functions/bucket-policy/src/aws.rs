//! The three S3 calls this resource makes, behind a narrow trait so the
//! converge loop can be tested without AWS. Its least-privilege policy is
//! exactly these: `s3:GetBucketPolicy`, `s3:PutBucketPolicy` and
//! `s3:DeleteBucketPolicy` on the bucket's ARN.

use aws_config::BehaviorVersion;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::fmt;
use std::future::Future;

const NO_SUCH_BUCKET: &str = "NoSuchBucket";
const NO_SUCH_BUCKET_POLICY: &str = "NoSuchBucketPolicy";
const ACCESS_DENIED: &str = "AccessDenied";
const MALFORMED_POLICY: &str = "MalformedPolicy";

/// The bucket a call is about, and the account that must own it: every call
/// says so, so that a bucket of the same name in another account is never
/// read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRef {
    pub name: String,
    pub partition: String,
    pub account: String,
}

impl BucketRef {
    pub fn arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.name)
    }
}

/// A bucket's policy document.
pub trait PolicyStore: Send + Sync + 'static {
    /// The policy text, or `None` when the bucket has no policy.
    fn get(
        &self,
        bucket: &BucketRef,
    ) -> impl Future<Output = Result<Option<String>, S3Error>> + Send;

    fn put(
        &self,
        bucket: &BucketRef,
        policy: &str,
    ) -> impl Future<Output = Result<(), S3Error>> + Send;

    /// Remove the policy; removing an absent one succeeds.
    fn delete(&self, bucket: &BucketRef) -> impl Future<Output = Result<(), S3Error>> + Send;
}

/// A failed S3 call: which operation, on which bucket, and S3's own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct S3Error {
    pub operation: &'static str,
    /// Boxed to keep `Result`s of this error small.
    pub bucket: Box<BucketRef>,
    pub code: Option<String>,
    pub message: String,
}

impl S3Error {
    pub fn is_no_such_bucket(&self) -> bool {
        self.code.as_deref() == Some(NO_SUCH_BUCKET)
    }

    /// S3's refusal of a principal it does not (yet) know, such as an
    /// origin access identity CloudFront created moments ago.
    pub fn is_invalid_principal(&self) -> bool {
        self.code.as_deref() == Some(MALFORMED_POLICY) && self.message.contains("Invalid principal")
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "S3 {} on bucket `{}` failed: ",
            self.operation, self.bucket.name
        )?;
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message)?,
            None => f.write_str(&self.message)?,
        }
        match self.code.as_deref() {
            Some(NO_SUCH_BUCKET) => write!(
                f,
                " (create the bucket first: give BucketName as `!Ref` of the bucket so it exists \
                 before this resource, or fix the name)"
            ),
            Some(ACCESS_DENIED) => write!(
                f,
                " (the function's role needs s3:{} on {}; the bucket must belong to account {}, \
                 the stack's; with Block Public Access on, S3 also refuses a policy that keeps a \
                 public statement)",
                self.operation,
                self.bucket.arn(),
                self.bucket.account
            ),
            Some(MALFORMED_POLICY) => write!(
                f,
                " (S3 rejected the merged policy: check that the origin access identity or \
                 distribution exists in this account)"
            ),
            _ => Ok(()),
        }
    }
}

fn s3_error<E, R>(operation: &'static str, bucket: &BucketRef, err: SdkError<E, R>) -> S3Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    let code = err.code().map(str::to_owned);
    let message = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
    S3Error {
        operation,
        bucket: Box::new(bucket.clone()),
        code,
        message,
    }
}

/// The S3 client for the function: the SDK's default chain, and path-style
/// addressing when `AWS_ENDPOINT_URL` points at an emulator (virtual-host
/// names like `<bucket>.localhost` do not resolve there).
pub async fn client() -> aws_sdk_s3::Client {
    let shared = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let mut config = aws_sdk_s3::config::Builder::from(&shared);
    if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        config = config.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// [`PolicyStore`] over the SDK client, built once in `main`.
pub struct S3PolicyStore {
    client: aws_sdk_s3::Client,
}

impl S3PolicyStore {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3PolicyStore { client }
    }
}

impl PolicyStore for S3PolicyStore {
    async fn get(&self, bucket: &BucketRef) -> Result<Option<String>, S3Error> {
        match self
            .client
            .get_bucket_policy()
            .bucket(&bucket.name)
            .expected_bucket_owner(&bucket.account)
            .send()
            .await
        {
            Ok(output) => Ok(output.policy.filter(|p| !p.trim().is_empty())),
            Err(err) if err.code() == Some(NO_SUCH_BUCKET_POLICY) => Ok(None),
            Err(err) => Err(s3_error("GetBucketPolicy", bucket, err)),
        }
    }

    async fn put(&self, bucket: &BucketRef, policy: &str) -> Result<(), S3Error> {
        self.client
            .put_bucket_policy()
            .bucket(&bucket.name)
            .policy(policy)
            .expected_bucket_owner(&bucket.account)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| s3_error("PutBucketPolicy", bucket, err))
    }

    async fn delete(&self, bucket: &BucketRef) -> Result<(), S3Error> {
        match self
            .client
            .delete_bucket_policy()
            .bucket(&bucket.name)
            .expected_bucket_owner(&bucket.account)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some(NO_SUCH_BUCKET_POLICY) => Ok(()),
            Err(err) => Err(s3_error("DeleteBucketPolicy", bucket, err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(operation: &'static str, code: &str) -> S3Error {
        S3Error {
            operation,
            bucket: Box::new(BucketRef {
                name: "data-bucket".into(),
                partition: "aws-cn".into(),
                account: "123456789012".into(),
            }),
            code: Some(code.into()),
            message: "S3 said so".into(),
        }
    }

    #[test]
    fn messages_name_the_call_the_bucket_and_the_fix() {
        let missing = error("GetBucketPolicy", NO_SUCH_BUCKET).to_string();
        assert!(missing.starts_with(
            "S3 GetBucketPolicy on bucket `data-bucket` failed: NoSuchBucket: S3 said so"
        ));
        assert!(missing.contains("create the bucket first"), "{missing}");
        let denied = error("PutBucketPolicy", ACCESS_DENIED).to_string();
        assert!(
            denied.contains("needs s3:PutBucketPolicy on arn:aws-cn:s3:::data-bucket")
                && denied.contains("account 123456789012"),
            "{denied}"
        );
        assert!(error("GetBucketPolicy", NO_SUCH_BUCKET).is_no_such_bucket());
        let invalid_principal = S3Error {
            message: "Invalid principal in policy".into(),
            ..error("PutBucketPolicy", MALFORMED_POLICY)
        };
        assert!(invalid_principal.is_invalid_principal());
        assert!(!error("PutBucketPolicy", MALFORMED_POLICY).is_invalid_principal());
        assert!(!error("GetBucketPolicy", ACCESS_DENIED).is_no_such_bucket());
    }
}
