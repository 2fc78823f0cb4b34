//! The lifecycle and the converge loop against an in-memory S3 that can
//! lag, render principals its own way, and lose updates to other writers.

use super::*;
use crate::naming::MANAGED_SID_PREFIX;
use custom_resource::properties::parse;
use custom_resource::RequestType;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

const STACK: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/vault/8a1b2c3d-0000-4000-8000-000000000001";
const OAI_ARN: &str =
    "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E74FTE3AJFJ256A";
const FOREIGN: &str = r#"{"Sid":"AllowAnalytics","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/analytics"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data-bucket/reports/*"}"#;

const FAST: Pacing = Pacing {
    settle: Duration::from_millis(40),
    poll: Duration::from_millis(5),
    max_writes: 10,
    expected_wait: Duration::from_millis(200),
    principal_wait: Duration::from_millis(500),
};

#[derive(Default)]
struct FakeS3 {
    buckets: Mutex<BTreeSet<String>>,
    policies: Mutex<BTreeMap<String, String>>,
    puts: AtomicU32,
    deletes: AtomicU32,
    /// How S3 hands a stored policy back.
    render: Option<fn(&str) -> String>,
    /// What another writer stores right after each of our next writes.
    clobber: Mutex<VecDeque<String>>,
    /// The most a call may take; a read returns what was there when it began.
    latency: Duration,
    /// Errors (code, message) S3 answers our next PUTs with, one each.
    refuse_puts: Mutex<VecDeque<(&'static str, &'static str)>>,
    /// How many of our next reads see no policy (a stale read).
    stale_reads: AtomicU32,
}

impl FakeS3 {
    fn with_bucket(name: &str) -> FakeS3 {
        let s3 = FakeS3::default();
        s3.add_bucket(name);
        s3
    }

    fn add_bucket(&self, name: &str) {
        self.buckets.lock().unwrap().insert(name.to_owned());
    }

    fn policy(&self, bucket: &str) -> Option<String> {
        self.policies.lock().unwrap().get(bucket).cloned()
    }

    fn set_policy(&self, bucket: &str, text: &str) {
        self.policies
            .lock()
            .unwrap()
            .insert(bucket.to_owned(), text.to_owned());
    }

    fn writes(&self) -> u32 {
        self.puts.load(Ordering::SeqCst) + self.deletes.load(Ordering::SeqCst)
    }

    fn check(&self, operation: &'static str, bucket: &BucketRef) -> Result<(), S3Error> {
        if self.buckets.lock().unwrap().contains(&bucket.name) {
            return Ok(());
        }
        Err(S3Error {
            operation,
            bucket: Box::new(bucket.clone()),
            code: Some("NoSuchBucket".into()),
            message: "The specified bucket does not exist".into(),
        })
    }

    async fn lag(&self) {
        tokio::time::sleep(jittered(self.latency)).await;
    }
}

#[derive(Clone)]
struct Shared(Arc<FakeS3>);

impl PolicyStore for Shared {
    async fn get(&self, bucket: &BucketRef) -> Result<Option<String>, S3Error> {
        self.0.check("GetBucketPolicy", bucket)?;
        let stale = self
            .0
            .stale_reads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let policy = self.0.policy(&bucket.name).filter(|_| !stale);
        self.0.lag().await;
        Ok(match (policy, self.0.render) {
            (Some(text), Some(render)) => Some(render(&text)),
            (policy, _) => policy,
        })
    }

    async fn put(&self, bucket: &BucketRef, policy: &str) -> Result<(), S3Error> {
        self.0.lag().await;
        self.0.check("PutBucketPolicy", bucket)?;
        if let Some((code, message)) = self.0.refuse_puts.lock().unwrap().pop_front() {
            return Err(S3Error {
                operation: "PutBucketPolicy",
                bucket: Box::new(bucket.clone()),
                code: Some(code.into()),
                message: message.into(),
            });
        }
        self.0.puts.fetch_add(1, Ordering::SeqCst);
        let stored = self.0.clobber.lock().unwrap().pop_front();
        self.0
            .set_policy(&bucket.name, stored.as_deref().unwrap_or(policy));
        Ok(())
    }

    async fn delete(&self, bucket: &BucketRef) -> Result<(), S3Error> {
        self.0.lag().await;
        self.0.check("DeleteBucketPolicy", bucket)?;
        self.0.deletes.fetch_add(1, Ordering::SeqCst);
        self.0.policies.lock().unwrap().remove(&bucket.name);
        Ok(())
    }
}

