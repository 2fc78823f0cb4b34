//! `AWS::S3::BucketPolicy`: the policy of one bucket, whose name is its
//! physical id. moto's S3 does not validate policies (AWS refuses a
//! malformed one), so a policy moto stores may still be one AWS would not.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{found, missing, refused, text, Made, NativeType};
use crate::clients::{sdk_error, Clients};
use crate::template::Resource;
use crate::Error;

const KIND: &str = "AWS::S3::BucketPolicy";

pub(super) const TYPE: NativeType = NativeType {
    kind: KIND,
    create: |clients, _stack, resource, properties| Box::pin(create(clients, resource, properties)),
    update: Some(|clients, bucket, before, after| Box::pin(update(clients, bucket, before, after))),
    delete: |clients, bucket| Box::pin(delete(clients, bucket)),
    read: |clients, bucket| Box::pin(read(clients, bucket)),
};

async fn create(clients: &Clients, resource: &Resource, properties: &Value) -> Result<Made, Error> {
    let bucket = text(properties, "/Bucket").ok_or_else(|| missing(resource, "Bucket"))?;
    let policy = properties
        .get("PolicyDocument")
        .ok_or_else(|| missing(resource, "PolicyDocument"))?;
    put(clients, bucket, policy).await?;
    Ok(Made {
        physical_id: bucket.to_owned(),
        attributes: BTreeMap::new(),
    })
}

/// The document changes in place; another bucket is a replacement.
async fn update(
    clients: &Clients,
    bucket: &str,
    before: &Value,
    after: &Value,
) -> Result<(), Error> {
    if before.get("Bucket") != after.get("Bucket") {
        return Err(refused(KIND, bucket));
    }
    let policy = after.get("PolicyDocument").cloned().unwrap_or_default();
    put(clients, bucket, &policy).await
}

async fn put(clients: &Clients, bucket: &str, policy: &Value) -> Result<(), Error> {
    clients
        .s3
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("PutBucketPolicy", e))
}

async fn delete(clients: &Clients, bucket: &str) -> Result<(), Error> {
    clients
        .s3
        .delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteBucketPolicy", e))
}

/// The policy document as S3 holds it (`None`: no policy, or no bucket).
async fn read(clients: &Clients, bucket: &str) -> Result<Option<Value>, Error> {
    let Some(out) = found(
        clients
            .s3
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| sdk_error("GetBucketPolicy", e)),
    )?
    else {
        return Ok(None);
    };
    let policy = out.policy().unwrap_or_default();
    serde_json::from_str(policy).map(Some).map_err(|e| {
        Error::Aws(format!(
            "GetBucketPolicy: the policy of {bucket} is not JSON: {e}"
        ))
    })
}
