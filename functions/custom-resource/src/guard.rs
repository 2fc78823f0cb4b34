//! Work a handler leaves for after its answer. A handler may answer as soon
//! as what it made is in place, and hand the runner a [`Guard`]: what to
//! keep checking, and for about how long. The runner delivers the response
//! first, then runs the guard inside the same invocation, stops it before the
//! Lambda deadline, and logs how it ended. CloudFormation never waits for it.

use crate::resource::HandlerError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::Instant;
use tracing::{error, info};

type Work = Pin<Box<dyn Future<Output = Result<String, HandlerError>> + Send + 'static>>;

/// What to keep checking after the answer.
pub struct Guard {
    what: String,
    expected: Duration,
    work: Work,
}

impl Guard {
    /// `what` names what the guard keeps true (for the logs); `expected` is
    /// how long it normally runs; `work` does it and returns a one-line
    /// summary of how it ended.
    pub fn new(
        what: impl Into<String>,
        expected: Duration,
        work: impl Future<Output = Result<String, HandlerError>> + Send + 'static,
    ) -> Guard {
        Guard {
            what: what.into(),
            expected,
            work: Box::pin(work),
        }
    }

    pub fn what(&self) -> &str {
        &self.what
    }

    /// Run the guard to its end, without a deadline: what a caller that does
    /// not answer early (a test, or the handler's plain entry points) does.
    pub async fn finish(self) -> Result<String, HandlerError> {
        self.work.await
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("what", &self.what)
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

/// A handler's result and the guard, if any, to run after answering it.
#[derive(Debug)]
pub struct Guarded<T> {
    pub outcome: T,
    pub guard: Option<Guard>,
}

impl<T> Guarded<T> {
    pub fn unguarded(outcome: T) -> Guarded<T> {
        Guarded {
            outcome,
            guard: None,
        }
    }

    pub fn new(outcome: T, guard: Guard) -> Guarded<T> {
        Guarded {
            outcome,
            guard: Some(guard),
        }
    }

    /// The outcome once the guard, if any, has run to its end.
    pub async fn finish(self) -> Result<T, HandlerError> {
        if let Some(guard) = self.guard {
            guard.finish().await?;
        }
        Ok(self.outcome)
    }
}

/// How a guard ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kept {
    Done(String),
    Failed(String),
    CutOff,
}

/// Run `guard` in its own task until it ends or `until`; log how it ended.
/// Called once the response was delivered: nothing here can change it.
pub(crate) async fn keep(guard: Guard, until: Instant) -> Kept {
    let started = Instant::now();
    let Guard {
        what,
        expected,
        work,
    } = guard;
    info!(
        guard = %what,
        expected_s = expected.as_secs_f32(),
        left_s = until.saturating_duration_since(started).as_secs_f32(),
        "answered; guarding until the work is settled"
    );
    let task = tokio::spawn(work);
    let abort = task.abort_handle();
    let kept = match tokio::time::timeout_at(until, task).await {
        Ok(Ok(Ok(summary))) => Kept::Done(summary),
        Ok(Ok(Err(err))) => Kept::Failed(crate::error_chain(err.as_ref())),
        Ok(Err(join)) => Kept::Failed(match join.try_into_panic() {
            Ok(_) => "the guard panicked".to_owned(),
            Err(join) => format!("the guard task ended abnormally: {join}"),
        }),
        Err(_) => {
            abort.abort();
            Kept::CutOff
        }
    };
    let seconds = started.elapsed().as_secs_f32();
    match &kept {
        Kept::Done(summary) => info!(guard = %what, seconds, summary = %summary, "guard done"),
        Kept::Failed(reason) => error!(
            guard = %what,
            seconds,
            reason = %reason,
            "guard failed after SUCCESS was sent; the answer stands, what it guards may not"
        ),
        Kept::CutOff => error!(
            guard = %what,
            seconds,
            "guard cut off to end the invocation before the Lambda deadline; the answer stands, what \
             it guards may not (raise the function's Timeout)"
        ),
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_guard_ends_done_failed_or_cut_off() {
        let soon = || Instant::now() + Duration::from_millis(200);
        let done = Guard::new("x", Duration::ZERO, async { Ok("settled".to_owned()) });
        assert_eq!(keep(done, soon()).await, Kept::Done("settled".into()));
        let failed = Guard::new("x", Duration::ZERO, async { Err("lost it".into()) });
        assert_eq!(keep(failed, soon()).await, Kept::Failed("lost it".into()));
        let endless = Guard::new("x", Duration::from_secs(1), async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(String::new())
        });
        assert_eq!(keep(endless, soon()).await, Kept::CutOff);
    }
}
