//! `Custom::ObjectLock` end to end: the real `object-lock` binary under
//! `cargo lambda watch`, answering to a real presigned ResponseURL on moto, as
//! CloudFormation would have it. S3 itself is moto for most tests, and
//! LocalStack's S3 where moto is not faithful.
//!
//! Emulator gaps, and how each is handled:
//! - `cargo lambda watch` sends a past deadline; `AWS_LAMBDA_FUNCTION_TIMEOUT`
//!   gives the runtime the function timeout instead (as in protocol.rs).
//! - moto 5.2.5 answers GetBucketVersioning with the wrong root element; the
//!   `Moto` fixture starts moto with that fixed (tests/emulators/moto_server.py).
//! - moto refuses `PutObjectLockConfiguration` on a bucket that holds any
//!   object ("InvalidBucket: Bucket needs to be empty"); S3 has allowed it on
//!   existing versioned buckets since November 2023. So moto tests lock a
//!   bucket while it is empty and write objects afterwards; the LocalStack
//!   tests lock a bucket that already holds objects.
//! - moto's `GetObjectRetention` is broken and moto lets a COMPLIANCE
//!   retain-until date be shortened; S3 does neither. Object retention is
//!   therefore read, and its shortening tried, only against LocalStack.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ObjectLockEnabled, ObjectLockRetention, ObjectLockRetentionMode,
    VersioningConfiguration,
};
use serde_json::{json, Value};
use std::time::SystemTime;
use vaultfront_tests::{clients, CfnEvent, LambdaEmulator, LocalStack, Moto};

const FUNCTION: &str = "object-lock";
const RESOURCE_TYPE: &str = "Custom::ObjectLock";

struct Harness {
    /// The ResponseURL's bucket; on the moto tier also the S3 under test.
    moto: Moto,
    _localstack: Option<LocalStack>,
    lambda: LambdaEmulator,
    /// The S3 the function talks to, for the test's own setup and checks.
    s3: aws_sdk_s3::Client,
}

impl Harness {
    async fn moto() -> Harness {
        let moto = Moto::start();
        let endpoint = moto.endpoint();
        let s3 = moto.s3();
        Harness::with(moto, None, &endpoint, s3)
    }

    async fn localstack() -> Harness {
        let moto = Moto::start();
        let localstack = LocalStack::start();
        let endpoint = localstack.endpoint();
        let s3 = localstack.s3();
        Harness::with(moto, Some(localstack), &endpoint, s3)
    }

    fn with(
        moto: Moto,
        localstack: Option<LocalStack>,
        endpoint: &str,
        s3: aws_sdk_s3::Client,
    ) -> Harness {
        let mut env = clients::env(endpoint);
        env.push(("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), "30".into()));
        let lambda = LambdaEmulator::start(&env);
        Harness {
            moto,
            _localstack: localstack,
            lambda,
            s3,
        }
    }

    /// Invoke the function with `event`; the response it PUT to the presigned URL.
    async fn answer(&self, event: &CfnEvent) -> Value {
        self.lambda.answer(FUNCTION, &self.moto, event).await
    }

    /// A bucket made the way the test needs it.
    async fn bucket(&self, name: &str, shape: Shape) {
        let create = self.s3.create_bucket().bucket(name);
        let create = match shape {
            Shape::LockEnabled => create.object_lock_enabled_for_bucket(true),
            Shape::Plain | Shape::Versioned | Shape::Suspended => create,
        };
        create.send().await.expect("create bucket");
        let status = match shape {
            Shape::Versioned => Some(BucketVersioningStatus::Enabled),
            Shape::Suspended => Some(BucketVersioningStatus::Suspended),
            Shape::Plain | Shape::LockEnabled => None,
        };
        if let Some(status) = status {
            self.s3
                .put_bucket_versioning()
                .bucket(name)
                .versioning_configuration(VersioningConfiguration::builder().status(status).build())
                .send()
                .await
                .expect("set versioning");
        }
    }

    /// The bucket's default retention as S3 reports it: (mode, days, years).
    async fn retention(&self, bucket: &str) -> (String, Option<i32>, Option<i32>) {
        let output = self
            .s3
            .get_object_lock_configuration()
            .bucket(bucket)
            .send()
            .await
            .expect("the bucket has an Object Lock configuration");
        let config = output.object_lock_configuration().expect("a configuration");
        assert_eq!(
            config.object_lock_enabled(),
            Some(&ObjectLockEnabled::Enabled)
        );
        let retention = config
            .rule()
            .and_then(|rule| rule.default_retention())
            .expect("a default retention");
        // moto sends the unit not in use as 0; S3 leaves it out.
        let set = |n: Option<i32>| n.filter(|n| *n != 0);
        (
            retention
                .mode()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
            set(retention.days()),
            set(retention.years()),
        )
    }

    async fn versioning(&self, bucket: &str) -> Option<BucketVersioningStatus> {
        self.s3
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
            .expect("read versioning")
            .status()
            .cloned()
    }

    /// Put `body` at `key`; the new version's id. (Object Lock writes need an
    /// integrity checksum: CRC32 serves.)
    async fn put(&self, bucket: &str, key: &str, body: &[u8]) -> String {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.to_vec().into())
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32)
            .send()
            .await
            .expect("write an object")
            .version_id()
            .expect("a versioned write")
            .to_owned()
    }

