//! Up (create, update, roll back) and destroy of the local stack.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};

use crate::clients::{Clients, ACCOUNT, REGION};
use crate::custom::{self, Event, RESPONSE_BUCKET};
use crate::intrinsics::{scalar_text, Context};
use crate::lambda::{LambdaEmulator, LambdaOptions};
use crate::moto::Moto;
use crate::native;
use crate::plan::{self, Action, Change, Provider, Teardown, Undo};
use crate::process;
use crate::state::{self, MotoState, ResourceState, StackState, StackStatus, Start};
use crate::table;
use crate::template::{Resource, Template};
use crate::Error;

/// The programs the engine runs, found (and installed) by its caller.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// A Python with moto and the SAM translator.
    pub python: PathBuf,
    /// `cargo-lambda`, the Lambda Runtime API emulator.
    pub cargo_lambda: PathBuf,
    /// PATH for the tools' children (`cargo lambda` must find its zig).
    pub path: std::ffi::OsString,
}

/// Where the local stack lives and how its functions are built.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    pub root: PathBuf,
    pub toolchain: Toolchain,
    pub state_dir: PathBuf,
    pub template: PathBuf,
    pub stack_name: String,
    /// Cargo's target directory, where the function binaries are built.
    pub target_dir: PathBuf,
    /// Release binaries (what AWS runs) or debug ones (the default: they
    /// share the dependencies `scripts/deploy` already built for itself).
    pub release: bool,
}

/// The function binaries of the template, built together with the deploy
/// tool by `scripts/deploy` (`cargo build --workspace --exclude
/// vaultfront-tests`): one selection of packages is one set of features, so
/// the SDK crates are compiled once for all of them.
const WORKSPACE_FUNCTIONS: [&str; 3] = ["bucket-policy", "object-lock", "s3-proxy-api"];

/// Attribute under which a function's workspace binary is remembered.
const BINARY: &str = "LocalBinary";

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Process(format!("starting the async runtime: {e}")))
}

