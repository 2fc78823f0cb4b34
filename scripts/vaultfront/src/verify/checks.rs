//! Each guarantee, read back from the target through the SDK.

use serde_json::Value;

use super::access_log;
use super::cdn_path;
use super::data_path;
use super::key_groups;
use super::policy::{self, Origin};
use super::{Facts, Guarantee, Status};
use crate::local::{sdk_text, Clients};

pub const BPA: &str = "Block Public Access all on";
pub const POLICY_GRANTS: &str = "Bucket policy grants only the origin";
pub const TLS_DENY: &str = "TLS-only deny on bucket and objects";
pub const VERSIONING: &str = "Versioning on";
pub const OBJECT_LOCK: &str = "Object Lock default retention";
pub const CDN_HTTPS: &str = "Distribution HTTPS only";
pub const CDN_IDENTITY: &str = "Distribution signs with the identity";
pub const CDN_SIGNED: &str = "Distribution serves signed requests only";
pub const API_AUTH: &str = "API methods require AWS_IAM";
pub const API_INTEGRATION: &str = "API integrations AWS, this bucket only";
pub const API_ACCESS_LOG: &str = "API stage logs access to the stack's destination";
pub const LOCKED_DELETE: &str = "New version locked, delete refused";
pub const ANONYMOUS_GET: &str = "Anonymous direct S3 GET refused";
pub const CDN_DATA_PATH: &str = "CDN refuses unsigned GET, serves signed";

pub(super) fn guarantee(name: &'static str, result: Result<String, String>) -> Guarantee {
    match result {
        Ok(evidence) => Guarantee {
            name,
            status: Status::Pass,
            evidence,
        },
        Err(evidence) => Guarantee {
            name,
            status: Status::Fail,
            evidence,
        },
    }
}

pub(super) fn not_applicable(name: &'static str, reason: &str) -> Guarantee {
    Guarantee {
        name,
        status: Status::NotApplicable,
        evidence: reason.to_owned(),
    }
}

pub async fn run(clients: &Clients, facts: &Facts) -> Vec<Guarantee> {
    let distribution = clients
        .cloudfront
        .get_distribution()
        .id(&facts.distribution_id)
        .send()
        .await;
    let (distribution_arn, distribution_config) = match &distribution {
        Ok(out) => (
            out.distribution()
                .map(|d| d.arn().to_owned())
                .unwrap_or_default(),
            out.distribution()
                .and_then(|d| d.distribution_config())
                .cloned(),
        ),
        Err(_) => (String::new(), None),
    };
    let mut out = vec![guarantee(BPA, block_public_access(clients, facts).await)];
    let policy_text = clients
        .s3
        .get_bucket_policy()
        .bucket(&facts.bucket)
        .send()
        .await;
    let policy: Result<Value, String> = policy_text
        .map_err(|e| format!("GetBucketPolicy: {}", sdk_text(&e)))
        .and_then(|p| {
            serde_json::from_str(p.policy().unwrap_or_default())
                .map_err(|e| format!("the policy is not JSON: {e}"))
        });
    let origin = origin(facts, &distribution_arn, distribution_config.as_ref());
    out.push(guarantee(
        POLICY_GRANTS,
        policy.clone().and_then(|p| {
            let (ours, foreign) = policy::foreign_grants(&p, &origin);
            let denies = policy::foreign_denies(&p);
            let other_denies = if denies.is_empty() {
                String::new()
            } else {
                format!("; other Deny statements: {}", denies.join(", "))
            };
            if !foreign.is_empty() {
                Err(format!(
                    "foreign grants: {}{other_denies}",
                    foreign.join("; ")
                ))
            } else if ours == 0 {
                Err(format!("no statement grants {origin}{other_denies}"))
            } else {
                Ok(format!(
                    "{ours} Allow statement(s), all to {origin}{other_denies}"
                ))
            }
        }),
    ));
    out.push(guarantee(
        TLS_DENY,
        policy.and_then(|p| policy::tls_deny(&p, &format!("arn:aws:s3:::{}", facts.bucket))),
    ));
    out.push(guarantee(
        VERSIONING,
        match clients
            .s3
            .get_bucket_versioning()
            .bucket(&facts.bucket)
            .send()
            .await
        {
            Ok(v) if v.status().map(|s| s.as_str()) == Some("Enabled") => {
                Ok("Status=Enabled".into())
            }
            Ok(v) => Err(format!("Status={:?}", v.status().map(|s| s.as_str()))),
            Err(e) => Err(format!("GetBucketVersioning: {}", sdk_text(&e))),
        },
    ));
    out.push(guarantee(OBJECT_LOCK, object_lock(clients, facts).await));
    match &distribution_config {
        Some(config) => {
            let behavior = config.default_cache_behavior();
            let policy = behavior
                .map(|b| b.viewer_protocol_policy().as_str().to_owned())
                .unwrap_or_default();
            let mut policies = vec![format!("default: {policy}")];
            let mut all_https = policy == "redirect-to-https" || policy == "https-only";
            for extra in config
                .cache_behaviors()
                .map(|c| c.items())
                .unwrap_or_default()
            {
                let p = extra.viewer_protocol_policy().as_str();
                all_https &= p == "redirect-to-https" || p == "https-only";
                policies.push(format!("{}: {p}", extra.path_pattern()));
            }
            out.push(guarantee(
                CDN_HTTPS,
                if all_https {
                    Ok(policies.join(", "))
                } else {
                    Err(policies.join(", "))
                },
            ));
            out.push(identity(facts, config));
            out.push(key_groups::check(clients, facts, config).await);
        }
        None => {
            let reason = match &distribution {
                Err(e) => format!("GetDistribution {}: {}", facts.distribution_id, sdk_text(e)),
                Ok(_) => "no distribution config".into(),
            };
            out.push(guarantee(CDN_HTTPS, Err(reason.clone())));
            out.push(guarantee(CDN_IDENTITY, Err(reason.clone())));
            out.push(guarantee(CDN_SIGNED, Err(reason)));
        }
    }
    out.extend(api_methods(clients, facts).await);
    out.push(guarantee(
        API_ACCESS_LOG,
        access_log::check(clients, facts).await,
    ));
    out.extend(data_path(clients, facts).await);
    out
}

