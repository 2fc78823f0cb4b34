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

use crate::aws::{BucketRef, PolicyStore, S3Error};
use crate::naming::{self, Owner};
use crate::plan::{self, Grant, Intent, PlanError, Review, Write};
use crate::properties::{InvalidProperty, Properties, Settings};
use custom_resource::backoff::jittered;
use custom_resource::{Deletion, HandlerError, Request, Resource, StackArn, Success};
use serde_json::{Map, Value};
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
}

impl Pacing {
    pub const DEFAULT: Pacing = Pacing {
        settle: Duration::from_secs(2),
        poll: Duration::from_millis(600),
        max_writes: 10,
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

/// The policy after the loop: the last review, which needed no write.
#[derive(Debug)]
pub struct Settled {
    pub review: Review,
    pub writes: u32,
}

pub struct OriginBucketPolicy<S> {
    store: S,
    pacing: Pacing,
}

impl<S: PolicyStore> OriginBucketPolicy<S> {
    pub fn new(store: S, pacing: Pacing) -> Self {
        OriginBucketPolicy { store, pacing }
    }

    /// Read, review, write, until a read needs no write and the policy has
    /// read back the same for the settle period since this resource's last
    /// write (at once if it never wrote: nothing of its own to lose).
    pub async fn converge(&self, bucket: &BucketRef, intent: &Intent) -> Result<Settled, Failure> {
        let started = Instant::now();
        let mut writes = 0;
        // The text last read, and when the first read of that same text was
        // sent. A change in between, even one that keeps this resource's
        // statements, means another writer is active, and one of its older
        // reads may still be on its way back: the span restarts. A read's
        // snapshot is no older than its request, so a span starts there.
        let mut unchanged_since: Option<(Option<String>, Instant)> = None;
        loop {
            let read_sent = Instant::now();
            let observed = self.store.get(bucket).await?;
            let review =
                plan::review(observed.as_deref(), intent).map_err(|source| Failure::Plan {
                    bucket: bucket.name.clone(),
                    source,
                })?;
            let since = match &unchanged_since {
                Some((text, since)) if *text == observed => *since,
                _ => read_sent,
            };
            unchanged_since = Some((observed, since));
            match &review.write {
                None if writes == 0 || read_sent - since >= self.pacing.settle => {
                    return Ok(Settled { review, writes });
                }
                None => {}
                Some(_) if writes >= self.pacing.max_writes => {
                    return Err(Failure::NotSettling {
                        bucket: bucket.name.clone(),
                        writes,
                        seconds: started.elapsed().as_secs_f32(),
                    });
                }
                Some(write) => {
                    if writes > 0 {
                        warn!(bucket = %bucket.name, own_found = review.own_found, "the policy changed after this resource wrote it (another writer); merging again");
                    }
                    match write {
                        Write::Put(text) => {
                            info!(bucket = %bucket.name, foreign_statements = review.foreign, own_found = review.own_found, sids = ?review.sids, bytes = text.len(), "writing the merged bucket policy");
                            self.store.put(bucket, text).await?;
                        }
                        Write::Delete => {
                            info!(bucket = %bucket.name, "only this resource's statements were left: deleting the bucket policy");
                            self.store.delete(bucket).await?;
                        }
                    }
                    writes += 1;
                    unchanged_since = None;
                }
            }
            tokio::time::sleep(jittered(self.pacing.poll)).await;
        }
    }

    async fn grant(
        &self,
        stack: StackArn<'_>,
        physical_id: String,
        settings: Settings,
    ) -> Result<Success, Failure> {
        let bucket = bucket_ref(&settings.bucket, stack);
        let grant = Grant {
            owner: Owner::new(&physical_id),
            settings,
            partition: stack.partition.to_owned(),
            account: stack.account.to_owned(),
        };
        let source_arn = grant.source_arn();
        let mode = grant.settings.identity.mode();
        let settled = self.converge(&bucket, &Intent::Grant(grant)).await?;
        let review = settled.review;
        if !review.kept_public.is_empty() {
            warn!(bucket = %bucket.name, statements = ?review.kept_public, "the bucket policy keeps PUBLIC statements because AllowExistingPublicStatements is set");
        }
        info!(bucket = %bucket.name, writes = settled.writes, sids = ?review.sids, "the bucket policy grants the origin identity");
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
        Ok(Success::new(physical_id).with_data(data))
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

impl<S: PolicyStore> Resource for OriginBucketPolicy<S> {
    type Properties = Properties;

    async fn create(
        &self,
        request: &Request,
        properties: Properties,
    ) -> Result<Success, HandlerError> {
        let settings = properties.validate().map_err(Failure::from)?;
        let stack = stack_of(request)?;
        let physical_id = naming::physical_id(
            &request.stack_id,
            &request.logical_resource_id,
            &settings.bucket,
        );
        Ok(self.grant(stack, physical_id, settings).await?)
    }

    async fn update(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Properties,
        old: Option<Properties>,
    ) -> Result<Success, HandlerError> {
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

    async fn delete(
        &self,
        request: &Request,
        physical_id: &str,
        properties: Properties,
    ) -> Result<Deletion, HandlerError> {
        // The id names the bucket its statements went to; the properties may
        // already describe a replacement. Nothing else is validated: a Delete
        // must not fail over a property that only mattered for granting.
        let name = naming::bucket_of(physical_id).unwrap_or(&properties.bucket_name);
        let stack = stack_of(request)?;
        let bucket = bucket_ref(name, stack);
        match self
            .converge(&bucket, &Intent::Revoke(Owner::new(physical_id)))
            .await
        {
            Ok(settled) if settled.writes == 0 => {
                info!(bucket = %bucket.name, "none of this resource's statements are in the bucket policy");
                Ok(Deletion::AlreadyGone)
            }
            Ok(settled) => {
                info!(bucket = %bucket.name, kept_statements = settled.review.foreign, "removed this resource's statements");
                Ok(Deletion::Deleted)
            }
            Err(Failure::S3(err)) if err.is_no_such_bucket() => {
                info!(bucket = %bucket.name, "the bucket is gone, and its policy with it");
                Ok(Deletion::AlreadyGone)
            }
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests;
