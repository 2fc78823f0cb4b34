//! Native resources, created in moto through the SDK as CloudFormation would
//! create them: a generated physical name, the properties applied, the
//! attributes other resources read (Arn, DomainName, ...).
//!
//! moto gaps, named where they bite: no CloudFront OAI API (refused before
//! anything is made, in `mod.rs`); a distribution reads back without its
//! OAC/OAI fields; S3 does not validate policies; no DeleteKeyGroup, and a
//! public key's EncodedKey is not checked.
//! moto's Firehose keeps a delivery stream's configuration but never
//! delivers from it on its own (API Gateway in moto serves no requests, so
//! nothing would write to it anyway).
//! `AWS::Lambda::Function` makes nothing in moto: moto runs Lambda only in
//! Docker, which is not here. The function is the workspace binary named in
//! its `Metadata.BuildProperties.Binary`, run by `cargo lambda watch`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::clients::{sdk_error, Clients, ACCOUNT, REGION};
use crate::template::Resource;
use crate::Error;

pub struct Made {
    pub physical_id: String,
    pub attributes: BTreeMap<String, Value>,
}

fn text<'a>(properties: &'a Value, pointer: &str) -> Option<&'a str> {
    properties.pointer(pointer).and_then(Value::as_str)
}

/// A number CloudFormation may send as a string.
fn integer(properties: &Value, pointer: &str) -> Option<i32> {
    properties
        .pointer(pointer)
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
        .and_then(|n| i32::try_from(n).ok())
}

fn truthy(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Bool(true)))
        || matches!(value, Some(Value::String(s)) if s == "true")
}

/// CloudFormation's generated names: `<stack>-<logical id>-<suffix>`.
pub fn generated_name(stack: &str, logical_id: &str, max: usize, lowercase: bool) -> String {
    let suffix = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
            .unwrap_or_default()
    );
    let suffix: String = suffix.chars().rev().take(12).collect();
    let mut head = format!("{stack}-{logical_id}");
    head.truncate(max.saturating_sub(suffix.len() + 1));
    let name = format!("{head}-{suffix}");
    if lowercase {
        name.to_lowercase()
    } else {
        name
    }
}

