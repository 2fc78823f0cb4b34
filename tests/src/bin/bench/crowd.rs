//! Eight writers granting on one bucket at once, as when several stacks (or
//! an OAI-to-OAC migration) share a data bucket: a fresh bucket holding a
//! foreign statement, eight function processes started and waiting (eight
//! Lambda environments), then eight Creates of different resources on that
//! bucket handed over together. Once every invocation has ended, the bench
//! reads the policy and counts the writers whose statements it still holds.

use crate::function::{Instance, Program};
use crate::scenario::Resource;
use crate::stats::summarise;
use std::time::Instant;
use tokio::task::JoinSet;
use vaultfront_tests::{CfnEvent, Moto};

pub const WRITERS: usize = 8;

/// Every run of the series.
#[derive(Debug, Default)]
pub struct Crowd {
    /// Per run: the writers whose every Sid (their response's `Data.Sids`)
    /// the policy holds at the end.
    pub kept: Vec<usize>,
    /// Every writer's event-to-answer time.
    pub answer_ms: Vec<f64>,
    /// Per run: the events handed over until the last invocation ended.
    pub all_done_ms: Vec<f64>,
}

/// One run.
pub struct Round {
    kept: usize,
    answer_ms: Vec<f64>,
    all_done_ms: f64,
}

impl Crowd {
    pub fn push(&mut self, round: Round) {
        self.kept.push(round.kept);
        self.answer_ms.extend(round.answer_ms);
        self.all_done_ms.push(round.all_done_ms);
    }

    /// `kept / writers` in the worst run, and in how many runs a grant was lost.
    pub fn kept_text(&self) -> String {
        match self.kept.iter().min() {
            None => "-".to_owned(),
            Some(worst) => {
                let lossy = self.kept.iter().filter(|k| **k < WRITERS).count();
                let median = summarise(&self.kept.iter().map(|k| *k as f64).collect::<Vec<_>>())
                    .map_or(0.0, |s| s.median);
                format!(
                    "{worst}/{WRITERS} worst, {median}/{WRITERS} median; grants lost in {lossy} of {} runs",
                    self.kept.len()
                )
            }
        }
    }

    pub fn all_kept(&self) -> bool {
        !self.kept.is_empty() && self.kept.iter().all(|k| *k == WRITERS)
    }
}

pub async fn run(moto: &Moto, program: &Program, run_id: usize) -> Result<Round, String> {
    let resource = Resource::BucketPolicy;
    let target = resource.prepare(moto, run_id).await?;
    let mut instances = Vec::with_capacity(WRITERS);
    for _ in 0..WRITERS {
        instances.push(Instance::start(program).await?);
    }
    let started = Instant::now();
    let mut writers = JoinSet::new();
    for (i, mut instance) in instances.into_iter().enumerate() {
        let event = CfnEvent::create(
            resource.resource_type(),
            &format!("Origin{i}"),
            target.properties.clone(),
        );
        writers.spawn(async move {
            let result = crate::invoke(&mut instance, &event).await;
            drop(instance);
            let (invoked, answer) = result?;
            let response = crate::success(&event, &answer.body)?;
            let sids: Vec<String> = response["Data"]["Sids"]
                .as_str()
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let answer_ms = crate::ms(answer.at.saturating_duration_since(invoked.delivered));
            Ok::<_, String>((sids, answer_ms))
        });
    }
    let mut answered = Vec::with_capacity(WRITERS);
    while let Some(joined) = writers.join_next().await {
        answered.push(joined.map_err(|err| format!("a writer's task failed: {err}"))??);
    }
    let all_done_ms = crate::ms(started.elapsed());
    let policy = moto
        .s3()
        .get_bucket_policy()
        .bucket(&target.name)
        .send()
        .await
        .map_err(|err| format!("read the policy of {}: {err:?}", target.name))?
        .policy
        .unwrap_or_default();
    let kept = answered
        .iter()
        .filter(|(sids, _)| {
            !sids.is_empty()
                && sids
                    .iter()
                    .all(|sid| policy.contains(&format!("\"{sid}\"")))
        })
        .count();
    Ok(Round {
        kept,
        answer_ms: answered.into_iter().map(|(_, ms)| ms).collect(),
        all_done_ms,
    })
}