fn resource(s3: &Arc<FakeS3>) -> OriginBucketPolicy<Shared> {
    OriginBucketPolicy::new(Shared(Arc::clone(s3)), FAST)
}

fn request(request_type: RequestType, logical_id: &str) -> Request {
    Request {
        request_type,
        stack_id: STACK.into(),
        request_id: "req".into(),
        logical_resource_id: logical_id.into(),
        resource_type: "Custom::OriginBucketPolicy".into(),
    }
}

fn properties(value: Value) -> Properties {
    parse(&value, "ResourceProperties").unwrap()
}

fn oai(bucket: &str) -> Properties {
    properties(
        json!({"BucketName": bucket, "Mode": "OAI", "OriginAccessIdentityId": "E74FTE3AJFJ256A"}),
    )
}

fn oac(bucket: &str) -> Properties {
    properties(json!({"BucketName": bucket, "Mode": "OAC", "DistributionId": "EDFDVBD6EXAMPLE"}))
}

fn statements(text: &str) -> Vec<Value> {
    let document: Value = serde_json::from_str(text).unwrap();
    document["Statement"].as_array().unwrap().clone()
}

fn sids_of(text: &str) -> Vec<String> {
    statements(text)
        .iter()
        .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
        .collect()
}

async fn create(
    resource: &OriginBucketPolicy<Shared>,
    logical_id: &str,
    properties: Properties,
) -> Success {
    resource
        .create(&request(RequestType::Create, logical_id), properties)
        .await
        .unwrap()
}

#[tokio::test]
async fn create_reports_the_sids_and_principal_and_a_repeat_writes_nothing() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    s3.set_policy(
        "data-bucket",
        &format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#),
    );
    let resource = resource(&s3);
    let created = create(&resource, "Origin", oai("data-bucket")).await;
    assert_eq!(
        created.physical_id,
        naming::physical_id(STACK, "Origin", "data-bucket")
    );
    assert_eq!(s3.writes(), 1);
    let policy = s3.policy("data-bucket").unwrap();
    assert!(policy.contains(FOREIGN));
    let sids = created.data["Sids"].as_str().unwrap();
    assert_eq!(sids.split(',').collect::<Vec<_>>(), sids_of(&policy)[1..]);
    assert_eq!(
        created.data["Principal"],
        json!({"AWS": OAI_ARN}).to_string()
    );
    assert_eq!(created.data["Mode"], "OAI");
    assert_eq!(created.data["SourceArn"], "");
    assert!(created.data["TlsDenySid"]
        .as_str()
        .unwrap()
        .ends_with("DenyInsecureTransport"));

    let again = create(&resource, "Origin", oai("data-bucket")).await;
    assert_eq!(again, created);
    assert_eq!(s3.writes(), 1, "a repeated Create makes no write");
}

#[tokio::test]
async fn a_principal_s3_renders_differently_causes_no_rewrite_loop() {
    fn as_canonical_user(text: &str) -> String {
        text.replace(
            &json!({"AWS": OAI_ARN}).to_string(),
            r#"{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#,
        )
    }
    let s3 = Arc::new(FakeS3 {
        render: Some(as_canonical_user),
        ..FakeS3::with_bucket("data-bucket")
    });
    let resource = resource(&s3);
    let created = create(&resource, "Origin", oai("data-bucket")).await;
    assert_eq!(
        s3.writes(),
        1,
        "the CanonicalUser read-back is the grant just written"
    );
    assert!(
        created.data["Principal"]
            .as_str()
            .unwrap()
            .contains("CanonicalUser"),
        "Data shows what S3 holds"
    );
    create(&resource, "Origin", oai("data-bucket")).await;
    assert_eq!(s3.writes(), 1);
    // A different identity is a real change, whatever the rendering.
    let other = properties(
        json!({"BucketName": "data-bucket", "Mode": "OAI", "OriginAccessIdentityId": "E2QWRUHAPOMQZL"}),
    );
    resource
        .update(
            &request(RequestType::Update, "Origin"),
            &created.physical_id,
            other,
            None,
        )
        .await
        .unwrap();
    assert_eq!(s3.writes(), 2);
}

