//! Reconcile, as pure functions: what API Gateway reports plus what is
//! wanted gives the writes to make. `aws.rs` reads and writes; this decides.
//!
//! How a no-op is told apart. API Gateway's own read-backs cannot be compared
//! with the rendered document: a stage export (GetExport) is normalised and
//! differs from what was imported, and emulators export only a skeleton
//! (moto's is a bare Swagger 2 listing). So each deployment this resource
//! makes carries, in its description, the SHA-256 of the document it was made
//! from (see [`deployment_description`]). A deployment is an immutable
//! snapshot and the stage names the one it serves, so GetStage plus
//! GetDeployment say exactly which document is live, on AWS and on moto and
//! LocalStack alike. A manual redeploy of other content changes the stage's
//! deployment and so forces ours back. Stage settings (throttling, the access
//! log, the execution log level) are not in any deployment; they are compared
//! directly with what GetStage reports (`methodSettings`, `accessLogSettings`).

use crate::logging::{AccessLog, LogLevel};
use crate::openapi::MethodSpec;
use crate::properties::{Authorization, Throttling};
use std::collections::BTreeMap;

/// Starts the description of every deployment this resource makes.
const DEPLOYMENT_MARK: &str = "Custom::S3ProxyApi document sha256:";
/// `methodSettings` key of a stage's defaults for every method.
pub const ALL_METHODS: &str = "*/*";

pub fn deployment_description(digest: &str) -> String {
    format!("{DEPLOYMENT_MARK}{digest}")
}

/// The document digest of a deployment this resource made, or `None` for
/// someone else's deployment.
pub fn deployed_digest(description: Option<&str>) -> Option<&str> {
    description?
        .strip_prefix(DEPLOYMENT_MARK)
        .filter(|digest| digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A stage as API Gateway reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedStage {
    pub deployment_id: Option<String>,
    /// The description of the deployment the stage serves.
    pub deployment_description: Option<String>,
    /// `methodSettings["*/*"]`'s throttling, when the stage has such settings.
    pub default_throttling: Option<Throttling>,
    /// `methodSettings["*/*"]`'s execution log level.
    pub default_log_level: LogLevel,
    /// `accessLogSettings`, when the stage logs access.
    pub access_log: Option<AccessLog>,
}

/// The stage's own settings, as wanted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageSettings {
    pub throttling: Option<Throttling>,
    pub access_log: Option<AccessLog>,
    pub log_level: LogLevel,
}

/// One UpdateStage patch operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StagePatch {
    Replace { path: String, value: String },
    Remove { path: String },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// PutRestApi, read back, then CreateDeployment to the stage.
    pub deploy: bool,
    pub stage_patches: Vec<StagePatch>,
    /// Our deployment the stage served before; no longer needed once the
    /// stage serves the new one.
    pub retire_deployment: Option<String>,
}

impl Plan {
    pub fn is_noop(&self) -> bool {
        !self.deploy && self.stage_patches.is_empty()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Conflict {
    #[error(
        "stage {stage:?} already exists on REST API {rest_api_id} and serves deployment {deployment} \
         that Custom::S3ProxyApi did not make; choose another StageName, or delete that stage first"
    )]
    ForeignStage {
        rest_api_id: String,
        stage: String,
        deployment: String,
    },
}

