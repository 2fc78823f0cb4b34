//! The provisioner: carries out one step of the plan on one resource.
//! `Provider::of` is the one place custom and native part: a custom
//! resource's step is an event to its function (built from the workspace
//! and run under the Lambda emulator), a native one is the registered
//! type's call in moto.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use crate::clients::Clients;
use crate::custom::{self, Event};
use crate::engine::LocalOptions;
use crate::lambda::{LambdaEmulator, LambdaOptions};
use crate::native::{self, lambda_function::BINARY};
use crate::plan::Provider;
use crate::state::{ResourceState, StackState};
use crate::template::{Resource, Template};
use crate::Error;

/// The function binaries of the template, built together with the deploy
/// tool by `scripts/deploy` (`cargo build --workspace --exclude
/// vaultfront-tests`): one selection of packages is one set of features, so
/// the SDK crates are compiled once for all of them.
pub const FUNCTION_BINARIES: [&str; 3] = ["bucket-policy", "object-lock", "s3-proxy-api"];

/// The package selection of that build (`cargo build` arguments), the one
/// the tests' build shares too.
pub const FUNCTIONS_BUILD: [&str; 3] = ["--workspace", "--exclude", "vaultfront-tests"];

fn profile_dir(release: bool) -> &'static str {
    if release {
        "release"
    } else {
        "debug"
    }
}

/// Build `binary` for the local stack. The template's functions are built
/// as `scripts/deploy` builds them (a no-op when it just did); any other
/// binary (a test's) on its own.
fn build_function(options: &LocalOptions, release: bool, binary: &str) -> Result<(), Error> {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(&options.root)
        .args(["build", "--locked"])
        .env("CARGO_TARGET_DIR", &options.target_dir);
    if release {
        cargo.arg("--release");
    }
    if FUNCTION_BINARIES.contains(&binary) {
        cargo.args(FUNCTIONS_BUILD);
    } else {
        cargo.args(["--bin", binary]);
    }
    println!(
        "vaultfront: building the functions ({} profile; {})",
        profile_dir(release),
        if release {
            "LTO, about 8 minutes the first time on 2 cores"
        } else {
            "seconds when scripts/deploy has just built them"
        }
    );
    let status = cargo
        .status()
        .map_err(|e| Error::Process(format!("running cargo build: {e}")))?;
    if !status.success() {
        return Err(Error::Process(format!(
            "cargo build of `{binary}` failed ({status}); its errors are above"
        )));
    }
    Ok(())
}

pub struct Provisioner<'a> {
    options: &'a LocalOptions,
    pub clients: Clients,
    release: bool,
    lambda: Option<LambdaEmulator>,
    lambda_env: Vec<(String, String)>,
    /// Binaries this run has built (once each).
    built: Vec<String>,
}