pub async fn create(
    clients: &Clients,
    stack: &str,
    resource: &Resource,
    properties: &Value,
) -> Result<Made, Error> {
    match resource.kind.as_str() {
        "AWS::S3::Bucket" => create_bucket(clients, stack, resource, properties).await,
        "AWS::S3::BucketPolicy" => {
            let bucket = text(properties, "/Bucket").ok_or_else(|| missing(resource, "Bucket"))?;
            let policy = properties
                .get("PolicyDocument")
                .ok_or_else(|| missing(resource, "PolicyDocument"))?;
            clients
                .s3
                .put_bucket_policy()
                .bucket(bucket)
                .policy(policy.to_string())
                .send()
                .await
                .map_err(|e| sdk_error("PutBucketPolicy", e))?;
            Ok(Made {
                physical_id: bucket.to_owned(),
                attributes: BTreeMap::new(),
            })
        }
        "AWS::CloudFront::OriginAccessControl" => {
            use aws_sdk_cloudfront::types::{
                OriginAccessControlConfig, OriginAccessControlOriginTypes,
                OriginAccessControlSigningBehaviors, OriginAccessControlSigningProtocols,
            };
            let config = properties
                .get("OriginAccessControlConfig")
                .cloned()
                .unwrap_or_default();
            let name = text(&config, "/Name").ok_or_else(|| missing(resource, "Name"))?;
            let built = OriginAccessControlConfig::builder()
                .name(name)
                .description(text(&config, "/Description").unwrap_or_default())
                .origin_access_control_origin_type(OriginAccessControlOriginTypes::from(
                    text(&config, "/OriginAccessControlOriginType").unwrap_or("s3"),
                ))
                .signing_behavior(OriginAccessControlSigningBehaviors::from(
                    text(&config, "/SigningBehavior").unwrap_or("always"),
                ))
                .signing_protocol(OriginAccessControlSigningProtocols::from(
                    text(&config, "/SigningProtocol").unwrap_or("sigv4"),
                ))
                .build()
                .map_err(|e| crate::Error::Aws(format!("OriginAccessControlConfig: {e}")))?;
            let out = clients
                .cloudfront
                .create_origin_access_control()
                .origin_access_control_config(built)
                .send()
                .await
                .map_err(|e| sdk_error("CreateOriginAccessControl", e))?;
            let id = out
                .origin_access_control()
                .map(|o| o.id().to_owned())
                .unwrap_or_default();
            Ok(Made {
                physical_id: id.clone(),
                attributes: [("Id".to_owned(), json!(id))].into(),
            })
        }
        "AWS::CloudFront::PublicKey" => {
            use aws_sdk_cloudfront::types::PublicKeyConfig;
            let config = properties
                .get("PublicKeyConfig")
                .cloned()
                .unwrap_or_default();
            let built = PublicKeyConfig::builder()
                .name(text(&config, "/Name").ok_or_else(|| missing(resource, "Name"))?)
                .caller_reference(
                    text(&config, "/CallerReference")
                        .ok_or_else(|| missing(resource, "CallerReference"))?,
                )
                .encoded_key(
                    text(&config, "/EncodedKey").ok_or_else(|| missing(resource, "EncodedKey"))?,
                )
                .set_comment(text(&config, "/Comment").map(str::to_owned))
                .build()
                .map_err(|e| crate::Error::Aws(format!("PublicKeyConfig: {e}")))?;
            let out = clients
                .cloudfront
                .create_public_key()
                .public_key_config(built)
                .send()
                .await
                .map_err(|e| sdk_error("CreatePublicKey", e))?;
            let id = out
                .public_key()
                .map(|k| k.id().to_owned())
                .unwrap_or_default();
            Ok(Made {
                physical_id: id.clone(),
                attributes: [("Id".to_owned(), json!(id))].into(),
            })
        }
        "AWS::CloudFront::KeyGroup" => {
            use aws_sdk_cloudfront::types::KeyGroupConfig;
            let config = properties
                .get("KeyGroupConfig")
                .cloned()
                .unwrap_or_default();
            let items: Vec<String> = config
                .get("Items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            let built = KeyGroupConfig::builder()
                .name(text(&config, "/Name").ok_or_else(|| missing(resource, "Name"))?)
                .set_items(Some(items))
                .set_comment(text(&config, "/Comment").map(str::to_owned))
                .build()
                .map_err(|e| crate::Error::Aws(format!("KeyGroupConfig: {e}")))?;
            let out = clients
                .cloudfront
                .create_key_group()
                .key_group_config(built)
                .send()
                .await
                .map_err(|e| sdk_error("CreateKeyGroup", e))?;
            let id = out
                .key_group()
                .map(|k| k.id().to_owned())
                .unwrap_or_default();
            Ok(Made {
                physical_id: id.clone(),
                attributes: [("Id".to_owned(), json!(id))].into(),
            })
        }
        "AWS::CloudFront::Distribution" => create_distribution(clients, properties).await,
        "AWS::ApiGateway::RestApi" => {
            use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType};
            let mut request = clients
                .apigateway
                .create_rest_api()
                .name(text(properties, "/Name").ok_or_else(|| missing(resource, "Name"))?)
                .set_description(text(properties, "/Description").map(str::to_owned));
            for media in properties
                .get("BinaryMediaTypes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(media) = media.as_str() {
                    request = request.binary_media_types(media);
                }
            }
            let types: Vec<EndpointType> = properties
                .pointer("/EndpointConfiguration/Types")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(EndpointType::from)
                .collect();
            if !types.is_empty() {
                request = request.endpoint_configuration(
                    EndpointConfiguration::builder()
                        .set_types(Some(types))
                        .build(),
                );
            }
            let out = request
                .send()
                .await
                .map_err(|e| sdk_error("CreateRestApi", e))?;
            let id = out.id().unwrap_or_default().to_owned();
            Ok(Made {
                physical_id: id.clone(),
                attributes: [(
                    "RootResourceId".to_owned(),
                    json!(out.root_resource_id().unwrap_or_default()),
                )]
                .into(),
            })
        }
        "AWS::IAM::Role" => {
            let name = generated_name(stack, &resource.logical_id, 64, false);
            let trust = properties
                .get("AssumeRolePolicyDocument")
                .ok_or_else(|| missing(resource, "AssumeRolePolicyDocument"))?;
            let out = clients
                .iam
                .create_role()
                .role_name(&name)
                .assume_role_policy_document(trust.to_string())
                .set_description(text(properties, "/Description").map(str::to_owned))
                .send()
                .await
                .map_err(|e| sdk_error("CreateRole", e))?;
            for policy in properties
                .get("Policies")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                clients
                    .iam
                    .put_role_policy()
                    .role_name(&name)
                    .policy_name(text(policy, "/PolicyName").unwrap_or("policy"))
                    .policy_document(
                        policy
                            .get("PolicyDocument")
                            .cloned()
                            .unwrap_or_default()
                            .to_string(),
                    )
                    .send()
                    .await
                    .map_err(|e| sdk_error("PutRolePolicy", e))?;
            }
            let role = out.role();
            Ok(Made {
                physical_id: name,
                attributes: [
                    (
                        "Arn".to_owned(),
                        json!(role.map(|r| r.arn()).unwrap_or_default()),
                    ),
                    (
                        "RoleId".to_owned(),
                        json!(role.map(|r| r.role_id()).unwrap_or_default()),
                    ),
                ]
                .into(),
            })
        }
        "AWS::KinesisFirehose::DeliveryStream" => {
            create_delivery_stream(clients, stack, resource, properties).await
        }
        "AWS::Logs::LogGroup" => {
            let name = text(properties, "/LogGroupName")
                .map(str::to_owned)
                .unwrap_or_else(|| generated_name(stack, &resource.logical_id, 512, false));
            clients
                .logs
                .create_log_group()
                .log_group_name(&name)
                .send()
                .await
                .map_err(|e| sdk_error("CreateLogGroup", e))?;
            if let Some(days) = properties
                .get("RetentionInDays")
                .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
            {
                clients
                    .logs
                    .put_retention_policy()
                    .log_group_name(&name)
                    .retention_in_days(i32::try_from(days).unwrap_or(i32::MAX))
                    .send()
                    .await
                    .map_err(|e| sdk_error("PutRetentionPolicy", e))?;
            }
            Ok(Made {
                physical_id: name.clone(),
                attributes: [(
                    "Arn".to_owned(),
                    json!(format!(
                        "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"
                    )),
                )]
                .into(),
            })
        }
        "AWS::Lambda::Function" => {
            let name = generated_name(stack, &resource.logical_id, 64, false);
            Ok(Made {
                physical_id: name.clone(),
                attributes: [(
                    "Arn".to_owned(),
                    json!(format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")),
                )]
                .into(),
            })
        }
        // A function's asynchronous-invoke settings (maximum event age,
        // retries): locally every function is invoked synchronously under
        // the runtime emulator, so there is nothing to configure.
        "AWS::Lambda::EventInvokeConfig" => Ok(Made {
            physical_id: generated_name(stack, &resource.logical_id, 64, false),
            attributes: Default::default(),
        }),
        other => Err(Error::Unsupported(format!(
            "{} ({other}) has no local implementation",
            resource.logical_id
        ))),
    }
}