/// What to write so that `stage` serves the document with `digest`, with
/// `settings` as its own settings.
///
/// `creating`: the stage is not yet known to be this resource's (a Create, or
/// an Update that moved to a new stage). An existing stage serving a
/// deployment someone else made is then refused rather than taken over.
pub fn plan(
    rest_api_id: &str,
    stage: &str,
    digest: &str,
    settings: &StageSettings,
    observed: Option<&ObservedStage>,
    creating: bool,
) -> Result<Plan, Conflict> {
    let Some(observed) = observed else {
        return Ok(Plan {
            deploy: true,
            stage_patches: stage_patches(settings, None),
            retire_deployment: None,
        });
    };
    let live = deployed_digest(observed.deployment_description.as_deref());
    if creating && live.is_none() {
        if let Some(deployment) = &observed.deployment_id {
            return Err(Conflict::ForeignStage {
                rest_api_id: rest_api_id.to_owned(),
                stage: stage.to_owned(),
                deployment: deployment.clone(),
            });
        }
    }
    let deploy = live != Some(digest);
    Ok(Plan {
        deploy,
        stage_patches: stage_patches(settings, Some(observed)),
        retire_deployment: observed
            .deployment_id
            .clone()
            .filter(|_| deploy && live.is_some()),
    })
}

/// The UpdateStage operations that make the stage's settings `wanted`.
pub fn stage_patches(wanted: &StageSettings, observed: Option<&ObservedStage>) -> Vec<StagePatch> {
    let observed_level = observed.map(|o| o.default_log_level).unwrap_or_default();
    let has_default_settings = observed.is_some_and(|o| o.default_throttling.is_some());
    let mut patches = throttling_patches(
        wanted.throttling,
        observed.and_then(|o| o.default_throttling),
        has_default_settings && wanted.log_level == LogLevel::Off,
    );
    let cleared = patches
        .iter()
        .any(|p| matches!(p, StagePatch::Remove { .. }));
    if !cleared && wanted.log_level != observed_level {
        patches.push(StagePatch::Replace {
            path: format!("/{ALL_METHODS}/logging/loglevel"),
            value: wanted.log_level.as_str().to_owned(),
        });
    }
    patches.extend(access_log_patches(
        wanted.access_log.as_ref(),
        observed.and_then(|o| o.access_log.as_ref()),
    ));
    patches
}

/// The stage is this resource's (it made it with CreateDeployment), so its
/// `*/*` method settings hold exactly the throttling and the execution log
/// level asked for, or nothing: `clear` when neither is wanted any more.
fn throttling_patches(
    wanted: Option<Throttling>,
    observed: Option<Throttling>,
    clear: bool,
) -> Vec<StagePatch> {
    match wanted {
        Some(wanted) if !observed.is_some_and(|o| same_throttling(o, wanted)) => vec![
            StagePatch::Replace {
                path: format!("/{ALL_METHODS}/throttling/rateLimit"),
                value: wanted.rate_limit.to_string(),
            },
            StagePatch::Replace {
                path: format!("/{ALL_METHODS}/throttling/burstLimit"),
                value: wanted.burst_limit.to_string(),
            },
        ],
        None if clear => vec![StagePatch::Remove {
            path: format!("/{ALL_METHODS}"),
        }],
        _ => Vec::new(),
    }
}

/// Destination and format are written together: API Gateway needs both to
/// log, and a changed format with an unchanged destination is still one call.
fn access_log_patches(wanted: Option<&AccessLog>, observed: Option<&AccessLog>) -> Vec<StagePatch> {
    match (wanted, observed) {
        (Some(wanted), Some(observed)) if wanted == observed => Vec::new(),
        (Some(wanted), _) => vec![
            StagePatch::Replace {
                path: "/accessLogSettings/destinationArn".into(),
                value: wanted.destination_arn.clone(),
            },
            StagePatch::Replace {
                path: "/accessLogSettings/format".into(),
                value: wanted.format.clone(),
            },
        ],
        (None, Some(_)) => vec![StagePatch::Remove {
            path: "/accessLogSettings".into(),
        }],
        (None, None) => Vec::new(),
    }
}

fn same_throttling(a: Throttling, b: Throttling) -> bool {
    a.burst_limit == b.burst_limit && (a.rate_limit - b.rate_limit).abs() < 1e-9
}

