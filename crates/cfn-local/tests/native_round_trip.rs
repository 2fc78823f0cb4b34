//! Each registered native type's round trip against a real moto server:
//! create with the properties the real template gives it (intrinsics
//! resolved), read back, update where CloudFormation updates in place,
//! delete, read back gone, delete again.
//!
//! nextest runs each test in a process of its own, so each starts its own
//! moto (a few seconds) rather than sharing one.

use std::path::{Path, PathBuf};

use cfn_local::native::{self, Made, REGISTERED};
use cfn_local::template::Resource;
use cfn_local::{Clients, Error, Moto, ACCOUNT, REGION};
use serde_json::{json, Value};

const STACK: &str = "vaultfront-rt";

/// A throwaway RSA-2048 public key (its private half was discarded).
const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApeegjOT8lf1l70N1zGNu
tIKqhmScmziBvHIrG8uOmMecv0uLlyJpo0TtT/++3vlbZMkW2qxP/+qwrYu41dW8
VgU86fWzdqg0maP5RIEXyOtBLJzPToynB/JCXYWqJdQj9sAjBFWUi03gRh3ux9vH
hBJK2lqLsdXDoLTHPbdh1hNKQMsfKlHhmmugtUOmrOstxnhP8Emf70cFeTIDPdqI
/N/FK0P0k3QAVJKmuBgC6p3xT61IzDBB08AN8xnQPLKZuSyYM/MIP2DBh49qRYSm
avcFRpqTPKwL/yWL0KRgxBlNXa5AzUuKC/dk5k3x27HBOvzt7vEIYSOCuI8oweoY
PwIDAQAB
-----END PUBLIC KEY-----
";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One moto server and clients for it; moto stops when this drops.
struct Emulator {
    clients: Clients,
    _moto: Moto,
}

impl Emulator {
    async fn start(test: &str) -> Emulator {
        let tools = std::env::var_os("VAULTFRONT_TOOLS")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/vaultfront")))
            .expect("VAULTFRONT_TOOLS or HOME is set");
        let python = tools.join("venv/bin/python");
        assert!(
            python.is_file(),
            "{} is missing; run scripts/setup",
            python.display()
        );
        let root = workspace_root();
        let logs = root.join("target/test-logs");
        std::fs::create_dir_all(&logs).expect("target/test-logs can be made");
        let log = logs.join(format!("native-round-trip-{test}-moto.log"));
        let moto = Moto::start(&python, &root, &log).expect("moto starts");
        let clients = Clients::for_endpoint(&moto.endpoint()).await;
        Emulator {
            clients,
            _moto: moto,
        }
    }

    async fn create(&self, kind: &str, logical_id: &str, properties: Value) -> Made {
        self.create_with(kind, logical_id, properties, Value::Null)
            .await
    }

    /// A create of a resource whose template entry has `metadata`.
    async fn create_with(
        &self,
        kind: &str,
        logical_id: &str,
        properties: Value,
        metadata: Value,
    ) -> Made {
        let resource = Resource {
            logical_id: logical_id.to_owned(),
            kind: kind.to_owned(),
            properties: properties.clone(),
            depends_on: Vec::new(),
            condition: None,
            deletion_policy: None,
            metadata,
        };
        native::create(&self.clients, STACK, &resource, &properties)
            .await
            .unwrap_or_else(|e| panic!("creating {logical_id} ({kind}): {e}"))
    }

    async fn read(&self, kind: &str, physical_id: &str) -> Option<Value> {
        native::read(&self.clients, kind, physical_id)
            .await
            .unwrap_or_else(|e| panic!("reading {kind} {physical_id}: {e}"))
    }

    async fn update(
        &self,
        kind: &str,
        physical_id: &str,
        before: &Value,
        after: &Value,
    ) -> Result<(), Error> {
        native::update(&self.clients, kind, physical_id, before, after).await
    }

    /// Delete, see it gone, and delete again: gone already is deleted.
    async fn delete_until_gone(&self, kind: &str, physical_id: &str) {
        native::delete(&self.clients, kind, physical_id)
            .await
            .unwrap_or_else(|e| panic!("deleting {kind} {physical_id}: {e}"));
        assert_eq!(
            self.read(kind, physical_id).await,
            None,
            "{kind} {physical_id} is still in moto after its delete"
        );
        self.delete_again(kind, physical_id).await;
    }

