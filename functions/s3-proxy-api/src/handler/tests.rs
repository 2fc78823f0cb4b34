//! The lifecycle against an in-memory API Gateway that keeps what the
//! handler reads back (REST APIs, their methods as imported, deployments,
//! stages and their settings), refuses what API Gateway refuses, and can be
//! told to fail a call or to import the way an emulator does.

use super::*;
use crate::aws::{AwsError, GatewayApi, PutOutcome, RestApiInfo};
use crate::logging::{AccessLog, LogLevel};
use crate::plan::{
    deployed_digest, DeploymentRef, ObservedIntegration, ObservedMethod, ObservedStage, StagePatch,
    StageRef, ALL_METHODS,
};
use crate::properties::{Authorization, Throttling};
use custom_resource::{RequestType, CREATE_FAILED_PREFIX};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;

const STACK: &str =
    "arn:aws:cloudformation:eu-west-1:123456789012:stack/vault/8a1b2c3d-0000-4000-8000-000000000001";
const API: &str = "a1b2c3d4e5";
const OTHER_API: &str = "f6g7h8i9j0";
const ROLE: &str = "arn:aws:iam::123456789012:role/api-s3";
const FIREHOSE: &str = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/amazon-apigateway-a";

/// `methodSettings["*/*"]`.
#[derive(Debug, Clone, Default, PartialEq)]
struct DefaultSettings {
    rate_limit: f64,
    burst_limit: i32,
    log_level: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct FakeStage {
    deployment_id: String,
    defaults: Option<DefaultSettings>,
    access_log: Option<AccessLog>,
}

#[derive(Debug, Clone)]
struct FakeDeployment {
    description: Option<String>,
    /// The API's methods when it was made: what the stage serves.
    methods: Vec<ObservedMethod>,
}

#[derive(Debug, Clone, Default)]
struct FakeRestApi {
    name: String,
    description: Option<String>,
    binary_media_types: Vec<String>,
    methods: Vec<ObservedMethod>,
    deployments: BTreeMap<String, FakeDeployment>,
    stages: BTreeMap<String, FakeStage>,
}

/// Ways an import can differ from API Gateway's, as emulators' do.
#[derive(Debug, Default)]
struct Quirks {
    /// Methods read back `NONE` whatever the document's security says.
    drops_sigv4: bool,
    /// Integrations read back without the document's `credentials`.
    drops_credentials: bool,
    /// `x-amazon-apigateway-binary-media-types` is not applied.
    ignores_binary_media_types: bool,
    /// UpdateMethod answers but leaves the authorization as it was.
    keeps_authorization: bool,
    /// What PutRestApi reports as warnings.
    warnings: Vec<String>,
    /// CreateDeployment to an existing stage replaces it, settings lost (moto).
    redeploy_resets_stage: bool,
}

#[derive(Debug, Default)]
struct State {
    apis: BTreeMap<String, FakeRestApi>,
    quirks: Quirks,
    /// Every call, as "Operation target".
    calls: Vec<String>,
    /// (operation, error code): the next call of that operation fails so.
    failures: VecDeque<(&'static str, &'static str)>,
    deployments_made: u32,
}

const WRITES: [&str; 8] = [
    "PutRestApi",
    "UpdateMethod",
    "UpdateIntegration",
    "UpdateRestApi",
    "CreateDeployment",
    "UpdateStage",
    "DeleteStage",
    "DeleteDeployment",
];

#[derive(Debug, Default)]
struct FakeGateway(Mutex<State>);

fn not_found(operation: &'static str, target: &str) -> AwsError {
    AwsError::new(
        operation,
        target,
        Some("NotFoundException".into()),
        "NotFoundException: Invalid identifier specified",
    )
}

fn bad_request(operation: &'static str, target: &str, message: &str) -> AwsError {
    AwsError::new(
        operation,
        target,
        Some("BadRequestException".into()),
        format!("BadRequestException: {message}"),
    )
}

impl FakeGateway {
    fn with_api(id: &str) -> FakeGateway {
        let fake = FakeGateway::default();
        fake.add_api(id);
        fake
    }

    fn add_api(&self, id: &str) {
        self.with(|s| {
            s.apis.insert(
                id.to_owned(),
                FakeRestApi {
                    name: "vault-s3-api".into(),
                    description: Some("made by the template".into()),
                    ..FakeRestApi::default()
                },
            )
        });
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.0.lock().expect("fake API Gateway lock"))
    }

    fn api(&self, id: &str) -> FakeRestApi {
        self.with(|s| s.apis.get(id).cloned().expect("the REST API exists"))
    }

    fn stage_of(&self, api: &str, stage: &str) -> Option<FakeStage> {
        self.with(|s| s.apis.get(api).and_then(|a| a.stages.get(stage).cloned()))
    }

    fn fail_next(&self, operation: &'static str, code: &'static str) {
        self.with(|s| s.failures.push_back((operation, code)));
    }

    fn calls(&self) -> Vec<String> {
        self.with(|s| s.calls.clone())
    }