#[tokio::test]
async fn a_lost_update_is_merged_again() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    // Another writer read the empty bucket before our write and stores its own
    // statement right after it, dropping ours.
    let theirs = format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#);
    s3.clobber.lock().unwrap().push_back(theirs);
    let resource = resource(&s3);
    let created = create(&resource, "Origin", oac("data-bucket")).await;
    assert_eq!(
        s3.puts.load(Ordering::SeqCst),
        2,
        "written, lost, written again"
    );
    let policy = s3.policy("data-bucket").unwrap();
    assert!(
        policy.contains(FOREIGN),
        "the other writer's statement is kept"
    );
    for sid in created.data["Sids"].as_str().unwrap().split(',') {
        assert!(policy.contains(sid), "{sid} in {policy}");
    }
}

#[tokio::test]
async fn a_writer_that_never_stops_is_reported() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    let theirs = format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#);
    s3.clobber
        .lock()
        .unwrap()
        .extend(std::iter::repeat_n(theirs, 20));
    let err = resource(&s3)
        .create(&request(RequestType::Create, "Origin"), oai("data-bucket"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did not settle after 10 writes"), "{err}");
    assert!(err.contains("AWS::S3::BucketPolicy"), "{err}");
    assert_eq!(s3.puts.load(Ordering::SeqCst), 10, "bounded");
}

// Paused time: the simulated latency and the settle are measured on tokio's
// clock, so a stall of this test's thread cannot open a gap between another
// writer's read and its write that real S3 latency would not.
#[tokio::test(start_paused = true)]
async fn eight_concurrent_writers_all_end_up_in_the_policy() {
    let s3 = Arc::new(FakeS3 {
        latency: Duration::from_millis(15),
        ..FakeS3::with_bucket("data-bucket")
    });
    s3.set_policy(
        "data-bucket",
        &format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#),
    );
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let resource = resource(&s3);
            let properties = if i % 2 == 0 {
                oai("data-bucket")
            } else {
                oac("data-bucket")
            };
            tokio::spawn(async move {
                resource
                    .create(
                        &request(RequestType::Create, &format!("Origin{i}")),
                        properties,
                    )
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut wanted = Vec::new();
    for task in tasks {
        let created = task.await.unwrap().unwrap();
        wanted.extend(
            created.data["Sids"]
                .as_str()
                .unwrap()
                .split(',')
                .map(str::to_owned),
        );
    }
    let policy = s3.policy("data-bucket").unwrap();
    let present = sids_of(&policy);
    assert_eq!(wanted.len(), 16, "a grant and a TLS deny each");
    for sid in &wanted {
        assert!(present.contains(sid), "{sid} missing from {policy}");
    }
    assert!(policy.contains(FOREIGN));
    assert_eq!(
        present.len(),
        17,
        "nothing else, nothing twice: {present:?}"
    );
    assert!(s3.puts.load(Ordering::SeqCst) >= 8);
}

/// Another writer's statement, in what it writes from its older read.
const THEIRS: &str = r#"{"Sid":"AllowAudit","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/audit"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data-bucket/audit/*"}"#;

// Paused time, as above: the stale write lands at a chosen moment of the
// guard's settle period, not wherever a loaded machine's scheduler puts it.
#[tokio::test(start_paused = true)]
async fn a_stale_write_landing_after_the_answer_is_repaired_by_the_guard() {
    let s3 = Arc::new(FakeS3 {
        latency: Duration::from_millis(15),
        ..FakeS3::with_bucket("data-bucket")
    });
    let before = format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#);
    s3.set_policy("data-bucket", &before);
    let resource = OriginBucketPolicy::new(Shared(Arc::clone(&s3)), Pacing::DEFAULT);
    let answered = resource
        .create_guarded(&request(RequestType::Create, "Origin"), oac("data-bucket"))
        .await
        .unwrap();
    let sids: Vec<String> = answered.outcome.data["Sids"]
        .as_str()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(
        s3.puts.load(Ordering::SeqCst),
        1,
        "answered after one write"
    );
    let at_answer = sids_of(&s3.policy("data-bucket").unwrap());
    assert!(
        sids.iter().all(|sid| at_answer.contains(sid)),
        "in place when answered"
    );
    let guard = answered.guard.expect("a Create that wrote leaves a guard");

    // The runner runs the guard once SUCCESS is out. Meanwhile another writer,
    // which read the policy before our write, stores its merge of that read.
    let guarding = tokio::spawn(guard.finish());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stale = format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN},{THEIRS}]}}"#);
    s3.set_policy("data-bucket", &stale);
    let summary = guarding.await.unwrap().unwrap();

    let policy = s3.policy("data-bucket").unwrap();
    let present = sids_of(&policy);
    for sid in &sids {
        assert!(present.contains(sid), "{sid} not repaired: {policy}");
    }
    assert!(
        policy.contains(FOREIGN) && policy.contains(THEIRS),
        "{policy}"
    );
    assert_eq!(
        s3.puts.load(Ordering::SeqCst),
        2,
        "merged once more: {summary}"
    );
    assert!(summary.contains("1 write(s) after the answer"), "{summary}");
}