    async fn delete_again(&self, kind: &str, physical_id: &str) {
        native::delete(&self.clients, kind, physical_id)
            .await
            .unwrap_or_else(|e| panic!("deleting {kind} {physical_id} a second time: {e}"));
    }
}

/// A change CloudFormation makes by replacement is refused, naming the
/// resource and the way out.
fn assert_refused(result: Result<(), Error>, kind: &str, physical_id: &str) {
    match result {
        Err(Error::Unsupported(text)) => assert_eq!(
            text,
            format!(
                "changing the properties of {kind} {physical_id}; run `scripts/deploy --local --destroy` and deploy again"
            )
        ),
        other => panic!("{kind} {physical_id}: a replacement was not refused: {other:?}"),
    }
}

fn attribute<'a>(made: &'a Made, name: &str) -> &'a str {
    made.attributes
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {name} attribute in {:?}", made.attributes))
}

/// The log bucket's properties in the template (retention 90 days).
fn log_bucket_properties() -> Value {
    json!({
        "VersioningConfiguration": {"Status": "Enabled"},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": true, "BlockPublicPolicy": true,
            "IgnorePublicAcls": true, "RestrictPublicBuckets": true
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
        "LifecycleConfiguration": {"Rules": [{
            "Id": "ExpireLogs", "Status": "Enabled", "ExpirationInDays": "90",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}
        }]}
    })
}

/// The log bucket and its policy, which lets S3 server access logging
/// write to it: S3 (moto too) refuses a logging target without the grant.
async fn log_bucket(moto: &Emulator) -> Made {
    let logs = moto
        .create("AWS::S3::Bucket", "LogBucket", log_bucket_properties())
        .await;
    let arn = attribute(&logs, "Arn");
    moto.create(
        "AWS::S3::BucketPolicy",
        "LogBucketPolicy",
        json!({"Bucket": logs.physical_id, "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": format!("{arn}/s3-access/*"),
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
        }]}}),
    )
    .await;
    logs
}

fn data_bucket_properties(log_bucket: &str) -> Value {
    json!({
        "ObjectLockEnabled": true,
        "VersioningConfiguration": {"Status": "Enabled"},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": true, "BlockPublicPolicy": true,
            "IgnorePublicAcls": true, "RestrictPublicBuckets": true
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "LoggingConfiguration": {"DestinationBucketName": log_bucket, "LogFilePrefix": "s3-access/"},
        "LifecycleConfiguration": {"Rules": [{
            "Id": "AbortIncompleteMultipartUploads", "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}
        }]}
    })
}

fn origin_access_control_properties(name: &str) -> Value {
    json!({"OriginAccessControlConfig": {
        "Name": name,
        "Description": format!("CloudFront to {STACK}'s data bucket"),
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4"
    }})
}

fn public_key_properties() -> Value {
    json!({"PublicKeyConfig": {
        "Name": "vaultfront-0a1b2c3d-1",
        "CallerReference": "0a1b2c3d-1",
        "Comment": STACK,
        "EncodedKey": PUBLIC_KEY
    }})
}

fn role_properties(service: &str, policies: Value) -> Value {
    json!({
        "Description": format!("{service}'s access for {STACK}"),
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
        }]},
        "Policies": policies
    })
}

fn object_policy(name: &str, bucket_arn: &str, actions: &[&str]) -> Value {
    json!({"PolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": actions, "Resource": format!("{bucket_arn}/*")
    }]}})
}

/// A round trip below for each registered type: a type registered without
/// one fails here.
#[test]
fn every_registered_type_has_a_round_trip() {
    let tested = [
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::PublicKey",
        "AWS::CloudFront::KeyGroup",
        "AWS::CloudFront::Distribution",
        "AWS::ApiGateway::RestApi",
        "AWS::IAM::Role",
        "AWS::KinesisFirehose::DeliveryStream",
        "AWS::Logs::LogGroup",
        "AWS::Lambda::Function",
        "AWS::Lambda::EventInvokeConfig",
    ];
    let mut registered: Vec<&str> = REGISTERED.iter().map(|n| n.kind).collect();
    registered.sort_unstable();
    let mut tested = tested.to_vec();
    tested.sort_unstable();
    assert_eq!(registered, tested);
}

