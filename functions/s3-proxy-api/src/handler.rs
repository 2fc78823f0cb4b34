//! `Custom::S3ProxyApi`'s lifecycle: render, compare with what API Gateway
//! serves, and write only what differs.
//!
//! The physical id is the stage's ARN,
//! `arn:<partition>:apigateway:<region>::/restapis/<id>/stages/<stage>`: a
//! new `RestApiId` or `StageName` is a replacement (a new stage, and later a
//! Delete of the old one); every other change is an in-place update.

use crate::aws::{AwsError, GatewayApi};
use crate::openapi::{self, Target};
use crate::plan::{
    self, deployment_description, Conflict, Fix, Patchable, ReadBackError, StageSettings,
    BINARY_MEDIA_TYPE,
};
use crate::properties::{InvalidProperty, Properties, Spec};
use custom_resource::{Deletion, HandlerError, Request, Resource, StackArn, Success};
use serde_json::{json, Map};
use tracing::{info, warn};

pub struct S3ProxyApi<A> {
    api: A,
}

impl<A: GatewayApi> S3ProxyApi<A> {
    pub fn new(api: A) -> Self {
        S3ProxyApi { api }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Property(#[from] InvalidProperty),
    #[error(
        "StackId {0:?} is not a CloudFormation stack ARN; the partition and region of the \
         integration URI come from it"
    )]
    StackId(String),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Conflict(#[from] Conflict),
    #[error(transparent)]
    ReadBack(#[from] ReadBackError),
    #[error(
        "ResourceProperties.RestApiId: REST API {0} does not exist in this account and region; \
         pass !Ref of the AWS::ApiGateway::RestApi"
    )]
    NoSuchRestApi(String),
    #[error(
        "PutRestApi on REST API {rest_api_id} applied the document with warnings, so it is not \
         deployed: {}",
        .warnings.join("; ")
    )]
    ImportWarnings {
        rest_api_id: String,
        warnings: Vec<String>,
    },
    #[error(
        "{method} still reports authorization {found:?} after patching it to {wanted}; refusing to \
         deploy a method that is not authenticated as asked"
    )]
    AuthorizationNotApplied {
        method: String,
        found: String,
        wanted: &'static str,
    },
    #[error(
        "{method} still reports integration credentials {found:?} after patching them to \
         {wanted}; refusing to deploy an integration without the API's role"
    )]
    CredentialsNotApplied {
        method: String,
        found: String,
        wanted: String,
    },
}

/// The stage a physical id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageId {
    pub rest_api_id: String,
    pub stage: String,
}

impl StageId {
    pub fn arn(&self, stack: &StackArn<'_>) -> String {
        format!(
            "arn:{}:apigateway:{}::/restapis/{}/stages/{}",
            stack.partition, stack.region, self.rest_api_id, self.stage
        )
    }

    pub fn parse(physical_id: &str) -> Option<StageId> {
        let (_, path) = physical_id.split_once("::/restapis/")?;
        let (rest_api_id, stage) = path.split_once("/stages/")?;
        (!rest_api_id.is_empty() && !stage.is_empty() && !stage.contains('/')).then(|| StageId {
            rest_api_id: rest_api_id.to_owned(),
            stage: stage.to_owned(),
        })
    }
}

fn stack(request: &Request) -> Result<StackArn<'_>, Failure> {
    request
        .stack()
        .ok_or_else(|| Failure::StackId(request.stack_id.clone()))
}

/// The DNS suffix of the partition's `execute-api` endpoints.
fn dns_suffix(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        "aws-iso" => "c2s.ic.gov",
        "aws-iso-b" => "sc2s.sgov.gov",
        _ => "amazonaws.com",
    }
}

