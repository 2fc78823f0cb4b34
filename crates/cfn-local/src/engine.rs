//! Up (create, update, roll back) and destroy of the local stack.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use crate::clients::{ACCOUNT, REGION};
use crate::custom::RESPONSE_BUCKET;
use crate::intrinsics::{scalar_text, Context};
use crate::moto::Moto;
use crate::plan::{self, Action, Change, Teardown, Undo};
use crate::process;
use crate::provision::Provisioner;
use crate::state::{self, MotoState, ResourceState, StackState, StackStatus, Start};
use crate::table;
use crate::template::Template;
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

/// A run of the engine: the stack it changes, and who carries the steps out.
struct Run<'a> {
    options: &'a LocalOptions,
    provisioner: Provisioner<'a>,
    stack: StackState,
}

impl<'a> Run<'a> {
    async fn new(options: &'a LocalOptions, stack: StackState, template: &Template) -> Run<'a> {
        Run {
            options,
            provisioner: Provisioner::new(options, &stack, template).await,
            stack,
        }
    }

    async fn delete_reported(&mut self, state: &ResourceState) -> Result<(), Error> {
        if !state.retained {
            table::event("DELETE_IN_PROGRESS", &state.kind, &state.logical_id, "");
        }
        match self.provisioner.delete(&self.stack, state).await {
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
                    let restored = self
                        .provisioner
                        .update(&self.stack, &current, before.properties.clone())
                        .await;
                    match restored {
                        Ok(_) => {
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

/// What the local stack cannot be, refused before anything is installed or
/// started.
pub fn refuse_unsupported(parameters: &BTreeMap<String, String>) -> Result<(), Error> {
    if parameters.get("OriginAccess").map(String::as_str) == Some("OAI") {
        return Err(Error::Unsupported(
            "OriginAccess=OAI: moto has no CloudFront origin access identity API, so the local stack cannot make one. \
             Use OriginAccess=OAC (the default) locally; OAI deploys to AWS."
                .into(),
        ));
    }
    Ok(())
}

/// Deploy or update the local stack; prints the event table and outputs.
pub fn up(options: &LocalOptions, parameters: BTreeMap<String, String>) -> Result<(), Error> {
    let started = Instant::now();
    refuse_unsupported(&parameters)?;
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
                match run
                    .provisioner
                    .create(&run.stack, resource, properties)
                    .await
                {
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
                let updated = run
                    .provisioner
                    .update(&run.stack, &before, properties)
                    .await
                    .map(|after| ResourceState {
                        retained: resource.retained(),
                        ..after
                    });
                match updated {
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
        let s3 = &run.provisioner.clients.s3;
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