#[tokio::test]
async fn s3_bucket() {
    const KIND: &str = "AWS::S3::Bucket";
    let moto = Emulator::start("s3-bucket").await;
    let logs = log_bucket(&moto).await;
    let properties = data_bucket_properties(&logs.physical_id);
    let made = moto.create(KIND, "DataBucket", properties.clone()).await;
    let name = made.physical_id.clone();
    assert!(
        name.starts_with("vaultfront-rt-databucket-") && name.len() <= 63,
        "CloudFormation's lowercase generated name: {name}"
    );
    assert_eq!(attribute(&made, "Arn"), format!("arn:aws:s3:::{name}"));
    assert_eq!(
        attribute(&made, "RegionalDomainName"),
        format!("{name}.s3.{REGION}.amazonaws.com")
    );
    assert_eq!(
        moto.read(KIND, &name).await,
        Some(json!({
            "Versioning": "Enabled",
            "ObjectLockEnabled": "Enabled",
            "SSEAlgorithm": "AES256",
            "PublicAccessBlock": {
                "BlockPublicAcls": true, "BlockPublicPolicy": true,
                "IgnorePublicAcls": true, "RestrictPublicBuckets": true
            },
            "ObjectOwnership": "BucketOwnerEnforced",
            "LoggingTarget": logs.physical_id,
            "LoggingPrefix": "s3-access/",
            "LifecycleRules": ["AbortIncompleteMultipartUploads"],
        }))
    );
    let log_bucket = moto
        .read(KIND, &logs.physical_id)
        .await
        .expect("the log bucket exists");
    assert_eq!(log_bucket["ObjectOwnership"], "BucketOwnerPreferred");
    assert_eq!(log_bucket["ObjectLockEnabled"], Value::Null);
    assert_eq!(log_bucket["LoggingTarget"], Value::Null);
    assert_eq!(log_bucket["LifecycleRules"], json!(["ExpireLogs"]));

    // Every bucket change is a replacement, which the local engine refuses.
    let mut suspended = properties.clone();
    suspended["VersioningConfiguration"]["Status"] = json!("Suspended");
    assert_refused(
        moto.update(KIND, &name, &properties, &suspended).await,
        KIND,
        &name,
    );
    assert_eq!(
        moto.read(KIND, &name)
            .await
            .map(|b| b["Versioning"].clone()),
        Some(json!("Enabled"))
    );

    // Two versions and a delete marker: delete empties the bucket first.
    for body in ["one", "two"] {
        moto.clients
            .s3
            .put_object()
            .bucket(&name)
            .key("datasets/a.txt")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .expect("moto stores an object");
    }
    moto.clients
        .s3
        .delete_object()
        .bucket(&name)
        .key("datasets/a.txt")
        .send()
        .await
        .expect("moto adds a delete marker");
    moto.delete_until_gone(KIND, &name).await;
    moto.delete_until_gone(KIND, &logs.physical_id).await;
}

