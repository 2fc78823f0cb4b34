//! `AWS::S3::Bucket`: a generated lowercase name, then each configuration
//! the template sets. Every change is a replacement locally.

use serde_json::{json, Value};

use super::{found, generated_name, text, truthy, Made, NativeType};
use crate::clients::{sdk_error, Clients, REGION};
use crate::template::Resource;
use crate::Error;

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::S3::Bucket",
    create: |clients, stack, resource, properties| {
        Box::pin(create(clients, stack, resource, properties))
    },
    update: None,
    delete: |clients, name| Box::pin(delete(clients, name)),
    read: |clients, name| Box::pin(read(clients, name)),
};

async fn create(
    clients: &Clients,
    stack: &str,
    resource: &Resource,
    p: &Value,
) -> Result<Made, Error> {
    use aws_sdk_s3::types::*;
    let name = generated_name(stack, &resource.logical_id, 63, true);
    let s3 = &clients.s3;
    s3.create_bucket()
        .bucket(&name)
        .object_lock_enabled_for_bucket(truthy(p.get("ObjectLockEnabled")))
        .send()
        .await
        .map_err(|e| sdk_error("CreateBucket", e))?;
    if let Some(status) = text(p, "/VersioningConfiguration/Status") {
        s3.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::from(status))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("PutBucketVersioning", e))?;
    }
    if let Some(algorithm) = text(p, "/BucketEncryption/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault/SSEAlgorithm") {
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::from(algorithm))
                    .build()
                    .map_err(|e| crate::Error::Aws(e.to_string()))?,
            )
            .build();
        s3.put_bucket_encryption()
            .bucket(&name)
            .server_side_encryption_configuration(ServerSideEncryptionConfiguration::builder().rules(rule).build().map_err(|e| crate::Error::Aws(e.to_string()))?)
            .send()
            .await
            .map_err(|e| sdk_error("PutBucketEncryption", e))?;
    }
    if let Some(bpa) = p.get("PublicAccessBlockConfiguration") {
        s3.put_public_access_block()
            .bucket(&name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(truthy(bpa.get("BlockPublicAcls")))
                    .block_public_policy(truthy(bpa.get("BlockPublicPolicy")))
                    .ignore_public_acls(truthy(bpa.get("IgnorePublicAcls")))
                    .restrict_public_buckets(truthy(bpa.get("RestrictPublicBuckets")))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("PutPublicAccessBlock", e))?;
    }
    if let Some(ownership) = text(p, "/OwnershipControls/Rules/0/ObjectOwnership") {
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ObjectOwnership::from(ownership))
            .build()
            .map_err(|e| crate::Error::Aws(e.to_string()))?;
        s3.put_bucket_ownership_controls()
            .bucket(&name)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| crate::Error::Aws(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| sdk_error("PutBucketOwnershipControls", e))?;
    }
    if let Some(target) = text(p, "/LoggingConfiguration/DestinationBucketName") {
        let enabled = LoggingEnabled::builder()
            .target_bucket(target)
            .target_prefix(text(p, "/LoggingConfiguration/LogFilePrefix").unwrap_or_default())
            .build()
            .map_err(|e| crate::Error::Aws(e.to_string()))?;
        s3.put_bucket_logging()
            .bucket(&name)
            .bucket_logging_status(
                BucketLoggingStatus::builder()
                    .logging_enabled(enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("PutBucketLogging", e))?;
    }
    if let Some(rules) = p
        .pointer("/LifecycleConfiguration/Rules")
        .and_then(Value::as_array)
    {
        let mut built = Vec::new();
        for rule in rules {
            let number = |pointer: &str| {
                rule.pointer(pointer)
                    .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
                    .and_then(|n| i32::try_from(n).ok())
            };
            let mut builder = LifecycleRule::builder()
                .set_id(text(rule, "/Id").map(str::to_owned))
                .status(ExpirationStatus::from(
                    text(rule, "/Status").unwrap_or("Enabled"),
                ))
                .filter(LifecycleRuleFilter::builder().prefix("").build());
            if let Some(days) = number("/AbortIncompleteMultipartUpload/DaysAfterInitiation") {
                builder = builder.abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(days)
                        .build(),
                );
            }
            if let Some(days) = number("/ExpirationInDays") {
                builder = builder.expiration(LifecycleExpiration::builder().days(days).build());
            }
            if let Some(days) = number("/NoncurrentVersionExpiration/NoncurrentDays") {
                builder = builder.noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(days)
                        .build(),
                );
            }
            built.push(
                builder
                    .build()
                    .map_err(|e| crate::Error::Aws(e.to_string()))?,
            );
        }
        s3.put_bucket_lifecycle_configuration()
            .bucket(&name)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .set_rules(Some(built))
                    .build()
                    .map_err(|e| crate::Error::Aws(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| sdk_error("PutBucketLifecycleConfiguration", e))?;
    }
    Ok(Made {
        physical_id: name.clone(),
        attributes: [
            ("Arn".to_owned(), json!(format!("arn:aws:s3:::{name}"))),
            (
                "DomainName".to_owned(),
                json!(format!("{name}.s3.amazonaws.com")),
            ),
            (
                "RegionalDomainName".to_owned(),
                json!(format!("{name}.s3.{REGION}.amazonaws.com")),
            ),
        ]
        .into(),
    })
}