impl<A: GatewayApi> S3ProxyApi<A> {
    async fn apply(
        &self,
        request: &Request,
        spec: &Spec,
        creating: bool,
    ) -> Result<Success, Failure> {
        let stack = stack(request)?;
        let target = Target {
            partition: stack.partition,
            region: stack.region,
        };
        let api = spec.rest_api_id.as_str();
        let rendered = openapi::render(spec, target);
        let observed = self.api.stage(api, &spec.stage).await?;
        let settings = StageSettings {
            throttling: spec.throttling,
            access_log: spec.access_log.clone(),
            log_level: spec.execution_log_level,
        };
        let mut plan = plan::plan(
            api,
            &spec.stage,
            &rendered.digest,
            &settings,
            observed.as_ref(),
            creating,
        )?;
        info!(
            digest = %rendered.digest,
            deploy = plan.deploy,
            stage_patches = plan.stage_patches.len(),
            "plan"
        );
        if plan.is_noop() {
            info!("the stage already serves this document with these settings; nothing to write");
        }
        let redeployed = plan.deploy && observed.is_some();
        let mut deployment_id = observed.and_then(|o| o.deployment_id);
        if plan.deploy {
            deployment_id = Some(self.deploy(spec, target, &rendered).await?);
        }
        if redeployed {
            // The stage's settings are compared as they are now, not as they
            // were before CreateDeployment: API Gateway keeps them across
            // deployments, but a service that replaced the stage (moto does)
            // would otherwise be left without its access log.
            let now = self.api.stage(api, &spec.stage).await?;
            plan.stage_patches = plan::stage_patches(&settings, now.as_ref());
        }
        if !plan.stage_patches.is_empty() {
            self.api
                .patch_stage(api, &spec.stage, &plan.stage_patches)
                .await?;
        }
        if let Some(old) = plan.retire_deployment {
            // Housekeeping only: the stage already serves the new deployment.
            if let Err(err) = self.api.delete_deployment(api, &old).await {
                warn!(error = %err, deployment_id = %old, "could not delete the superseded deployment");
            }
        }
        let id = StageId {
            rest_api_id: spec.rest_api_id.clone(),
            stage: spec.stage.clone(),
        };
        let mut data = Map::new();
        data.insert(
            "InvokeUrl".into(),
            json!(format!(
                "https://{api}.execute-api.{}.{}/{}",
                stack.region,
                dns_suffix(stack.partition),
                spec.stage
            )),
        );
        data.insert(
            "DeploymentId".into(),
            json!(deployment_id.unwrap_or_default()),
        );
        data.insert(
            "ExecuteApiArn".into(),
            json!(format!(
                "arn:{}:execute-api:{}:{}:{api}/{}/*/*",
                stack.partition, stack.region, stack.account, spec.stage
            )),
        );
        Ok(Success::new(id.arn(&stack)).with_data(data))
    }

    /// PutRestApi, read back and fix, CreateDeployment; the new deployment's id.
    async fn deploy(
        &self,
        spec: &Spec,
        target: Target<'_>,
        rendered: &openapi::Rendered,
    ) -> Result<String, Failure> {
        let api = spec.rest_api_id.as_str();
        let Some(rest_api) = self.api.rest_api(api).await? else {
            return Err(Failure::NoSuchRestApi(api.to_owned()));
        };
        // The title repeats the API's name: PutRestApi may rename the API
        // after it, and the name belongs to the template.
        let document = rendered.document(&rest_api.name, rest_api.description.as_deref());
        let put = self.api.put_document(api, &document).await?;
        if !put.warnings.is_empty() {
            // The stage still serves its previous deployment: failing here
            // changes nothing that is served, and the next attempt overwrites.
            return Err(Failure::ImportWarnings {
                rest_api_id: api.to_owned(),
                warnings: put.warnings,
            });
        }
        if !put
            .binary_media_types
            .iter()
            .any(|t| t == BINARY_MEDIA_TYPE)
        {
            // API Gateway applies x-amazon-apigateway-binary-media-types on
            // import; an emulator may not (moto ignores it).
            warn!(
                reported = ?put.binary_media_types,
                "the import did not set binary media type */*; patching it"
            );
            let now = self
                .api
                .patch_binary_media_type(api, BINARY_MEDIA_TYPE, true)
                .await?;
            info!(binary_media_types = ?now, "binary media types after the patch");
        }
        let observed = self.api.methods(api).await?;
        let expected = openapi::methods(spec, target);
        let (fixes, unverified) = plan::check_methods(&expected, &observed)?;
        if !unverified.is_empty() {
            warn!(
                methods = ?unverified,
                "the service reports no authorization type for these methods, so it cannot be checked \
                 (API Gateway always reports one; moto does not)"
            );
        }
        for fix in fixes {
            self.mend(api, &fix).await?;
        }
        let deployment_id = self
            .api
            .deploy(api, &spec.stage, &deployment_description(&rendered.digest))
            .await?;
        Ok(deployment_id)
    }