#[tokio::test]
async fn s3_bucket_policy() {
    const KIND: &str = "AWS::S3::BucketPolicy";
    let moto = Emulator::start("s3-bucket-policy").await;
    let bucket = moto
        .create("AWS::S3::Bucket", "DataBucket", json!({}))
        .await;
    let arn = attribute(&bucket, "Arn").to_owned();
    let deny = |sid: &str, condition: Value| {
        json!({
            "Sid": sid, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [arn.clone(), format!("{arn}/*")], "Condition": condition
        })
    };
    let insecure = deny(
        "DenyInsecureTransport",
        json!({"Bool": {"aws:SecureTransport": false}}),
    );
    let old_tls = deny(
        "DenyTlsOlderThan12",
        json!({"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
    );
    let before = json!({
        "Bucket": bucket.physical_id,
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [insecure]}
    });
    let made = moto
        .create(KIND, "DataBucketTlsPolicy", before.clone())
        .await;
    assert_eq!(made.physical_id, bucket.physical_id, "the bucket's name");
    assert_eq!(
        moto.read(KIND, &made.physical_id).await.as_ref(),
        before.get("PolicyDocument")
    );

    // The document changes in place.
    let after = json!({
        "Bucket": bucket.physical_id,
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [insecure, old_tls]}
    });
    moto.update(KIND, &made.physical_id, &before, &after)
        .await
        .expect("a new policy document is an update in place");
    assert_eq!(
        moto.read(KIND, &made.physical_id).await.as_ref(),
        after.get("PolicyDocument")
    );
    // Another bucket is a replacement.
    let mut elsewhere = after.clone();
    elsewhere["Bucket"] = json!("another-bucket");
    assert_refused(
        moto.update(KIND, &made.physical_id, &after, &elsewhere)
            .await,
        KIND,
        &made.physical_id,
    );

    moto.delete_until_gone(KIND, &made.physical_id).await;
    assert!(
        moto.read("AWS::S3::Bucket", &bucket.physical_id)
            .await
            .is_some(),
        "deleting the policy leaves its bucket"
    );
    moto.delete_until_gone("AWS::S3::Bucket", &bucket.physical_id)
        .await;
    // A policy whose bucket went first is gone too.
    moto.delete_again(KIND, &made.physical_id).await;
}

#[tokio::test]
async fn cloudfront_origin_access_control() {
    const KIND: &str = "AWS::CloudFront::OriginAccessControl";
    let moto = Emulator::start("cloudfront-oac").await;
    let properties = origin_access_control_properties("vaultfront-0a1b2c3d");
    let made = moto
        .create(KIND, "OriginAccessControl", properties.clone())
        .await;
    assert_eq!(attribute(&made, "Id"), made.physical_id);
    assert_eq!(
        moto.read(KIND, &made.physical_id).await,
        Some(json!({
            "Name": "vaultfront-0a1b2c3d",
            "Description": "CloudFront to vaultfront-rt's data bucket",
            "OriginAccessControlOriginType": "s3",
            "SigningBehavior": "always",
            "SigningProtocol": "sigv4",
        }))
    );
    let renamed = origin_access_control_properties("vaultfront-renamed");
    assert_refused(
        moto.update(KIND, &made.physical_id, &properties, &renamed)
            .await,
        KIND,
        &made.physical_id,
    );
    moto.delete_until_gone(KIND, &made.physical_id).await;
}

#[tokio::test]
async fn cloudfront_public_key() {
    const KIND: &str = "AWS::CloudFront::PublicKey";
    let moto = Emulator::start("cloudfront-public-key").await;
    let properties = public_key_properties();
    let made = moto.create(KIND, "CdnSigningKey", properties.clone()).await;
    assert_eq!(attribute(&made, "Id"), made.physical_id);
    let mut read = moto
        .read(KIND, &made.physical_id)
        .await
        .expect("the public key exists");
    // moto's CreatePublicKey drops the Comment (it reads back ""), which
    // AWS keeps: not compared.
    read["Comment"].take();
    assert_eq!(
        read,
        json!({
            "Name": "vaultfront-0a1b2c3d-1",
            "CallerReference": "0a1b2c3d-1",
            "Comment": null,
            "EncodedKey": PUBLIC_KEY,
        })
    );
    // A new key is a new public key (CloudFront's keys are immutable).
    let mut rotated = properties.clone();
    rotated["PublicKeyConfig"]["Comment"] = json!("rotated");
    assert_refused(
        moto.update(KIND, &made.physical_id, &properties, &rotated)
            .await,
        KIND,
        &made.physical_id,
    );
    moto.delete_until_gone(KIND, &made.physical_id).await;
}