#[tokio::test(start_paused = true)]
async fn a_stale_write_bringing_back_deleted_statements_is_undone_by_the_guard() {
    let s3 = Arc::new(FakeS3 {
        latency: Duration::from_millis(15),
        ..FakeS3::with_bucket("data-bucket")
    });
    s3.set_policy(
        "data-bucket",
        &format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#),
    );
    let resource = OriginBucketPolicy::new(Shared(Arc::clone(&s3)), Pacing::DEFAULT);
    let created = create(&resource, "Origin", oai("data-bucket")).await;
    let with_ours = s3.policy("data-bucket").unwrap();
    let answered = resource
        .delete_guarded(
            &request(RequestType::Delete, "Origin"),
            &created.physical_id,
            oai("data-bucket"),
        )
        .await
        .unwrap();
    assert_eq!(answered.outcome, Deletion::Deleted);
    assert!(!s3.policy("data-bucket").unwrap().contains(OAI_ARN));
    let guarding = tokio::spawn(answered.guard.expect("a guard").finish());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A writer that read the policy while ours were still in it.
    let stale = with_ours.replacen(FOREIGN, &format!("{FOREIGN},{THEIRS}"), 1);
    s3.set_policy("data-bucket", &stale);
    guarding.await.unwrap().unwrap();
    let policy = s3.policy("data-bucket").unwrap();
    assert!(!policy.contains(OAI_ARN), "ours came back: {policy}");
    assert!(
        policy.contains(FOREIGN) && policy.contains(THEIRS),
        "{policy}"
    );
}

// Once answered, CloudFormation may send the resource's next event (a
// rollback's Delete) to another instance while this one still guards.
#[tokio::test(start_paused = true)]
async fn the_guard_does_not_undo_the_same_resources_next_event() {
    let s3 = Arc::new(FakeS3 {
        latency: Duration::from_millis(15),
        ..FakeS3::with_bucket("data-bucket")
    });
    s3.set_policy(
        "data-bucket",
        &format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#),
    );
    let first = OriginBucketPolicy::new(Shared(Arc::clone(&s3)), Pacing::DEFAULT);
    let answered = first
        .create_guarded(&request(RequestType::Create, "Origin"), oai("data-bucket"))
        .await
        .unwrap();
    let physical_id = answered.outcome.physical_id.clone();
    let guarding = tokio::spawn(answered.guard.expect("a guard").finish());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let second = OriginBucketPolicy::new(Shared(Arc::clone(&s3)), Pacing::DEFAULT);
    let deleted = second
        .delete(
            &request(RequestType::Delete, "Origin"),
            &physical_id,
            oai("data-bucket"),
        )
        .await
        .unwrap();
    assert_eq!(deleted, Deletion::Deleted);
    let summary = guarding.await.unwrap().unwrap();
    assert!(summary.contains("next event took over"), "{summary}");
    let policy = s3.policy("data-bucket").unwrap();
    assert!(
        !policy.contains(OAI_ARN),
        "the Create's guard put it back: {policy}"
    );
    assert_eq!(s3.puts.load(Ordering::SeqCst), 2, "one write each");
}

