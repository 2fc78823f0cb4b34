//! `vaultfront verify`: audit a deployed stack, local (`--local`, read from
//! the local state) or on AWS (from the stack's outputs), and print each
//! guarantee PASS or FAIL with its evidence; non-zero exit on any FAIL.
//!
//! A guarantee the target cannot show is N/A with the reason, never a
//! PASS: moto drops a distribution's OAC/OAI fields and does not
//! authenticate requests, so those parts are not provable locally.
//!
//! On AWS the expected retention is what the stack reported when it set it
//! (its `EffectiveObjectLock` output), so a deploy with `--parameter`
//! overrides is judged by what it deployed, not by samconfig.toml.

mod access_log;
mod cdn_path;
mod checks;
mod data_path;
mod key_groups;
mod policy;

use serde_json::{json, Value};

use crate::cli::VerifyArgs;
use crate::deploy;
use crate::error::Error;
use crate::local::{self, Clients};
use crate::outputs;
use crate::project::{self, Project};
use crate::tools::{Part, Tools};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// The target cannot show it (an emulator gap); not a pass.
    NotApplicable,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotApplicable => "N/A",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Guarantee {
    pub name: &'static str,
    pub status: Status,
    pub evidence: String,
}

/// What is audited and what it is expected to be.
#[derive(Debug, Clone)]
pub struct Facts {
    pub local: bool,
    pub stack: String,
    pub bucket: String,
    pub distribution_id: String,
    pub rest_api_id: String,
    pub stage: String,
    pub origin_access: String,
    /// Where the API stage must log every request (a Firehose stream ARN).
    pub access_log_destination: String,
    pub log_bucket: String,
    pub retention_mode: String,
    pub retention_days: i64,
    pub retention_years: i64,
    /// Write a probe object and try to delete its version.
    pub probe: bool,
    /// CdnAccess: signed or public.
    pub cdn_access: String,
    /// The stack's CloudFront public keys (CdnKeyPairId, CdnKeyPairId2)
    /// when signed.
    pub key_pair_ids: Vec<String>,
    /// CdnUrl, and the private key of a key the stack trusts when this
    /// machine holds one (with its key pair id): the CDN data path's GETs.
    pub cdn_url: String,
    pub signing_key: Option<(std::path::PathBuf, String)>,
}

pub fn verify(project: &Project, args: &VerifyArgs) -> Result<(), Error> {
    let parameters = deploy::parameters(project, &[])?;
    let number = |name: &str, value: &str| {
        value.parse::<i64>().unwrap_or_else(|_| {
            eprintln!("vaultfront: parameter {name}={value} is not a number; expecting 0");
            0
        })
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Local(local::LocalError::Process(e.to_string())))?;
    let (facts, clients) = if args.local.enabled {
        let options = crate::local_stack::options(project, &args.local, None, false)?;
        let state = local::load(&options.state_dir)?;
        let id = |logical: &str| {
            state
                .resource(logical)
                .map(|r| r.physical_id.clone())
                .unwrap_or_default()
        };
        let param = |name: &str| state.parameters.get(name).cloned().unwrap_or_default();
        let facts = Facts {
            local: true,
            stack: state.stack_name.clone(),
            bucket: id("DataBucket"),
            distribution_id: id("Distribution"),
            rest_api_id: id("RestApi"),
            stage: param("ApiStageName"),
            origin_access: param("OriginAccess"),
            access_log_destination: state
                .resource("ApiAccessLogStream")
                .and_then(|r| r.attributes.get("Arn"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            log_bucket: id("LogBucket"),
            retention_mode: param("RetentionMode"),
            retention_days: number("RetentionDays", &param("RetentionDays")),
            retention_years: number("RetentionYears", &param("RetentionYears")),
            probe: false,
            cdn_access: param("CdnAccess"),
            key_pair_ids: crate::cdn_key::SLOT_OUTPUTS
                .iter()
                .filter_map(|name| state.outputs.get(*name).cloned())
                .filter(|id| !id.is_empty())
                .collect(),
            cdn_url: state.outputs.get("CdnUrl").cloned().unwrap_or_default(),
            signing_key: None,
        };
        let clients = rt.block_on(Clients::for_endpoint(&state.moto.endpoint()));
        (facts, clients)
    } else {
        let stack = project.stack_name(&args.target)?;
        let (_, region) = project.account(&args.target)?;
        let tools = Tools::from_env(&project.env);
        tools.ensure(&project.root, Part::Deploy, &["sam"])?;
        let list = outputs::list_command(
            &tools,
            &stack,
            &project::account_args(&args.target, &region),
        );
        let output = project::capture(list, &project.root)?;
        let stack_outputs =
            outputs::parse(&String::from_utf8_lossy(&output.stdout)).map_err(Error::Outputs)?;
        let value = |key: &str| {
            outputs::value(&stack_outputs, key)
                .unwrap_or_default()
                .to_owned()
        };
        // https://<api id>.execute-api.<region>.amazonaws.com/<stage>
        let invoke = value("ApiInvokeUrl");
        let host = invoke.trim_start_matches("https://");
        let (retention_mode, retention_days, retention_years) =
            effective_lock(&value("EffectiveObjectLock")).unwrap_or_else(|| {
                (
                    parameters.get("RetentionMode").to_owned(),
                    number("RetentionDays", parameters.get("RetentionDays")),
                    number("RetentionYears", parameters.get("RetentionYears")),
                )
            });
        let facts = Facts {
            local: false,
            stack: stack.clone(),
            bucket: value("DataBucketName"),
            distribution_id: value("DistributionId"),
            rest_api_id: host.split('.').next().unwrap_or_default().to_owned(),
            stage: host.split('/').nth(1).unwrap_or_default().to_owned(),
            origin_access: value("OriginAccessMode"),
            access_log_destination: value("ApiAccessLogDestination"),
            log_bucket: value("LogBucketName"),
            retention_mode,
            retention_days,
            retention_years,
            probe: args.probe,
            cdn_access: value("CdnAccessMode"),
            key_pair_ids: crate::cdn_key::SLOT_OUTPUTS
                .iter()
                .map(|name| value(name))
                .filter(|id| !id.is_empty())
                .collect(),
            cdn_url: value("CdnUrl"),
            signing_key: crate::cdn_key::aws_key_dir(&project.env, &region.name, &stack)
                .ok()
                .and_then(|dir| {
                    crate::cdn_key::newest_trusted(&dir, &crate::cdn_key::SLOT_OUTPUTS.map(value))
                }),
        };
        let clients = rt.block_on(Clients::from_environment(
            Some(region.name.clone()),
            args.target.profile.clone(),
        ));
        (facts, clients)
    };
    let guarantees = rt.block_on(checks::run(&clients, &facts));
    let failed = guarantees
        .iter()
        .filter(|g| g.status == Status::Fail)
        .count();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&facts, &guarantees)).unwrap_or_default()
        );
    } else {
        print_table(&facts, &guarantees);
    }
    if failed > 0 {
        return Err(Error::VerifyFailed(failed));
    }
    Ok(())
}