#[tokio::test]
async fn cloudfront_key_group() {
    const KIND: &str = "AWS::CloudFront::KeyGroup";
    let moto = Emulator::start("cloudfront-key-group").await;
    let key = moto
        .create(
            "AWS::CloudFront::PublicKey",
            "CdnSigningKey",
            public_key_properties(),
        )
        .await;
    let properties = json!({"KeyGroupConfig": {
        "Name": "vaultfront-0a1b2c3d",
        "Comment": STACK,
        "Items": [key.physical_id]
    }});
    let made = moto.create(KIND, "CdnKeyGroup", properties.clone()).await;
    assert_eq!(attribute(&made, "Id"), made.physical_id);
    let mut read = moto
        .read(KIND, &made.physical_id)
        .await
        .expect("the key group exists");
    // moto's CreateKeyGroup drops the Comment, which AWS keeps: not compared.
    read["Comment"].take();
    assert_eq!(
        read,
        json!({
            "Name": "vaultfront-0a1b2c3d",
            "Items": [key.physical_id],
            "Comment": null,
        })
    );
    // moto has no UpdateKeyGroup: the engine refuses a change up front.
    let mut emptied = properties.clone();
    emptied["KeyGroupConfig"]["Items"] = json!([]);
    assert_refused(
        moto.update(KIND, &made.physical_id, &properties, &emptied)
            .await,
        KIND,
        &made.physical_id,
    );
    // moto 5.2.5 has no DeleteKeyGroup (NotImplementedError), so delete
    // asks nothing of it and the group stays in moto's memory: all that can
    // be asserted is that delete succeeds, twice, and leaves the group as it
    // was. On AWS, CloudFormation's delete removes it.
    moto.delete_again(KIND, &made.physical_id).await;
    moto.delete_again(KIND, &made.physical_id).await;
    assert!(moto.read(KIND, &made.physical_id).await.is_some());
}

#[tokio::test]
async fn cloudfront_distribution() {
    const KIND: &str = "AWS::CloudFront::Distribution";
    let moto = Emulator::start("cloudfront-distribution").await;
    let logs = log_bucket(&moto).await;
    let data = moto
        .create(
            "AWS::S3::Bucket",
            "DataBucket",
            data_bucket_properties(&logs.physical_id),
        )
        .await;
    let oac = moto
        .create(
            "AWS::CloudFront::OriginAccessControl",
            "OriginAccessControl",
            origin_access_control_properties("vaultfront-0a1b2c3d"),
        )
        .await;
    let key = moto
        .create(
            "AWS::CloudFront::PublicKey",
            "CdnSigningKey",
            public_key_properties(),
        )
        .await;
    let group = moto
        .create(
            "AWS::CloudFront::KeyGroup",
            "CdnKeyGroup",
            json!({"KeyGroupConfig": {"Name": "vaultfront-0a1b2c3d", "Items": [key.physical_id]}}),
        )
        .await;
    let origin_domain = attribute(&data, "RegionalDomainName").to_owned();
    let log_domain = attribute(&logs, "DomainName").to_owned();
    let properties = json!({"DistributionConfig": {
        "Enabled": true,
        "Comment": STACK,
        "HttpVersion": "http2and3",
        "IPV6Enabled": true,
        "PriceClass": "PriceClass_100",
        "ViewerCertificate": {"CloudFrontDefaultCertificate": true},
        "Origins": [{
            "Id": "data-bucket",
            "DomainName": origin_domain,
            "OriginAccessControlId": oac.physical_id,
            "S3OriginConfig": {"OriginAccessIdentity": ""}
        }],
        "DefaultCacheBehavior": {
            "TargetOriginId": "data-bucket",
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": ["GET", "HEAD"],
            "CachedMethods": ["GET", "HEAD"],
            "Compress": true,
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            "ResponseHeadersPolicyId": "67f7725c-6f97-4210-82d7-5512b31e9d03",
            "TrustedKeyGroups": [group.physical_id]
        },
        "Logging": {"Bucket": log_domain, "Prefix": "cloudfront/", "IncludeCookies": false}
    }});
    let made = moto.create(KIND, "Distribution", properties.clone()).await;
    assert_eq!(attribute(&made, "Id"), made.physical_id);
    let read = moto
        .read(KIND, &made.physical_id)
        .await
        .expect("the distribution exists");
    assert_eq!(read["DomainName"], attribute(&made, "DomainName"));
    // moto reads an origin back without its OriginAccessControlId (and an
    // S3 origin's OAI), so which access control it uses is not checked here.
    assert_eq!(
        read,
        json!({
            "DomainName": attribute(&made, "DomainName"),
            "Enabled": true,
            "Comment": STACK,
            "PriceClass": "PriceClass_100",
            "HttpVersion": "http2and3",
            "IPV6Enabled": true,
            "Origins": [{"Id": "data-bucket", "DomainName": origin_domain}],
            "TargetOriginId": "data-bucket",
            "ViewerProtocolPolicy": "redirect-to-https",
            "TrustedKeyGroups": [group.physical_id],
            "LoggingBucket": log_domain,
        })
    );
    let mut disabled = properties.clone();
    disabled["DistributionConfig"]["Enabled"] = json!(false);
    assert_refused(
        moto.update(KIND, &made.physical_id, &properties, &disabled)
            .await,
        KIND,
        &made.physical_id,
    );
    // Delete disables the distribution first, as CloudFormation does.
    moto.delete_until_gone(KIND, &made.physical_id).await;
}