async fn delete(clients: &Clients, name: &str) -> Result<(), Error> {
    empty_bucket(clients, name).await?;
    clients
        .s3
        .delete_bucket()
        .bucket(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteBucket", e))
}

/// Every version and delete marker, so the bucket can go (only buckets
/// without Retain get here, and ours hold no locked versions).
async fn empty_bucket(clients: &Clients, bucket: &str) -> Result<(), Error> {
    let Ok(listing) = clients
        .s3
        .list_object_versions()
        .bucket(bucket)
        .send()
        .await
    else {
        return Ok(());
    };
    let keys = listing
        .versions()
        .iter()
        .map(|v| {
            (
                v.key().unwrap_or_default().to_owned(),
                v.version_id().map(str::to_owned),
            )
        })
        .chain(listing.delete_markers().iter().map(|m| {
            (
                m.key().unwrap_or_default().to_owned(),
                m.version_id().map(str::to_owned),
            )
        }));
    for (key, version) in keys {
        clients
            .s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteObject", e))?;
    }
    Ok(())
}

/// The settings `create` applies, as S3 reports them (null: not set).
async fn read(clients: &Clients, name: &str) -> Result<Option<Value>, Error> {
    let s3 = &clients.s3;
    // Versioning answers for any bucket, so its NoSuchBucket says "gone".
    let Some(versioning) = found(
        s3.get_bucket_versioning()
            .bucket(name)
            .send()
            .await
            .map_err(|e| sdk_error("GetBucketVersioning", e)),
    )?
    else {
        return Ok(None);
    };
    let object_lock = found(
        s3.get_object_lock_configuration()
            .bucket(name)
            .send()
            .await
            .map_err(|e| sdk_error("GetObjectLockConfiguration", e)),
    )?;
    let encryption = found(
        s3.get_bucket_encryption()
            .bucket(name)
            .send()
            .await
            .map_err(|e| sdk_error("GetBucketEncryption", e)),
    )?;
    let public_access = found(
        s3.get_public_access_block()
            .bucket(name)
            .send()
            .await
            .map_err(|e| sdk_error("GetPublicAccessBlock", e)),
    )?;
    let ownership = found(
        s3.get_bucket_ownership_controls()
            .bucket(name)
            .send()
            .await
            .map_err(|e| sdk_error("GetBucketOwnershipControls", e)),
    )?;
    let logging = s3
        .get_bucket_logging()
        .bucket(name)
        .send()
        .await
        .map_err(|e| sdk_error("GetBucketLogging", e))?;
    let lifecycle = found(
        s3.get_bucket_lifecycle_configuration()
            .bucket(name)
            .send()
            .await
            .map_err(|e| sdk_error("GetBucketLifecycleConfiguration", e)),
    )?;
    let public_access = public_access
        .as_ref()
        .and_then(|p| p.public_access_block_configuration());
    let logging = logging.logging_enabled();
    Ok(Some(json!({
        "Versioning": versioning.status().map(|s| s.as_str()),
        "ObjectLockEnabled": object_lock
            .as_ref()
            .and_then(|o| o.object_lock_configuration())
            .and_then(|c| c.object_lock_enabled())
            .map(|e| e.as_str()),
        "SSEAlgorithm": encryption
            .as_ref()
            .and_then(|e| e.server_side_encryption_configuration())
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str()),
        "PublicAccessBlock": public_access.map(|p| json!({
            "BlockPublicAcls": p.block_public_acls(),
            "BlockPublicPolicy": p.block_public_policy(),
            "IgnorePublicAcls": p.ignore_public_acls(),
            "RestrictPublicBuckets": p.restrict_public_buckets(),
        })),
        "ObjectOwnership": ownership
            .as_ref()
            .and_then(|o| o.ownership_controls())
            .and_then(|c| c.rules().first())
            .map(|r| r.object_ownership().as_str()),
        "LoggingTarget": logging.map(|l| l.target_bucket()),
        "LoggingPrefix": logging.map(|l| l.target_prefix()),
        "LifecycleRules": lifecycle
            .as_ref()
            .map(|l| l.rules().iter().filter_map(|r| r.id()).collect::<Vec<_>>()),
    })))
}