    fn writes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| WRITES.iter().any(|w| c.split(' ').next() == Some(w)))
            .collect()
    }

    /// Record the call, then answer with a queued failure if there is one.
    fn gate(&self, operation: &'static str, target: &str) -> Result<(), AwsError> {
        self.with(|s| {
            s.calls.push(format!("{operation} {target}"));
            match s.failures.iter().position(|(op, _)| *op == operation) {
                Some(i) => {
                    let (_, code) = s.failures.remove(i).expect("queued failure");
                    Err(AwsError::new(
                        operation,
                        target,
                        Some(code.to_owned()),
                        format!("{code}: injected by the test"),
                    ))
                }
                None => Ok(()),
            }
        })
    }

    /// Run `f` on an existing API; a missing one is NotFoundException.
    fn on_api<T>(
        &self,
        operation: &'static str,
        api: &str,
        f: impl FnOnce(&mut FakeRestApi, &Quirks) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        self.with(|s| match s.apis.get_mut(api) {
            Some(rest_api) => f(rest_api, &s.quirks),
            None => Err(not_found(operation, api)),
        })
    }
}

/// The methods a PutRestApi document defines, as API Gateway reports them
/// back: the type upper-cased, `AWS_IAM` where the method's security names a
/// sigv4 scheme.
fn imported_methods(document: &Value, quirks: &Quirks) -> Vec<ObservedMethod> {
    let sigv4: BTreeSet<&String> = document["components"]["securitySchemes"]
        .as_object()
        .map(|schemes| {
            schemes
                .iter()
                .filter(|(_, s)| s["x-amazon-apigateway-authtype"] == "awsSigv4")
                .map(|(name, _)| name)
                .collect()
        })
        .unwrap_or_default();
    let mut methods = Vec::new();
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    for (index, (path, item)) in paths.iter().enumerate() {
        for (verb, operation) in item.as_object().into_iter().flatten() {
            let signed = operation["security"]
                .as_array()
                .is_some_and(|alternatives| {
                    alternatives.iter().any(|requirement| {
                        requirement
                            .as_object()
                            .is_some_and(|r| r.keys().any(|k| sigv4.contains(k)))
                    })
                });
            let integration = &operation["x-amazon-apigateway-integration"];
            let text = |field: &str| integration[field].as_str().map(str::to_owned);
            methods.push(ObservedMethod {
                resource_id: format!("res{index}"),
                path: path.clone(),
                verb: verb.to_ascii_uppercase(),
                authorization: Some(
                    if signed && !quirks.drops_sigv4 {
                        "AWS_IAM"
                    } else {
                        "NONE"
                    }
                    .into(),
                ),
                integration: Some(ObservedIntegration {
                    kind: text("type").map(|t| t.to_ascii_uppercase()),
                    http_method: text("httpMethod"),
                    uri: text("uri"),
                    credentials: text("credentials").filter(|_| !quirks.drops_credentials),
                    request_parameters: integration["requestParameters"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect(),
                }),
            });
        }
    }
    methods
}

fn find_method<'a>(
    rest_api: &'a mut FakeRestApi,
    operation: &'static str,
    resource_id: &str,
    verb: &str,
) -> Result<&'a mut ObservedMethod, AwsError> {
    rest_api
        .methods
        .iter_mut()
        .find(|m| m.resource_id == resource_id && m.verb == verb)
        .ok_or_else(|| not_found(operation, &format!("{verb} {resource_id}")))
}

/// One UpdateStage operation on a copy of the stage; an unknown path is
/// refused, as API Gateway does.
fn apply_patch(stage: &mut FakeStage, patch: &StagePatch) -> Result<(), String> {
    let defaults_path = format!("/{ALL_METHODS}");
    match patch {
        StagePatch::Remove { path } if *path == defaults_path => stage.defaults = None,
        StagePatch::Remove { path } if path == "/accessLogSettings" => stage.access_log = None,
        StagePatch::Replace { path, value } => match path.strip_prefix(&defaults_path) {
            Some("/throttling/rateLimit") => {
                stage
                    .defaults
                    .get_or_insert_with(DefaultSettings::default)
                    .rate_limit = value.parse().map_err(|_| format!("bad rate {value}"))?;
            }
            Some("/throttling/burstLimit") => {
                stage
                    .defaults
                    .get_or_insert_with(DefaultSettings::default)
                    .burst_limit = value.parse().map_err(|_| format!("bad burst {value}"))?;
            }
            Some("/logging/loglevel") => {
                stage
                    .defaults
                    .get_or_insert_with(DefaultSettings::default)
                    .log_level = Some(value.clone());
            }
            _ => {
                let log = stage.access_log.get_or_insert_with(|| AccessLog {
                    destination_arn: String::new(),
                    format: String::new(),
                });
                match path.as_str() {
                    "/accessLogSettings/destinationArn" => log.destination_arn = value.clone(),
                    "/accessLogSettings/format" => log.format = value.clone(),
                    _ => return Err(format!("Invalid patch path {path}")),
                }
            }
        },
        StagePatch::Remove { path } => return Err(format!("Invalid patch path {path}")),
    }
    Ok(())
}

impl GatewayApi for FakeGateway {
    async fn rest_api(&self, api: &str) -> Result<Option<RestApiInfo>, AwsError> {
        self.gate("GetRestApi", api)?;
        Ok(self.with(|s| {
            s.apis.get(api).map(|a| RestApiInfo {
                name: a.name.clone(),
                description: a.description.clone(),
            })
        }))
    }

    async fn stage(&self, api: &str, stage: &str) -> Result<Option<ObservedStage>, AwsError> {
        self.gate("GetStage", stage)?;
        Ok(self.with(|s| {
            let rest_api = s.apis.get(api)?;
            let found = rest_api.stages.get(stage)?;
            Some(ObservedStage {
                deployment_id: Some(found.deployment_id.clone()),
                deployment_description: rest_api
                    .deployments
                    .get(&found.deployment_id)
                    .and_then(|d| d.description.clone()),
                default_throttling: found.defaults.as_ref().map(|d| Throttling {
                    rate_limit: d.rate_limit,
                    burst_limit: d.burst_limit,
                }),
                default_log_level: LogLevel::parse_reported(
                    found.defaults.as_ref().and_then(|d| d.log_level.as_deref()),
                ),
                access_log: found.access_log.clone(),
            })
        }))
    }

