//! The four S3 calls this resource makes, behind a narrow trait so the
//! handler can be tested without AWS. The least-privilege policy is exactly
//! these: s3:GetBucketVersioning, s3:PutBucketVersioning,
//! s3:GetBucketObjectLockConfiguration, s3:PutBucketObjectLockConfiguration
//! on the bucket's ARN.

use crate::plan::{LockState, LockWrite, Versioning};
use crate::properties::{Mode, Period, Retention};
use aws_config::BehaviorVersion;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{
    BucketVersioningStatus, DefaultRetention, EventHoldDuration, ObjectLockConfiguration,
    ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule, VersioningConfiguration,
};
use std::fmt;
use std::future::Future;

/// S3 error codes the handler tells apart.
pub const NO_SUCH_BUCKET: &str = "NoSuchBucket";
/// Also what S3 answers while a just-enabled versioning is still propagating.
pub const INVALID_BUCKET_STATE: &str = "InvalidBucketState";
const LOCK_NOT_FOUND: &str = "ObjectLockConfigurationNotFoundError";
const ACCESS_DENIED: &str = "AccessDenied";

/// The S3 operations of `Custom::ObjectLock`.
pub trait LockApi: Send + Sync + 'static {
    fn versioning(&self, bucket: &str) -> impl Future<Output = Result<Versioning, S3Error>> + Send;

    /// `PutBucketVersioning` with `Status=Enabled`; never anything else.
    fn enable_versioning(&self, bucket: &str) -> impl Future<Output = Result<(), S3Error>> + Send;

    /// The bucket's Object Lock configuration; disabled when it has none.
    fn lock(&self, bucket: &str) -> impl Future<Output = Result<LockState, S3Error>> + Send;

    /// `PutObjectLockConfiguration` with `ObjectLockEnabled=Enabled` and `write`'s rule.
    fn put_lock(
        &self,
        bucket: &str,
        write: &LockWrite,
    ) -> impl Future<Output = Result<(), S3Error>> + Send;
}

/// A failed S3 call: which operation, on which bucket, and S3's own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct S3Error {
    pub operation: &'static str,
    pub bucket: String,
    pub code: Option<String>,
    pub message: String,
}

impl S3Error {
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "S3 {} on bucket `{}` failed: ",
            self.operation, self.bucket
        )?;
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message)?,
            None => f.write_str(&self.message)?,
        }
        if self.is(ACCESS_DENIED) {
            write!(
                f,
                " (the function's role needs {} on arn:aws:s3:::{}; check its policy and any \
                 bucket policy that denies it)",
                iam_action(self.operation),
                self.bucket
            )?;
        }
        Ok(())
    }
}

/// The IAM action that allows an S3 operation; for Object Lock the two
/// names differ ("Bucket" is in the action only).
fn iam_action(operation: &str) -> String {
    match operation {
        "GetObjectLockConfiguration" => "s3:GetBucketObjectLockConfiguration".to_owned(),
        "PutObjectLockConfiguration" => "s3:PutBucketObjectLockConfiguration".to_owned(),
        other => format!("s3:{other}"),
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

/// [`LockApi`] over the SDK client, built once in `main`.
pub struct S3LockApi {
    client: aws_sdk_s3::Client,
}

impl S3LockApi {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3LockApi { client }
    }
}

impl LockApi for S3LockApi {
    async fn versioning(&self, bucket: &str) -> Result<Versioning, S3Error> {
        const OPERATION: &str = "GetBucketVersioning";
        let _waiting = in_flight(bucket, OPERATION);
        let output = self
            .client
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
            .map_err(|err| s3_error(OPERATION, bucket, &err))?;
        match output.status() {
            None => Ok(Versioning::Unversioned),
            Some(BucketVersioningStatus::Enabled) => Ok(Versioning::Enabled),
            Some(BucketVersioningStatus::Suspended) => Ok(Versioning::Suspended),
            Some(other) => Err(unexpected(
                OPERATION,
                bucket,
                format!("unknown versioning status {other:?}"),
            )),
        }
    }

    async fn enable_versioning(&self, bucket: &str) -> Result<(), S3Error> {
        let _waiting = in_flight(bucket, "PutBucketVersioning");
        self.client
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|err| s3_error("PutBucketVersioning", bucket, &err))?;
        Ok(())
    }

    async fn lock(&self, bucket: &str) -> Result<LockState, S3Error> {
        const OPERATION: &str = "GetObjectLockConfiguration";
        let _waiting = in_flight(bucket, OPERATION);
        let output = match self
            .client
            .get_object_lock_configuration()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) if err.code() == Some(LOCK_NOT_FOUND) => return Ok(LockState::default()),
            Err(err) => return Err(s3_error(OPERATION, bucket, &err)),
        };
        let Some(config) = output.object_lock_configuration() else {
            return Ok(LockState::default());
        };
        let enabled = config.object_lock_enabled() == Some(&ObjectLockEnabled::Enabled);
        let retention = config.rule().and_then(ObjectLockRule::default_retention);
        let default = match retention {
            None => None,
            Some(retention) => Some(read_retention(retention).map_err(|detail| {
                unexpected(
                    OPERATION,
                    bucket,
                    format!("unreadable DefaultRetention: {detail}"),
                )
            })?),
        };
        let event_hold = retention
            .and_then(DefaultRetention::default_event_hold)
            .and_then(|hold| read_period(hold.days(), hold.years()).ok());
        Ok(LockState {
            enabled,
            default,
            event_hold,
        })
    }

    async fn put_lock(&self, bucket: &str, write: &LockWrite) -> Result<(), S3Error> {
        let _waiting = in_flight(bucket, "PutObjectLockConfiguration");
        let retention = set_period(
            DefaultRetention::builder().mode(match write.retention.mode {
                Mode::Compliance => ObjectLockRetentionMode::Compliance,
                Mode::Governance => ObjectLockRetentionMode::Governance,
            }),
            write.retention.period,
        );
        let retention = match write.event_hold {
            Some(Period::Days(days)) => retention
                .default_event_hold(EventHoldDuration::builder().days(to_i32(days)).build()),
            Some(Period::Years(years)) => retention
                .default_event_hold(EventHoldDuration::builder().years(to_i32(years)).build()),
            None => retention,
        };
        // S3 rejects this call without an integrity checksum (Content-MD5 or
        // x-amz-checksum-*). The SDK models it as checksum-required and adds
        // a CRC32 header itself, whatever the client's checksum setting.
        self.client
            .put_object_lock_configuration()
            .bucket(bucket)
            .object_lock_configuration(
                ObjectLockConfiguration::builder()
                    .object_lock_enabled(ObjectLockEnabled::Enabled)
                    .rule(
                        ObjectLockRule::builder()
                            .default_retention(retention.build())
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|err| s3_error("PutObjectLockConfiguration", bucket, &err))?;
        Ok(())
    }
}

