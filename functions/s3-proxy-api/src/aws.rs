//! The API Gateway calls this resource makes, behind a narrow trait so the
//! lifecycle can be tested against a fake. The SDK-backed adapter retries
//! each call on throttling and 5xx and turns each error into a message that
//! names the operation, the API and the likely fix.

use crate::logging::{AccessLog, LogLevel};
use crate::plan::{
    binary_media_type_path, DeploymentRef, ObservedIntegration, ObservedMethod, ObservedStage,
    StagePatch, StageRef, ALL_METHODS,
};
use crate::properties::{Authorization, Throttling};
use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_sdk_apigateway::config::http::HttpResponse;
use aws_sdk_apigateway::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_apigateway::primitives::Blob;
use aws_sdk_apigateway::types::{Op, PatchOperation, PutMode};
use aws_sdk_apigateway::Client;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;
use tracing::info;

/// A failed API Gateway call.
#[derive(Debug, thiserror::Error)]
#[error("API Gateway {operation} on {target} failed: {detail}{hint}")]
pub struct AwsError {
    pub operation: &'static str,
    pub target: String,
    /// The service's error code, like `NotFoundException`.
    pub code: Option<String>,
    detail: String,
    hint: &'static str,
}

impl AwsError {
    /// An error of `operation` on `target`, with the fix its code suggests.
    pub fn new(
        operation: &'static str,
        target: impl Into<String>,
        code: Option<String>,
        detail: impl Into<String>,
    ) -> Self {
        AwsError {
            operation,
            target: target.into(),
            hint: hint_for(code.as_deref(), operation),
            code,
            detail: detail.into(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code.as_deref() == Some("NotFoundException")
    }
}

fn hint_for(code: Option<&str>, operation: &str) -> &'static str {
    match code {
        Some("AccessDeniedException") if operation == "PutRestApi" => {
            " (the function's role needs apigateway:PUT on this API and iam:PassRole on RoleArn)"
        }
        Some("AccessDeniedException") if operation == "UpdateStage" => {
            " (the function's role needs apigateway:PATCH on this stage, and iam:CreateServiceLinkedRole \
             for ops.apigateway.amazonaws.com the first time a stage logs to Firehose)"
        }
        Some("AccessDeniedException") => {
            " (the function's role needs apigateway:GET/PUT/POST/PATCH/DELETE on this API's ARNs)"
        }
        Some("TooManyRequestsException") => {
            " (API Gateway kept throttling; its control-plane quotas are account-wide, retry the stack operation later)"
        }
        Some("ConflictException") => " (another change to this API is in progress; retry)",
        Some("BadRequestException") if operation == "UpdateStage" => {
            " (execution logging needs API Gateway's account-level CloudWatch Logs role, set once per \
             account and region; set ExecutionLogLevel OFF, or set that role. A Firehose access-log \
             stream must be named amazon-apigateway-*)"
        }
        _ => "",
    }
}

/// The SDK's retries for this function. API Gateway's control-plane quotas
/// are low (PutRestApi 1/s, CreateDeployment one per 5 s per account), so a
/// throttled call (`TooManyRequestsException`, which the SDK classifies as
/// throttling, like any 5xx as transient) gets more attempts and longer
/// waits than the SDK's defaults. These are the only retries: the runner's
/// deadline stops the handler if they outlast the Lambda timeout.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(8)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(10))
}

/// The API Gateway client for the function: the SDK's default chain
/// (`AWS_ENDPOINT_URL`, when set for an emulator, is honoured by the loader)
/// with [`retry_config`].
pub async fn client() -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .load()
        .await;
    Client::new(&config)
}