    async fn put_document(&self, api: &str, document: &Value) -> Result<PutOutcome, AwsError> {
        self.gate("PutRestApi", api)?;
        self.on_api("PutRestApi", api, |rest_api, quirks| {
            rest_api.methods = imported_methods(document, quirks);
            // An overwrite renames the API after the document's title.
            rest_api.name = document["info"]["title"].as_str().unwrap_or("").to_owned();
            rest_api.description = document["info"]["description"].as_str().map(str::to_owned);
            if !quirks.ignores_binary_media_types {
                for media_type in document["x-amazon-apigateway-binary-media-types"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !rest_api.binary_media_types.iter().any(|t| t == media_type) {
                        rest_api.binary_media_types.push(media_type.to_owned());
                    }
                }
            }
            Ok(PutOutcome {
                binary_media_types: rest_api.binary_media_types.clone(),
                warnings: quirks.warnings.clone(),
            })
        })
    }

    async fn methods(&self, api: &str) -> Result<Vec<ObservedMethod>, AwsError> {
        self.gate("GetResources", api)?;
        self.on_api("GetResources", api, |rest_api, _| {
            Ok(rest_api.methods.clone())
        })
    }

    async fn set_authorization(
        &self,
        api: &str,
        resource_id: &str,
        verb: &str,
        authorization: Authorization,
    ) -> Result<Option<String>, AwsError> {
        self.gate("UpdateMethod", &format!("{verb} {resource_id}"))?;
        self.on_api("UpdateMethod", api, |rest_api, quirks| {
            let method = find_method(rest_api, "UpdateMethod", resource_id, verb)?;
            if !quirks.keeps_authorization {
                method.authorization = Some(authorization.as_str().to_owned());
            }
            Ok(method.authorization.clone())
        })
    }

    async fn set_credentials(
        &self,
        api: &str,
        resource_id: &str,
        verb: &str,
        role_arn: &str,
    ) -> Result<Option<String>, AwsError> {
        self.gate("UpdateIntegration", &format!("{verb} {resource_id}"))?;
        self.on_api("UpdateIntegration", api, |rest_api, _| {
            let method = find_method(rest_api, "UpdateIntegration", resource_id, verb)?;
            let integration = method.integration.get_or_insert_with(Default::default);
            integration.credentials = Some(role_arn.to_owned());
            Ok(integration.credentials.clone())
        })
    }

    async fn patch_binary_media_type(
        &self,
        api: &str,
        media_type: &str,
        add: bool,
    ) -> Result<Vec<String>, AwsError> {
        self.gate("UpdateRestApi", api)?;
        self.on_api("UpdateRestApi", api, |rest_api, _| {
            rest_api.binary_media_types.retain(|t| t != media_type);
            if add {
                rest_api.binary_media_types.push(media_type.to_owned());
            }
            Ok(rest_api.binary_media_types.clone())
        })
    }

    async fn deploy(&self, api: &str, stage: &str, description: &str) -> Result<String, AwsError> {
        self.gate("CreateDeployment", stage)?;
        self.with(|s| {
            let rest_api = s
                .apis
                .get_mut(api)
                .ok_or_else(|| not_found("CreateDeployment", api))?;
            s.deployments_made += 1;
            let id = format!("dep{}", s.deployments_made);
            rest_api.deployments.insert(
                id.clone(),
                FakeDeployment {
                    description: Some(description.to_owned()),
                    methods: rest_api.methods.clone(),
                },
            );
            // API Gateway keeps the stage's settings across deployments.
            let served = rest_api.stages.entry(stage.to_owned()).or_default();
            if s.quirks.redeploy_resets_stage {
                *served = FakeStage::default();
            }
            served.deployment_id = id.clone();
            Ok(id)
        })
    }

    async fn patch_stage(
        &self,
        api: &str,
        stage: &str,
        patches: &[StagePatch],
    ) -> Result<(), AwsError> {
        self.gate("UpdateStage", stage)?;
        self.on_api("UpdateStage", api, |rest_api, _| {
            let found = rest_api
                .stages
                .get_mut(stage)
                .ok_or_else(|| not_found("UpdateStage", stage))?;
            // All or nothing, as one UpdateStage.
            let mut patched = found.clone();
            for patch in patches {
                apply_patch(&mut patched, patch)
                    .map_err(|message| bad_request("UpdateStage", stage, &message))?;
            }
            *found = patched;
            Ok(())
        })
    }

    async fn stages(&self, api: &str) -> Result<Option<Vec<StageRef>>, AwsError> {
        self.gate("GetStages", api)?;
        Ok(self.with(|s| {
            s.apis.get(api).map(|a| {
                a.stages
                    .iter()
                    .map(|(name, stage)| StageRef {
                        name: name.clone(),
                        deployment_id: Some(stage.deployment_id.clone()),
                    })
                    .collect()
            })
        }))
    }

    async fn deployments(&self, api: &str) -> Result<Vec<DeploymentRef>, AwsError> {
        self.gate("GetDeployments", api)?;
        self.on_api("GetDeployments", api, |rest_api, _| {
            Ok(rest_api
                .deployments
                .iter()
                .map(|(id, d)| DeploymentRef {
                    id: id.clone(),
                    description: d.description.clone(),
                })
                .collect())
        })
    }