impl<'a> Provisioner<'a> {
    pub async fn new(
        options: &'a LocalOptions,
        stack: &StackState,
        template: &Template,
    ) -> Provisioner<'a> {
        let endpoint = stack.moto.endpoint();
        Provisioner {
            options,
            clients: Clients::for_endpoint(&endpoint).await,
            release: stack.release,
            lambda_env: lambda_env(&endpoint, template),
            lambda: None,
            built: Vec::new(),
        }
    }
    /// The Lambda emulator with `binary` built and polling for events.
    fn lambda(&mut self, binary: &str) -> Result<&LambdaEmulator, Error> {
        if !self.built.iter().any(|b| b == binary) {
            build_function(self.options, self.release, binary)?;
            // One build makes every workspace function.
            if FUNCTION_BINARIES.contains(&binary) {
                self.built
                    .extend(FUNCTION_BINARIES.iter().map(|b| (*b).to_owned()));
            } else {
                self.built.push(binary.to_owned());
            }
        }
        if self.lambda.is_none() {
            println!("vaultfront: starting the Lambda runtime emulator (cargo lambda watch --only-lambda-apis)");
            let toolchain = &self.options.toolchain;
            self.lambda = Some(LambdaEmulator::start(&LambdaOptions {
                cargo_lambda: &toolchain.cargo_lambda,
                path: &toolchain.path,
                root: &self.options.root,
                log: &self.options.state_dir.join("lambda-watch.log"),
                binaries: &self.options.target_dir.join(profile_dir(self.release)),
                env: &self.lambda_env,
                pid_file: Some(&self.options.state_dir.join("lambda-watch.pid")),
            })?);
        }
        let lambda = self
            .lambda
            .as_ref()
            .ok_or_else(|| Error::Process("the Lambda emulator did not start".into()))?;
        lambda.ensure_function(binary)?;
        Ok(lambda)
    }

    /// The workspace binary behind a ServiceToken (a function's Arn).
    fn binary_for(
        stack: &StackState,
        properties: &Value,
        logical_id: &str,
    ) -> Result<String, Error> {
        let token = properties
            .get("ServiceToken")
            .and_then(Value::as_str)
            .unwrap_or_default();
        stack
            .resources
            .iter()
            .find(|r| r.attributes.get("Arn").and_then(Value::as_str) == Some(token))
            .and_then(|r| r.attributes.get(BINARY).and_then(Value::as_str))
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::Template(format!(
                    "{logical_id}: ServiceToken `{token}` names no function of this stack"
                ))
            })
    }

    async fn custom_request(
        &mut self,
        stack: &StackState,
        request_type: &'static str,
        state: &ResourceState,
        properties: &Value,
        old: Option<&Value>,
        physical_id: Option<&str>,
    ) -> Result<custom::Response, Error> {
        let binary = Self::binary_for(stack, properties, &state.logical_id)?;
        let event = Event {
            request_type,
            physical_id: physical_id.map(str::to_owned),
            old_properties: old.cloned(),
            ..Event::create(&state.kind, &state.logical_id, properties.clone())
                .in_stack(&stack.stack_id)
        };
        let s3 = self.clients.s3.clone();
        let lambda = self.lambda(&binary)?;
        custom::send(&s3, lambda, &binary, &event).await
    }

    pub async fn create(
        &mut self,
        stack: &StackState,
        resource: &Resource,
        properties: Value,
    ) -> Result<ResourceState, (String, Option<ResourceState>)> {
        let mut state = ResourceState {
            logical_id: resource.logical_id.clone(),
            kind: resource.kind.clone(),
            physical_id: String::new(),
            properties: properties.clone(),
            attributes: BTreeMap::new(),
            retained: resource.retained(),
        };
        if Provider::of(&resource.kind) == Provider::Custom {
            let response = self
                .custom_request(stack, "Create", &state, &properties, None, None)
                .await
                .map_err(|e| (e.to_string(), None))?;
            state.physical_id = response.physical_id.clone();
            if !response.success {
                // CloudFormation sends the rollback's Delete to a failed
                // Create that returned an id (the handler's marker).
                let made = (!state.physical_id.is_empty()).then(|| state.clone());
                return Err((response.reason, made));
            }
            state.attributes = response.data.into_iter().collect();
            return Ok(state);
        }
        let made = native::create(&self.clients, &stack.stack_name, resource, &properties)
            .await
            .map_err(|e| (e.to_string(), None))?;
        state.physical_id = made.physical_id;
        state.attributes = made.attributes;
        Ok(state)
    }

    /// Delete one resource as CloudFormation would (Retain: left alone).
    pub async fn delete(
        &mut self,
        stack: &StackState,
        state: &ResourceState,
    ) -> Result<&'static str, Error> {
        if state.retained {
            return Ok("DELETE_SKIPPED");
        }
        if Provider::of(&state.kind) == Provider::Custom {
            let response = self
                .custom_request(
                    stack,
                    "Delete",
                    state,
                    &state.properties,
                    None,
                    Some(&state.physical_id),
                )
                .await?;
            if !response.success {
                return Err(Error::Destroy(format!(
                    "{}: {}",
                    state.logical_id, response.reason
                )));
            }
        } else {
            native::delete(&self.clients, &state.kind, &state.physical_id).await?;
        }
        Ok("DELETE_COMPLETE")
    }

    /// An update of `before` to `properties`: custom resources get an
    /// Update event with OldResourceProperties (a new physical id in the
    /// answer is a replacement); native ones are changed in place where
    /// that is what CloudFormation does, and refused otherwise. A rollback
    /// is the same call with the old properties.
    pub async fn update(
        &mut self,
        stack: &StackState,
        before: &ResourceState,
        properties: Value,
    ) -> Result<ResourceState, String> {
        let mut after = before.clone();
        after.properties = properties.clone();
        if Provider::of(&before.kind) == Provider::Custom {
            let response = self
                .custom_request(
                    stack,
                    "Update",
                    before,
                    &properties,
                    Some(&before.properties),
                    Some(&before.physical_id),
                )
                .await
                .map_err(|e| e.to_string())?;
            if !response.success {
                return Err(response.reason);
            }
            after.physical_id = response.physical_id;
            after.attributes = response.data.into_iter().collect();
            return Ok(after);
        }
        native::update(
            &self.clients,
            &before.kind,
            &before.physical_id,
            &before.properties,
            &properties,
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok(after)
    }
}

/// moto's endpoint and test credentials for the functions, and a timeout:
/// `cargo lambda watch` hands a deadline already in the past, so the
/// handlers' deadline guard reads AWS_LAMBDA_FUNCTION_TIMEOUT instead. One
/// emulator serves every function, so it gets the longest Timeout.
fn lambda_env(endpoint: &str, template: &Template) -> Vec<(String, String)> {
    let timeout = template
        .resources
        .values()
        .filter(|r| r.kind == "AWS::Lambda::Function")
        .filter_map(|r| r.properties.get("Timeout").and_then(Value::as_u64))
        .max()
        .unwrap_or(60);
    let mut env = crate::clients::env(endpoint);
    env.push((
        "AWS_LAMBDA_FUNCTION_TIMEOUT".to_owned(),
        timeout.to_string(),
    ));
    env
}