/// `GOVERNANCE for 30 days`, `COMPLIANCE for 1 year`: the stack's
/// `EffectiveObjectLock` output, as mode, days and years.
fn effective_lock(output: &str) -> Option<(String, i64, i64)> {
    let (mode, period) = output.split_once(" for ")?;
    let (count, unit) = period.split_once(' ')?;
    let count: i64 = count.parse().ok()?;
    match unit {
        "day" | "days" => Some((mode.to_owned(), count, 0)),
        "year" | "years" => Some((mode.to_owned(), 0, count)),
        _ => None,
    }
}

fn to_json(facts: &Facts, guarantees: &[Guarantee]) -> Value {
    json!({
        "stack": facts.stack,
        "target": if facts.local { "local" } else { "aws" },
        "passed": guarantees.iter().all(|g| g.status != Status::Fail),
        "guarantees": guarantees.iter().map(|g| json!({
            "guarantee": g.name,
            "status": g.status.word(),
            "evidence": g.evidence,
        })).collect::<Vec<_>>(),
    })
}

fn print_table(facts: &Facts, guarantees: &[Guarantee]) {
    let target = if facts.local { "local (moto)" } else { "AWS" };
    println!(
        "vaultfront verify: stack {} on {target}, bucket {}\n",
        facts.stack, facts.bucket
    );
    let width = guarantees.iter().map(|g| g.name.len()).max().unwrap_or(10);
    println!("{:<width$}  STATUS  EVIDENCE", "GUARANTEE");
    for g in guarantees {
        println!("{:<width$}  {:<6}  {}", g.name, g.status.word(), g.evidence);
    }
    let failed = guarantees
        .iter()
        .filter(|g| g.status == Status::Fail)
        .count();
    println!(
        "\n{} PASS, {failed} FAIL, {} N/A",
        guarantees
            .iter()
            .filter(|g| g.status == Status::Pass)
            .count(),
        guarantees
            .iter()
            .filter(|g| g.status == Status::NotApplicable)
            .count()
    );
}

#[cfg(test)]
mod tests {
    use super::effective_lock;

    #[test]
    fn reads_the_effective_object_lock_output() {
        assert_eq!(
            effective_lock("GOVERNANCE for 30 days"),
            Some(("GOVERNANCE".into(), 30, 0))
        );
        assert_eq!(
            effective_lock("COMPLIANCE for 1 year"),
            Some(("COMPLIANCE".into(), 0, 1))
        );
        assert_eq!(effective_lock(""), None);
        assert_eq!(effective_lock("GOVERNANCE for many weeks"), None);
    }
}