    async fn delete_stage(&self, api: &str, stage: &str) -> Result<(), AwsError> {
        self.gate("DeleteStage", stage)?;
        self.with(|s| {
            if let Some(rest_api) = s.apis.get_mut(api) {
                rest_api.stages.remove(stage);
            }
        });
        Ok(())
    }

    async fn delete_deployment(&self, api: &str, id: &str) -> Result<(), AwsError> {
        self.gate("DeleteDeployment", id)?;
        self.with(|s| {
            let Some(rest_api) = s.apis.get_mut(api) else {
                return Ok(());
            };
            if rest_api.stages.values().any(|st| st.deployment_id == id) {
                return Err(bad_request(
                    "DeleteDeployment",
                    id,
                    "Active stages pointing to this deployment must be moved or deleted",
                ));
            }
            rest_api.deployments.remove(id);
            Ok(())
        })
    }
}

fn proxy(fake: FakeGateway) -> S3ProxyApi<FakeGateway> {
    S3ProxyApi::new(fake)
}

fn request(request_type: RequestType) -> Request {
    Request {
        request_type,
        stack_id: STACK.into(),
        request_id: "req-1".into(),
        logical_resource_id: "S3Api".into(),
        resource_type: "Custom::S3ProxyApi".into(),
    }
}

/// The properties of a stage `v1` of [`API`], with `extra` on top.
fn props(extra: Value) -> Properties {
    let mut value = json!({
        "RestApiId": API,
        "BucketName": "vault-data",
        "RoleArn": ROLE,
        "StageName": "v1",
        "Methods": ["GET", "PUT"],
        "Throttling": {"RateLimit": "12.5", "BurstLimit": "20"},
    });
    for (key, field) in extra.as_object().cloned().unwrap_or_default() {
        value[key] = field;
    }
    custom_resource::properties::parse(&value, "ResourceProperties").expect("test properties parse")
}

fn stage_arn(api: &str, stage: &str) -> String {
    format!("arn:aws:apigateway:eu-west-1::/restapis/{api}/stages/{stage}")
}

async fn create(proxy: &S3ProxyApi<FakeGateway>, extra: Value) -> Result<Success, String> {
    proxy
        .create(&request(RequestType::Create), props(extra))
        .await
        .map_err(|err| custom_resource::error_chain(err.as_ref()))
}

async fn update(
    proxy: &S3ProxyApi<FakeGateway>,
    physical_id: &str,
    extra: Value,
) -> Result<Success, String> {
    proxy
        .update(
            &request(RequestType::Update),
            physical_id,
            props(extra),
            None,
        )
        .await
        .map_err(|err| custom_resource::error_chain(err.as_ref()))
}

async fn delete(proxy: &S3ProxyApi<FakeGateway>, physical_id: &str) -> Result<Deletion, String> {
    proxy
        .delete(&request(RequestType::Delete), physical_id, props(json!({})))
        .await
        .map_err(|err| custom_resource::error_chain(err.as_ref()))
}

fn served_by(fake: &FakeGateway, api: &str, stage: &str) -> FakeDeployment {
    let rest_api = fake.api(api);
    let stage = rest_api.stages.get(stage).expect("the stage exists");
    rest_api
        .deployments
        .get(&stage.deployment_id)
        .cloned()
        .expect("the stage's deployment exists")
}

#[tokio::test]
async fn create_imports_the_document_deploys_it_and_answers_the_stage_arn() {
    let proxy = proxy(FakeGateway::with_api(API));
    let success = create(&proxy, json!({})).await.expect("created");

    assert_eq!(success.physical_id, stage_arn(API, "v1"));
    let stage = proxy.api.stage_of(API, "v1").expect("stage v1 exists");
    assert_eq!(
        Value::Object(success.data),
        json!({
            "InvokeUrl": format!("https://{API}.execute-api.eu-west-1.amazonaws.com/v1"),
            "DeploymentId": stage.deployment_id,
            "ExecuteApiArn": format!("arn:aws:execute-api:eu-west-1:123456789012:{API}/v1/*/*"),
        })
    );
    let deployment = served_by(&proxy.api, API, "v1");
    assert!(
        deployed_digest(deployment.description.as_deref()).is_some(),
        "the deployment is marked as ours: {:?}",
        deployment.description
    );
    let served: BTreeSet<String> = deployment
        .methods
        .iter()
        .map(|m| format!("{} {}", m.verb, m.path))
        .collect();
    assert_eq!(
        served,
        BTreeSet::from(["DELETE", "GET", "POST", "PUT"].map(|verb| format!("{verb} /{{proxy+}}"))),
        "PUT brings POST and an abort-only DELETE"
    );
    for method in &deployment.methods {
        assert_eq!(
            method.authorization.as_deref(),
            Some("AWS_IAM"),
            "{method:?}"
        );
        let integration = method.integration.as_ref().expect("integration");
        assert_eq!(integration.credentials.as_deref(), Some(ROLE));
        assert_eq!(
            integration.http_method.as_deref(),
            Some(method.verb.as_str())
        );
    }
    let rest_api = proxy.api.api(API);
    assert_eq!(rest_api.binary_media_types, ["*/*"]);
    assert_eq!(
        (rest_api.name.as_str(), rest_api.description.as_deref()),
        ("vault-s3-api", Some("made by the template")),
        "the import keeps the template's name and description"
    );
    assert_eq!(
        stage.defaults,
        Some(DefaultSettings {
            rate_limit: 12.5,
            burst_limit: 20,
            log_level: None
        })
    );
    assert_eq!(
        proxy.api.writes(),
        [
            "PutRestApi a1b2c3d4e5",
            "CreateDeployment v1",
            "UpdateStage v1"
        ],
        "a faithful import needs no patches"
    );
}