fn set_period(
    builder: aws_sdk_s3::types::builders::DefaultRetentionBuilder,
    period: Period,
) -> aws_sdk_s3::types::builders::DefaultRetentionBuilder {
    match period {
        Period::Days(days) => builder.days(to_i32(days)),
        Period::Years(years) => builder.years(to_i32(years)),
    }
}

/// Periods are at most 36500, so this never saturates in practice.
fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn read_retention(retention: &DefaultRetention) -> Result<Retention, String> {
    let mode = match retention.mode() {
        Some(ObjectLockRetentionMode::Compliance) => Mode::Compliance,
        Some(ObjectLockRetentionMode::Governance) => Mode::Governance,
        other => return Err(format!("mode {other:?}")),
    };
    let period = read_period(retention.days(), retention.years())?;
    Ok(Retention { mode, period })
}

fn read_period(days: Option<i32>, years: Option<i32>) -> Result<Period, String> {
    let positive = |n: i32| u32::try_from(n).ok().filter(|n| *n > 0);
    match (days.and_then(positive), years.and_then(positive)) {
        (Some(days), None) => Ok(Period::Days(days)),
        (None, Some(years)) => Ok(Period::Years(years)),
        _ => Err(format!("days {days:?}, years {years:?}")),
    }
}

/// Record the call as in flight until the guard drops.
fn in_flight(bucket: &str, operation: &str) -> custom_resource::in_flight::InFlight {
    custom_resource::in_flight::begin(format!("S3 {operation} on bucket `{bucket}`"))
}

fn s3_error<E, R>(operation: &'static str, bucket: &str, err: &SdkError<E, R>) -> S3Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    S3Error {
        operation,
        bucket: bucket.to_owned(),
        code: err.code().map(str::to_owned),
        message: err
            .message()
            .map(str::to_owned)
            .unwrap_or_else(|| custom_resource::error_chain(err)),
    }
}

fn unexpected(operation: &'static str, bucket: &str, message: String) -> S3Error {
    S3Error {
        operation,
        bucket: bucket.to_owned(),
        code: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_periods_as_s3_sends_them() {
        assert_eq!(read_period(Some(30), None), Ok(Period::Days(30)));
        assert_eq!(read_period(None, Some(1)), Ok(Period::Years(1)));
        // moto sends the unused unit as absent; treat 0 the same way.
        assert_eq!(read_period(Some(30), Some(0)), Ok(Period::Days(30)));
        assert!(read_period(None, None).is_err());
        assert!(read_period(Some(1), Some(1)).is_err());
        assert!(read_period(Some(-1), None).is_err());
    }

    #[test]
    fn access_denied_names_the_permission_and_the_bucket() {
        let err = S3Error {
            operation: "PutBucketVersioning",
            bucket: "data".into(),
            code: Some(ACCESS_DENIED.into()),
            message: "Access Denied".into(),
        };
        let text = err.to_string();
        assert!(
            text.contains("s3:PutBucketVersioning on arn:aws:s3:::data"),
            "{text}"
        );
        let err = S3Error {
            operation: "GetObjectLockConfiguration",
            ..err
        };
        assert!(
            err.to_string()
                .contains("s3:GetBucketObjectLockConfiguration on arn:aws:s3:::data"),
            "{err}"
        );
        assert!(err.is(ACCESS_DENIED) && !err.is(NO_SUCH_BUCKET));
    }
}