#[tokio::test]
async fn apigateway_rest_api() {
    const KIND: &str = "AWS::ApiGateway::RestApi";
    let moto = Emulator::start("apigateway-rest-api").await;
    let properties = json!({
        "Name": format!("{STACK}-s3"),
        "Description": format!("IAM-authenticated S3 proxy for {STACK}'s data bucket"),
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "BinaryMediaTypes": ["*/*"]
    });
    let made = moto.create(KIND, "RestApi", properties.clone()).await;
    assert!(!attribute(&made, "RootResourceId").is_empty());
    let mut read = moto
        .read(KIND, &made.physical_id)
        .await
        .expect("the API exists");
    // moto's CreateRestApi ignores binaryMediaTypes (only UpdateRestApi's
    // patches set them; the S3 proxy's handler patches them again), where
    // AWS applies them: not compared.
    read["BinaryMediaTypes"].take();
    assert_eq!(
        read,
        json!({
            "Name": "vaultfront-rt-s3",
            "Description": "IAM-authenticated S3 proxy for vaultfront-rt's data bucket",
            "BinaryMediaTypes": null,
            "EndpointTypes": ["REGIONAL"],
        })
    );
    let mut renamed = properties.clone();
    renamed["Name"] = json!("renamed");
    assert_refused(
        moto.update(KIND, &made.physical_id, &properties, &renamed)
            .await,
        KIND,
        &made.physical_id,
    );
    moto.delete_until_gone(KIND, &made.physical_id).await;
}

#[tokio::test]
async fn iam_role() {
    const KIND: &str = "AWS::IAM::Role";
    let moto = Emulator::start("iam-role").await;
    let bucket_arn = "arn:aws:s3:::vaultfront-rt-databucket-0a1b2c3d";
    let before = role_properties(
        "apigateway.amazonaws.com",
        json!([object_policy(
            "objects",
            bucket_arn,
            &["s3:GetObject", "s3:GetObjectVersion"]
        )]),
    );
    let made = moto.create(KIND, "ApiS3Role", before.clone()).await;
    let name = made.physical_id.clone();
    assert!(
        name.starts_with("vaultfront-rt-ApiS3Role-") && name.len() <= 64,
        "CloudFormation's generated name: {name}"
    );
    assert!(!attribute(&made, "RoleId").is_empty());
    assert_eq!(
        moto.read(KIND, &name).await,
        Some(json!({
            "Arn": attribute(&made, "Arn"),
            "Description": "apigateway.amazonaws.com's access for vaultfront-rt",
            "Policies": ["objects"],
        }))
    );

    // Inline policies change in place: one added, one removed.
    let after = role_properties(
        "apigateway.amazonaws.com",
        json!([
            object_policy("read", bucket_arn, &["s3:GetObject"]),
            object_policy("write", bucket_arn, &["s3:PutObject"]),
        ]),
    );
    moto.update(KIND, &name, &before, &after)
        .await
        .expect("new inline policies are an update in place");
    let policies = moto.read(KIND, &name).await.map(|r| r["Policies"].clone());
    assert_eq!(policies, Some(json!(["read", "write"])));
    // Another trust policy is a replacement.
    let other_trust = role_properties("lambda.amazonaws.com", after["Policies"].clone());
    assert_refused(
        moto.update(KIND, &name, &after, &other_trust).await,
        KIND,
        &name,
    );

    // Delete removes the inline policies first (IAM refuses otherwise).
    moto.delete_until_gone(KIND, &name).await;
}

