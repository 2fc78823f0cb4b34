//! `Custom::OriginBucketPolicy`'s lifecycle: validate, then converge the
//! bucket's policy on what this resource wants, with a read-modify-write loop
//! that survives other writers.
//!
//! S3 has no conditional write for bucket policies, so two writers that read
//! the same policy each PUT a document without the other's statements, and
//! the later one wins. Each writer therefore keeps reading after its write
//! and merges again whenever its own statements are missing, until the
//! policy, holding them, has read back unchanged across a settle period
//! longer than any other writer's read-to-write gap: a writer whose read
//! predates that span would have written inside it. Every writer does the
//! same, so the policy ends up holding all of them. (Reads of bucket
//! configuration may also lag a write for a moment; the same loop absorbs
//! that.)
//!
//! The loop has two halves. The first ends at the first read that shows the
//! policy as wanted: CloudFormation is answered then. The second, the settle
//! period, runs after the answer as the runner's guard, inside the same
//! invocation. Once answered, CloudFormation may send this resource's next
//! event (a rollback's Delete, say) to another instance at once; a change to
//! this resource's statements alone, everything else as it was, is that
//! event's write, and the guard leaves it alone instead of undoing it.

use crate::aws::{BucketRef, PolicyStore, S3Error};
use crate::naming::{self, Owner};
use crate::plan::{self, Grant, Intent, PlanError, Review, Write};
use crate::properties::{InvalidProperty, Mode, Properties, Settings};
use custom_resource::backoff::jittered;
use custom_resource::{
    Deletion, Guard, Guarded, HandlerError, Request, Resource, StackArn, Success,
};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tracing::{info, warn};

/// How the converge loop paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// How long the policy, holding this resource's statements, must read
    /// back unchanged after its last write before it trusts that no other
    /// writer holds an older read that it is about to write back.
    pub settle: Duration,
    /// The longest pause between two reads (each pause is random below it,
    /// so writers that collided do not collide again in step).
    pub poll: Duration,
    /// Writes after which the loop gives up.
    pub max_writes: u32,
    /// How long reads that lack a statement the resource was told to expect
    /// (`ExpectedSids`) are taken for stale reads and read again.
    pub expected_wait: Duration,
    /// How long S3's refusal of an origin access identity as a principal is
    /// retried (a new identity is not valid for some seconds). The first
    /// pause is one `poll`; each next one doubles, up to eight.
    pub principal_wait: Duration,
}

impl Pacing {
    pub const DEFAULT: Pacing = Pacing {
        settle: Duration::from_secs(2),
        poll: Duration::from_millis(600),
        max_writes: 10,
        expected_wait: Duration::from_secs(30),
        principal_wait: Duration::from_secs(30),
    };
}

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Property(#[from] InvalidProperty),
    #[error("StackId `{0}` is not a CloudFormation stack ARN; the partition and account of the ARNs in the policy come from it")]
    StackId(String),
    #[error("bucket `{bucket}`: {source}. Nothing was changed")]
    Plan {
        bucket: String,
        #[source]
        source: PlanError,
    },
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error(
        "the policy of bucket `{bucket}` still lacks {} after {seconds:.1} s of reads; ExpectedSids \
         says another writer (the template's native AWS::S3::BucketPolicy) put them there first, and \
         this resource never writes a policy without them. Make this resource DependsOn that \
         policy, or remove those Sids from ExpectedSids",
        .sids.join(", ")
    )]
    ExpectedMissing {
        bucket: String,
        sids: Vec<String>,
        seconds: f32,
    },
    #[error(
        "S3 still refused the origin access identity as a principal after {seconds:.1} s and \
         {attempts} attempts; a new identity becomes valid within seconds, so check that \
         OriginAccessIdentityId names an identity of this account"
    )]
    PrincipalNotValid {
        seconds: f32,
        attempts: u32,
        #[source]
        source: S3Error,
    },
    #[error(
        "the policy of bucket `{bucket}` did not settle after {writes} writes in {seconds:.1} s: another \
         writer keeps replacing it without this resource's statements. Find what else writes the \
         bucket policy (a native AWS::S3::BucketPolicy replaces it whole) and remove it"
    )]
    NotSettling {
        bucket: String,
        writes: u32,
        seconds: f32,
    },
}