#[tokio::test]
async fn update_rewrites_in_place_and_a_new_bucket_is_a_replacement() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    s3.add_bucket("new-bucket");
    let resource = resource(&s3);
    let created = create(&resource, "Origin", oai("data-bucket")).await;
    let update = request(RequestType::Update, "Origin");

    let migrated = resource
        .update(
            &update,
            &created.physical_id,
            oac("data-bucket"),
            Some(oai("data-bucket")),
        )
        .await
        .unwrap();
    assert_eq!(
        migrated.physical_id, created.physical_id,
        "OAI to OAC is in place"
    );
    let policy = s3.policy("data-bucket").unwrap();
    assert!(!policy.contains(OAI_ARN), "{policy}");
    assert_eq!(statements(&policy).len(), 2);
    assert_eq!(migrated.data["Mode"], "OAC");
    assert_eq!(
        migrated.data["SourceArn"],
        "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"
    );

    let replaced = resource
        .update(
            &update,
            &created.physical_id,
            oac("new-bucket"),
            Some(oac("data-bucket")),
        )
        .await
        .unwrap();
    assert_ne!(replaced.physical_id, created.physical_id);
    assert_eq!(naming::bucket_of(&replaced.physical_id), Some("new-bucket"));
    let new_policy = s3.policy("new-bucket").unwrap();
    assert_eq!(
        s3.policy("data-bucket").unwrap(),
        policy,
        "the old bucket waits for the old Delete"
    );

    // CloudFormation's later Delete of the old id, carrying the old properties.
    let deleted = resource
        .delete(
            &request(RequestType::Delete, "Origin"),
            &created.physical_id,
            oac("data-bucket"),
        )
        .await
        .unwrap();
    assert_eq!(deleted, Deletion::Deleted);
    assert_eq!(
        s3.policy("data-bucket"),
        None,
        "nothing else was there: policy deleted"
    );
    assert_eq!(s3.policy("new-bucket").unwrap(), new_policy);
}

#[tokio::test]
async fn delete_removes_only_its_own_sids_even_with_the_new_properties() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    s3.set_policy(
        "data-bucket",
        &format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#),
    );
    let resource = resource(&s3);
    let first = create(&resource, "First", oai("data-bucket")).await;
    let second = create(&resource, "Second", oac("data-bucket")).await;
    let before = sids_of(&s3.policy("data-bucket").unwrap());
    assert_eq!(before.len(), 5);

    let delete = request(RequestType::Delete, "First");
    // Whatever the properties say, the id decides which statements go.
    let deleted = resource
        .delete(&delete, &first.physical_id, oac("other-bucket"))
        .await
        .unwrap();
    assert_eq!(deleted, Deletion::Deleted);
    let after = s3.policy("data-bucket").unwrap();
    assert!(after.contains(FOREIGN));
    let expected: Vec<String> = std::iter::once("AllowAnalytics".to_owned())
        .chain(
            second.data["Sids"]
                .as_str()
                .unwrap()
                .split(',')
                .map(str::to_owned),
        )
        .collect();
    assert_eq!(sids_of(&after), expected);
    assert!(
        sids_of(&after)
            .iter()
            .filter(|s| s.starts_with(MANAGED_SID_PREFIX))
            .count()
            == 2
    );

    let writes = s3.writes();
    let again = resource
        .delete(&delete, &first.physical_id, oai("data-bucket"))
        .await
        .unwrap();
    assert_eq!(again, Deletion::AlreadyGone);
    assert_eq!(s3.writes(), writes, "a repeated Delete writes nothing");
}