    /// Deleting this version: S3's error code, if it refused.
    async fn delete_version(&self, bucket: &str, key: &str, version: &str) -> Option<String> {
        self.s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .version_id(version)
            .send()
            .await
            .err()
            .map(|err| err.code().unwrap_or("(no code)").to_owned())
    }

    /// Requests moto has seen with `method` on a subresource of `bucket`.
    /// The SDK writes the path as `/bucket/?sub`; `/bucket?sub` counts too.
    fn count(&self, method: &str, bucket: &str, subresource: &str) -> usize {
        ["", "/"]
            .iter()
            .map(|slash| {
                self.moto
                    .count_requests(method, &format!("/{bucket}{slash}?{subresource}"))
            })
            .sum()
    }

    /// Configuration writes moto has seen on `bucket` so far (any method
    /// but GET, on the versioning or object-lock subresources).
    fn config_writes(&self, bucket: &str) -> usize {
        ["PUT", "POST", "DELETE"]
            .iter()
            .flat_map(|method| {
                ["versioning", "object-lock"].map(|sub| self.count(method, bucket, sub))
            })
            .sum()
    }
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    /// Never versioned.
    Plain,
    Versioned,
    Suspended,
    /// Created with Object Lock (and so versioning) enabled.
    LockEnabled,
}

fn lock(properties: Value) -> CfnEvent {
    CfnEvent::create(RESOURCE_TYPE, "DatasetLock", properties)
}