/// How the settle period ended.
#[derive(Debug)]
pub enum Settled {
    /// The policy, as wanted, read back unchanged for the settle period.
    Held { writes: u32 },
    /// This resource's statements alone changed, the rest as it was: its own
    /// next event took over.
    Superseded { writes: u32 },
    /// The bucket is gone (a Delete only).
    BucketGone,
}

/// One converge loop over one bucket: what it has written and what it has seen.
struct Convergence<S> {
    store: Arc<S>,
    pacing: Pacing,
    bucket: BucketRef,
    intent: Intent,
    /// Foreign statements the policy must hold; a read without them is stale.
    expected_sids: Vec<String>,
    /// The physical id to claim before the first write (a grant's).
    writes_as: Option<String>,
    started: Instant,
    writes: u32,
    /// The text last read, and when the first read of that same text was
    /// sent. A change in between, even one that keeps this resource's
    /// statements, means another writer is active, and one of its older
    /// reads may still be on its way back: the span restarts. A read's
    /// snapshot is no older than its request, so a span starts there.
    unchanged_since: Option<(Option<String>, Instant)>,
    /// The last policy known to be as wanted: read so, or written.
    wanted: Option<Option<String>>,
}

impl<S: PolicyStore> Convergence<S> {
    fn new(
        store: Arc<S>,
        pacing: Pacing,
        bucket: BucketRef,
        intent: Intent,
        expected_sids: Vec<String>,
        writes_as: Option<String>,
    ) -> Self {
        Convergence {
            store,
            pacing,
            bucket,
            intent,
            expected_sids,
            writes_as,
            started: Instant::now(),
            writes: 0,
            unchanged_since: None,
            wanted: None,
        }
    }

    /// Read and review the policy; the text, its review, and whether it has
    /// read back unchanged for the settle period.
    async fn read(&mut self) -> Result<(Option<String>, Review, bool), Failure> {
        let (read_sent, observed) = self.read_current().await?;
        let review =
            plan::review(observed.as_deref(), &self.intent).map_err(|source| Failure::Plan {
                bucket: self.bucket.name.clone(),
                source,
            })?;
        let since = match &self.unchanged_since {
            Some((text, since)) if *text == observed => *since,
            _ => read_sent,
        };
        self.unchanged_since = Some((observed.clone(), since));
        if review.write.is_none() {
            self.wanted = Some(observed.clone());
        }
        Ok((observed, review, read_sent - since >= self.pacing.settle))
    }

    /// Read the policy until the read holds every expected statement: S3's
    /// bucket configuration is eventually consistent, and a read older than
    /// the native policy's write would make the merge drop its statements.
    /// The read, and when it was sent.
    async fn read_current(&mut self) -> Result<(Instant, Option<String>), Failure> {
        let first_sent = Instant::now();
        loop {
            let read_sent = Instant::now();
            let observed = self.store.get(&self.bucket).await?;
            let missing = plan::missing_sids(observed.as_deref(), &self.expected_sids);
            if missing.is_empty() {
                return Ok((read_sent, observed));
            }
            let waited = first_sent.elapsed();
            if waited >= self.pacing.expected_wait {
                if let Intent::Revoke(_) = self.intent {
                    // Removing only this resource's statements drops nothing
                    // that is not there; a Delete must not fail over it.
                    warn!(bucket = %self.bucket.name, ?missing, "the policy still lacks expected statements; removing this resource's statements from it as it is");
                    return Ok((read_sent, observed));
                }
                return Err(Failure::ExpectedMissing {
                    bucket: self.bucket.name.clone(),
                    sids: missing,
                    seconds: waited.as_secs_f32(),
                });
            }
            info!(bucket = %self.bucket.name, ?missing, "the read lacks expected statements (a stale read); reading again");
            tokio::time::sleep(jittered(self.pacing.poll)).await;
        }
    }