#[tokio::test]
async fn firehose_delivery_stream() {
    const KIND: &str = "AWS::KinesisFirehose::DeliveryStream";
    let moto = Emulator::start("firehose-delivery-stream").await;
    let logs = moto
        .create("AWS::S3::Bucket", "LogBucket", log_bucket_properties())
        .await;
    let bucket_arn = attribute(&logs, "Arn").to_owned();
    let role = moto
        .create(
            "AWS::IAM::Role",
            "ApiAccessLogDeliveryRole",
            role_properties(
                "firehose.amazonaws.com",
                json!([object_policy(
                    "api-access-logs",
                    &bucket_arn,
                    &["s3:PutObject"]
                )]),
            ),
        )
        .await;
    let role_arn = attribute(&role, "Arn").to_owned();
    let destination = |prefix: &str, interval: u32, size: &str| {
        json!({
            "BucketARN": bucket_arn,
            "RoleARN": role_arn,
            "Prefix": prefix,
            "ErrorOutputPrefix": "api-access-errors/!{firehose:error-output-type}/",
            "CompressionFormat": "GZIP",
            "BufferingHints": {"IntervalInSeconds": interval, "SizeInMBs": size}
        })
    };
    let before = json!({
        "DeliveryStreamName": "amazon-apigateway-vf-0a1b2c3d",
        "DeliveryStreamType": "DirectPut",
        "DeliveryStreamEncryptionConfigurationInput": {"KeyType": "AWS_OWNED_CMK"},
        // A number as a string, as CloudFormation may pass it.
        "ExtendedS3DestinationConfiguration": destination("api-access/", 300, "5")
    });
    let made = moto
        .create(KIND, "ApiAccessLogStream", before.clone())
        .await;
    let name = made.physical_id.clone();
    assert_eq!(name, "amazon-apigateway-vf-0a1b2c3d");
    let expected = |prefix: &str, interval: u32, size: u32| {
        json!({
            "Arn": attribute(&made, "Arn"),
            "DeliveryStreamType": "DirectPut",
            "BucketARN": bucket_arn,
            "RoleARN": role_arn,
            "Prefix": prefix,
            "ErrorOutputPrefix": "api-access-errors/!{firehose:error-output-type}/",
            "CompressionFormat": "GZIP",
            "IntervalInSeconds": interval,
            "SizeInMBs": size,
        })
    };
    assert_eq!(
        moto.read(KIND, &name).await,
        Some(expected("api-access/", 300, 5))
    );

    // The S3 destination changes in place (UpdateDestination).
    let mut after = before.clone();
    after["ExtendedS3DestinationConfiguration"] = destination("api-access-v2/", 60, "1");
    moto.update(KIND, &name, &before, &after)
        .await
        .expect("a new S3 destination is an update in place");
    assert_eq!(
        moto.read(KIND, &name).await,
        Some(expected("api-access-v2/", 60, 1))
    );
    // Another stream type is a replacement.
    let mut kinesis = after.clone();
    kinesis["DeliveryStreamType"] = json!("KinesisStreamAsSource");
    assert_refused(
        moto.update(KIND, &name, &after, &kinesis).await,
        KIND,
        &name,
    );

    moto.delete_until_gone(KIND, &name).await;
}