/// One SDK call (the SDK retries it as [`retry_config`] says), its error
/// made readable and its name recorded while it runs, so that a time-out
/// can say which call never answered.
async fn call<T, E, F, Fut>(operation: &'static str, target: &str, send: F) -> Result<T, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let _waiting =
        custom_resource::in_flight::begin(format!("API Gateway {operation} on {target}"));
    send().await.map_err(|err| {
        let code = err.code().map(str::to_owned);
        // The raw response of an unrecognised error can be a whole HTML
        // page; its status says enough and keeps the Reason short.
        let detail = match (err.code(), err.message(), err.raw_response()) {
            (Some(code), Some(message), _) => format!("{code}: {message}"),
            (Some(code), None, _) => code.to_owned(),
            (None, _, Some(raw)) => format!(
                "HTTP {} with a body that is not an API Gateway error",
                raw.status().as_u16()
            ),
            (None, _, None) => DisplayErrorContext(&err).to_string(),
        };
        AwsError::new(operation, target, code, detail)
    })
}

/// The REST API's own settings, which the template owns.
#[derive(Debug, Clone)]
pub struct RestApiInfo {
    pub name: String,
    pub description: Option<String>,
}

/// What PutRestApi reports.
#[derive(Debug, Clone)]
pub struct PutOutcome {
    pub binary_media_types: Vec<String>,
    pub warnings: Vec<String>,
}