    /// PUT the policy. A policy naming an origin access identity that
    /// CloudFront has just created is refused as `MalformedPolicy: Invalid
    /// principal in policy` until the identity becomes valid, seconds
    /// later. The SDK never retries a 400, so this retries that one error,
    /// when granting an identity, with backoff; any other error is final.
    async fn put(&self, text: &str) -> Result<(), Failure> {
        let waits_for_principal = matches!(
            &self.intent,
            Intent::Grant(grant) if grant.settings.identity.mode() == Mode::Oai
        );
        let started = Instant::now();
        let mut pause = self.pacing.poll;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.store.put(&self.bucket, text).await {
                Err(err) if waits_for_principal && err.is_invalid_principal() => {
                    if started.elapsed() >= self.pacing.principal_wait {
                        return Err(Failure::PrincipalNotValid {
                            seconds: started.elapsed().as_secs_f32(),
                            attempts,
                            source: err,
                        });
                    }
                    warn!(bucket = %self.bucket.name, attempts, "S3 does not accept the origin access identity as a principal yet (a new one takes seconds); trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(self.pacing.poll * 8);
                }
                other => return other.map_err(Failure::from),
            }
        }
    }

    async fn write(&mut self, review: &Review, write: &Write) -> Result<(), Failure> {
        if self.writes >= self.pacing.max_writes {
            return Err(Failure::NotSettling {
                bucket: self.bucket.name.clone(),
                writes: self.writes,
                seconds: self.started.elapsed().as_secs_f32(),
            });
        }
        if let Some(physical_id) = &self.writes_as {
            custom_resource::claim::claim(physical_id.as_str());
        }
        if self.writes > 0 {
            warn!(bucket = %self.bucket.name, own_found = review.own_found, "the policy changed after this resource wrote it (another writer); merging again");
        }
        match write {
            Write::Put(text) => {
                info!(bucket = %self.bucket.name, foreign_statements = review.foreign, own_found = review.own_found, sids = ?review.sids, bytes = text.len(), "writing the merged bucket policy");
                self.put(text).await?;
                self.wanted = Some(Some(text.clone()));
            }
            Write::Delete => {
                info!(bucket = %self.bucket.name, "only this resource's statements were left: deleting the bucket policy");
                self.store.delete(&self.bucket).await?;
                self.wanted = Some(None);
            }
        }
        self.writes += 1;
        self.unchanged_since = None;
        Ok(())
    }

    /// Read, review, write, until a read shows the policy as the intent
    /// wants it: when CloudFormation can be answered. Each write is read back
    /// at once; a loss to another writer is merged again after a random pause
    /// and a fresh read, so that writers that collided do not collide again in step.
    async fn in_place(&mut self) -> Result<Review, Failure> {
        let mut paused = false;
        loop {
            let (_, review, _) = self.read().await?;
            match &review.write {
                None => return Ok(review),
                Some(_) if self.writes > 0 && !paused => {
                    tokio::time::sleep(jittered(self.pacing.poll)).await;
                    paused = true;
                }
                Some(write) => {
                    self.write(&review, write).await?;
                    paused = false;
                }
            }
        }
    }

    /// After the answer: keep reading until the policy, as wanted, has read
    /// back unchanged for the settle period since this resource's last
    /// write, merging again whenever another writer's write from an older
    /// read dropped its statements.
    async fn settle(mut self) -> Result<Settled, Failure> {
        // A text that changed only this resource's statements, seen once:
        // seen twice it is the resource's next event, not a passing lagged read.
        let mut own_change_seen: Option<Option<String>> = None;
        loop {
            tokio::time::sleep(jittered(self.pacing.poll)).await;
            let wanted = self.wanted.clone();
            let (observed, review, settled) = self.read().await?;
            let Some(write) = &review.write else {
                own_change_seen = None;
                if settled {
                    return Ok(Settled::Held {
                        writes: self.writes,
                    });
                }
                continue;
            };
            if let (Intent::Grant(grant), Some(wanted)) = (&self.intent, &wanted) {
                if plan::only_owner_differs(wanted.as_deref(), observed.as_deref(), &grant.owner) {
                    if own_change_seen.as_ref() == Some(&observed) {
                        return Ok(Settled::Superseded {
                            writes: self.writes,
                        });
                    }
                    own_change_seen = Some(observed);
                    continue;
                }
            }
            own_change_seen = None;
            self.write(&review, write).await?;
        }
    }