/// The data path. Locally neither half can be shown: moto authenticates
/// nothing, and it refuses every object request on the stack's bucket
/// through the TLS-only Deny (its endpoint is plain HTTP, and it evaluates
/// the policy's conditions against no request context at all), and its
/// CloudFront serves no content.
async fn data_path(clients: &Clients, facts: &Facts) -> [Guarantee; 3] {
    if facts.local {
        return [
            cdn_path::check(facts, "", false).await,
            not_applicable(
                LOCKED_DELETE,
                "moto refuses every object request on this bucket (the TLS-only Deny on a plain-HTTP endpoint), so no probe can be written locally",
            ),
            not_applicable(
                ANONYMOUS_GET,
                "moto does not authenticate requests: a refusal there proves nothing",
            ),
        ];
    }
    let (probe, locked) = if facts.probe {
        let (key, verdict) = data_path::locked_delete(clients, facts).await;
        (key, guarantee(LOCKED_DELETE, verdict))
    } else {
        let reason = format!(
            "not tried: --probe writes a 0-byte object under {} that stays until its {} retention ends",
            data_path::PROBE_PREFIX,
            facts.retention_mode
        );
        (None, not_applicable(LOCKED_DELETE, &reason))
    };
    let (key, exists) = data_path::some_key(clients, &facts.bucket, probe.as_deref()).await;
    let anonymous = data_path::anonymous(clients, &facts.bucket, &key).await;
    let cdn = cdn_path::check(facts, &key, exists).await;
    [cdn, locked, guarantee(ANONYMOUS_GET, anonymous)]
}