/// The API Gateway calls the lifecycle makes, with the semantics it relies
/// on: reads of something that does not exist answer `None`, deletes of
/// something already gone succeed, and every other failure is an
/// [`AwsError`] naming the call.
pub trait GatewayApi: Send + Sync + 'static {
    /// The API, or `None` when it does not exist.
    fn rest_api(
        &self,
        api: &str,
    ) -> impl Future<Output = Result<Option<RestApiInfo>, AwsError>> + Send;

    /// The stage and the description of the deployment it serves, or `None`
    /// when there is no such stage (or no such API).
    fn stage(
        &self,
        api: &str,
        stage: &str,
    ) -> impl Future<Output = Result<Option<ObservedStage>, AwsError>> + Send;

    /// Replace the API's whole definition with `document` in one call.
    /// Returns the binary media types the API then reports and the import's
    /// warnings.
    fn put_document(
        &self,
        api: &str,
        document: &Value,
    ) -> impl Future<Output = Result<PutOutcome, AwsError>> + Send;

    /// Every method of the API with its integration.
    fn methods(
        &self,
        api: &str,
    ) -> impl Future<Output = Result<Vec<ObservedMethod>, AwsError>> + Send;

    /// Set a method's authorization type; returns what API Gateway then reports.
    fn set_authorization(
        &self,
        api: &str,
        resource_id: &str,
        verb: &str,
        authorization: Authorization,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;

    /// Set an integration's role; returns what API Gateway then reports.
    fn set_credentials(
        &self,
        api: &str,
        resource_id: &str,
        verb: &str,
        role_arn: &str,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;

    /// Add (`true`) or remove a binary media type; returns the API's types then.
    fn patch_binary_media_type(
        &self,
        api: &str,
        media_type: &str,
        add: bool,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;

    /// Deploy the API's current definition to `stage` (creating the stage
    /// when it does not exist); returns the deployment id.
    fn deploy(
        &self,
        api: &str,
        stage: &str,
        description: &str,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;

    /// Apply `patches` to the stage's settings in one UpdateStage.
    fn patch_stage(
        &self,
        api: &str,
        stage: &str,
        patches: &[StagePatch],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// The API's stages, or `None` when the API itself is gone.
    fn stages(
        &self,
        api: &str,
    ) -> impl Future<Output = Result<Option<Vec<StageRef>>, AwsError>> + Send;

    /// Every deployment of the API.
    fn deployments(
        &self,
        api: &str,
    ) -> impl Future<Output = Result<Vec<DeploymentRef>, AwsError>> + Send;

    /// Delete a stage; already gone is fine.
    fn delete_stage(
        &self,
        api: &str,
        stage: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// Delete a deployment; already gone is fine.
    fn delete_deployment(
        &self,
        api: &str,
        id: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// The API Gateway client, built once in `main`.
#[derive(Clone)]
pub struct ApiGateway {
    client: Client,
}

impl ApiGateway {
    pub fn new(client: Client) -> Self {
        ApiGateway { client }
    }
}

impl GatewayApi for ApiGateway {
    async fn rest_api(&self, api: &str) -> Result<Option<RestApiInfo>, AwsError> {
        let target = format!("REST API {api}");
        let result = call("GetRestApi", &target, || {
            self.client.get_rest_api().rest_api_id(api).send()
        })
        .await;
        match result {
            Ok(out) => Ok(Some(RestApiInfo {
                name: out.name().unwrap_or_default().to_owned(),
                description: out.description().map(str::to_owned),
            })),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn stage(&self, api: &str, stage: &str) -> Result<Option<ObservedStage>, AwsError> {
        let target = format!("stage {stage} of REST API {api}");
        let found = match call("GetStage", &target, || {
            self.client
                .get_stage()
                .rest_api_id(api)
                .stage_name(stage)
                .send()
        })
        .await
        {
            Ok(found) => found,
            Err(err) if err.is_not_found() => return Ok(None),
            Err(err) => return Err(err),
        };
        let default_throttling = found
            .method_settings()
            .and_then(|settings| settings.get(ALL_METHODS))
            .map(|setting| Throttling {
                rate_limit: setting.throttling_rate_limit(),
                burst_limit: setting.throttling_burst_limit(),
            });
        let deployment_id = found.deployment_id().map(str::to_owned);
        let deployment_description = match &deployment_id {
            Some(id) => {
                let target = format!("deployment {id} of REST API {api}");
                match call("GetDeployment", &target, || {
                    self.client
                        .get_deployment()
                        .rest_api_id(api)
                        .deployment_id(id)
                        .send()
                })
                .await
                {
                    Ok(deployment) => deployment.description().map(str::to_owned),
                    Err(err) if err.is_not_found() => None,
                    Err(err) => return Err(err),
                }
            }
            None => None,
        };
        Ok(Some(ObservedStage {
            deployment_id,
            deployment_description,
            default_throttling,
            default_log_level: default_log_level(&found),
            access_log: access_log(&found),
        }))
    }

    /// `failonwarnings` stays off: moto checks the document with a strict
    /// OpenAPI validator when it is on, and that validator rejects API
    /// Gateway's own documented greedy-path form (`/{proxy+}` with a path
    /// parameter named `proxy`). The caller refuses to deploy when there are
    /// warnings instead, so nothing a warning touched is ever served.
    async fn put_document(&self, api: &str, document: &Value) -> Result<PutOutcome, AwsError> {
        let body = serde_json::to_vec(document).map_err(|err| {
            AwsError::new(
                "PutRestApi",
                format!("REST API {api}"),
                None,
                format!("the document does not serialize: {err}"),
            )
        })?;
        let out = call("PutRestApi", &format!("REST API {api}"), || {
            self.client
                .put_rest_api()
                .rest_api_id(api)
                .mode(PutMode::Overwrite)
                .body(Blob::new(body.clone()))
                .send()
        })
        .await?;
        Ok(PutOutcome {
            binary_media_types: out.binary_media_types().to_vec(),
            warnings: out.warnings().to_vec(),
        })
    }

    /// One paged read (`embed=methods`).
    async fn methods(&self, api: &str) -> Result<Vec<ObservedMethod>, AwsError> {
        let target = format!("REST API {api}");
        let mut methods = Vec::new();
        let mut position: Option<String> = None;
        loop {
            let page = call("GetResources", &target, || {
                self.client
                    .get_resources()
                    .rest_api_id(api)
                    .embed("methods")
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
            for resource in page.items() {
                let path = resource.path().unwrap_or_default();
                for (verb, method) in resource.resource_methods().into_iter().flatten() {
                    let integration = method.method_integration().map(|i| ObservedIntegration {
                        kind: i.r#type().map(|t| t.as_str().to_owned()),
                        http_method: i.http_method().map(str::to_owned),
                        uri: i.uri().map(str::to_owned),
                        credentials: i.credentials().map(str::to_owned),
                        request_parameters: i
                            .request_parameters()
                            .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                    });
                    methods.push(ObservedMethod {
                        resource_id: resource.id().unwrap_or_default().to_owned(),
                        path: path.to_owned(),
                        verb: verb.clone(),
                        authorization: method
                            .authorization_type()
                            .filter(|a| !a.is_empty())
                            .map(str::to_owned),
                        integration,
                    });
                }
            }
            match page.position() {
                Some(next) if !next.is_empty() && Some(next) != position.as_deref() => {
                    position = Some(next.to_owned());
                }
                _ => return Ok(methods),
            }
        }
    }

    async fn set_authorization(
        &self,
        api: &str,
        resource_id: &str,
        verb: &str,
        authorization: Authorization,
    ) -> Result<Option<String>, AwsError> {
        let target = format!("method {verb} of resource {resource_id} on REST API {api}");
        let out = call("UpdateMethod", &target, || {
            self.client
                .update_method()
                .rest_api_id(api)
                .resource_id(resource_id)
                .http_method(verb)
                .patch_operations(
                    PatchOperation::builder()
                        .op(Op::Replace)
                        .path("/authorizationType")
                        .value(authorization.as_str())
                        .build(),
                )
                .send()
        })
        .await?;
        Ok(out.authorization_type().map(str::to_owned))
    }

    async fn set_credentials(
        &self,
        api: &str,
        resource_id: &str,
        verb: &str,
        role_arn: &str,
    ) -> Result<Option<String>, AwsError> {
        let target = format!("integration of {verb} on resource {resource_id} of REST API {api}");
        let out = call("UpdateIntegration", &target, || {
            self.client
                .update_integration()
                .rest_api_id(api)
                .resource_id(resource_id)
                .http_method(verb)
                .patch_operations(
                    PatchOperation::builder()
                        .op(Op::Replace)
                        .path("/credentials")
                        .value(role_arn)
                        .build(),
                )
                .send()
        })
        .await?;
        Ok(out.credentials().map(str::to_owned))
    }

    /// The PATCH path carries the type, its `/` escaped as `~1`; API
    /// Gateway takes no value for these.
    async fn patch_binary_media_type(
        &self,
        api: &str,
        media_type: &str,
        add: bool,
    ) -> Result<Vec<String>, AwsError> {
        let out = call("UpdateRestApi", &format!("REST API {api}"), || {
            self.client
                .update_rest_api()
                .rest_api_id(api)
                .patch_operations(
                    PatchOperation::builder()
                        .op(if add { Op::Add } else { Op::Remove })
                        .path(binary_media_type_path(media_type))
                        .build(),
                )
                .send()
        })
        .await?;
        Ok(out.binary_media_types().to_vec())
    }

    async fn deploy(&self, api: &str, stage: &str, description: &str) -> Result<String, AwsError> {
        let out = call(
            "CreateDeployment",
            &format!("stage {stage} of REST API {api}"),
            || {
                self.client
                    .create_deployment()
                    .rest_api_id(api)
                    .stage_name(stage)
                    .description(description)
                    .send()
            },
        )
        .await?;
        let id = out
            .id()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                AwsError::new(
                    "CreateDeployment",
                    format!("stage {stage} of REST API {api}"),
                    None,
                    "the answer carries no deployment id",
                )
            })?
            .to_owned();
        info!(deployment_id = %id, stage, "deployed");
        Ok(id)
    }

    async fn patch_stage(
        &self,
        api: &str,
        stage: &str,
        patches: &[StagePatch],
    ) -> Result<(), AwsError> {
        let operations: Vec<PatchOperation> = patches
            .iter()
            .map(|patch| match patch {
                StagePatch::Replace { path, value } => PatchOperation::builder()
                    .op(Op::Replace)
                    .path(path)
                    .value(value)
                    .build(),
                StagePatch::Remove { path } => {
                    PatchOperation::builder().op(Op::Remove).path(path).build()
                }
            })
            .collect();
        call(
            "UpdateStage",
            &format!("stage {stage} of REST API {api}"),
            || {
                self.client
                    .update_stage()
                    .rest_api_id(api)
                    .stage_name(stage)
                    .set_patch_operations(Some(operations.clone()))
                    .send()
            },
        )
        .await?;
        Ok(())
    }

    async fn stages(&self, api: &str) -> Result<Option<Vec<StageRef>>, AwsError> {
        match call("GetStages", &format!("REST API {api}"), || {
            self.client.get_stages().rest_api_id(api).send()
        })
        .await
        {
            Ok(out) => Ok(Some(
                out.item()
                    .iter()
                    .map(|s| StageRef {
                        name: s.stage_name().unwrap_or_default().to_owned(),
                        deployment_id: s.deployment_id().map(str::to_owned),
                    })
                    .collect(),
            )),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn deployments(&self, api: &str) -> Result<Vec<DeploymentRef>, AwsError> {
        let target = format!("REST API {api}");
        let mut deployments = Vec::new();
        let mut position: Option<String> = None;
        loop {
            let page = call("GetDeployments", &target, || {
                self.client
                    .get_deployments()
                    .rest_api_id(api)
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
            deployments.extend(page.items().iter().map(|d| DeploymentRef {
                id: d.id().unwrap_or_default().to_owned(),
                description: d.description().map(str::to_owned),
            }));
            match page.position() {
                Some(next) if !next.is_empty() && Some(next) != position.as_deref() => {
                    position = Some(next.to_owned());
                }
                _ => return Ok(deployments),
            }
        }
    }

    async fn delete_stage(&self, api: &str, stage: &str) -> Result<(), AwsError> {
        match call(
            "DeleteStage",
            &format!("stage {stage} of REST API {api}"),
            || {
                self.client
                    .delete_stage()
                    .rest_api_id(api)
                    .stage_name(stage)
                    .send()
            },
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.is_not_found() => Ok(()),
            Err(err) => Err(err),
        }
    }

    async fn delete_deployment(&self, api: &str, id: &str) -> Result<(), AwsError> {
        match call(
            "DeleteDeployment",
            &format!("deployment {id} of REST API {api}"),
            || {
                self.client
                    .delete_deployment()
                    .rest_api_id(api)
                    .deployment_id(id)
                    .send()
            },
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.is_not_found() => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// The stage's execution log level, from `methodSettings["*/*"]`.
fn default_log_level(stage: &aws_sdk_apigateway::operation::get_stage::GetStageOutput) -> LogLevel {
    LogLevel::parse_reported(
        stage
            .method_settings()
            .and_then(|settings| settings.get(ALL_METHODS))
            .and_then(|setting| setting.logging_level()),
    )
}

/// The stage's `accessLogSettings`, when it has a destination.
fn access_log(
    stage: &aws_sdk_apigateway::operation::get_stage::GetStageOutput,
) -> Option<AccessLog> {
    let settings = stage.access_log_settings()?;
    let destination_arn = settings.destination_arn().filter(|arn| !arn.is_empty())?;
    Some(AccessLog {
        destination_arn: destination_arn.to_owned(),
        format: settings.format().unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_operation_the_target_and_the_fix() {
        let err = AwsError {
            operation: "PutRestApi",
            target: "REST API a1b2c3d4e5".into(),
            code: Some("AccessDeniedException".into()),
            detail: "AccessDeniedException: not authorized to perform iam:PassRole".into(),
            hint: hint_for(Some("AccessDeniedException"), "PutRestApi"),
        };
        let text = err.to_string();
        assert!(
            text.starts_with("API Gateway PutRestApi on REST API a1b2c3d4e5 failed"),
            "{text}"
        );
        assert!(text.contains("iam:PassRole on RoleArn"), "{text}");
        assert!(!err.is_not_found());
    }
}