/// A method as API Gateway reports it (GetResources with `embed=methods`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedMethod {
    pub resource_id: String,
    pub path: String,
    pub verb: String,
    /// `None` when the service reports no authorization type at all, which
    /// API Gateway never does (PutMethod requires one) but moto does.
    pub authorization: Option<String>,
    pub integration: Option<ObservedIntegration>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedIntegration {
    pub kind: Option<String>,
    pub http_method: Option<String>,
    pub uri: Option<String>,
    pub credentials: Option<String>,
    pub request_parameters: BTreeMap<String, String>,
}

/// A method the import left other than rendered, in a way a patch mends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub resource_id: String,
    pub path: String,
    pub verb: String,
    pub field: Patchable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patchable {
    /// The method's authorization type (emulators drop the sigv4 scheme
    /// and read back `NONE`).
    Authorization {
        found: String,
        wanted: Authorization,
    },
    /// The integration's role (LocalStack's import drops `credentials`).
    Credentials {
        found: Option<String>,
        wanted: String,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadBackError {
    #[error(
        "after PutRestApi, {verb} {path} does not exist; the import did not apply the document"
    )]
    MissingMethod { verb: String, path: String },
    #[error(
        "after PutRestApi, {verb} {path} has integration {field} {found:?} but {expected:?} was rendered; \
         the import did not apply the document as written"
    )]
    Integration {
        verb: String,
        path: String,
        field: &'static str,
        expected: String,
        found: String,
    },
}

/// Compare the methods read back after PutRestApi with the ones rendered.
/// The authorization type and the integration's role come back as fixes to
/// patch (emulators drop both on import); any other difference is an error
/// naming the method and the field. Also returns the methods whose
/// authorization the service does not report at all (moto), which cannot be
/// checked.
pub fn check_methods(
    expected: &[MethodSpec],
    observed: &[ObservedMethod],
) -> Result<(Vec<Fix>, Vec<String>), ReadBackError> {
    let mut fixes = Vec::new();
    let mut unverified = Vec::new();
    for method in expected {
        let verb = method.verb.as_str();
        let Some(found) = observed
            .iter()
            .find(|o| o.path == method.path && o.verb.eq_ignore_ascii_case(verb))
        else {
            return Err(ReadBackError::MissingMethod {
                verb: verb.to_owned(),
                path: method.path.to_owned(),
            });
        };
        let mismatch =
            |field: &'static str, expected: &str, found: Option<&str>| ReadBackError::Integration {
                verb: verb.to_owned(),
                path: method.path.to_owned(),
                field,
                expected: expected.to_owned(),
                found: found.unwrap_or("<none>").to_owned(),
            };
        let integration = found.integration.clone().unwrap_or_default();
        // moto reports the type as imported ("aws"); API Gateway upper-cases it.
        if !integration
            .kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("AWS"))
        {
            return Err(mismatch("type", "AWS", integration.kind.as_deref()));
        }
        let wanted = &method.integration;
        let fields = [
            (
                "httpMethod",
                wanted.http_method.as_str(),
                &integration.http_method,
            ),
            ("uri", wanted.uri.as_str(), &integration.uri),
        ];
        for (field, wanted, got) in fields {
            if got.as_deref() != Some(wanted) {
                return Err(mismatch(field, wanted, got.as_deref()));
            }
        }
        if integration.request_parameters != wanted.request_parameters {
            return Err(mismatch(
                "requestParameters",
                &format!("{:?}", wanted.request_parameters),
                Some(&format!("{:?}", integration.request_parameters)),
            ));
        }
        let fix = |field| Fix {
            resource_id: found.resource_id.clone(),
            path: method.path.to_owned(),
            verb: verb.to_owned(),
            field,
        };
        if integration.credentials.as_deref() != Some(wanted.credentials.as_str()) {
            fixes.push(fix(Patchable::Credentials {
                found: integration.credentials.clone(),
                wanted: wanted.credentials.clone(),
            }));
        }
        match found.authorization.as_deref() {
            Some(auth) if auth == method.authorization.as_str() => {}
            Some(auth) => fixes.push(fix(Patchable::Authorization {
                found: auth.to_owned(),
                wanted: method.authorization,
            })),
            None => unverified.push(format!("{verb} {}", method.path)),
        }
    }
    Ok((fixes, unverified))
}