#[tokio::test]
async fn logs_log_group() {
    const KIND: &str = "AWS::Logs::LogGroup";
    let moto = Emulator::start("logs-log-group").await;
    let named = json!({
        "LogGroupName": "API-Gateway-Execution-Logs_a1b2c3d4e5/api",
        "RetentionInDays": 365
    });
    let made = moto.create(KIND, "ApiExecutionLogs", named.clone()).await;
    let name = made.physical_id.clone();
    assert_eq!(name, "API-Gateway-Execution-Logs_a1b2c3d4e5/api");
    let arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*");
    assert_eq!(attribute(&made, "Arn"), arn);
    assert_eq!(
        moto.read(KIND, &name).await,
        Some(json!({"Arn": arn, "RetentionInDays": 365}))
    );
    // The retention changes in place.
    let shorter = json!({"LogGroupName": name, "RetentionInDays": "30"});
    moto.update(KIND, &name, &named, &shorter)
        .await
        .expect("a new retention is an update in place");
    assert_eq!(
        moto.read(KIND, &name)
            .await
            .map(|g| g["RetentionInDays"].clone()),
        Some(json!(30))
    );

    // Without a LogGroupName, CloudFormation generates one.
    let unnamed = moto
        .create(
            KIND,
            "BucketPolicyFunctionLogs",
            json!({"RetentionInDays": 365}),
        )
        .await;
    assert!(
        unnamed
            .physical_id
            .starts_with("vaultfront-rt-BucketPolicyFunctionLogs-"),
        "{}",
        unnamed.physical_id
    );
    assert!(moto.read(KIND, &unnamed.physical_id).await.is_some());

    moto.delete_until_gone(KIND, &name).await;
    moto.delete_until_gone(KIND, &unnamed.physical_id).await;
}

#[tokio::test]
async fn lambda_function() {
    const KIND: &str = "AWS::Lambda::Function";
    let moto = Emulator::start("lambda-function").await;
    let properties = json!({
        "Code": {"S3Bucket": "local-artifacts", "S3Key": "BucketPolicyFunction.zip"},
        "Handler": "bootstrap",
        "MemorySize": 128,
        "Runtime": "provided.al2023",
        "Timeout": 60,
        "Architectures": ["arm64"]
    });
    let made = moto
        .create_with(
            KIND,
            "BucketPolicyFunction",
            properties.clone(),
            json!({"BuildProperties": {"Binary": "bucket-policy"}}),
        )
        .await;
    let name = made.physical_id.clone();
    // The engine runs the function's workspace binary under the Lambda
    // emulator: the type remembers which one.
    assert_eq!(attribute(&made, "LocalBinary"), "bucket-policy");
    assert!(
        name.starts_with("vaultfront-rt-BucketPolicyFunction-") && name.len() <= 64,
        "{name}"
    );
    assert_eq!(
        attribute(&made, "Arn"),
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
    );
    // moto runs Lambda only in Docker, which is not here: the function is
    // made in nothing moto holds (`cargo lambda watch` runs its binary), so
    // read-back finds nothing even right after create, and delete has
    // nothing to remove.
    assert_eq!(moto.read(KIND, &name).await, None);
    let mut longer = properties.clone();
    longer["Timeout"] = json!(120);
    assert_refused(
        moto.update(KIND, &name, &properties, &longer).await,
        KIND,
        &name,
    );
    moto.delete_until_gone(KIND, &name).await;
}

#[tokio::test]
async fn lambda_event_invoke_config() {
    const KIND: &str = "AWS::Lambda::EventInvokeConfig";
    let moto = Emulator::start("lambda-event-invoke-config").await;
    let properties = json!({
        "DestinationConfig": {},
        "FunctionName": "vaultfront-rt-BucketPolicyFunction-0a1b2c3d",
        "MaximumEventAgeInSeconds": 420,
        "MaximumRetryAttempts": 2,
        "Qualifier": "$LATEST"
    });
    let made = moto
        .create(
            KIND,
            "BucketPolicyFunctionEventInvokeConfig",
            properties.clone(),
        )
        .await;
    assert!(made.attributes.is_empty());
    // Locally every function is invoked synchronously, so the asynchronous
    // settings configure nothing in moto (which has no Lambda without
    // Docker): read-back finds nothing, delete has nothing to remove.
    assert_eq!(moto.read(KIND, &made.physical_id).await, None);
    let mut fewer = properties.clone();
    fewer["MaximumRetryAttempts"] = json!(0);
    assert_refused(
        moto.update(KIND, &made.physical_id, &properties, &fewer)
            .await,
        KIND,
        &made.physical_id,
    );
    moto.delete_until_gone(KIND, &made.physical_id).await;
}