fn origin(
    facts: &Facts,
    distribution_arn: &str,
    config: Option<&aws_sdk_cloudfront::types::DistributionConfig>,
) -> Origin {
    if facts.origin_access == "OAI" {
        let id = config
            .and_then(|c| c.origins())
            .and_then(|o| o.items().first())
            .and_then(|o| o.s3_origin_config())
            .map(|s| {
                s.origin_access_identity()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default();
        Origin::Oai {
            identity_arn: format!(
                "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {id}"
            ),
        }
    } else {
        // Locally the ARN is CloudFront's documented form, not moto's
        // reading of it: moto releases before 5.2.5 drop the empty region
        // field (`cloudfront:<account>:distribution/..`), so a moto of
        // another version would make the stack's own grant look foreign.
        let arn = if facts.local || distribution_arn.is_empty() {
            format!(
                "arn:aws:cloudfront::{}:distribution/{}",
                crate::local::ACCOUNT,
                facts.distribution_id
            )
        } else {
            distribution_arn.to_owned()
        };
        Origin::Oac {
            distribution_arn: arn,
        }
    }
}

async fn block_public_access(clients: &Clients, facts: &Facts) -> Result<String, String> {
    let out = clients
        .s3
        .get_public_access_block()
        .bucket(&facts.bucket)
        .send()
        .await
        .map_err(|e| format!("GetPublicAccessBlock: {}", sdk_text(&e)))?;
    let c = out
        .public_access_block_configuration()
        .ok_or("no configuration")?;
    let flags = [
        ("BlockPublicAcls", c.block_public_acls()),
        ("BlockPublicPolicy", c.block_public_policy()),
        ("IgnorePublicAcls", c.ignore_public_acls()),
        ("RestrictPublicBuckets", c.restrict_public_buckets()),
    ];
    let text = flags
        .iter()
        .map(|(n, v)| format!("{n}={}", v.unwrap_or(false)))
        .collect::<Vec<_>>()
        .join(" ");
    if flags.iter().all(|(_, v)| *v == Some(true)) {
        Ok(text)
    } else {
        Err(text)
    }
}

async fn object_lock(clients: &Clients, facts: &Facts) -> Result<String, String> {
    let out = clients
        .s3
        .get_object_lock_configuration()
        .bucket(&facts.bucket)
        .send()
        .await
        .map_err(|e| format!("GetObjectLockConfiguration: {}", sdk_text(&e)))?;
    let config = out
        .object_lock_configuration()
        .ok_or("no Object Lock configuration")?;
    let enabled = config.object_lock_enabled().map(|e| e.as_str()) == Some("Enabled");
    let retention = config.rule().and_then(|r| r.default_retention());
    let mode = retention
        .and_then(|r| r.mode())
        .map(|m| m.as_str())
        .unwrap_or("none");
    let days = i64::from(retention.and_then(|r| r.days()).unwrap_or(0));
    let years = i64::from(retention.and_then(|r| r.years()).unwrap_or(0));
    let seen = format!("ObjectLockEnabled={enabled}, {mode}, Days={days}, Years={years}");
    let expected = format!(
        "{}, Days={}, Years={}",
        facts.retention_mode, facts.retention_days, facts.retention_years
    );
    if enabled
        && mode == facts.retention_mode
        && days == facts.retention_days
        && years == facts.retention_years
    {
        Ok(seen)
    } else {
        Err(format!("{seen}; expected {expected}"))
    }
}

fn identity(facts: &Facts, config: &aws_sdk_cloudfront::types::DistributionConfig) -> Guarantee {
    let origins = config.origins().map(|o| o.items()).unwrap_or_default();
    let bucket_host = format!("{}.s3.", facts.bucket);
    let Some(origin) = origins
        .iter()
        .find(|o| o.domain_name().starts_with(&bucket_host))
    else {
        return guarantee(
            CDN_IDENTITY,
            Err(format!("no origin points at {}", facts.bucket)),
        );
    };
    let oac = origin.origin_access_control_id().unwrap_or_default();
    let oai = origin
        .s3_origin_config()
        .map(|s| s.origin_access_identity())
        .unwrap_or_default();
    match facts.origin_access.as_str() {
        "OAC" if !oac.is_empty() && oai.is_empty() => guarantee(CDN_IDENTITY, Ok(format!("origin {} signs with OAC {oac}", origin.id()))),
        // moto stores a distribution without its OAC and OAI fields (see "What the emulators cannot show" in the README).
        _ if facts.local && oac.is_empty() && oai.is_empty() => not_applicable(
            CDN_IDENTITY,
            &format!("moto reads origin {} back without OriginAccessControlId/OriginAccessIdentity; not provable locally", origin.id()),
        ),
        "OAI" if !oai.is_empty() && oac.is_empty() => guarantee(CDN_IDENTITY, Ok(format!("origin {} uses {oai}", origin.id()))),
        mode => guarantee(CDN_IDENTITY, Err(format!("OriginAccess={mode} but origin {} has OAC `{oac}`, OAI `{oai}`", origin.id()))),
    }
}

/// Every method of the API: its authorization, and its integration (type
/// `AWS`, URI on this bucket). moto leaves a PutRestApi import's methods
/// with no authorization type at all and has no UpdateMethod to set one
/// (tests/tests/s3_proxy_api.rs), so locally an unset type is N/A, not a
/// pass; a type that is set and is not AWS_IAM fails everywhere.
async fn api_methods(clients: &Clients, facts: &Facts) -> Vec<Guarantee> {
    match read_methods(clients, facts).await {
        Err(reason) => vec![
            guarantee(API_AUTH, Err(reason.clone())),
            guarantee(API_INTEGRATION, Err(reason)),
        ],
        Ok(methods) if methods.is_empty() => {
            let reason = format!("API {} has no methods", facts.rest_api_id);
            vec![
                guarantee(API_AUTH, Err(reason.clone())),
                guarantee(API_INTEGRATION, Err(reason)),
            ]
        }
        Ok(methods) => {
            let labels: Vec<&str> = methods.iter().map(|m| m.label.as_str()).collect();
            let listed = format!(
                "{} ({}) on stage {}",
                methods.len(),
                labels.join(", "),
                facts.stage
            );
            let wrong_auth: Vec<String> = methods
                .iter()
                .filter_map(|m| match &m.authorization {
                    Some(a) if a == "AWS_IAM" => None,
                    Some(a) => Some(format!("{}: authorization {a}", m.label)),
                    None if facts.local => None,
                    None => Some(format!("{}: no authorization type", m.label)),
                })
                .collect();
            let unset = methods.iter().filter(|m| m.authorization.is_none()).count();
            let auth = if !wrong_auth.is_empty() {
                guarantee(API_AUTH, Err(wrong_auth.join("; ")))
            } else if unset > 0 {
                not_applicable(
                    API_AUTH,
                    &format!("moto reads {unset} method(s) back with no authorization type (it ignores the OpenAPI awsSigv4 scheme and has no UpdateMethod); not provable locally"),
                )
            } else {
                guarantee(API_AUTH, Ok(format!("AWS_IAM on {listed}")))
            };
            let bucket_path = format!(":s3:path/{}/", facts.bucket);
            let wrong_integration: Vec<String> = methods
                .iter()
                .filter_map(|m| {
                    // moto spells the type in lower case; API Gateway in upper.
                    if !m.integration.eq_ignore_ascii_case("AWS") {
                        Some(format!("{}: integration {}", m.label, m.integration))
                    } else if !m.uri.contains(&bucket_path) {
                        Some(format!(
                            "{}: integration URI {} is not this bucket",
                            m.label, m.uri
                        ))
                    } else {
                        None
                    }
                })
                .collect();
            let integration = if wrong_integration.is_empty() {
                guarantee(
                    API_INTEGRATION,
                    Ok(format!("type AWS, {bucket_path}{{key}} on {listed}")),
                )
            } else {
                guarantee(API_INTEGRATION, Err(wrong_integration.join("; ")))
            };
            vec![auth, integration]
        }
    }
}

struct MethodSeen {
    label: String,
    authorization: Option<String>,
    integration: String,
    uri: String,
}

async fn read_methods(clients: &Clients, facts: &Facts) -> Result<Vec<MethodSeen>, String> {
    let api = &clients.apigateway;
    let resources = api
        .get_resources()
        .rest_api_id(&facts.rest_api_id)
        .limit(500)
        .send()
        .await
        .map_err(|e| format!("GetResources {}: {}", facts.rest_api_id, sdk_text(&e)))?;
    let mut seen = Vec::new();
    for resource in resources.items() {
        let id = resource.id().unwrap_or_default();
        let path = resource.path().unwrap_or_default();
        let mut verbs: Vec<String> = resource
            .resource_methods()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        verbs.sort();
        for verb in verbs {
            let method = api
                .get_method()
                .rest_api_id(&facts.rest_api_id)
                .resource_id(id)
                .http_method(&verb)
                .send()
                .await
                .map_err(|e| format!("GetMethod {verb} {path}: {}", sdk_text(&e)))?;
            let integration = method.method_integration();
            seen.push(MethodSeen {
                label: format!("{verb} {path}"),
                authorization: method.authorization_type().map(str::to_owned),
                integration: integration
                    .and_then(|i| i.r#type())
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_else(|| "none".into()),
                uri: integration
                    .and_then(|i| i.uri())
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(local: bool) -> Facts {
        Facts {
            local,
            stack: "s".into(),
            bucket: "b".into(),
            distribution_id: "E2EXAMPLE".into(),
            rest_api_id: "a".into(),
            stage: "v1".into(),
            origin_access: "OAC".into(),
            retention_mode: "GOVERNANCE".into(),
            retention_days: 30,
            retention_years: 0,
            probe: false,
            access_log_destination: String::new(),
            log_bucket: "l".into(),
            cdn_access: "signed".into(),
            key_pair_ids: Vec::new(),
            cdn_url: String::new(),
            signing_key: None,
        }
    }

    #[test]
    fn locally_the_origin_is_cloudfronts_documented_arn_not_motos() {
        // What moto before 5.2.5 reads back: no empty region field.
        let moto = "arn:aws:cloudfront:123456789012:distribution/E2EXAMPLE";
        let documented = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE";
        assert_eq!(
            origin(&facts(true), moto, None),
            Origin::Oac {
                distribution_arn: documented.into()
            }
        );
        // On AWS the service's own answer is the truth.
        let aws = "arn:aws:cloudfront::111122223333:distribution/E2EXAMPLE";
        assert_eq!(
            origin(&facts(false), aws, None),
            Origin::Oac {
                distribution_arn: aws.into()
            }
        );
    }
}