#[tokio::test]
async fn delete_succeeds_when_the_policy_or_the_bucket_is_gone() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    let resource = resource(&s3);
    let created = create(&resource, "Origin", oai("data-bucket")).await;
    s3.policies.lock().unwrap().clear();
    let delete = request(RequestType::Delete, "Origin");
    let gone = resource
        .delete(&delete, &created.physical_id, oai("data-bucket"))
        .await
        .unwrap();
    assert_eq!(gone, Deletion::AlreadyGone);
    s3.buckets.lock().unwrap().clear();
    let gone = resource
        .delete(&delete, &created.physical_id, oai("data-bucket"))
        .await
        .unwrap();
    assert_eq!(gone, Deletion::AlreadyGone);
    assert_eq!(s3.deletes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn failures_say_what_to_fix_and_change_nothing() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    let resource = resource(&s3);
    let create_request = request(RequestType::Create, "Origin");

    let err = resource
        .create(&create_request, oai("missing-bucket"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`missing-bucket`")
            && err.contains("NoSuchBucket")
            && err.contains("create the bucket first"),
        "{err}"
    );

    s3.set_policy("data-bucket", "{\"Statement\": oops");
    let err = resource
        .create(&create_request, oai("data-bucket"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("bucket `data-bucket`: the bucket's existing policy cannot be merged into: it is not JSON"), "{err}");
    assert!(err.ends_with("Nothing was changed"), "{err}");

    let public = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data-bucket/*"}]}"#;
    s3.set_policy("data-bucket", public);
    let err = resource
        .create(&create_request, oai("data-bucket"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Sid `PublicRead`") && err.contains("AllowExistingPublicStatements"),
        "{err}"
    );
    assert_eq!(s3.writes(), 0);
    assert_eq!(s3.policy("data-bucket").as_deref(), Some(public));

    let bad_stack = Request {
        stack_id: "not-an-arn".into(),
        ..create_request
    };
    let err = resource
        .create(&bad_stack, oai("data-bucket"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("StackId `not-an-arn`"), "{err}");
}

const INVALID_PRINCIPAL: (&str, &str) = ("MalformedPolicy", "Invalid principal in policy");
const TLS_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyTlsOlderThan12","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::data-bucket","arn:aws:s3:::data-bucket/*"],"Condition":{"NumericLessThan":{"s3:TlsVersion":"1.2"}}}]}"#;

fn expecting_tls(mut properties: Properties) -> Properties {
    properties.expected_sids = Some(vec!["DenyTlsOlderThan12".into()]);
    properties
}

#[tokio::test]
async fn an_identity_s3_does_not_accept_yet_is_retried_until_it_does() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    s3.refuse_puts
        .lock()
        .unwrap()
        .extend([INVALID_PRINCIPAL; 3]);
    let created = create(&resource(&s3), "Origin", oai("data-bucket")).await;
    assert_eq!(s3.puts.load(Ordering::SeqCst), 1);
    let policy = s3.policy("data-bucket").unwrap();
    assert!(policy.contains(OAI_ARN), "{policy}");
    assert_eq!(created.data["Mode"], "OAI");
}

#[tokio::test]
async fn other_refusals_and_an_identity_that_never_becomes_valid_are_final() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    let resource = resource(&s3);
    let create_request = request(RequestType::Create, "Origin");
    // Any other MalformedPolicy, and the same refusal in OAC mode (the
    // CloudFront service principal is always valid), fail at once.
    for (properties, refusal) in [
        (
            oai("data-bucket"),
            ("MalformedPolicy", "Policy has invalid resource"),
        ),
        (oac("data-bucket"), INVALID_PRINCIPAL),
    ] {
        s3.refuse_puts.lock().unwrap().extend([refusal; 2]);
        let err = resource
            .create(&create_request, properties)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(refusal.1), "{err}");
        assert_eq!(s3.refuse_puts.lock().unwrap().len(), 1, "{err}");
        s3.refuse_puts.lock().unwrap().clear();
    }
    s3.refuse_puts
        .lock()
        .unwrap()
        .extend([INVALID_PRINCIPAL; 1000]);
    let err = resource
        .create(&create_request, oai("data-bucket"))
        .await
        .unwrap_err();
    // As the FAILED Reason shows it: with S3's own words.
    let err = custom_resource::error_chain(err.as_ref());
    assert!(
        err.contains("still refused the origin access identity")
            && err.contains("OriginAccessIdentityId")
            && err.contains("Invalid principal in policy"),
        "{err}"
    );
    assert_eq!(s3.writes(), 0);
}

#[tokio::test]
async fn a_stale_read_without_the_expected_statements_is_never_written_back() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    s3.set_policy("data-bucket", TLS_POLICY);
    s3.stale_reads.store(2, Ordering::SeqCst);
    create(&resource(&s3), "Origin", expecting_tls(oai("data-bucket"))).await;
    let policy = s3.policy("data-bucket").unwrap();
    assert!(
        sids_of(&policy).contains(&"DenyTlsOlderThan12".to_owned()),
        "{policy}"
    );
    assert!(policy.contains(OAI_ARN), "{policy}");
    assert_eq!(s3.puts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn expected_statements_that_never_appear_fail_a_create_but_not_a_delete() {
    let s3 = Arc::new(FakeS3::with_bucket("data-bucket"));
    let resource = resource(&s3);
    let err = resource
        .create(
            &request(RequestType::Create, "Origin"),
            expecting_tls(oai("data-bucket")),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("still lacks DenyTlsOlderThan12") && err.contains("ExpectedSids"),
        "{err}"
    );
    assert_eq!(s3.writes(), 0);

    let created = create(&resource, "Origin", oai("data-bucket")).await;
    let deleted = resource
        .delete(
            &request(RequestType::Delete, "Origin"),
            &created.physical_id,
            expecting_tls(oai("data-bucket")),
        )
        .await
        .unwrap();
    assert_eq!(deleted, Deletion::Deleted);
    assert_eq!(s3.policy("data-bucket"), None);
}
