//! `Custom::ObjectLock`'s lifecycle: observe the bucket, plan, write, read
//! back. Create and Update are the same reconcile, judged against what S3
//! reports rather than against the old properties, so a repeated event, an
//! unchanged Update or a rollback makes no writes.

use crate::aws::{LockApi, S3Error, INVALID_BUCKET_STATE, NO_SUCH_BUCKET};
use crate::plan::{plan, LockWrite, Observed, Refusal, Versioning};
use crate::properties::{Desired, InvalidProperty, Period, Properties, Retention};
use custom_resource::{Deletion, HandlerError, Request, Resource, Success};
use serde_json::{json, Map};
use std::time::Duration;
use tracing::{info, warn};

/// Pauses between attempts when S3 has not caught up yet: after versioning
/// was just enabled (the lock write may see the old state for a moment), and
/// before a read-back disagrees for good. About 15 s in all, well inside the
/// function's timeout; the runner's deadline guard stops it earlier if needed.
pub const PATIENCE: [Duration; 5] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

pub struct ObjectLock<A> {
    s3: A,
    patience: Vec<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Property(#[from] InvalidProperty),
    #[error(
        "ResourceProperties.BucketName: bucket `{0}` does not exist (or this account cannot see \
         it); create it first, or set BucketName to an existing bucket (for example !Ref DatasetBucket)"
    )]
    NoSuchBucket(String),
    #[error("ResourceProperties.BucketName: bucket `{bucket}`: {refusal}")]
    Refused { bucket: String, refusal: Refusal },
    #[error(transparent)]
    S3(S3Error),
    #[error(
        "bucket `{bucket}`: S3 accepted the Object Lock configuration {wanted} but still reads \
         back {found}; something else may be writing this bucket's Object Lock configuration \
         (another stack or tool): stop it, then retry"
    )]
    NotApplied {
        bucket: String,
        wanted: Retention,
        found: String,
    },
}

impl From<S3Error> for Failure {
    fn from(err: S3Error) -> Self {
        if err.is(NO_SUCH_BUCKET) {
            Failure::NoSuchBucket(err.bucket)
        } else {
            Failure::S3(err)
        }
    }
}

impl<A: LockApi> ObjectLock<A> {
    pub fn new(s3: A) -> Self {
        ObjectLock {
            s3,
            patience: PATIENCE.to_vec(),
        }
    }

    /// The same, waiting `patience` between retries (tests use zero).
    #[cfg(test)]
    pub fn with_patience(s3: A, patience: Vec<Duration>) -> Self {
        ObjectLock { s3, patience }
    }

    async fn observe(&self, bucket: &str) -> Result<Observed, Failure> {
        let lock = self.s3.lock(bucket).await?;
        // S3 keeps versioning Enabled on a bucket with Object Lock (it refuses
        // to suspend it), so only an unlocked bucket needs the second read.
        let versioning = if lock.enabled {
            Versioning::Enabled
        } else {
            self.s3.versioning(bucket).await?
        };
        Ok(Observed { versioning, lock })
    }

    /// Create and Update alike: bring the bucket to `desired`.
    async fn reconcile(&self, desired: &Desired) -> Result<Success, Failure> {
        let bucket = desired.bucket.as_str();
        let observed = self.observe(bucket).await?;
        let plan = plan(desired, &observed).map_err(|refusal| Failure::Refused {
            bucket: bucket.to_owned(),
            refusal,
        })?;
        let describe = |retention: Option<Retention>| {
            retention.map_or_else(|| "none".to_owned(), |r| r.to_string())
        };
        info!(
            bucket,
            versioning = %observed.versioning,
            lock_enabled = observed.lock.enabled,
            current = %describe(observed.lock.default),
            wanted = %desired.retention,
            enable_versioning = plan.enable_versioning,
            write = %describe(plan.write.map(|w| w.retention)),
            "planned"
        );
        if plan.enable_versioning {
            self.s3.enable_versioning(bucket).await?;
            info!(bucket, "enabled versioning, which Object Lock requires");
        }
        let effective = match plan.write {
            None => desired.retention,
            Some(write) => {
                self.put_lock(bucket, &write, plan.enable_versioning)
                    .await?;
                self.verify(bucket, desired.retention).await?
            }
        };
        if plan.is_noop() {
            info!(bucket, retention = %effective, "already as desired; nothing written");
        }
        Ok(Success::new(bucket).with_data(data(bucket, effective, plan.enable_versioning)))
    }