#[tokio::test]
async fn a_repeated_create_and_an_unchanged_update_write_nothing() {
    let proxy = proxy(FakeGateway::with_api(API));
    let first = create(&proxy, json!({})).await.expect("created");
    let writes = proxy.api.writes().len();

    let again = create(&proxy, json!({})).await.expect("repeated create");
    let updated = update(&proxy, &first.physical_id, json!({}))
        .await
        .expect("updated");

    assert_eq!(proxy.api.writes().len(), writes, "{:?}", proxy.api.writes());
    for success in [&again, &updated] {
        assert_eq!(success, &first, "same id and the same attributes");
    }
}

#[tokio::test]
async fn a_changed_setting_only_patches_the_stage() {
    let proxy = proxy(FakeGateway::with_api(API));
    let first = create(&proxy, json!({})).await.expect("created");
    let deployment = proxy.api.stage_of(API, "v1").unwrap().deployment_id;
    let before = proxy.api.writes().len();

    let success = update(
        &proxy,
        &first.physical_id,
        json!({
            "Throttling": {"RateLimit": "1", "BurstLimit": "2"},
            "ExecutionLogLevel": "ERROR",
            "AccessLogging": {"DestinationArn": FIREHOSE},
        }),
    )
    .await
    .expect("updated");

    assert_eq!(proxy.api.writes()[before..], ["UpdateStage v1"]);
    let stage = proxy.api.stage_of(API, "v1").unwrap();
    assert_eq!(stage.deployment_id, deployment, "not redeployed");
    assert_eq!(
        stage.defaults,
        Some(DefaultSettings {
            rate_limit: 1.0,
            burst_limit: 2,
            log_level: Some("ERROR".into())
        })
    );
    assert_eq!(
        stage.access_log.map(|log| log.destination_arn),
        Some(FIREHOSE.to_owned())
    );
    assert_eq!(success.physical_id, first.physical_id);
    assert_eq!(success.data["DeploymentId"], json!(deployment));
}

#[tokio::test]
async fn a_changed_document_redeploys_and_retires_the_superseded_deployment() {
    let proxy = proxy(FakeGateway::with_api(API));
    let first = create(&proxy, json!({"Methods": ["GET"]}))
        .await
        .expect("created");
    let old = proxy.api.stage_of(API, "v1").unwrap().deployment_id;

    let success = update(
        &proxy,
        &first.physical_id,
        json!({"Methods": ["GET", "HEAD"]}),
    )
    .await
    .expect("updated");

    let stage = proxy.api.stage_of(API, "v1").unwrap();
    assert_ne!(stage.deployment_id, old);
    assert_eq!(success.data["DeploymentId"], json!(stage.deployment_id));
    let verbs: Vec<String> = served_by(&proxy.api, API, "v1")
        .methods
        .into_iter()
        .map(|m| m.verb)
        .collect();
    assert_eq!(verbs, ["GET", "HEAD"]);
    let deployments: Vec<String> = proxy.api.api(API).deployments.into_keys().collect();
    assert_eq!(
        deployments,
        [stage.deployment_id.as_str()],
        "{old} is retired"
    );
    assert!(
        stage.defaults.is_some(),
        "the stage kept its throttling across the redeploy"
    );
}

#[tokio::test]
async fn a_redeploy_that_resets_the_stage_gets_its_settings_back() {
    let fake = FakeGateway::with_api(API);
    fake.with(|s| s.quirks.redeploy_resets_stage = true);
    let proxy = proxy(fake);
    let extra = json!({"Methods": ["GET"], "AccessLogging": {"DestinationArn": FIREHOSE}});
    let first = create(&proxy, extra.clone()).await.expect("created");
    let settings = proxy.api.stage_of(API, "v1").unwrap();

    let mut changed = extra;
    changed["Methods"] = json!(["HEAD"]);
    update(&proxy, &first.physical_id, changed)
        .await
        .expect("updated");

    let stage = proxy.api.stage_of(API, "v1").unwrap();
    assert_ne!(stage.deployment_id, settings.deployment_id, "redeployed");
    assert_eq!(
        (stage.defaults, stage.access_log),
        (settings.defaults, settings.access_log),
        "settings compared after the deployment, not before"
    );
}

#[tokio::test]
async fn a_failed_retirement_does_not_fail_the_update_and_delete_cleans_it_up() {
    let proxy = proxy(FakeGateway::with_api(API));
    let first = create(&proxy, json!({"Methods": ["GET"]}))
        .await
        .expect("created");
    let old = proxy.api.stage_of(API, "v1").unwrap().deployment_id;
    proxy
        .api
        .fail_next("DeleteDeployment", "ServiceUnavailableException");

    update(&proxy, &first.physical_id, json!({"Methods": ["HEAD"]}))
        .await
        .expect("the stage serves the new deployment; housekeeping may fail");
    assert!(proxy.api.api(API).deployments.contains_key(&old));

    assert_eq!(
        delete(&proxy, &first.physical_id).await,
        Ok(Deletion::Deleted)
    );
    assert!(proxy.api.api(API).deployments.is_empty());
}