/// The binary media type the document declares; missing after an import
/// that ignored `x-amazon-apigateway-binary-media-types`.
pub const BINARY_MEDIA_TYPE: &str = "*/*";

/// The PATCH path of a binary media type: `/` is escaped as `~1` (JSON Pointer).
pub fn binary_media_type_path(media_type: &str) -> String {
    format!(
        "/binaryMediaTypes/{}",
        media_type.replace('~', "~0").replace('/', "~1")
    )
}

/// A stage of the API: its name and the deployment it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRef {
    pub name: String,
    pub deployment_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRef {
    pub id: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletePlan {
    pub delete_stage: bool,
    /// Empty the API (its resources and methods) when no other stage serves
    /// a deployment of ours: a replacement on the same API keeps it.
    pub clear_api: bool,
    /// Our deployments that no remaining stage serves.
    pub delete_deployments: Vec<String>,
}

impl DeletePlan {
    pub fn is_noop(&self) -> bool {
        !self.delete_stage && !self.clear_api && self.delete_deployments.is_empty()
    }
}

/// What Delete of `stage` removes. Only what this resource made: the stage,
/// our deployments nothing else serves, and the API's content unless another
/// stage of ours (a replacement's) still relies on it. When the stage and our
/// deployments are already gone, there is nothing to do (content included:
/// it is cleared before the deployments are deleted).
pub fn plan_delete(stage: &str, stages: &[StageRef], deployments: &[DeploymentRef]) -> DeletePlan {
    let ours = |id: &str| {
        deployments
            .iter()
            .any(|d| d.id == id && deployed_digest(d.description.as_deref()).is_some())
    };
    let remaining: Vec<&StageRef> = stages.iter().filter(|s| s.name != stage).collect();
    let still_served = |id: &str| {
        remaining
            .iter()
            .any(|s| s.deployment_id.as_deref() == Some(id))
    };
    let delete_stage = stages.iter().any(|s| s.name == stage);
    let delete_deployments: Vec<String> = deployments
        .iter()
        .filter(|d| ours(&d.id) && !still_served(&d.id))
        .map(|d| d.id.clone())
        .collect();
    let another_of_ours = remaining
        .iter()
        .any(|s| s.deployment_id.as_deref().is_some_and(ours));
    DeletePlan {
        delete_stage,
        clear_api: (delete_stage || !delete_deployments.is_empty()) && !another_of_ours,
        delete_deployments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi::{methods, Target};
    use crate::properties::{Spec, Verb};

    const DIGEST: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OTHER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn stage(digest: Option<&str>, throttling: Option<Throttling>) -> ObservedStage {
        ObservedStage {
            deployment_id: Some("dep1".into()),
            deployment_description: Some(
                digest.map_or("made by hand".to_owned(), deployment_description),
            ),
            default_throttling: throttling,
            ..ObservedStage::default()
        }
    }

    /// [`plan`] with only throttling among the stage settings.
    fn make_plan(
        api: &str,
        stage: &str,
        digest: &str,
        throttling: Option<Throttling>,
        observed: Option<&ObservedStage>,
        creating: bool,
    ) -> Result<Plan, Conflict> {
        let settings = StageSettings {
            throttling,
            ..StageSettings::default()
        };
        plan(api, stage, digest, &settings, observed, creating)
    }

    fn access_log(destination: &str) -> AccessLog {
        AccessLog {
            destination_arn: format!(
                "arn:aws:firehose:us-east-1:123456789012:deliverystream/{destination}"
            ),
            format: crate::logging::DEFAULT_FORMAT.into(),
        }
    }

    fn logged(destination: &str, level: LogLevel) -> StageSettings {
        StageSettings {
            throttling: Some(T),
            access_log: Some(access_log(destination)),
            log_level: level,
        }
    }

    #[test]
    fn a_new_stage_gets_its_access_log_and_execution_log_level() {
        let plan = plan(
            "a1b2c3d4e5",
            "v1",
            DIGEST,
            &logged("amazon-apigateway-a", LogLevel::Error),
            None,
            true,
        )
        .unwrap();
        let paths: Vec<&str> = plan
            .stage_patches
            .iter()
            .map(|p| match p {
                StagePatch::Replace { path, .. } | StagePatch::Remove { path } => path.as_str(),
            })
            .collect();
        assert_eq!(
            paths,
            [
                "/*/*/throttling/rateLimit",
                "/*/*/throttling/burstLimit",
                "/*/*/logging/loglevel",
                "/accessLogSettings/destinationArn",
                "/accessLogSettings/format",
            ]
        );
        let off = plan_for(&logged("amazon-apigateway-a", LogLevel::Off), None);
        assert!(
            !off.iter().any(
                |p| matches!(p, StagePatch::Replace { path, .. } if path.contains("loglevel"))
            ),
            "OFF on a new stage is API Gateway's default: {off:?}"
        );
    }

    fn plan_for(settings: &StageSettings, observed: Option<&ObservedStage>) -> Vec<StagePatch> {
        plan("a1b2c3d4e5", "v1", DIGEST, settings, observed, false)
            .unwrap()
            .stage_patches
    }

    fn serving(settings: &StageSettings) -> ObservedStage {
        ObservedStage {
            default_log_level: settings.log_level,
            access_log: settings.access_log.clone(),
            ..stage(Some(DIGEST), settings.throttling)
        }
    }

    #[test]
    fn logging_as_read_back_means_no_writes() {
        for level in [LogLevel::Off, LogLevel::Error] {
            let wanted = logged("amazon-apigateway-a", level);
            let plan = plan(
                "a1b2c3d4e5",
                "v1",
                DIGEST,
                &wanted,
                Some(&serving(&wanted)),
                false,
            )
            .unwrap();
            assert!(plan.is_noop(), "{plan:?}");
        }
    }

    #[test]
    fn a_changed_destination_or_format_rewrites_both_and_nothing_else() {
        let before = logged("amazon-apigateway-a", LogLevel::Off);
        let after = logged("amazon-apigateway-b", LogLevel::Off);
        let patches = plan_for(&after, Some(&serving(&before)));
        assert_eq!(
            patches,
            [
                StagePatch::Replace {
                    path: "/accessLogSettings/destinationArn".into(),
                    value:
                        "arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-b"
                            .into()
                },
                StagePatch::Replace {
                    path: "/accessLogSettings/format".into(),
                    value: crate::logging::DEFAULT_FORMAT.into()
                },
            ]
        );
        let mut reformatted = before.clone();
        reformatted.access_log.as_mut().unwrap().format = "$context.requestId".into();
        assert_eq!(plan_for(&reformatted, Some(&serving(&before))).len(), 2);
    }

    #[test]
    fn logging_turned_off_is_removed() {
        let before = logged("amazon-apigateway-a", LogLevel::Error);
        let after = StageSettings {
            access_log: None,
            log_level: LogLevel::Off,
            ..before.clone()
        };
        assert_eq!(
            plan_for(&after, Some(&serving(&before))),
            [
                StagePatch::Replace {
                    path: "/*/*/logging/loglevel".into(),
                    value: "OFF".into()
                },
                StagePatch::Remove {
                    path: "/accessLogSettings".into()
                },
            ]
        );
    }

    #[test]
    fn execution_logging_keeps_the_default_method_settings() {
        // Throttling dropped but execution logging still wanted: removing
        // `*/*` would drop the log level with it.
        let before = logged("amazon-apigateway-a", LogLevel::Error);
        let after = StageSettings {
            throttling: None,
            ..before.clone()
        };
        assert!(plan_for(&after, Some(&serving(&before))).is_empty());
        // Neither wanted: `*/*` goes, log level included.
        let neither = StageSettings {
            throttling: None,
            log_level: LogLevel::Off,
            ..before.clone()
        };
        assert_eq!(
            plan_for(&neither, Some(&serving(&before))),
            [StagePatch::Remove {
                path: "/*/*".into()
            }]
        );
    }

    const T: Throttling = Throttling {
        rate_limit: 12.5,
        burst_limit: 20,
    };

    #[test]
    fn descriptions_round_trip_and_foreign_ones_are_not_ours() {
        assert_eq!(
            deployed_digest(Some(&deployment_description(DIGEST))),
            Some(DIGEST)
        );
        assert_eq!(
            deployed_digest(Some("Custom::S3ProxyApi document sha256:xyz")),
            None
        );
        assert_eq!(deployed_digest(Some("")), None);
        assert_eq!(deployed_digest(None), None);
    }

    #[test]
    fn a_new_stage_is_deployed_and_throttled() {
        let plan = make_plan("a1b2c3d4e5", "v1", DIGEST, Some(T), None, true).unwrap();
        assert!(plan.deploy);
        assert_eq!(
            plan.stage_patches,
            [
                StagePatch::Replace {
                    path: "/*/*/throttling/rateLimit".into(),
                    value: "12.5".into()
                },
                StagePatch::Replace {
                    path: "/*/*/throttling/burstLimit".into(),
                    value: "20".into()
                },
            ]
        );
        assert_eq!(plan.retire_deployment, None);
        assert!(make_plan("a1b2c3d4e5", "v1", DIGEST, None, None, true)
            .unwrap()
            .stage_patches
            .is_empty());
    }

    #[test]
    fn nothing_changed_means_no_writes() {
        for creating in [false, true] {
            let plan = make_plan(
                "a1b2c3d4e5",
                "v1",
                DIGEST,
                Some(T),
                Some(&stage(Some(DIGEST), Some(T))),
                creating,
            )
            .unwrap();
            assert!(plan.is_noop(), "{plan:?}");
        }
        let plan = make_plan(
            "a1b2c3d4e5",
            "v1",
            DIGEST,
            None,
            Some(&stage(Some(DIGEST), None)),
            false,
        )
        .unwrap();
        assert!(plan.is_noop());
    }

    #[test]
    fn a_changed_document_redeploys_and_retires_the_old_deployment() {
        let plan = make_plan(
            "a1b2c3d4e5",
            "v1",
            DIGEST,
            Some(T),
            Some(&stage(Some(OTHER), Some(T))),
            false,
        )
        .unwrap();
        assert!(plan.deploy);
        assert!(plan.stage_patches.is_empty());
        assert_eq!(plan.retire_deployment.as_deref(), Some("dep1"));
    }

    #[test]
    fn changed_throttling_patches_the_stage_only() {
        let slower = Throttling {
            rate_limit: 1.0,
            burst_limit: 2,
        };
        let plan = make_plan(
            "a1b2c3d4e5",
            "v1",
            DIGEST,
            Some(slower),
            Some(&stage(Some(DIGEST), Some(T))),
            false,
        )
        .unwrap();
        assert!(!plan.deploy);
        assert_eq!(plan.stage_patches.len(), 2);
        assert_eq!(
            plan.stage_patches[0],
            StagePatch::Replace {
                path: "/*/*/throttling/rateLimit".into(),
                value: "1".into()
            }
        );
        let dropped = make_plan(
            "a1b2c3d4e5",
            "v1",
            DIGEST,
            None,
            Some(&stage(Some(DIGEST), Some(T))),
            false,
        )
        .unwrap();
        assert_eq!(
            dropped.stage_patches,
            [StagePatch::Remove {
                path: "/*/*".into()
            }]
        );
    }

    #[test]
    fn a_foreign_stage_is_refused_on_create_and_reclaimed_on_update() {
        let foreign = stage(None, None);
        let err = make_plan("a1b2c3d4e5", "v1", DIGEST, None, Some(&foreign), true).unwrap_err();
        assert!(err.to_string().contains("did not make"), "{err}");
        assert!(err.to_string().contains("StageName"), "{err}");
        let plan = make_plan("a1b2c3d4e5", "v1", DIGEST, None, Some(&foreign), false).unwrap();
        assert!(plan.deploy);
        assert_eq!(
            plan.retire_deployment, None,
            "never delete someone else's deployment"
        );
    }

    fn spec() -> Spec {
        Spec {
            rest_api_id: "a1b2c3d4e5".into(),
            bucket: "vault-data".into(),
            role_arn: "arn:aws:iam::123456789012:role/api-s3".into(),
            stage: "v1".into(),
            verbs: [Verb::Get, Verb::Put].into(),
            key_prefix: String::new(),
            authorization: Authorization::AwsIam,
            throttling: None,
            access_log: None,
            execution_log_level: LogLevel::Off,
        }
    }

    fn as_read_back(expected: &[MethodSpec], authorization: Option<&str>) -> Vec<ObservedMethod> {
        expected
            .iter()
            .map(|m| ObservedMethod {
                resource_id: format!("res{}", m.path.len()),
                path: m.path.to_owned(),
                verb: m.verb.as_str().to_owned(),
                authorization: authorization.map(str::to_owned),
                integration: Some(ObservedIntegration {
                    kind: Some("AWS".into()),
                    http_method: Some(m.integration.http_method.as_str().into()),
                    uri: Some(m.integration.uri.clone()),
                    credentials: Some(m.integration.credentials.clone()),
                    request_parameters: m.integration.request_parameters.clone(),
                }),
            })
            .collect()
    }

    fn expected() -> Vec<MethodSpec> {
        methods(
            &spec(),
            Target {
                partition: "aws",
                region: "us-east-1",
            },
        )
    }

    #[test]
    fn a_faithful_read_back_needs_nothing() {
        let expected = expected();
        let (fixes, unverified) =
            check_methods(&expected, &as_read_back(&expected, Some("AWS_IAM"))).unwrap();
        assert!(fixes.is_empty() && unverified.is_empty());
    }

    #[test]
    fn a_dropped_sigv4_scheme_is_patched() {
        let expected = expected();
        let (fixes, _) = check_methods(&expected, &as_read_back(&expected, Some("NONE"))).unwrap();
        assert_eq!(fixes.len(), expected.len(), "every method");
        assert!(fixes.iter().all(|f| f.field
            == Patchable::Authorization {
                found: "NONE".into(),
                wanted: Authorization::AwsIam
            }));
        let (fixes, unverified) = check_methods(&expected, &as_read_back(&expected, None)).unwrap();
        assert!(fixes.is_empty());
        assert_eq!(unverified.len(), expected.len(), "reported, not guessed");
    }

    #[test]
    fn a_dropped_role_is_patched() {
        let expected = expected();
        let mut observed = as_read_back(&expected, Some("AWS_IAM"));
        for method in &mut observed {
            method.integration.as_mut().unwrap().credentials = None;
        }
        let (fixes, _) = check_methods(&expected, &observed).unwrap();
        assert_eq!(fixes.len(), expected.len());
        assert_eq!(
            fixes[0].field,
            Patchable::Credentials {
                found: None,
                wanted: "arn:aws:iam::123456789012:role/api-s3".into()
            }
        );
    }

    #[test]
    fn a_wrong_integration_fails_naming_the_method_and_field() {
        let expected = expected();
        let mut observed = as_read_back(&expected, Some("AWS_IAM"));
        let put = observed.iter_mut().find(|m| m.verb == "PUT").unwrap();
        put.integration.as_mut().unwrap().kind = Some("AWS_PROXY".into());
        let err = check_methods(&expected, &observed).unwrap_err().to_string();
        assert!(
            err.contains("PUT /{proxy+}") && err.contains("type") && err.contains("AWS_PROXY"),
            "{err}"
        );

        let mut observed = as_read_back(&expected, Some("AWS_IAM"));
        let get = observed.iter_mut().find(|m| m.verb == "GET").unwrap();
        get.integration.as_mut().unwrap().uri =
            Some("arn:aws:apigateway:us-east-1:s3:path/other/{key}".into());
        let err = check_methods(&expected, &observed).unwrap_err().to_string();
        assert!(
            err.contains("GET /{proxy+}") && err.contains("uri") && err.contains("other"),
            "{err}"
        );

        let mut observed = as_read_back(&expected, Some("AWS_IAM"));
        let put = observed.iter_mut().find(|m| m.verb == "PUT").unwrap();
        put.integration
            .as_mut()
            .unwrap()
            .request_parameters
            .remove("integration.request.header.Content-MD5");
        let err = check_methods(&expected, &observed).unwrap_err().to_string();
        assert!(err.contains("requestParameters"), "{err}");

        let observed: Vec<ObservedMethod> = as_read_back(&expected, Some("AWS_IAM"))
            .into_iter()
            .filter(|m| m.verb != "PUT")
            .collect();
        let err = check_methods(&expected, &observed).unwrap_err();
        assert_eq!(
            err,
            ReadBackError::MissingMethod {
                verb: "PUT".into(),
                path: "/{proxy+}".into()
            }
        );
    }

    #[test]
    fn binary_media_type_paths_escape_the_slash() {
        assert_eq!(binary_media_type_path("*/*"), "/binaryMediaTypes/*~1*");
        assert_eq!(binary_media_type_path("a~b/c"), "/binaryMediaTypes/a~0b~1c");
    }

    fn stage_ref(name: &str, deployment: &str) -> StageRef {
        StageRef {
            name: name.into(),
            deployment_id: Some(deployment.into()),
        }
    }

    fn deployment(id: &str, ours: bool) -> DeploymentRef {
        DeploymentRef {
            id: id.into(),
            description: Some(if ours {
                deployment_description(DIGEST)
            } else {
                "by hand".into()
            }),
        }
    }

    #[test]
    fn delete_removes_the_stage_our_deployments_and_the_content() {
        let plan = plan_delete(
            "v1",
            &[stage_ref("v1", "d2"), stage_ref("manual", "d9")],
            &[
                deployment("d1", true),
                deployment("d2", true),
                deployment("d9", false),
            ],
        );
        assert_eq!(
            plan,
            DeletePlan {
                delete_stage: true,
                clear_api: true,
                delete_deployments: vec!["d1".into(), "d2".into()],
            },
            "someone else's stage and deployment stay; they do not need the content"
        );
    }

    #[test]
    fn delete_of_a_replaced_stage_keeps_what_the_new_stage_serves() {
        // StageName changed: the new stage v2 was created first and serves d3.
        let plan = plan_delete(
            "v1",
            &[stage_ref("v1", "d2"), stage_ref("v2", "d3")],
            &[deployment("d2", true), deployment("d3", true)],
        );
        assert_eq!(
            plan,
            DeletePlan {
                delete_stage: true,
                clear_api: false,
                delete_deployments: vec!["d2".into()],
            }
        );
    }

    #[test]
    fn delete_when_already_gone_writes_nothing() {
        let plan = plan_delete(
            "v1",
            &[stage_ref("manual", "d9")],
            &[deployment("d9", false)],
        );
        assert!(plan.is_noop(), "{plan:?}");
        assert!(plan_delete("v1", &[], &[]).is_noop());
    }
}