    /// [`Convergence::settle`], as the runner's guard.
    fn guard(self) -> Guard {
        let what = format!(
            "the policy of bucket `{}` {}",
            self.bucket.name,
            match self.intent {
                Intent::Grant(_) => "keeps this resource's statements",
                Intent::Revoke(_) => "stays without this resource's statements",
            }
        );
        let expected = self.pacing.settle + self.pacing.poll;
        let answered = Instant::now();
        Guard::new(what, expected, async move {
            let bucket = self.bucket.name.clone();
            let before = self.writes;
            let outcome = match self.settle().await {
                Err(Failure::S3(err)) if err.is_no_such_bucket() => Ok(Settled::BucketGone),
                other => other,
            }?;
            let seconds = answered.elapsed().as_secs_f32();
            Ok(match outcome {
                Settled::Held { writes } => {
                    info!(bucket = %bucket, writes_after_answer = writes - before, "the bucket policy settled");
                    format!(
                        "held for the settle period; {} write(s) after the answer, {seconds:.1} s",
                        writes - before
                    )
                }
                Settled::Superseded { writes } => format!(
                    "this resource's statements were changed with everything else as it was: its next \
                     event took over; {} write(s) after the answer, {seconds:.1} s",
                    writes - before
                ),
                Settled::BucketGone => "the bucket is gone, and its policy with it".to_owned(),
            })
        })
    }
}

pub struct OriginBucketPolicy<S> {
    store: Arc<S>,
    pacing: Pacing,
}

impl<S: PolicyStore> OriginBucketPolicy<S> {
    pub fn new(store: S, pacing: Pacing) -> Self {
        OriginBucketPolicy {
            store: Arc::new(store),
            pacing,
        }
    }

    /// Bring the policy to what `intent` wants; the review that found it so,
    /// and the settle period still to guard when this call wrote (none when
    /// it did not: nothing of its own to lose).
    async fn converge(
        &self,
        bucket: &BucketRef,
        intent: Intent,
        expected_sids: Vec<String>,
        writes_as: Option<String>,
    ) -> Result<(Review, Option<Convergence<S>>), Failure> {
        let mut convergence = Convergence::new(
            Arc::clone(&self.store),
            self.pacing,
            bucket.clone(),
            intent,
            expected_sids,
            writes_as,
        );
        let review = convergence.in_place().await?;
        info!(bucket = %bucket.name, writes = convergence.writes, seconds = convergence.started.elapsed().as_secs_f32(), "the bucket policy is as wanted");
        Ok((review, (convergence.writes > 0).then_some(convergence)))
    }

    async fn grant(
        &self,
        stack: StackArn<'_>,
        physical_id: String,
        settings: Settings,
    ) -> Result<Guarded<Success>, Failure> {
        let bucket = bucket_ref(&settings.bucket, stack);
        let expected_sids = settings.expected_sids.clone();
        let grant = Grant {
            owner: Owner::new(&physical_id),
            settings,
            partition: stack.partition.to_owned(),
            account: stack.account.to_owned(),
        };
        let source_arn = grant.source_arn();
        let mode = grant.settings.identity.mode();
        let (review, to_settle) = self
            .converge(
                &bucket,
                Intent::Grant(grant),
                expected_sids,
                Some(physical_id.clone()),
            )
            .await?;
        if !review.kept_public.is_empty() {
            warn!(bucket = %bucket.name, statements = ?review.kept_public, "the bucket policy keeps PUBLIC statements because AllowExistingPublicStatements is set");
        }
        info!(bucket = %bucket.name, sids = ?review.sids, "the bucket policy grants the origin identity");
        let text = |s: Option<String>| Value::String(s.unwrap_or_default());
        let mut data = Map::new();
        data.insert("Sids".into(), Value::String(review.sids.join(",")));
        data.insert("GrantSid".into(), text(review.grant_sid));
        data.insert("TlsDenySid".into(), text(review.tls_deny_sid));
        data.insert(
            "Principal".into(),
            text(review.principal.as_ref().map(Value::to_string)),
        );
        data.insert("SourceArn".into(), text(source_arn));
        data.insert("Mode".into(), Value::String(mode.as_str().to_owned()));
        let success = Success::new(physical_id).with_data(data);
        Ok(match to_settle {
            Some(convergence) => Guarded::new(success, convergence.guard()),
            None => Guarded::unguarded(success),
        })
    }