#[tokio::test]
async fn a_new_stage_name_or_api_is_a_replacement_that_leaves_the_old_stage_alone() {
    let fake = FakeGateway::with_api(API);
    fake.add_api(OTHER_API);
    let proxy = proxy(fake);
    let first = create(&proxy, json!({})).await.expect("created");
    let v1 = proxy.api.stage_of(API, "v1").unwrap();

    let renamed = update(&proxy, &first.physical_id, json!({"StageName": "v2"}))
        .await
        .expect("replaced by v2");
    let moved = update(&proxy, &first.physical_id, json!({"RestApiId": OTHER_API}))
        .await
        .expect("replaced on the other API");

    assert_eq!(renamed.physical_id, stage_arn(API, "v2"));
    assert_eq!(moved.physical_id, stage_arn(OTHER_API, "v1"));
    assert_eq!(
        proxy.api.stage_of(API, "v1"),
        Some(v1.clone()),
        "the old stage is CloudFormation's to delete"
    );
    assert!(proxy.api.stage_of(API, "v2").is_some());
    assert!(proxy.api.stage_of(OTHER_API, "v1").is_some());

    // CloudFormation then deletes the old stage: the new one on the same
    // API keeps the content and its own deployment.
    assert_eq!(
        delete(&proxy, &first.physical_id).await,
        Ok(Deletion::Deleted)
    );
    let rest_api = proxy.api.api(API);
    assert!(!rest_api.stages.contains_key("v1"));
    assert!(!rest_api.deployments.contains_key(&v1.deployment_id));
    let v2 = rest_api.stages.get("v2").expect("v2 stays");
    assert!(rest_api.deployments.contains_key(&v2.deployment_id));
    assert!(!rest_api.methods.is_empty(), "v2 still serves the content");
}

#[tokio::test]
async fn delete_removes_the_stage_its_deployments_and_the_content_and_nothing_else() {
    let proxy = proxy(FakeGateway::with_api(API));
    let success = create(&proxy, json!({})).await.expect("created");
    // Someone's own stage on the same API, serving a deployment of theirs.
    proxy.api.with(|s| {
        let rest_api = s.apis.get_mut(API).unwrap();
        rest_api.deployments.insert(
            "manual1".into(),
            FakeDeployment {
                description: Some("by hand".into()),
                methods: Vec::new(),
            },
        );
        rest_api.stages.insert(
            "manual".into(),
            FakeStage {
                deployment_id: "manual1".into(),
                ..FakeStage::default()
            },
        );
    });

    assert_eq!(
        delete(&proxy, &success.physical_id).await,
        Ok(Deletion::Deleted)
    );

    let rest_api = proxy.api.api(API);
    assert_eq!(rest_api.stages.keys().collect::<Vec<_>>(), ["manual"]);
    assert_eq!(rest_api.deployments.keys().collect::<Vec<_>>(), ["manual1"]);
    assert!(rest_api.methods.is_empty(), "the API is emptied");
    assert!(rest_api.binary_media_types.is_empty());
    assert_eq!(rest_api.name, "vault-s3-api", "the API itself stays");

    let calls = proxy.api.calls().len();
    assert_eq!(
        delete(&proxy, &success.physical_id).await,
        Ok(Deletion::AlreadyGone)
    );
    assert!(
        proxy.api.calls()[calls..]
            .iter()
            .all(|c| !WRITES.iter().any(|w| c.starts_with(w))),
        "a repeated Delete writes nothing"
    );
}

#[tokio::test]
async fn delete_succeeds_when_the_api_or_the_stage_is_already_gone() {
    // No such API.
    let gone = proxy(FakeGateway::default());
    assert_eq!(
        delete(&gone, &stage_arn(API, "v1")).await,
        Ok(Deletion::AlreadyGone)
    );
    assert!(gone.api.writes().is_empty());

    // The stage was deleted by hand, our deployment with it.
    let proxy = proxy(FakeGateway::with_api(API));
    let success = create(&proxy, json!({})).await.expect("created");
    proxy.api.with(|s| {
        let rest_api = s.apis.get_mut(API).unwrap();
        rest_api.stages.clear();
        rest_api.deployments.clear();
    });
    let writes = proxy.api.writes().len();
    assert_eq!(
        delete(&proxy, &success.physical_id).await,
        Ok(Deletion::AlreadyGone)
    );
    assert_eq!(proxy.api.writes().len(), writes);

    // The stage is gone but our deployment is not (a Delete interrupted
    // after DeleteStage): the retry finishes the job.
    let proxy = self::proxy(FakeGateway::with_api(API));
    let success = create(&proxy, json!({})).await.expect("created");
    proxy
        .api
        .with(|s| s.apis.get_mut(API).unwrap().stages.clear());
    assert_eq!(
        delete(&proxy, &success.physical_id).await,
        Ok(Deletion::Deleted)
    );
    let rest_api = proxy.api.api(API);
    assert!(rest_api.deployments.is_empty() && rest_api.methods.is_empty());
}

#[tokio::test]
async fn delete_of_an_id_that_is_not_a_stage_arn_touches_nothing() {
    let proxy = proxy(FakeGateway::with_api(API));
    create(&proxy, json!({})).await.expect("created");
    let calls = proxy.api.calls();
    for physical_id in [
        format!("{CREATE_FAILED_PREFIX}req-1"),
        "garbage".to_owned(),
        format!("arn:aws:apigateway:eu-west-1::/restapis/{API}/stages/"),
        format!("arn:aws:apigateway:eu-west-1::/restapis/{API}/stages/v1/extra"),
    ] {
        assert_eq!(
            delete(&proxy, &physical_id).await,
            Ok(Deletion::AlreadyGone),
            "{physical_id}"
        );
    }
    assert_eq!(proxy.api.calls(), calls, "not even a read");
    assert!(proxy.api.stage_of(API, "v1").is_some());
}