    async fn put_lock(
        &self,
        bucket: &str,
        write: &LockWrite,
        versioning_just_enabled: bool,
    ) -> Result<(), Failure> {
        let mut pauses = self.patience.iter();
        loop {
            match self.s3.put_lock(bucket, write).await {
                Ok(()) => {
                    info!(bucket, retention = %write.retention, "wrote the Object Lock configuration");
                    return Ok(());
                }
                // Only worth waiting for when this request just turned versioning on.
                Err(err) if versioning_just_enabled && err.is(INVALID_BUCKET_STATE) => {
                    let Some(pause) = pauses.next() else {
                        return Err(err.into());
                    };
                    warn!(bucket, error = %err, ?pause, "S3 does not see versioning enabled yet; retrying");
                    tokio::time::sleep(*pause).await;
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Read the configuration back until it shows `wanted`; a moment of
    /// lag is tolerated, a lasting difference is an error.
    async fn verify(&self, bucket: &str, wanted: Retention) -> Result<Retention, Failure> {
        let mut pauses = self.patience.iter();
        loop {
            let lock = self.s3.lock(bucket).await?;
            if lock.enabled && lock.default == Some(wanted) {
                info!(bucket, retention = %wanted, "read back and verified");
                return Ok(wanted);
            }
            let Some(pause) = pauses.next() else {
                let found = match (lock.enabled, lock.default) {
                    (false, _) => "Object Lock not enabled".to_owned(),
                    (true, None) => "Object Lock enabled with no default retention".to_owned(),
                    (true, Some(found)) => found.to_string(),
                };
                return Err(Failure::NotApplied {
                    bucket: bucket.to_owned(),
                    wanted,
                    found,
                });
            };
            warn!(
                bucket,
                ?lock,
                ?pause,
                "read-back differs from what was written; reading again"
            );
            tokio::time::sleep(*pause).await;
        }
    }
}

/// `Fn::GetAtt` attributes: the effective retention, and whether this
/// request had to turn versioning on.
fn data(
    bucket: &str,
    retention: Retention,
    enabled_versioning: bool,
) -> Map<String, serde_json::Value> {
    let mut data = Map::new();
    data.insert("BucketName".into(), json!(bucket));
    data.insert("Mode".into(), json!(retention.mode.as_str()));
    match retention.period {
        Period::Days(days) => data.insert("Days".into(), json!(days)),
        Period::Years(years) => data.insert("Years".into(), json!(years)),
    };
    data.insert(
        "RetentionPeriod".into(),
        json!(retention.period.to_string()),
    );
    data.insert("EnabledVersioning".into(), json!(enabled_versioning));
    data
}

impl<A: LockApi> Resource for ObjectLock<A> {
    type Properties = Properties;

    async fn create(
        &self,
        _request: &Request,
        properties: Properties,
    ) -> Result<Success, HandlerError> {
        let desired = properties.validate().map_err(Failure::from)?;
        Ok(self.reconcile(&desired).await?)
    }

    /// A new BucketName returns a new physical id: CloudFormation then
    /// deletes the old one, which leaves that bucket's lock as it is.
    async fn update(
        &self,
        _request: &Request,
        physical_id: &str,
        properties: Properties,
        old: Option<Properties>,
    ) -> Result<Success, HandlerError> {
        let desired = properties.validate().map_err(Failure::from)?;
        if desired.bucket != physical_id {
            info!(old_bucket = physical_id, new_bucket = %desired.bucket,
                "BucketName changed: locking the new bucket; the old one keeps its lock");
        }
        if old.is_none() {
            info!("no readable old properties; judging the change against what S3 reports");
        }
        Ok(self.reconcile(&desired).await?)
    }

    /// Object Lock cannot be disabled once enabled, so Delete writes nothing:
    /// it says what it leaves in place and succeeds. It never fails, because
    /// there would be nothing for a retry to do, and a failed Delete blocks
    /// the stack's deletion.
    async fn delete(
        &self,
        _request: &Request,
        physical_id: &str,
        _properties: Properties,
    ) -> Result<Deletion, HandlerError> {
        let bucket = physical_id;
        match self.s3.lock(bucket).await {
            Ok(lock) if lock.enabled => {
                let retention = lock
                    .default
                    .map_or_else(|| "no default retention".to_owned(), |r| r.to_string());
                info!(bucket, %retention,
                    "Object Lock cannot be disabled: leaving the bucket's configuration in place");
                Ok(Deletion::Deleted)
            }
            Ok(_) => {
                info!(
                    bucket,
                    "the bucket has no Object Lock configuration; nothing to leave in place"
                );
                Ok(Deletion::Deleted)
            }
            Err(err) if err.is(NO_SUCH_BUCKET) => {
                info!(bucket, "the bucket no longer exists; nothing to do");
                Ok(Deletion::AlreadyGone)
            }
            Err(err) => {
                warn!(bucket, error = %err,
                    "could not read the Object Lock configuration; Delete writes nothing either way");
                Ok(Deletion::Deleted)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::LockState;
    use crate::properties::Mode;
    use custom_resource::RequestType;
    use serde_json::Value;
    use std::sync::Mutex;

    /// An in-memory bucket that records every write and can be told to lag
    /// or to misreport.
    #[derive(Debug, Default)]
    struct FakeBucket {
        exists: bool,
        versioning: Option<Versioning>,
        lock: LockState,
        writes: Vec<String>,
        /// Answer this many lock writes with InvalidBucketState first.
        lagging_writes: usize,
        /// Keep this configuration whatever is written (another writer).
        sticky: Option<LockState>,
        deny_reads: bool,
        versioning_reads: usize,
    }

    struct Fake(Mutex<FakeBucket>);

    impl Fake {
        fn new(versioning: Versioning, lock: LockState) -> Fake {
            Fake(Mutex::new(FakeBucket {
                exists: true,
                versioning: Some(versioning),
                lock,
                ..FakeBucket::default()
            }))
        }

        fn with<T>(&self, f: impl FnOnce(&mut FakeBucket) -> T) -> T {
            f(&mut self.0.lock().expect("fake bucket lock"))
        }

        fn check(&self, operation: &'static str, bucket: &str) -> Result<(), S3Error> {
            let error = |code: &str| S3Error {
                operation,
                bucket: bucket.to_owned(),
                code: Some(code.to_owned()),
                message: "fake".into(),
            };
            self.with(|b| {
                if !b.exists {
                    Err(error(NO_SUCH_BUCKET))
                } else if b.deny_reads && operation.starts_with("Get") {
                    Err(error("AccessDenied"))
                } else {
                    Ok(())
                }
            })
        }
    }

    impl LockApi for Fake {
        async fn versioning(&self, bucket: &str) -> Result<Versioning, S3Error> {
            self.check("GetBucketVersioning", bucket)?;
            Ok(self.with(|b| {
                b.versioning_reads += 1;
                b.versioning.unwrap_or(Versioning::Unversioned)
            }))
        }

        async fn enable_versioning(&self, bucket: &str) -> Result<(), S3Error> {
            self.check("PutBucketVersioning", bucket)?;
            self.with(|b| {
                b.writes.push("PutBucketVersioning Enabled".into());
                b.versioning = Some(Versioning::Enabled);
            });
            Ok(())
        }

        async fn lock(&self, bucket: &str) -> Result<LockState, S3Error> {
            self.check("GetObjectLockConfiguration", bucket)?;
            Ok(self.with(|b| b.sticky.clone().unwrap_or_else(|| b.lock.clone())))
        }

        async fn put_lock(&self, bucket: &str, write: &LockWrite) -> Result<(), S3Error> {
            self.check("PutObjectLockConfiguration", bucket)?;
            self.with(|b| {
                if b.versioning != Some(Versioning::Enabled) || b.lagging_writes > 0 {
                    b.lagging_writes = b.lagging_writes.saturating_sub(1);
                    return Err(S3Error {
                        operation: "PutObjectLockConfiguration",
                        bucket: bucket.to_owned(),
                        code: Some(INVALID_BUCKET_STATE.into()),
                        message: "Versioning must be 'Enabled'".into(),
                    });
                }
                b.writes
                    .push(format!("PutObjectLockConfiguration {}", write.retention));
                b.lock = LockState {
                    enabled: true,
                    default: Some(write.retention),
                    event_hold: write.event_hold,
                };
                Ok(())
            })
        }
    }

    fn handler(fake: Fake) -> ObjectLock<Fake> {
        ObjectLock::with_patience(fake, vec![Duration::ZERO; 3])
    }

    fn request(request_type: RequestType) -> Request {
        Request {
            request_type,
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/g".into(),
            request_id: "r".into(),
            logical_resource_id: "Lock".into(),
            resource_type: "Custom::ObjectLock".into(),
        }
    }

    fn props(value: Value) -> Properties {
        custom_resource::properties::parse(&value, "ResourceProperties")
            .expect("test properties parse")
    }

    fn compliance(period: Period) -> Retention {
        Retention {
            mode: Mode::Compliance,
            period,
        }
    }

    fn locked(retention: Retention) -> LockState {
        LockState {
            enabled: true,
            default: Some(retention),
            event_hold: None,
        }
    }

    async fn create(lock: &ObjectLock<Fake>, value: Value) -> Result<Success, String> {
        lock.create(&request(RequestType::Create), props(value))
            .await
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn create_on_an_unversioned_bucket_enables_versioning_first() {
        let lock = handler(Fake::new(Versioning::Unversioned, LockState::default()));
        let success = create(
            &lock,
            json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": "30"}),
        )
        .await
        .expect("created");
        assert_eq!(success.physical_id, "bkt");
        assert_eq!(
            lock.s3.with(|b| b.writes.clone()),
            [
                "PutBucketVersioning Enabled",
                "PutObjectLockConfiguration GOVERNANCE for 30 days"
            ]
        );
        assert_eq!(
            Value::Object(success.data),
            json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": 30,
                   "RetentionPeriod": "30 days", "EnabledVersioning": true})
        );
    }

    #[tokio::test]
    async fn a_repeat_create_writes_nothing_and_reports_the_same_retention() {
        let lock = handler(Fake::new(Versioning::Enabled, LockState::default()));
        let props = json!({"BucketName": "bkt", "Mode": "COMPLIANCE", "Years": "1"});
        let first = create(&lock, props.clone()).await.expect("first create");
        let writes = lock.s3.with(|b| b.writes.len());
        assert_eq!(writes, 1);
        let reads = lock.s3.with(|b| b.versioning_reads);
        let again = create(&lock, props).await.expect("repeat create");
        assert_eq!(lock.s3.with(|b| b.writes.len()), writes, "no new write");
        assert_eq!(
            lock.s3.with(|b| b.versioning_reads),
            reads,
            "a locked bucket's versioning is known without reading it"
        );
        assert_eq!(again.data["Years"], json!(1));
        assert_eq!(again.data["Mode"], json!("COMPLIANCE"));
        assert_eq!(again.data["EnabledVersioning"], json!(false));
        assert_eq!(first.physical_id, again.physical_id);
    }

    #[tokio::test]
    async fn a_lagging_versioning_state_is_waited_for() {
        let fake = Fake::new(Versioning::Unversioned, LockState::default());
        fake.with(|b| b.lagging_writes = 2);
        let lock = handler(fake);
        create(
            &lock,
            json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": "1"}),
        )
        .await
        .expect("succeeds after the lag");
        assert_eq!(lock.s3.with(|b| b.writes.len()), 2);
    }

    #[tokio::test]
    async fn lasting_invalid_bucket_state_fails_with_s3s_words() {
        let fake = Fake::new(Versioning::Unversioned, LockState::default());
        fake.with(|b| b.lagging_writes = 100);
        let err = create(
            &handler(fake),
            json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": "1"}),
        )
        .await
        .unwrap_err();
        assert!(
            err.contains("PutObjectLockConfiguration on bucket `bkt` failed: InvalidBucketState"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_read_back_that_disagrees_fails() {
        let fake = Fake::new(Versioning::Enabled, LockState::default());
        fake.with(|b| b.sticky = Some(locked(compliance(Period::Days(5)))));
        let err = create(
            &handler(fake),
            json!({"BucketName": "bkt", "Mode": "COMPLIANCE", "Days": "10"}),
        )
        .await
        .unwrap_err();
        assert!(
            err.contains("COMPLIANCE for 10 days but still reads back COMPLIANCE for 5 days"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn refusals_write_nothing_and_the_override_lets_them_through() {
        let fake = Fake::new(Versioning::Enabled, locked(compliance(Period::Days(30))));
        let lock = handler(fake);
        let update = |value: Value| {
            let lock = &lock;
            async move {
                lock.update(&request(RequestType::Update), "bkt", props(value), None)
                    .await
                    .map_err(|e| e.to_string())
            }
        };
        let err = update(json!({"BucketName": "bkt", "Mode": "COMPLIANCE", "Days": "7"}))
            .await
            .unwrap_err();
        assert!(
            err.starts_with("ResourceProperties.BucketName: bucket `bkt`: the default retention is COMPLIANCE for 30 days")
                && err.contains("shorten it to 7 days")
                && err.contains("AllowRetentionReduction: true"),
            "{err}"
        );
        let err = update(json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": "30"}))
            .await
            .unwrap_err();
        assert!(err.contains("move it to GOVERNANCE"), "{err}");
        assert!(
            lock.s3.with(|b| b.writes.is_empty()),
            "a refusal writes nothing"
        );

        let allowed = update(
            json!({"BucketName": "bkt", "Mode": "COMPLIANCE", "Days": "7",
                                    "AllowRetentionReduction": "true"}),
        )
        .await
        .expect("the override allows it");
        assert_eq!(allowed.data["Days"], json!(7));
        assert_eq!(
            lock.s3.with(|b| b.lock.default),
            Some(compliance(Period::Days(7)))
        );
    }

    #[tokio::test]
    async fn a_new_bucket_name_is_a_new_physical_id() {
        let lock = handler(Fake::new(Versioning::Enabled, LockState::default()));
        let updated = lock
            .update(
                &request(RequestType::Update),
                "old-bucket",
                props(json!({"BucketName": "new-bucket", "Mode": "GOVERNANCE", "Days": "1"})),
                None,
            )
            .await
            .map(|success| success.physical_id)
            .map_err(|e| e.to_string());
        assert_eq!(updated.as_deref(), Ok("new-bucket"));
    }

    #[tokio::test]
    async fn a_suspended_bucket_fails_and_stays_suspended() {
        let lock = handler(Fake::new(Versioning::Suspended, LockState::default()));
        let err = create(
            &lock,
            json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": "1"}),
        )
        .await
        .unwrap_err();
        assert!(
            err.contains("BucketName") && err.contains("versioning is Suspended"),
            "{err}"
        );
        assert!(lock.s3.with(|b| b.writes.is_empty()));
        assert_eq!(lock.s3.with(|b| b.versioning), Some(Versioning::Suspended));
    }

    #[tokio::test]
    async fn a_missing_bucket_fails_create_and_passes_delete() {
        let fake = Fake::new(Versioning::Enabled, LockState::default());
        fake.with(|b| b.exists = false);
        let lock = handler(fake);
        let err = create(
            &lock,
            json!({"BucketName": "gone", "Mode": "GOVERNANCE", "Days": "1"}),
        )
        .await
        .unwrap_err();
        assert!(
            err.contains("ResourceProperties.BucketName: bucket `gone` does not exist")
                && err.contains("create it first"),
            "{err}"
        );
        let deleted = lock
            .delete(
                &request(RequestType::Delete),
                "gone",
                props(json!({"BucketName": "gone", "Mode": "GOVERNANCE", "Days": "1"})),
            )
            .await
            .map_err(|e| e.to_string());
        assert_eq!(deleted, Ok(Deletion::AlreadyGone));
    }

    #[tokio::test]
    async fn delete_leaves_the_lock_and_never_fails() {
        let retention = compliance(Period::Years(2));
        let lock = handler(Fake::new(Versioning::Enabled, locked(retention)));
        let properties = json!({"BucketName": "bkt", "Mode": "COMPLIANCE", "Years": "2"});
        let deleted = lock
            .delete(
                &request(RequestType::Delete),
                "bkt",
                props(properties.clone()),
            )
            .await
            .map_err(|e| e.to_string());
        assert_eq!(deleted, Ok(Deletion::Deleted));
        assert!(lock.s3.with(|b| b.writes.is_empty()));
        assert_eq!(lock.s3.with(|b| b.lock.default), Some(retention));

        lock.s3.with(|b| b.deny_reads = true);
        let deleted = lock
            .delete(&request(RequestType::Delete), "bkt", props(properties))
            .await
            .map_err(|e| e.to_string());
        assert_eq!(
            deleted,
            Ok(Deletion::Deleted),
            "an unreadable bucket does not block the stack"
        );
    }

    #[tokio::test]
    async fn bad_properties_fail_before_any_call() {
        let fake = Fake::new(Versioning::Enabled, LockState::default());
        fake.with(|b| b.exists = false);
        let err = create(
            &handler(fake),
            json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": "0"}),
        )
        .await
        .unwrap_err();
        // Not "does not exist": the properties were judged first.
        assert!(err.starts_with("ResourceProperties.Days is 0"), "{err}");
    }

    #[tokio::test]
    async fn access_denied_names_the_missing_permission() {
        let fake = Fake::new(Versioning::Enabled, LockState::default());
        fake.with(|b| b.deny_reads = true);
        let err = create(
            &handler(fake),
            json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": "1"}),
        )
        .await
        .unwrap_err();
        assert!(
            err.contains("s3:GetBucketObjectLockConfiguration on arn:aws:s3:::b"),
            "{err}"
        );
    }
}
