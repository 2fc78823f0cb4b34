//! The three resources as the bench drives them: a fresh target on moto for
//! every run (so every Create really creates), the events, and the fewest
//! writes each operation can make.

use serde_json::{json, Value};
use vaultfront_tests::Moto;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    BucketPolicy,
    ObjectLock,
    S3ProxyApi,
}

pub const ALL: [Resource; 3] = [
    Resource::BucketPolicy,
    Resource::ObjectLock,
    Resource::S3ProxyApi,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    pub const ALL: [Op; 3] = [Op::Create, Op::Update, Op::Delete];

    pub fn label(self) -> &'static str {
        match self {
            Op::Create => "Create",
            Op::Update => "no-op Update",
            Op::Delete => "Delete",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "noop_update",
            Op::Delete => "delete",
        }
    }
}

/// What one run works on.
#[derive(Debug, Clone)]
pub struct Target {
    /// The bucket or REST API id, replaced by a placeholder when calls are listed.
    pub name: String,
    pub properties: Value,
}

const ROLE: &str = "arn:aws:iam::123456789012:role/vault-api-s3";

impl Resource {
    pub fn binary(self) -> &'static str {
        match self {
            Resource::BucketPolicy => "bucket-policy",
            Resource::ObjectLock => "object-lock",
            Resource::S3ProxyApi => "s3-proxy-api",
        }
    }

    pub fn resource_type(self) -> &'static str {
        match self {
            Resource::BucketPolicy => "Custom::OriginBucketPolicy",
            Resource::ObjectLock => "Custom::ObjectLock",
            Resource::S3ProxyApi => "Custom::S3ProxyApi",
        }
    }

    pub fn logical_id(self) -> &'static str {
        match self {
            Resource::BucketPolicy => "OriginPolicy",
            Resource::ObjectLock => "DatasetLock",
            Resource::S3ProxyApi => "ObjectApi",
        }
    }

    pub fn placeholder(self) -> &'static str {
        match self {
            Resource::S3ProxyApi => "{api}",
            Resource::BucketPolicy | Resource::ObjectLock => "{bucket}",
        }
    }

    pub fn from_name(name: &str) -> Option<Resource> {
        ALL.into_iter().find(|r| r.binary() == name)
    }

    /// A fresh target on moto for run `run`, and the properties of its Create.
    pub async fn prepare(self, moto: &Moto, run: usize) -> Result<Target, String> {
        match self {
            Resource::BucketPolicy => {
                // A bucket whose policy already holds a foreign statement,
                // which the merge must keep (and the Delete leave behind).
                let bucket = format!("bench-bp-{run}");
                let s3 = moto.s3();
                s3.create_bucket()
                    .bucket(&bucket)
                    .send()
                    .await
                    .map_err(|err| format!("create bucket {bucket}: {err:?}"))?;
                let policy = json!({"Version": "2012-10-17", "Statement": [{
                    "Sid": "AllowAnalytics", "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:role/analytics"},
                    "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/reports/*")}]});
                s3.put_bucket_policy()
                    .bucket(&bucket)
                    .policy(policy.to_string())
                    .send()
                    .await
                    .map_err(|err| format!("plant a policy on {bucket}: {err:?}"))?;
                let properties = json!({"BucketName": bucket, "Mode": "OAC", "DistributionId": "EDFDVBD6EXAMPLE"});
                Ok(Target {
                    name: bucket,
                    properties,
                })
            }
            Resource::ObjectLock => {
                // A plain bucket: versioning never enabled, no Object Lock yet.
                let bucket = format!("bench-ol-{run}");
                moto.s3()
                    .create_bucket()
                    .bucket(&bucket)
                    .send()
                    .await
                    .map_err(|err| format!("create bucket {bucket}: {err:?}"))?;
                let properties = json!({"BucketName": bucket, "Mode": "GOVERNANCE", "Days": 30});
                Ok(Target {
                    name: bucket,
                    properties,
                })
            }
            Resource::S3ProxyApi => {
                // The template's empty AWS::ApiGateway::RestApi.
                let api = moto
                    .apigateway()
                    .create_rest_api()
                    .name(format!("bench-api-{run}"))
                    .description("made by the template")
                    .send()
                    .await
                    .map_err(|err| format!("create REST API: {err:?}"))?
                    .id()
                    .ok_or("CreateRestApi returned no id")?
                    .to_owned();
                let properties = json!({"RestApiId": api, "BucketName": "vault-data",
                    "RoleArn": ROLE, "StageName": "v1"});
                Ok(Target {
                    name: api,
                    properties,
                })
            }
        }
    }

    /// The fewest writes `op` can make against AWS, against moto (where it
    /// differs), and why.
    pub fn minimum_writes(self, op: Op) -> (usize, usize, &'static str) {
        match (self, op) {
            (_, Op::Update) => (0, 0, "nothing changed, nothing written"),
            (Resource::BucketPolicy, Op::Create) => (1, 1, "PutBucketPolicy: the merged document"),
            (Resource::BucketPolicy, Op::Delete) => (
                1,
                1,
                "PutBucketPolicy without its statements (DeleteBucketPolicy when none are left)",
            ),
            (Resource::ObjectLock, Op::Create) => (
                2,
                2,
                "PutBucketVersioning (never enabled) and PutObjectLockConfiguration",
            ),
            (Resource::ObjectLock, Op::Delete) => {
                (0, 0, "Object Lock cannot be turned off; nothing to write")
            }
            (Resource::S3ProxyApi, Op::Create) => (
                2,
                3,
                "PutRestApi and CreateDeployment; on moto also a PATCH of binaryMediaTypes, \
                 because moto's import ignores x-amazon-apigateway-binary-media-types",
            ),
            (Resource::S3ProxyApi, Op::Delete) => (
                3,
                3,
                "DeleteStage, PutRestApi of an empty document (its content), DeleteDeployment",
            ),
        }
    }
}