#[tokio::test]
async fn a_failing_call_fails_naming_it_and_the_retry_completes() {
    for operation in [
        "GetStage",
        "PutRestApi",
        "GetResources",
        "CreateDeployment",
        "UpdateStage",
    ] {
        let proxy = proxy(FakeGateway::with_api(API));
        proxy.api.fail_next(operation, "TooManyRequestsException");
        let reason = create(&proxy, json!({})).await.expect_err(operation);
        assert!(
            reason.starts_with(&format!("API Gateway {operation} on ")),
            "{operation}: {reason}"
        );
        assert!(
            reason.contains("TooManyRequestsException")
                && reason.contains("retry the stack operation later"),
            "{operation}: {reason}"
        );
        if operation != "UpdateStage" {
            assert!(
                proxy.api.stage_of(API, "v1").is_none(),
                "{operation}: nothing is served before the failed call succeeds"
            );
        }
        let success = create(&proxy, json!({})).await.expect("the retry");
        assert_eq!(success.physical_id, stage_arn(API, "v1"));
        assert_eq!(
            proxy.api.api(API).deployments.len(),
            1,
            "{operation}: the retry reuses what the first attempt deployed"
        );
    }

    let proxy = proxy(FakeGateway::with_api(API));
    let success = create(&proxy, json!({})).await.expect("created");
    proxy
        .api
        .fail_next("DeleteStage", "ServiceUnavailableException");
    let reason = delete(&proxy, &success.physical_id)
        .await
        .expect_err("DeleteStage fails");
    assert!(
        reason.starts_with("API Gateway DeleteStage on v1 failed"),
        "{reason}"
    );
    assert_eq!(
        delete(&proxy, &success.physical_id).await,
        Ok(Deletion::Deleted)
    );
}

#[tokio::test]
async fn drift_is_repaired_on_the_next_update() {
    let proxy = proxy(FakeGateway::with_api(API));
    let extra = json!({"AccessLogging": {"DestinationArn": FIREHOSE}});
    let success = create(&proxy, extra.clone()).await.expect("created");
    let wanted = proxy.api.stage_of(API, "v1").unwrap();

    // Settings changed by hand: no redeploy, one UpdateStage.
    proxy.api.with(|s| {
        let stage = s.apis.get_mut(API).unwrap().stages.get_mut("v1").unwrap();
        stage.defaults = Some(DefaultSettings {
            rate_limit: 9999.0,
            burst_limit: 5000,
            log_level: Some("ERROR".into()),
        });
        stage.access_log = None;
    });
    let before = proxy.api.writes().len();
    update(&proxy, &success.physical_id, extra.clone())
        .await
        .expect("repaired");
    assert_eq!(proxy.api.writes()[before..], ["UpdateStage v1"]);
    assert_eq!(
        proxy.api.stage_of(API, "v1").unwrap().access_log,
        wanted.access_log
    );
    let defaults = proxy.api.stage_of(API, "v1").unwrap().defaults.unwrap();
    assert_eq!((defaults.rate_limit, defaults.burst_limit), (12.5, 20));
    assert_eq!(defaults.log_level.as_deref(), Some("OFF"));

    // Someone redeployed other content to the stage: ours is deployed
    // again, and their deployment is not ours to delete.
    proxy.api.with(|s| {
        let rest_api = s.apis.get_mut(API).unwrap();
        rest_api.deployments.insert(
            "manual1".into(),
            FakeDeployment {
                description: Some("by hand".into()),
                methods: Vec::new(),
            },
        );
        rest_api.stages.get_mut("v1").unwrap().deployment_id = "manual1".into();
    });
    update(&proxy, &success.physical_id, extra)
        .await
        .expect("redeployed");
    let served = served_by(&proxy.api, API, "v1");
    assert!(deployed_digest(served.description.as_deref()).is_some());
    assert!(proxy.api.api(API).deployments.contains_key("manual1"));
}

#[tokio::test]
async fn an_import_that_drops_sigv4_the_role_and_binary_types_is_patched_before_deploying() {
    let fake = FakeGateway::with_api(API);
    fake.with(|s| {
        s.quirks.drops_sigv4 = true;
        s.quirks.drops_credentials = true;
        s.quirks.ignores_binary_media_types = true;
    });
    let proxy = proxy(fake);
    create(&proxy, json!({})).await.expect("created");

    for method in served_by(&proxy.api, API, "v1").methods {
        assert_eq!(
            method.authorization.as_deref(),
            Some("AWS_IAM"),
            "{method:?}"
        );
        assert_eq!(
            method.integration.and_then(|i| i.credentials).as_deref(),
            Some(ROLE)
        );
    }
    assert_eq!(proxy.api.api(API).binary_media_types, ["*/*"]);
    let writes = proxy.api.writes();
    let deployed_at = writes
        .iter()
        .position(|w| w.starts_with("CreateDeployment"))
        .expect("deployed");
    assert!(
        writes[..deployed_at]
            .iter()
            .any(|w| w.starts_with("UpdateMethod")),
        "patched before the deployment: {writes:?}"
    );
}

