//! `AWS::CloudFront::Distribution`: the CDN in front of the data bucket.
//! moto reads a distribution back without its origins' OAC/OAI fields, so
//! which access control an origin uses cannot be checked here. Every change
//! is a replacement locally.

use serde_json::{json, Value};

use super::{found, generated_name, text, truthy, Made, NativeType};
use crate::clients::{sdk_error, Clients};
use crate::Error;

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::CloudFront::Distribution",
    create: |clients, _stack, _resource, properties| Box::pin(create(clients, properties)),
    update: None,
    delete: |clients, id| Box::pin(delete(clients, id)),
    read: |clients, id| Box::pin(read(clients, id)),
};

async fn create(clients: &Clients, p: &Value) -> Result<Made, Error> {
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

/// CloudFormation disables a distribution before it deletes it.
async fn delete(clients: &Clients, id: &str) -> Result<(), Error> {
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

async fn read(clients: &Clients, id: &str) -> Result<Option<Value>, Error> {
    let out = found(
        clients
            .cloudfront
            .get_distribution()
            .id(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetDistribution", e)),
    )?;
    let Some(distribution) = out.as_ref().and_then(|o| o.distribution()) else {
        return Ok(None);
    };
    let config = distribution.distribution_config();
    let behavior = config.and_then(|c| c.default_cache_behavior());
    Ok(Some(json!({
        "DomainName": distribution.domain_name(),
        "Enabled": config.map(|c| c.enabled()),
        "Comment": config.map(|c| c.comment()),
        "PriceClass": config.and_then(|c| c.price_class()).map(|p| p.as_str()),
        "HttpVersion": config.and_then(|c| c.http_version()).map(|h| h.as_str()),
        "IPV6Enabled": config.and_then(|c| c.is_ipv6_enabled()),
        "Origins": config
            .and_then(|c| c.origins())
            .map(|o| o.items().iter().map(|o| json!({"Id": o.id(), "DomainName": o.domain_name()})).collect::<Vec<_>>()),
        "TargetOriginId": behavior.map(|b| b.target_origin_id()),
        "ViewerProtocolPolicy": behavior.map(|b| b.viewer_protocol_policy().as_str()),
        "TrustedKeyGroups": behavior
            .and_then(|b| b.trusted_key_groups())
            .map(|t| t.items()),
        "LoggingBucket": config
            .and_then(|c| c.logging())
            .filter(|l| l.enabled())
            .map(|l| l.bucket()),
    })))
}