fn reason(response: &Value) -> &str {
    response["Reason"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn create_on_a_lock_enabled_bucket_and_a_repeat_makes_no_write() {
    let h = Harness::moto().await;
    h.bucket("locked-at-birth", Shape::LockEnabled).await;
    // CfnEvent stringifies scalars, as CloudFormation does: Days arrives as "3".
    let create = lock(json!({"BucketName": "locked-at-birth", "Mode": "COMPLIANCE", "Days": 3}));
    let created = h.answer(&create).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(created["PhysicalResourceId"], "locked-at-birth");
    assert_eq!(
        created["Data"],
        json!({"BucketName": "locked-at-birth", "Mode": "COMPLIANCE", "Days": 3,
               "RetentionPeriod": "3 days", "EnabledVersioning": false})
    );
    assert_eq!(
        h.retention("locked-at-birth").await,
        ("COMPLIANCE".into(), Some(3), None)
    );
    assert_eq!(
        h.config_writes("locked-at-birth"),
        1,
        "one PutObjectLockConfiguration, no versioning write (it was already on)"
    );

    // The same event again (Lambda's async retry) and an Update that changes nothing.
    let repeat = h.answer(&create).await;
    let unchanged = h
        .answer(&create.update("locked-at-birth", create.properties.clone()))
        .await;
    for response in [&repeat, &unchanged] {
        assert_eq!(response["Status"], "SUCCESS", "{response}");
        assert_eq!(response["PhysicalResourceId"], "locked-at-birth");
        assert_eq!(response["Data"], created["Data"]);
    }
    assert_eq!(
        h.config_writes("locked-at-birth"),
        1,
        "the repeat and the no-op Update only read"
    );
    assert!(
        h.count("GET", "locked-at-birth", "object-lock") >= 4,
        "each invocation read the configuration (and the first read it back)"
    );
}

#[tokio::test]
async fn enables_versioning_and_lock_on_an_existing_bucket_then_locked_versions_stay() {
    let h = Harness::moto().await;
    // Empty: moto refuses Object Lock on a bucket with objects (S3 does not;
    // see the LocalStack tests).
    h.bucket("existing-data", Shape::Plain).await;
    let created = h
        .answer(&lock(
            json!({"BucketName": "existing-data", "Mode": "COMPLIANCE", "Days": 1}),
        ))
        .await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(created["Data"]["EnabledVersioning"], true);
    assert_eq!(created["Data"]["Mode"], "COMPLIANCE");
    assert_eq!(
        h.versioning("existing-data").await,
        Some(BucketVersioningStatus::Enabled)
    );
    assert_eq!(
        h.retention("existing-data").await,
        ("COMPLIANCE".into(), Some(1), None)
    );
    assert_eq!(
        h.count("PUT", "existing-data", "versioning"),
        1,
        "versioning enabled once"
    );

    // A new object takes the default retention; its version cannot be deleted.
    let version = h
        .put("existing-data", "datasets/train.jsonl", b"{}\n")
        .await;
    assert_eq!(
        h.delete_version("existing-data", "datasets/train.jsonl", &version)
            .await
            .as_deref(),
        Some("AccessDenied"),
        "a COMPLIANCE-locked version cannot be deleted"
    );
    let still =
        h.s3.get_object()
            .bucket("existing-data")
            .key("datasets/train.jsonl")
            .version_id(&version)
            .send()
            .await;
    assert!(still.is_ok(), "the version is still there");
}

#[tokio::test]
async fn raising_is_allowed_weakening_compliance_needs_the_override() {
    let h = Harness::moto().await;
    let bucket = "compliance-data";
    // An existing, empty, versioned bucket without Object Lock.
    h.bucket(bucket, Shape::Versioned).await;
    let create = lock(json!({"BucketName": bucket, "Mode": "COMPLIANCE", "Days": 30}));
    let created = h.answer(&create).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(
        created["Data"]["EnabledVersioning"], false,
        "versioning was already on"
    );
    assert_eq!(
        h.count("PUT", bucket, "versioning"),
        1,
        "only the test's own PutBucketVersioning"
    );
    assert_eq!(
        h.retention(bucket).await,
        ("COMPLIANCE".into(), Some(30), None)
    );

    let raised = h
        .answer(&create.update(
            bucket,
            json!({"BucketName": bucket, "Mode": "COMPLIANCE", "Years": 1}),
        ))
        .await;
    assert_eq!(raised["Status"], "SUCCESS", "{raised}");
    assert_eq!(raised["Data"]["Years"], 1);
    assert_eq!(raised["Data"]["RetentionPeriod"], "1 year");
    assert_eq!(
        h.retention(bucket).await,
        ("COMPLIANCE".into(), None, Some(1))
    );
    let writes = h.config_writes(bucket);

    // S3 itself lets anyone with s3:PutBucketObjectLockConfiguration change a
    // bucket's default retention; refusing here is this resource's own guard.
    let previous = json!({"BucketName": bucket, "Mode": "COMPLIANCE", "Years": 1});
    let raised_event = create.update(bucket, previous.clone());
    for (properties, says) in [
        (
            json!({"BucketName": bucket, "Mode": "COMPLIANCE", "Days": 30}),
            "shorten it to 30 days",
        ),
        (
            json!({"BucketName": bucket, "Mode": "GOVERNANCE", "Years": 1}),
            "move it to GOVERNANCE",
        ),
        (
            json!({"BucketName": bucket, "Mode": "GOVERNANCE", "Years": 2, "AllowRetentionReduction": false}),
            "move it to GOVERNANCE",
        ),
    ] {
        let refused = h.answer(&raised_event.update(bucket, properties)).await;
        assert_eq!(refused["Status"], "FAILED", "{refused}");
        assert_eq!(
            refused["PhysicalResourceId"], bucket,
            "a failed Update keeps the id"
        );
        let text = reason(&refused);
        assert!(
            text.contains("COMPLIANCE for 1 year")
                && text.contains(says)
                && text.contains("AllowRetentionReduction: true"),
            "the reason says what and names the override: {text}"
        );
    }
    assert_eq!(h.config_writes(bucket), writes, "a refusal writes nothing");
    assert_eq!(
        h.retention(bucket).await,
        ("COMPLIANCE".into(), None, Some(1))
    );

    let allowed = h
        .answer(&raised_event.update(
            bucket,
            json!({"BucketName": bucket, "Mode": "COMPLIANCE", "Days": 7, "AllowRetentionReduction": true}),
        ))
        .await;
    assert_eq!(allowed["Status"], "SUCCESS", "{allowed}");
    assert_eq!(allowed["Data"]["Days"], 7);
    assert_eq!(
        h.retention(bucket).await,
        ("COMPLIANCE".into(), Some(7), None)
    );
    let downgraded = h
        .answer(&raised_event.update(
            bucket,
            json!({"BucketName": bucket, "Mode": "GOVERNANCE", "Days": 7, "AllowRetentionReduction": "true"}),
        ))
        .await;
    assert_eq!(downgraded["Status"], "SUCCESS", "{downgraded}");
    assert_eq!(
        h.retention(bucket).await,
        ("GOVERNANCE".into(), Some(7), None)
    );
    assert_eq!(
        h.versioning(bucket).await,
        Some(BucketVersioningStatus::Enabled),
        "versioning is never suspended"
    );
}

#[tokio::test]
async fn delete_leaves_the_lock_in_place() {
    let h = Harness::moto().await;
    h.bucket("kept-locked", Shape::LockEnabled).await;
    let create = lock(json!({"BucketName": "kept-locked", "Mode": "GOVERNANCE", "Years": 2}));
    assert_eq!(h.answer(&create).await["Status"], "SUCCESS");
    let writes = h.config_writes("kept-locked");

    let deleted = h.answer(&create.delete("kept-locked")).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert_eq!(deleted["PhysicalResourceId"], "kept-locked");
    assert_eq!(
        h.config_writes("kept-locked"),
        writes,
        "Delete writes nothing"
    );
    assert_eq!(
        h.retention("kept-locked").await,
        ("GOVERNANCE".into(), None, Some(2))
    );
    assert_eq!(
        h.versioning("kept-locked").await,
        Some(BucketVersioningStatus::Enabled)
    );
    assert!(
        h.lambda.function_logs().iter().any(|line| line["message"]
            .as_str()
            .is_some_and(|m| m.contains("Object Lock cannot be disabled"))
            && line["retention"] == "GOVERNANCE for 2 years"),
        "the log says what was left in place"
    );

    // The bucket is gone (deleted by hand, or never made): Delete still succeeds.
    let gone = lock(json!({"BucketName": "never-made", "Mode": "GOVERNANCE", "Days": 1}));
    let deleted = h.answer(&gone.delete("never-made")).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
}

#[tokio::test]
async fn bad_input_fails_naming_the_field_and_the_fix() {
    let h = Harness::moto().await;
    h.bucket("target", Shape::Versioned).await;
    h.bucket("suspended", Shape::Suspended).await;
    let cases = [
        (
            json!({"BucketName": "target", "Mode": "COMPLIANCE", "Days": 30, "Years": 1}),
            &["both Days (30) and Years (1)", "remove one"][..],
        ),
        (
            json!({"BucketName": "target", "Mode": "COMPLIANCE"}),
            &["neither Days nor Years", "exactly one of them"],
        ),
        (
            json!({"BucketName": "target", "Mode": "COMPLIANCE", "Days": 0}),
            &["ResourceProperties.Days is 0", "from 1 to 36500"],
        ),
        (
            json!({"BucketName": "target", "Mode": "COMPLIANCE", "Days": -5}),
            &["ResourceProperties.Days is -5", "from 1 to 36500"],
        ),
        (
            json!({"BucketName": "target", "Mode": "COMPLIANCE", "Days": 36501}),
            &[
                "ResourceProperties.Days is 36501",
                "S3's maximum is 36500 days",
            ],
        ),
        (
            json!({"BucketName": "target", "Mode": "COMPLIANCE", "Years": 101}),
            &["ResourceProperties.Years is 101", "from 1 to 100"],
        ),
        (
            json!({"BucketName": "target", "Mode": "Compliance", "Days": 1}),
            &["ResourceProperties.Mode", "`COMPLIANCE` or `GOVERNANCE`"],
        ),
        (
            json!({"BucketName": "no-such-bucket", "Mode": "COMPLIANCE", "Days": 1}),
            &[
                "ResourceProperties.BucketName",
                "`no-such-bucket` does not exist",
                "create it first",
            ],
        ),
        (
            json!({"BucketName": "suspended", "Mode": "COMPLIANCE", "Days": 1}),
            &[
                "ResourceProperties.BucketName",
                "versioning is Suspended",
                "Status=Enabled",
            ],
        ),
    ];
    for (properties, expected) in cases {
        let response = h.answer(&lock(properties.clone())).await;
        assert_eq!(response["Status"], "FAILED", "{properties}: {response}");
        assert!(
            response["PhysicalResourceId"]
                .as_str()
                .is_some_and(|id| id.starts_with(custom_resource::CREATE_FAILED_PREFIX)),
            "a failed Create answers with the marker id: {response}"
        );
        let text = reason(&response);
        for part in expected {
            assert!(
                text.contains(part),
                "{properties}: expected {part:?} in {text:?}"
            );
        }
    }
    for bucket in ["target", "suspended"] {
        assert_eq!(
            h.count("PUT", bucket, "object-lock"),
            0,
            "no Object Lock write on bad input"
        );
    }
    assert_eq!(
        h.versioning("suspended").await,
        Some(BucketVersioningStatus::Suspended),
        "a suspended bucket is left as its owner set it"
    );
    assert_eq!(
        h.count("PUT", "suspended", "versioning"),
        1,
        "only the test's own suspension"
    );
}

/// Seconds from now until `date`.
fn seconds_until(date: &DateTime) -> i64 {
    date.secs() - DateTime::from(SystemTime::now()).secs()
}

async fn object_retention(
    h: &Harness,
    bucket: &str,
    key: &str,
    version: &str,
) -> Option<ObjectLockRetention> {
    h.s3.get_object_retention()
        .bucket(bucket)
        .key(key)
        .version_id(version)
        .send()
        .await
        .ok()
        .and_then(|output| output.retention().cloned())
}

#[tokio::test]
async fn localstack_locks_an_existing_bucket_that_already_holds_objects() {
    // moto refuses this (a bucket with objects); S3, and LocalStack, allow it.
    let h = Harness::localstack().await;
    h.bucket("legacy-datasets", Shape::Plain).await;
    h.s3.put_object()
        .bucket("legacy-datasets")
        .key("before.csv")
        .body(b"a,b\n".to_vec().into())
        .send()
        .await
        .expect("an object written before the lock");

    let created = h
        .answer(&lock(
            json!({"BucketName": "legacy-datasets", "Mode": "COMPLIANCE", "Days": 2}),
        ))
        .await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(created["Data"]["EnabledVersioning"], true);
    assert_eq!(
        h.versioning("legacy-datasets").await,
        Some(BucketVersioningStatus::Enabled)
    );
    assert_eq!(
        h.retention("legacy-datasets").await,
        ("COMPLIANCE".into(), Some(2), None)
    );

    // A new object version gets the default retention: COMPLIANCE until two
    // days from now (moto's GetObjectRetention cannot show this).
    let version = h.put("legacy-datasets", "after.csv", b"c,d\n").await;
    let retention = object_retention(&h, "legacy-datasets", "after.csv", &version)
        .await
        .expect("the new version has a retention");
    assert_eq!(retention.mode(), Some(&ObjectLockRetentionMode::Compliance));
    let left = seconds_until(retention.retain_until_date().expect("a retain-until date"));
    let two_days = 2 * 24 * 3600;
    assert!(
        (two_days - 300..=two_days + 300).contains(&left),
        "retained for {left} s, expected about {two_days} s"
    );
    assert_eq!(
        h.delete_version("legacy-datasets", "after.csv", &version)
            .await
            .as_deref(),
        Some("AccessDenied")
    );
    // Default retention applies to objects written from now on; S3 does not
    // lock what was already there.
    let before =
        h.s3.head_object()
            .bucket("legacy-datasets")
            .key("before.csv")
            .send()
            .await
            .expect("the old object is still there");
    assert_eq!(before.object_lock_mode(), None);

    // The repeat answers the same without a new write (LocalStack keeps no
    // request log to count; the data and the unchanged state show it).
    let again = h
        .answer(&lock(
            json!({"BucketName": "legacy-datasets", "Mode": "COMPLIANCE", "Days": 2}),
        ))
        .await;
    assert_eq!(again["Status"], "SUCCESS", "{again}");
    assert_eq!(again["Data"]["EnabledVersioning"], false);
}

#[tokio::test]
async fn localstack_compliance_retention_cannot_be_shortened() {
    let h = Harness::localstack().await;
    let bucket = "compliance-vault";
    h.bucket(bucket, Shape::LockEnabled).await;
    let create = lock(json!({"BucketName": bucket, "Mode": "COMPLIANCE", "Days": 3}));
    assert_eq!(h.answer(&create).await["Status"], "SUCCESS");
    let version = h.put(bucket, "model.safetensors", b"weights").await;
    let locked = object_retention(&h, bucket, "model.safetensors", &version)
        .await
        .expect("a retention");
    let until = *locked.retain_until_date().expect("a retain-until date");

    // S3 itself refuses to shorten a COMPLIANCE version's retention (moto
    // accepts this, which is why it is tried here).
    let shorter = DateTime::from_secs(DateTime::from(SystemTime::now()).secs() + 3600);
    let refused =
        h.s3.put_object_retention()
            .bucket(bucket)
            .key("model.safetensors")
            .version_id(&version)
            .retention(
                ObjectLockRetention::builder()
                    .mode(ObjectLockRetentionMode::Compliance)
                    .retain_until_date(shorter)
                    .build(),
            )
            .send()
            .await
            .err()
            .map(|err| err.code().unwrap_or("(no code)").to_owned());
    assert_eq!(refused.as_deref(), Some("AccessDenied"));

    // The bucket's *default* is another matter: S3 lets it be shortened, so
    // the resource is the guard there.
    let refused = h
        .answer(&create.update(
            bucket,
            json!({"BucketName": bucket, "Mode": "COMPLIANCE", "Days": 1}),
        ))
        .await;
    assert_eq!(refused["Status"], "FAILED", "{refused}");
    assert!(
        reason(&refused).contains("AllowRetentionReduction: true"),
        "{refused}"
    );
    assert_eq!(
        h.retention(bucket).await,
        ("COMPLIANCE".into(), Some(3), None)
    );

    let allowed = h
        .answer(&create.update(
            bucket,
            json!({"BucketName": bucket, "Mode": "COMPLIANCE", "Days": 1, "AllowRetentionReduction": true}),
        ))
        .await;
    assert_eq!(allowed["Status"], "SUCCESS", "{allowed}");
    assert_eq!(
        h.retention(bucket).await,
        ("COMPLIANCE".into(), Some(1), None)
    );
    // As the refusal's reason says: what was written keeps its own date.
    let kept = object_retention(&h, bucket, "model.safetensors", &version)
        .await
        .expect("still a retention");
    assert_eq!(kept.retain_until_date(), Some(&until));
    assert_eq!(kept.mode(), Some(&ObjectLockRetentionMode::Compliance));
}