    /// Patch what the import left other than rendered, and check the patch
    /// took: a method is never deployed other than asked.
    async fn mend(&self, api: &str, fix: &Fix) -> Result<(), Failure> {
        let method = format!("{} {}", fix.verb, fix.path);
        match &fix.field {
            Patchable::Authorization { found, wanted } => {
                warn!(%method, %found, wanted = wanted.as_str(),
                    "the import left the wrong authorization (emulators drop the sigv4 scheme); patching");
                let now = self
                    .api
                    .set_authorization(api, &fix.resource_id, &fix.verb, *wanted)
                    .await?;
                if now.as_deref() != Some(wanted.as_str()) {
                    return Err(Failure::AuthorizationNotApplied {
                        method,
                        found: now.unwrap_or_default(),
                        wanted: wanted.as_str(),
                    });
                }
            }
            Patchable::Credentials { found, wanted } => {
                warn!(%method, found = found.as_deref().unwrap_or("<none>"), %wanted,
                    "the import left the integration without the rendered role; patching");
                let now = self
                    .api
                    .set_credentials(api, &fix.resource_id, &fix.verb, wanted)
                    .await?;
                if now.as_deref() != Some(wanted.as_str()) {
                    return Err(Failure::CredentialsNotApplied {
                        method,
                        found: now.unwrap_or_default(),
                        wanted: wanted.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    async fn remove(&self, id: &StageId) -> Result<Deletion, Failure> {
        let api = id.rest_api_id.as_str();
        let Some(stages) = self.api.stages(api).await? else {
            info!(rest_api_id = api, "the REST API is gone; nothing to remove");
            return Ok(Deletion::AlreadyGone);
        };
        let deployments = self.api.deployments(api).await?;
        let plan = plan::plan_delete(&id.stage, &stages, &deployments);
        info!(?plan, "delete plan");
        if plan.is_noop() {
            return Ok(Deletion::AlreadyGone);
        }
        if plan.delete_stage {
            self.api.delete_stage(api, &id.stage).await?;
        }
        // Content before deployments: a retry after a crash finds our
        // deployments still there and so knows to finish the job.
        if plan.clear_api {
            if let Some(rest_api) = self.api.rest_api(api).await? {
                let empty =
                    openapi::empty_document(&rest_api.name, rest_api.description.as_deref());
                let put = self.api.put_document(api, &empty).await?;
                if put
                    .binary_media_types
                    .iter()
                    .any(|t| t == BINARY_MEDIA_TYPE)
                {
                    self.api
                        .patch_binary_media_type(api, BINARY_MEDIA_TYPE, false)
                        .await?;
                }
            }
        } else {
            info!("another stage of this resource type serves this API; its content stays");
        }
        for deployment in &plan.delete_deployments {
            self.api.delete_deployment(api, deployment).await?;
        }
        Ok(Deletion::Deleted)
    }
}

impl<A: GatewayApi> Resource for S3ProxyApi<A> {
    type Properties = Properties;

    async fn create(
        &self,
        request: &Request,
        properties: Properties,
    ) -> Result<Success, HandlerError> {
        let spec = properties.validate().map_err(Failure::from)?;
        Ok(self.apply(request, &spec, true).await?)
    }

    async fn update(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Properties,
        _old: Option<Properties>,
    ) -> Result<Success, HandlerError> {
        let spec = properties.validate().map_err(Failure::from)?;
        let same_stage = StageId::parse(physical_id)
            .is_some_and(|old| old.rest_api_id == spec.rest_api_id && old.stage == spec.stage);
        if !same_stage {
            info!(
                old = physical_id,
                "RestApiId or StageName changed: a new stage replaces the old one"
            );
        }
        // A new stage is treated as a Create: someone else's stage of that
        // name is refused, not taken over.
        Ok(self.apply(request, &spec, !same_stage).await?)
    }

    async fn delete(
        &self,
        _request: &Request,
        physical_id: &str,
        _properties: Properties,
    ) -> Result<Deletion, HandlerError> {
        match StageId::parse(physical_id) {
            Some(id) => Ok(self.remove(&id).await?),
            None => {
                warn!(
                    physical_id,
                    "not a stage ARN this resource made; nothing to remove"
                );
                Ok(Deletion::AlreadyGone)
            }
        }
    }
}

#[cfg(test)]
mod tests;