#[tokio::test]
async fn what_the_import_or_a_patch_leaves_wrong_is_never_deployed() {
    let unpatchable = FakeGateway::with_api(API);
    unpatchable.with(|s| {
        s.quirks.drops_sigv4 = true;
        s.quirks.keeps_authorization = true;
    });
    let warned = FakeGateway::with_api(API);
    warned.with(|s| s.quirks.warnings = vec!["Ignoring response model".into()]);

    for (fake, expected) in [
        (
            unpatchable,
            "still reports authorization \"NONE\" after patching it to AWS_IAM",
        ),
        (
            warned,
            "applied the document with warnings, so it is not deployed: Ignoring response model",
        ),
    ] {
        let proxy = proxy(fake);
        let reason = create(&proxy, json!({})).await.expect_err(expected);
        assert!(reason.contains(expected), "{reason}");
        assert!(
            !proxy
                .api
                .calls()
                .iter()
                .any(|c| c.starts_with("CreateDeployment")),
            "{expected}"
        );
    }
}

#[tokio::test]
async fn refusals_name_the_property_and_write_nothing() {
    // A foreign stage of the same name.
    let fake = FakeGateway::with_api(API);
    fake.with(|s| {
        let rest_api = s.apis.get_mut(API).unwrap();
        rest_api.deployments.insert(
            "manual1".into(),
            FakeDeployment {
                description: None,
                methods: Vec::new(),
            },
        );
        rest_api.stages.insert(
            "v1".into(),
            FakeStage {
                deployment_id: "manual1".into(),
                ..FakeStage::default()
            },
        );
    });
    let foreign = proxy(fake);
    let reason = create(&foreign, json!({})).await.expect_err("refused");
    assert!(
        reason.contains("did not make") && reason.contains("StageName"),
        "{reason}"
    );
    // A replacement onto it is a Create of that stage: refused alike.
    let reason = update(&foreign, &stage_arn(API, "v0"), json!({}))
        .await
        .expect_err("refused");
    assert!(reason.contains("did not make"), "{reason}");
    assert!(foreign.api.writes().is_empty());

    // No such REST API.
    let missing = proxy(FakeGateway::default());
    let reason = create(&missing, json!({})).await.expect_err("no API");
    assert!(
        reason.starts_with("ResourceProperties.RestApiId: REST API a1b2c3d4e5 does not exist"),
        "{reason}"
    );
    assert!(missing.api.writes().is_empty());

    // A bad property: not even a read.
    let bad = proxy(FakeGateway::with_api(API));
    let reason = create(&bad, json!({"StageName": "v 1"}))
        .await
        .expect_err("bad");
    assert!(
        reason.starts_with("ResourceProperties.StageName"),
        "{reason}"
    );
    assert!(bad.api.calls().is_empty());

    // A StackId that is not a stack ARN: not even a read.
    let odd = proxy(FakeGateway::with_api(API));
    let mut request = request(RequestType::Create);
    request.stack_id = "not-an-arn".into();
    let reason = odd
        .create(&request, props(json!({})))
        .await
        .expect_err("bad StackId")
        .to_string();
    assert!(
        reason.starts_with("StackId \"not-an-arn\" is not a CloudFormation stack ARN"),
        "{reason}"
    );
    assert!(odd.api.calls().is_empty());
}

#[test]
fn physical_ids_round_trip() {
    let stack = StackArn {
        partition: "aws",
        region: "eu-west-1",
        account: "123456789012",
        name: "vault",
    };
    let id = StageId {
        rest_api_id: "a1b2c3d4e5".into(),
        stage: "v1".into(),
    };
    let arn = id.arn(&stack);
    assert_eq!(
        arn,
        "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/v1"
    );
    assert_eq!(StageId::parse(&arn), Some(id));
    assert_eq!(StageId::parse("vaultfront:create-failed:req"), None);
    assert_eq!(
        StageId::parse("arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/"),
        None
    );
}

#[test]
fn invoke_urls_follow_the_partition() {
    assert_eq!(dns_suffix("aws"), "amazonaws.com");
    assert_eq!(dns_suffix("aws-cn"), "amazonaws.com.cn");
}

/// The Reasons CloudFormation shows; end-to-end tests and users match on
/// their words.
#[test]
fn failures_read_as_before() {
    let cases = [
        (
            Failure::StackId("not-an-arn".into()),
            "StackId \"not-an-arn\" is not a CloudFormation stack ARN; the partition and region \
             of the integration URI come from it",
        ),
        (
            Failure::NoSuchRestApi(API.into()),
            "ResourceProperties.RestApiId: REST API a1b2c3d4e5 does not exist in this account and \
             region; pass !Ref of the AWS::ApiGateway::RestApi",
        ),
        (
            Failure::ImportWarnings {
                rest_api_id: API.into(),
                warnings: vec!["one".into(), "two".into()],
            },
            "PutRestApi on REST API a1b2c3d4e5 applied the document with warnings, so it is not \
             deployed: one; two",
        ),
        (
            Failure::AuthorizationNotApplied {
                method: "GET /{proxy+}".into(),
                found: "NONE".into(),
                wanted: "AWS_IAM",
            },
            "GET /{proxy+} still reports authorization \"NONE\" after patching it to AWS_IAM; \
             refusing to deploy a method that is not authenticated as asked",
        ),
        (
            Failure::CredentialsNotApplied {
                method: "PUT /{proxy+}".into(),
                found: String::new(),
                wanted: ROLE.into(),
            },
            "PUT /{proxy+} still reports integration credentials \"\" after patching them to \
             arn:aws:iam::123456789012:role/api-s3; refusing to deploy an integration without \
             the API's role",
        ),
    ];
    for (failure, text) in cases {
        assert_eq!(failure.to_string(), text);
    }
}