    async fn revoke(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Properties,
    ) -> Result<Guarded<Deletion>, Failure> {
        // The id names the bucket its statements went to; the properties may
        // already describe a replacement. Nothing else is validated: a Delete
        // must not fail over a property that only mattered for granting.
        let name = naming::bucket_of(physical_id).unwrap_or(&properties.bucket_name);
        let stack = stack_of(request)?;
        let bucket = bucket_ref(name, stack);
        let expected_sids = properties.expected_sids.unwrap_or_default();
        match self
            .converge(
                &bucket,
                Intent::Revoke(Owner::new(physical_id)),
                expected_sids,
                None,
            )
            .await
        {
            Ok((_, None)) => {
                info!(bucket = %bucket.name, "none of this resource's statements are in the bucket policy");
                Ok(Guarded::unguarded(Deletion::AlreadyGone))
            }
            Ok((review, Some(convergence))) => {
                info!(bucket = %bucket.name, kept_statements = review.foreign, "removed this resource's statements");
                Ok(Guarded::new(Deletion::Deleted, convergence.guard()))
            }
            Err(Failure::S3(err)) if err.is_no_such_bucket() => {
                info!(bucket = %bucket.name, "the bucket is gone, and its policy with it");
                Ok(Guarded::unguarded(Deletion::AlreadyGone))
            }
            Err(err) => Err(err),
        }
    }
}

fn bucket_ref(name: &str, stack: StackArn<'_>) -> BucketRef {
    BucketRef {
        name: name.to_owned(),
        partition: stack.partition.to_owned(),
        account: stack.account.to_owned(),
    }
}

fn stack_of(request: &Request) -> Result<StackArn<'_>, Failure> {
    request
        .stack()
        .ok_or_else(|| Failure::StackId(request.stack_id.clone()))
}

/// The runner answers after the `_guarded` calls and then runs their guard;
/// the plain calls return once the guard, too, has run to its end.
impl<S: PolicyStore> Resource for OriginBucketPolicy<S> {
    type Properties = Properties;

    async fn create(
        &self,
        request: &Request,
        properties: Properties,
    ) -> Result<Success, HandlerError> {
        self.create_guarded(request, properties)
            .await?
            .finish()
            .await
    }

    async fn update(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Properties,
        old: Option<Properties>,
    ) -> Result<Success, HandlerError> {
        self.update_guarded(request, physical_id, properties, old)
            .await?
            .finish()
            .await
    }

    async fn delete(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Properties,
    ) -> Result<Deletion, HandlerError> {
        self.delete_guarded(request, physical_id, properties)
            .await?
            .finish()
            .await
    }

    async fn create_guarded(
        &self,
        request: &Request,
        properties: Properties,
    ) -> Result<Guarded<Success>, HandlerError> {
        let settings = properties.validate().map_err(Failure::from)?;
        let stack = stack_of(request)?;
        let physical_id = naming::physical_id(
            &request.stack_id,
            &request.logical_resource_id,
            &settings.bucket,
        );
        Ok(self.grant(stack, physical_id, settings).await?)
    }

    async fn update_guarded(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Properties,
        old: Option<Properties>,
    ) -> Result<Guarded<Success>, HandlerError> {
        let settings = properties.validate().map_err(Failure::from)?;
        let stack = stack_of(request)?;
        let previous_bucket = naming::bucket_of(physical_id)
            .map(str::to_owned)
            .or_else(|| old.map(|old| old.bucket_name));
        // Mode, identity, prefix and TLS are rewritten in place under the same
        // id; another bucket is another resource, and CloudFormation deletes
        // the old one (with the old id, so only its Sids) once this succeeds.
        let physical_id = match previous_bucket {
            Some(previous) if previous != settings.bucket => {
                info!(from = %previous, to = %settings.bucket, "BucketName changed: replacing the resource");
                naming::physical_id(
                    &request.stack_id,
                    &request.logical_resource_id,
                    &settings.bucket,
                )
            }
            _ => physical_id.to_owned(),
        };
        Ok(self.grant(stack, physical_id, settings).await?)
    }

    async fn delete_guarded(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Properties,
    ) -> Result<Guarded<Deletion>, HandlerError> {
        Ok(self.revoke(request, physical_id, properties).await?)
    }
}

#[cfg(test)]
mod tests;