fn missing(resource: &Resource, property: &str) -> Error {
    Error::Template(format!(
        "{}: property {property} is missing",
        resource.logical_id
    ))
}

async fn create_bucket(
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

/// The S3 destination as CloudFormation's ExtendedS3DestinationConfiguration says it.
fn s3_destination(
    resource: &str,
    config: &Value,
) -> Result<aws_sdk_firehose::types::ExtendedS3DestinationConfiguration, Error> {
    use aws_sdk_firehose::types::*;
    let needed = |pointer: &str| {
        text(config, pointer).ok_or_else(|| {
            Error::Template(format!(
                "{resource}: ExtendedS3DestinationConfiguration{} is missing",
                pointer.replace('/', ".")
            ))
        })
    };
    let mut builder = ExtendedS3DestinationConfiguration::builder()
        .bucket_arn(needed("/BucketARN")?)
        .role_arn(needed("/RoleARN")?)
        .set_prefix(text(config, "/Prefix").map(str::to_owned))
        .set_error_output_prefix(text(config, "/ErrorOutputPrefix").map(str::to_owned))
        .set_compression_format(text(config, "/CompressionFormat").map(CompressionFormat::from));
    if config.get("BufferingHints").is_some() {
        builder = builder.buffering_hints(
            BufferingHints::builder()
                .set_interval_in_seconds(integer(config, "/BufferingHints/IntervalInSeconds"))
                .set_size_in_mbs(integer(config, "/BufferingHints/SizeInMBs"))
                .build(),
        );
    }
    builder
        .build()
        .map_err(|e| crate::Error::Aws(format!("{resource}: {e}")))
}

async fn create_delivery_stream(
    clients: &Clients,
    stack: &str,
    resource: &Resource,
    p: &Value,
) -> Result<Made, Error> {
    use aws_sdk_firehose::types::*;
    let name = text(p, "/DeliveryStreamName")
        .map(str::to_owned)
        .unwrap_or_else(|| generated_name(stack, &resource.logical_id, 64, false));
    let config = p
        .get("ExtendedS3DestinationConfiguration")
        .ok_or_else(|| missing(resource, "ExtendedS3DestinationConfiguration"))?;
    let mut request = clients
        .firehose
        .create_delivery_stream()
        .delivery_stream_name(&name)
        .delivery_stream_type(DeliveryStreamType::from(
            text(p, "/DeliveryStreamType").unwrap_or("DirectPut"),
        ))
        .extended_s3_destination_configuration(s3_destination(&resource.logical_id, config)?);
    if let Some(key_type) = text(p, "/DeliveryStreamEncryptionConfigurationInput/KeyType") {
        request = request.delivery_stream_encryption_configuration_input(
            DeliveryStreamEncryptionConfigurationInput::builder()
                .key_type(KeyType::from(key_type))
                .set_key_arn(
                    text(p, "/DeliveryStreamEncryptionConfigurationInput/KeyARN")
                        .map(str::to_owned),
                )
                .build()
                .map_err(|e| crate::Error::Aws(format!("{}: {e}", resource.logical_id)))?,
        );
    }
    let out = request
        .send()
        .await
        .map_err(|e| sdk_error("CreateDeliveryStream", e))?;
    Ok(Made {
        physical_id: name,
        attributes: [("Arn".to_owned(), json!(out.delivery_stream_arn()))].into(),
    })
}

async fn create_distribution(clients: &Clients, p: &Value) -> Result<Made, Error> {
    use aws_sdk_cloudfront::types::*;
    let config = p.get("DistributionConfig").cloned().unwrap_or_default();
    let build_err = |e: aws_sdk_cloudfront::error::BuildError| {
        crate::Error::Aws(format!("DistributionConfig: {e}"))
    };
    let mut origins = Vec::new();
    for origin in config
        .get("Origins")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut builder = Origin::builder()
            .id(text(origin, "/Id").unwrap_or_default())
            .domain_name(text(origin, "/DomainName").unwrap_or_default())
            .set_origin_access_control_id(
                text(origin, "/OriginAccessControlId").map(str::to_owned),
            );
        if let Some(s3) = origin.get("S3OriginConfig") {
            builder = builder.s3_origin_config(
                S3OriginConfig::builder()
                    .origin_access_identity(text(s3, "/OriginAccessIdentity").unwrap_or_default())
                    .build(),
            );
        }
        origins.push(builder.build().map_err(build_err)?);
    }
    let behavior = config
        .get("DefaultCacheBehavior")
        .cloned()
        .unwrap_or_default();
    let methods = |pointer: &str| -> Vec<Method> {
        behavior
            .pointer(pointer)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(Method::from)
            .collect()
    };
    let allowed = methods("/AllowedMethods");
    let cached = methods("/CachedMethods");
    let mut allowed_methods = AllowedMethods::builder()
        .quantity(i32::try_from(allowed.len()).unwrap_or(0))
        .set_items(Some(allowed));
    if !cached.is_empty() {
        allowed_methods = allowed_methods.cached_methods(
            CachedMethods::builder()
                .quantity(i32::try_from(cached.len()).unwrap_or(0))
                .set_items(Some(cached))
                .build()
                .map_err(build_err)?,
        );
    }
    let trusted: Vec<String> = behavior
        .get("TrustedKeyGroups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let trusted_key_groups = TrustedKeyGroups::builder()
        .enabled(!trusted.is_empty())
        .quantity(i32::try_from(trusted.len()).unwrap_or(0))
        .set_items((!trusted.is_empty()).then_some(trusted))
        .build()
        .map_err(build_err)?;
    let default_behavior = DefaultCacheBehavior::builder()
        .trusted_key_groups(trusted_key_groups)
        .target_origin_id(text(&behavior, "/TargetOriginId").unwrap_or_default())
        .viewer_protocol_policy(ViewerProtocolPolicy::from(
            text(&behavior, "/ViewerProtocolPolicy").unwrap_or("allow-all"),
        ))
        .allowed_methods(allowed_methods.build().map_err(build_err)?)
        .compress(truthy(behavior.get("Compress")))
        .set_cache_policy_id(text(&behavior, "/CachePolicyId").map(str::to_owned))
        .set_response_headers_policy_id(
            text(&behavior, "/ResponseHeadersPolicyId").map(str::to_owned),
        )
        .build()
        .map_err(build_err)?;
    let mut builder = DistributionConfig::builder()
        .caller_reference(format!("local-{}", generated_name("d", "d", 40, true)))
        .comment(text(&config, "/Comment").unwrap_or_default())
        .enabled(truthy(config.get("Enabled")))
        .origins(
            Origins::builder()
                .quantity(i32::try_from(origins.len()).unwrap_or(0))
                .set_items(Some(origins))
                .build()
                .map_err(build_err)?,
        )
        .default_cache_behavior(default_behavior)
        .set_price_class(text(&config, "/PriceClass").map(PriceClass::from))
        .set_http_version(text(&config, "/HttpVersion").map(HttpVersion::from))
        .is_ipv6_enabled(truthy(config.get("IPV6Enabled")));
    if truthy(config.pointer("/ViewerCertificate/CloudFrontDefaultCertificate")) {
        builder = builder.viewer_certificate(
            ViewerCertificate::builder()
                .cloud_front_default_certificate(true)
                .build(),
        );
    }
    if let Some(logging) = config.get("Logging") {
        builder = builder.logging(
            LoggingConfig::builder()
                .enabled(true)
                .bucket(text(logging, "/Bucket").unwrap_or_default())
                .prefix(text(logging, "/Prefix").unwrap_or_default())
                .include_cookies(truthy(logging.get("IncludeCookies")))
                .build(),
        );
    }
    let out = clients
        .cloudfront
        .create_distribution()
        .distribution_config(builder.build().map_err(build_err)?)
        .send()
        .await
        .map_err(|e| sdk_error("CreateDistribution", e))?;
    let distribution = out.distribution();
    let id = distribution.map(|d| d.id().to_owned()).unwrap_or_default();
    Ok(Made {
        physical_id: id.clone(),
        attributes: [
            ("Id".to_owned(), json!(id)),
            (
                "DomainName".to_owned(),
                json!(distribution.map(|d| d.domain_name()).unwrap_or_default()),
            ),
        ]
        .into(),
    })
}

/// Delete one native resource; gone already counts as deleted.
pub async fn delete(clients: &Clients, kind: &str, physical_id: &str) -> Result<(), Error> {
    let gone = |text: &str| {
        text.contains("NoSuch") || text.contains("NotFound") || text.contains("ResourceNotFound")
    };
    let result = match kind {
        "AWS::S3::Bucket" => {
            empty_bucket(clients, physical_id).await?;
            clients
                .s3
                .delete_bucket()
                .bucket(physical_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteBucket", e))
        }
        "AWS::S3::BucketPolicy" => clients
            .s3
            .delete_bucket_policy()
            .bucket(physical_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("DeleteBucketPolicy", e)),
        "AWS::CloudFront::OriginAccessControl" => {
            let etag = clients
                .cloudfront
                .get_origin_access_control()
                .id(physical_id)
                .send()
                .await
                .map_err(|e| sdk_error("GetOriginAccessControl", e))?
                .e_tag()
                .map(str::to_owned);
            clients
                .cloudfront
                .delete_origin_access_control()
                .id(physical_id)
                .set_if_match(etag)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteOriginAccessControl", e))
        }
        "AWS::CloudFront::PublicKey" => clients
            .cloudfront
            .delete_public_key()
            .id(physical_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("DeletePublicKey", e)),
        // moto 5.2.5 has CreateKeyGroup but not DeleteKeyGroup (it raises
        // NotImplementedError): the group stays in moto's memory until moto
        // stops. CloudFormation deletes it, after the distribution.
        "AWS::CloudFront::KeyGroup" => Ok(()),
        "AWS::CloudFront::Distribution" => delete_distribution(clients, physical_id).await,
        "AWS::ApiGateway::RestApi" => clients
            .apigateway
            .delete_rest_api()
            .rest_api_id(physical_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("DeleteRestApi", e)),
        "AWS::IAM::Role" => {
            let policies = clients
                .iam
                .list_role_policies()
                .role_name(physical_id)
                .send()
                .await
                .map_err(|e| sdk_error("ListRolePolicies", e))?;
            for name in policies.policy_names() {
                clients
                    .iam
                    .delete_role_policy()
                    .role_name(physical_id)
                    .policy_name(name)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DeleteRolePolicy", e))?;
            }
            clients
                .iam
                .delete_role()
                .role_name(physical_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteRole", e))
        }
        "AWS::KinesisFirehose::DeliveryStream" => clients
            .firehose
            .delete_delivery_stream()
            .delivery_stream_name(physical_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("DeleteDeliveryStream", e)),
        "AWS::Logs::LogGroup" => clients
            .logs
            .delete_log_group()
            .log_group_name(physical_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("DeleteLogGroup", e)),
        _ => Ok(()),
    };
    match result {
        Err(err) if gone(&err.to_string()) => Ok(()),
        other => other,
    }
}

/// CloudFormation disables a distribution before it deletes it.
async fn delete_distribution(clients: &Clients, id: &str) -> Result<(), Error> {
    let cf = &clients.cloudfront;
    let current = cf
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .map_err(|e| sdk_error("GetDistributionConfig", e))?;
    let mut etag = current.e_tag().map(str::to_owned);
    if let Some(config) = current.distribution_config().filter(|c| c.enabled()) {
        let mut disabled = config.clone();
        disabled.enabled = false;
        let out = cf
            .update_distribution()
            .id(id)
            .distribution_config(disabled)
            .set_if_match(etag)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateDistribution", e))?;
        etag = out.e_tag().map(str::to_owned);
    }
    cf.delete_distribution()
        .id(id)
        .set_if_match(etag)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteDistribution", e))
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

/// Change a native resource in place, where CloudFormation would too (no
/// replacement). Other changes are refused, naming the resource: the local
/// engine does not replace native resources.
pub async fn update(
    clients: &Clients,
    kind: &str,
    physical_id: &str,
    before: &Value,
    after: &Value,
) -> Result<(), Error> {
    match kind {
        "AWS::S3::BucketPolicy" if before.get("Bucket") == after.get("Bucket") => {
            let policy = after.get("PolicyDocument").cloned().unwrap_or_default();
            clients.s3.put_bucket_policy().bucket(physical_id).policy(policy.to_string()).send().await.map_err(|e| sdk_error("PutBucketPolicy", e))?;
            Ok(())
        }
        "AWS::IAM::Role" if before.get("AssumeRolePolicyDocument") == after.get("AssumeRolePolicyDocument") => {
            let names = |p: &Value| -> Vec<String> {
                p.get("Policies").and_then(Value::as_array).into_iter().flatten().filter_map(|x| text(x, "/PolicyName")).map(str::to_owned).collect()
            };
            for policy in after.get("Policies").and_then(Value::as_array).into_iter().flatten() {
                clients
                    .iam
                    .put_role_policy()
                    .role_name(physical_id)
                    .policy_name(text(policy, "/PolicyName").unwrap_or("policy"))
                    .policy_document(policy.get("PolicyDocument").cloned().unwrap_or_default().to_string())
                    .send()
                    .await
                    .map_err(|e| sdk_error("PutRolePolicy", e))?;
            }
            let keep = names(after);
            for old in names(before).into_iter().filter(|n| !keep.contains(n)) {
                clients.iam.delete_role_policy().role_name(physical_id).policy_name(old).send().await.map_err(|e| sdk_error("DeleteRolePolicy", e))?;
            }
            Ok(())
        }
        // The name and type are fixed (a change is a replacement); the S3
        // destination changes in place, as CloudFormation's UpdateDestination.
        "AWS::KinesisFirehose::DeliveryStream"
            if before.get("DeliveryStreamName") == after.get("DeliveryStreamName")
                && before.get("DeliveryStreamType") == after.get("DeliveryStreamType")
                && before.get("DeliveryStreamEncryptionConfigurationInput")
                    == after.get("DeliveryStreamEncryptionConfigurationInput") =>
        {
            let wanted = after.get("ExtendedS3DestinationConfiguration");
            if before.get("ExtendedS3DestinationConfiguration") == wanted {
                return Ok(());
            }
            let wanted = wanted.ok_or_else(|| {
                Error::Template(format!("{physical_id}: ExtendedS3DestinationConfiguration is missing"))
            })?;
            let built = s3_destination(physical_id, wanted)?;
            let described = clients
                .firehose
                .describe_delivery_stream()
                .delivery_stream_name(physical_id)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeDeliveryStream", e))?;
            let description = described.delivery_stream_description();
            let destination_id = description
                .and_then(|d| d.destinations().first())
                .map(|d| d.destination_id().to_owned())
                .unwrap_or_default();
            let update = aws_sdk_firehose::types::ExtendedS3DestinationUpdate::builder()
                .bucket_arn(built.bucket_arn())
                .role_arn(built.role_arn())
                .set_prefix(built.prefix().map(str::to_owned))
                .set_error_output_prefix(built.error_output_prefix().map(str::to_owned))
                .set_compression_format(built.compression_format().cloned())
                .set_buffering_hints(built.buffering_hints().cloned())
                .build();
            clients
                .firehose
                .update_destination()
                .delivery_stream_name(physical_id)
                .current_delivery_stream_version_id(
                    description.map(|d| d.version_id()).unwrap_or_default(),
                )
                .destination_id(destination_id)
                .extended_s3_destination_update(update)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateDestination", e))?;
            Ok(())
        }
        "AWS::Logs::LogGroup" => {
            if let Some(days) = after.get("RetentionInDays").and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())) {
                clients.logs.put_retention_policy().log_group_name(physical_id).retention_in_days(i32::try_from(days).unwrap_or(i32::MAX)).send().await.map_err(|e| sdk_error("PutRetentionPolicy", e))?;
            }
            Ok(())
        }
        other => Err(Error::Unsupported(format!(
            "changing the properties of {other} {physical_id}; run `scripts/deploy --local --destroy` and deploy again"
        ))),
    }
}