/// CloudFormation JSON from the SAM template, through samtranslator.
fn transform(options: &LocalOptions) -> Result<Template, Error> {
    let output = Command::new(&options.toolchain.python)
        .arg(options.root.join("scripts/vaultfront/sam_to_cfn.py"))
        .arg(&options.template)
        .args([REGION, ACCOUNT])
        .env("AWS_DEFAULT_REGION", REGION)
        .output()
        .map_err(|e| Error::Process(format!("running sam_to_cfn.py: {e}")))?;
    if !output.status.success() {
        return Err(Error::Template(format!(
            "the SAM transform failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let json: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Error::Template(format!("the SAM transform printed no JSON: {e}")))?;
    let _ = std::fs::write(options.state_dir.join("template.json"), &output.stdout);
    Template::from_json(&json)
}

fn context(template: &Template, stack: &StackState) -> Context {
    let mut context = Context::for_stack(
        &stack.stack_name,
        &stack.stack_id,
        stack.parameters.clone(),
        template.conditions.clone(),
    );
    for resource in &stack.resources {
        context
            .physical_ids
            .insert(resource.logical_id.clone(), resource.physical_id.clone());
        context
            .attributes
            .insert(resource.logical_id.clone(), resource.attributes.clone());
    }
    context
}

fn new_stack_id(stack_name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let hex = format!("{:032x}", nanos ^ (u128::from(std::process::id()) << 64));
    format!(
        "arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack_name}/{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

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
    if WORKSPACE_FUNCTIONS.contains(&binary) {
        cargo.args(["--workspace", "--exclude", "vaultfront-tests"]);
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

/// Everything a run needs at hand.
struct Run<'a> {
    options: &'a LocalOptions,
    clients: Clients,
    stack: StackState,
    lambda: Option<LambdaEmulator>,
    lambda_env: Vec<(String, String)>,
    /// Binaries this run has built (once each).
    built: Vec<String>,
}

impl<'a> Run<'a> {
    async fn new(options: &'a LocalOptions, stack: StackState, template: &Template) -> Run<'a> {
        let endpoint = stack.moto.endpoint();
        Run {
            options,
            clients: Clients::for_endpoint(&endpoint).await,
            lambda_env: lambda_env(&endpoint, template),
            stack,
            lambda: None,
            built: Vec::new(),
        }
    }

    /// The Lambda emulator with `binary` built and polling for events.
    fn lambda(&mut self, binary: &str) -> Result<&LambdaEmulator, Error> {
        if !self.built.iter().any(|b| b == binary) {
            build_function(self.options, self.stack.release, binary)?;
            // One build makes every workspace function.
            if WORKSPACE_FUNCTIONS.contains(&binary) {
                self.built
                    .extend(WORKSPACE_FUNCTIONS.iter().map(|b| (*b).to_owned()));
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
                binaries: &self
                    .options
                    .target_dir
                    .join(profile_dir(self.stack.release)),
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
    fn binary_for(&self, properties: &Value, logical_id: &str) -> Result<String, Error> {
        let token = properties
            .get("ServiceToken")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.stack
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
        request_type: &'static str,
        state: &ResourceState,
        properties: &Value,
        old: Option<&Value>,
        physical_id: Option<&str>,
    ) -> Result<custom::Response, Error> {
        let binary = self.binary_for(properties, &state.logical_id)?;
        let event = Event {
            request_type,
            physical_id: physical_id.map(str::to_owned),
            old_properties: old.cloned(),
            ..Event::create(&state.kind, &state.logical_id, properties.clone())
                .in_stack(&self.stack.stack_id)
        };
        let s3 = self.clients.s3.clone();
        let lambda = self.lambda(&binary)?;
        custom::send(&s3, lambda, &binary, &event).await
    }

    async fn create(
        &mut self,
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
        if resource.is_custom() {
            let response = self
                .custom_request("Create", &state, &properties, None, None)
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
        let made = native::create(&self.clients, &self.stack.stack_name, resource, &properties)
            .await
            .map_err(|e| (e.to_string(), None))?;
        state.physical_id = made.physical_id;
        state.attributes = made.attributes;
        if resource.kind == "AWS::Lambda::Function" {
            let binary = resource
                .metadata
                .pointer("/BuildProperties/Binary")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    (
                        format!(
                            "{}: no Metadata.BuildProperties.Binary names its workspace binary",
                            resource.logical_id
                        ),
                        None,
                    )
                })?;
            state.attributes.insert(BINARY.to_owned(), json!(binary));
        }
        Ok(state)
    }

    /// Delete one resource as CloudFormation would (Retain: left alone).
    async fn delete(&mut self, state: &ResourceState) -> Result<&'static str, Error> {
        if state.retained {
            return Ok("DELETE_SKIPPED");
        }
        if Provider::of(&state.kind) == Provider::Custom {
            let response = self
                .custom_request(
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

    async fn delete_reported(&mut self, state: &ResourceState) -> Result<(), Error> {
        if !state.retained {
            table::event("DELETE_IN_PROGRESS", &state.kind, &state.logical_id, "");
        }
        match self.delete(state).await {
            Ok(status) => {
                let reason = if state.retained {
                    "DeletionPolicy: Retain"
                } else {
                    ""
                };
                table::event(status, &state.kind, &state.logical_id, reason);
                Ok(())
            }
            Err(err) => {
                table::event(
                    "DELETE_FAILED",
                    &state.kind,
                    &state.logical_id,
                    &err.to_string(),
                );
                Err(err)
            }
        }
    }

    /// Delete every resource of the stack, newest first (a retained one is
    /// only reported); returns the retained ones.
    async fn delete_all(&mut self) -> Result<Vec<ResourceState>, Error> {
        table::header();
        let mut retained = Vec::new();
        for step in plan::teardown(&self.stack.resources) {
            let state = match step {
                Teardown::Delete(state) => state,
                Teardown::Retain(state) => {
                    retained.push(state.clone());
                    state
                }
            };
            self.delete_reported(&state).await?;
            self.stack
                .resources
                .retain(|r| r.logical_id != state.logical_id);
            self.stack.save(&self.options.state_dir)?;
        }
        Ok(retained)
    }

    /// Undo `changes` in reverse, as CloudFormation's rollback does.
    async fn roll_back(&mut self, changes: Vec<Change>, reason: &str) {
        table::event(
            "ROLLBACK_IN_PROGRESS",
            "AWS::CloudFormation::Stack",
            &self.stack.stack_name,
            reason,
        );
        for undo in plan::rollback(&changes, &self.stack.resources) {
            match undo {
                Undo::DeleteCreated(made) => {
                    let _ = self.delete_reported(&made).await;
                    self.stack.resources.retain(|r| {
                        r.logical_id != made.logical_id || r.physical_id != made.physical_id
                    });
                }
                Undo::DeleteReplacement { new, before } => {
                    let _ = self.delete_reported(&new).await;
                    self.stack.record(before);
                }
                Undo::Restore { current, before } => {
                    table::event(
                        "UPDATE_IN_PROGRESS",
                        &before.kind,
                        &before.logical_id,
                        "rollback to the previous properties",
                    );
                    match self.restore(&current, &before).await {
                        Ok(()) => {
                            table::event("UPDATE_COMPLETE", &before.kind, &before.logical_id, "")
                        }
                        Err(err) => table::event(
                            "UPDATE_FAILED",
                            &before.kind,
                            &before.logical_id,
                            &err.to_string(),
                        ),
                    }
                    self.stack.record(before);
                }
            }
            let _ = self.stack.save(&self.options.state_dir);
        }
        table::event(
            "ROLLBACK_COMPLETE",
            "AWS::CloudFormation::Stack",
            &self.stack.stack_name,
            "",
        );
    }

    /// An update back to `before`'s properties from `current`'s.
    async fn restore(
        &mut self,
        current: &ResourceState,
        before: &ResourceState,
    ) -> Result<(), Error> {
        match Provider::of(&before.kind) {
            Provider::Custom => {
                let response = self
                    .custom_request(
                        "Update",
                        before,
                        &before.properties,
                        Some(&current.properties),
                        Some(&current.physical_id),
                    )
                    .await?;
                if response.success {
                    Ok(())
                } else {
                    Err(Error::Aws(response.reason))
                }
            }
            Provider::Native => {
                native::update(
                    &self.clients,
                    &before.kind,
                    &before.physical_id,
                    &current.properties,
                    &before.properties,
                )
                .await
            }
        }
    }
}

/// A stack about to be created, with a stack id of its own: nothing of an
/// earlier stack of the same name carries over.
fn fresh_stack(
    options: &LocalOptions,
    moto: MotoState,
    parameters: BTreeMap<String, String>,
) -> StackState {
    StackState {
        stack_name: options.stack_name.clone(),
        stack_id: new_stack_id(&options.stack_name),
        status: Some(StackStatus::CreateInProgress),
        moto,
        parameters,
        release: options.release,
        resources: Vec::new(),
        outputs: BTreeMap::new(),
    }
}

/// Deploy or update the local stack; prints the event table and outputs.
pub fn up(options: &LocalOptions, parameters: BTreeMap<String, String>) -> Result<(), Error> {
    let started = Instant::now();
    if parameters.get("OriginAccess").map(String::as_str) == Some("OAI") {
        return Err(Error::Unsupported(
            "OriginAccess=OAI: moto has no CloudFront origin access identity API, so the local stack cannot make one. \
             Use OriginAccess=OAC (the default) locally; OAI deploys to AWS."
                .into(),
        ));
    }
    std::fs::create_dir_all(&options.state_dir)
        .map_err(|e| Error::State(format!("creating {}: {e}", options.state_dir.display())))?;
    let template = transform(options)?;
    let previous = StackState::load(&options.state_dir)?;
    let python = options.toolchain.python.clone();
    let moto_alive = previous.as_ref().is_some_and(|stack| {
        let alive = stack.moto.alive();
        if alive && stack.moto.python != python {
            println!(
                "vaultfront: the running moto (pid {}) was started with {}, not the tool venv's {}; stopping it",
                stack.moto.pid,
                stack.moto.python.display(),
                python.display()
            );
            process::stop_group(stack.moto.pid);
            return false;
        }
        alive
    });
    let rt = runtime()?;
    let stack = match (state::start(previous.as_ref(), moto_alive), previous) {
        (Start::Update, Some(mut stack)) => {
            println!(
                "vaultfront: updating the local stack {} (moto on port {})",
                stack.stack_name, stack.moto.port
            );
            stack.parameters = parameters;
            stack.release = options.release;
            stack.status = Some(StackStatus::UpdateInProgress);
            stack
        }
        (Start::Recreate(status), Some(stack)) => {
            println!(
                "vaultfront: the local stack {} is {}: its first create did not complete, and CloudFormation cannot update such a stack; deleting what is left of it (retained resources stay) and creating it afresh",
                stack.stack_name,
                status.as_str()
            );
            let moto = stack.moto.clone();
            rt.block_on(async {
                let mut run = Run::new(options, stack, &template).await;
                run.delete_all().await
            })?;
            fresh_stack(options, moto, parameters)
        }
        (_, previous) => {
            if let Some(stale) = previous {
                println!(
                    "vaultfront: the moto of the last run (pid {}) is gone, and its data with it; starting a new local stack",
                    stale.moto.pid
                );
            }
            let moto = start_moto(options)?;
            println!(
                "vaultfront: moto started on {} (pid {}, log {})",
                moto.endpoint(),
                moto.pid,
                moto.log.display()
            );
            fresh_stack(options, moto, parameters)
        }
    };
    stack.save(&options.state_dir)?;
    rt.block_on(async {
        let mut run = Run::new(options, stack, &template).await;
        let result = apply(&mut run, &template).await;
        if result.is_ok() {
            print_outputs(&mut run, &template)?;
        }
        run.stack.status = Some(run.stack.status().after_run(result.is_ok()));
        run.stack.save(&options.state_dir)?;
        result
    })?;
    println!(
        "\nvaultfront: local stack up in {:.1} s (state: {})",
        started.elapsed().as_secs_f64(),
        StackState::path(&options.state_dir).display()
    );
    Ok(())
}

/// Start moto for a new stack, detached: its data lives in its memory, so
/// it outlives this run; `destroy` stops it.
fn start_moto(options: &LocalOptions) -> Result<MotoState, Error> {
    let python = options.toolchain.python.clone();
    let moto = Moto::start(&python, &options.root, &options.state_dir.join("moto.log"))?;
    let (port, log) = (moto.port, moto.service.log.clone());
    Ok(MotoState {
        pid: moto.service.detach(),
        port,
        log,
        python,
    })
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

async fn apply(run: &mut Run<'_>, template: &Template) -> Result<(), Error> {
    let ctx = context(template, &run.stack);
    let mut exists = HashMap::new();
    for resource in template.resources.values() {
        let present = match &resource.condition {
            Some(condition) => ctx.condition(condition)?,
            None => true,
        };
        exists.insert(resource.logical_id.clone(), present);
    }
    let order =
        template.creation_order(&|r| exists.get(&r.logical_id).copied().unwrap_or(false))?;
    table::header();
    let mut changes: Vec<Change> = Vec::new();
    for resource in order {
        let ctx = context(template, &run.stack);
        let properties = match ctx.resolve(&resource.properties) {
            Ok(p) => p.unwrap_or(Value::Null),
            Err(err) => {
                table::event(
                    "CREATE_FAILED",
                    &resource.kind,
                    &resource.logical_id,
                    &err.to_string(),
                );
                run.roll_back(changes, &err.to_string()).await;
                return Err(Error::RolledBack {
                    logical_id: resource.logical_id.clone(),
                    reason: err.to_string(),
                });
            }
        };
        let existing = run.stack.resource(&resource.logical_id).cloned();
        let outcome = match (plan::action(existing.as_ref(), &properties), existing) {
            (Action::Keep, _) => Ok(()),
            (Action::Create, _) | (_, None) => {
                table::event(
                    "CREATE_IN_PROGRESS",
                    &resource.kind,
                    &resource.logical_id,
                    "",
                );
                match run.create(resource, properties).await {
                    Ok(state) => {
                        table::event("CREATE_COMPLETE", &resource.kind, &resource.logical_id, "");
                        run.stack.resources.push(state.clone());
                        changes.push(Change::Created(state));
                        Ok(())
                    }
                    Err((reason, made)) => {
                        table::event(
                            "CREATE_FAILED",
                            &resource.kind,
                            &resource.logical_id,
                            &reason,
                        );
                        if let Some(made) = made {
                            changes.push(Change::Created(made));
                        }
                        Err(reason)
                    }
                }
            }
            (Action::Update, Some(before)) => {
                table::event(
                    "UPDATE_IN_PROGRESS",
                    &resource.kind,
                    &resource.logical_id,
                    "",
                );
                match update(run, resource, &before, properties).await {
                    Ok(after) => {
                        let replacement = after.physical_id != before.physical_id;
                        let note = if replacement {
                            format!("replaced: new physical id {}", after.physical_id)
                        } else {
                            String::new()
                        };
                        table::event(
                            "UPDATE_COMPLETE",
                            &resource.kind,
                            &resource.logical_id,
                            &note,
                        );
                        run.stack.record(after);
                        changes.push(Change::Updated { before });
                        Ok(())
                    }
                    Err(reason) => {
                        table::event(
                            "UPDATE_FAILED",
                            &resource.kind,
                            &resource.logical_id,
                            &reason,
                        );
                        Err(reason)
                    }
                }
            }
        };
        run.stack.save(&run.options.state_dir)?;
        if let Err(reason) = outcome {
            // The replaced resources were never deleted: rolling back the
            // update points the stack at them again.
            run.roll_back(changes, &format!("{} failed", resource.logical_id))
                .await;
            return Err(Error::RolledBack {
                logical_id: resource.logical_id.clone(),
                reason,
            });
        }
    }
    // As CloudFormation's UPDATE_COMPLETE_CLEANUP_IN_PROGRESS; the old
    // resource of a replacement is only housekeeping by now.
    let cleanup = plan::cleanup(&changes, &run.stack.resources, |id| {
        exists.get(id).copied().unwrap_or(false)
    });
    for old in cleanup.replaced {
        let _ = run.delete_reported(&old).await;
    }
    for state in cleanup.removed {
        run.delete_reported(&state).await?;
        run.stack
            .resources
            .retain(|r| r.logical_id != state.logical_id);
        run.stack.save(&run.options.state_dir)?;
    }
    Ok(())
}

/// An update: custom resources get an Update event with
/// OldResourceProperties; native ones are changed in place where that is
/// what CloudFormation does, and refused otherwise.
async fn update(
    run: &mut Run<'_>,
    resource: &Resource,
    before: &ResourceState,
    properties: Value,
) -> Result<ResourceState, String> {
    let mut after = before.clone();
    after.properties = properties.clone();
    after.retained = resource.retained();
    if Provider::of(&resource.kind) == Provider::Custom {
        let response = run
            .custom_request(
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
        &run.clients,
        &resource.kind,
        &before.physical_id,
        &before.properties,
        &properties,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(after)
}

fn print_outputs(run: &mut Run<'_>, template: &Template) -> Result<(), Error> {
    let ctx = context(template, &run.stack);
    let mut outputs = BTreeMap::new();
    for (name, output) in &template.outputs {
        if let Some(condition) = output.get("Condition").and_then(Value::as_str) {
            if !ctx.condition(condition)? {
                continue;
            }
        }
        let value = output
            .get("Value")
            .map(|v| ctx.resolve(v))
            .transpose()?
            .flatten();
        outputs.insert(
            name.clone(),
            value.map(|v| scalar_text(&v)).unwrap_or_default(),
        );
    }
    println!(
        "\nOutputs (local stack {}, moto at {}):",
        run.stack.stack_name,
        run.stack.moto.endpoint()
    );
    for (key, value) in &outputs {
        println!("  {key:<22} {value}");
    }
    run.stack.outputs = outputs;
    Ok(())
}

/// Delete the local stack in reverse creation order, then stop moto.
pub fn destroy(options: &LocalOptions, keep_emulator: bool) -> Result<(), Error> {
    let started = Instant::now();
    let Some(stack) = StackState::load(&options.state_dir)? else {
        println!(
            "vaultfront: no local stack in {} (nothing to destroy)",
            options.state_dir.display()
        );
        return Ok(());
    };
    if !stack.moto.alive() {
        println!("vaultfront: moto (pid {}) is not running; its in-memory data is gone with it. Removing the state file.", stack.moto.pid);
        StackState::remove(&options.state_dir)?;
        return Ok(());
    }
    let template = Template::empty();
    let rt = runtime()?;
    let result = rt.block_on(async {
        let mut run = Run::new(options, stack, &template).await;
        let retained = run.delete_all().await?;
        // The engine's response bucket is not the stack's: it goes too.
        let s3 = &run.clients.s3;
        if let Ok(listing) = s3.list_objects_v2().bucket(RESPONSE_BUCKET).send().await {
            for object in listing.contents() {
                let _ = s3
                    .delete_object()
                    .bucket(RESPONSE_BUCKET)
                    .set_key(object.key().map(str::to_owned))
                    .send()
                    .await;
            }
            let _ = s3.delete_bucket().bucket(RESPONSE_BUCKET).send().await;
        }
        Ok::<(StackState, Vec<ResourceState>), Error>((run.stack.clone(), retained))
    });
    let (stack, retained) = result?;
    if !retained.is_empty() {
        println!("\nRetained on purpose (DeletionPolicy: Retain), as on AWS:");
        for state in &retained {
            println!(
                "  {:<22} {:<24} {}",
                state.logical_id, state.kind, state.physical_id
            );
        }
    }
    if keep_emulator {
        println!(
            "vaultfront: moto left running on {} (pid {}) as asked; stop it with: kill -- -{}",
            stack.moto.endpoint(),
            stack.moto.pid,
            stack.moto.pid
        );
        StackState::remove(&options.state_dir)?;
        return Ok(());
    }
    println!(
        "vaultfront: stopping moto (pid {}); the retained resources go with its in-memory data",
        stack.moto.pid
    );
    process::stop_group(stack.moto.pid);
    StackState::remove(&options.state_dir)?;
    println!(
        "vaultfront: local stack destroyed and moto stopped in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Used by verify: the state of the local stack in `dir`.
pub fn load(dir: &Path) -> Result<StackState, Error> {
    StackState::load(dir)?.ok_or_else(|| {
        Error::State(format!(
            "no local stack in {}; run scripts/deploy --local first",
            dir.display()
        ))
    })
}
