//! The physical id a Create has started writing under. A Create that then
//! fails (an error, a panic or a time-out) answers FAILED with this id
//! instead of the marker id, so the rollback's Delete reaches the handler
//! and removes what was written.

use std::future::Future;
use std::sync::{Arc, Mutex};

tokio::task_local! {
    static SLOT: Slot;
}

/// Where one event's claim is kept; the runner reads it after the
/// handler's task ended, however it ended.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slot(Arc<Mutex<Option<String>>>);

impl Slot {
    /// Run `work` (the handler) with this slot as the place `claim` writes to.
    pub(crate) fn scope<F: Future>(&self, work: F) -> impl Future<Output = F::Output> {
        SLOT.scope(self.clone(), work)
    }

    pub(crate) fn claimed(&self) -> Option<String> {
        self.0.lock().ok().and_then(|claimed| claimed.clone())
    }
}

/// Record, before a Create's first write, the physical id it writes under.
/// Claim nothing when nothing is written: the marker's Delete then succeeds
/// without calling the handler, even when AWS refuses every call. Outside a
/// handler run by the runner (a unit test, say) this does nothing.
pub fn claim(physical_id: impl Into<String>) {
    let _ = SLOT.try_with(|slot| {
        if let Ok(mut claimed) = slot.0.lock() {
            *claimed = Some(physical_id.into());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_claim_lands_in_the_slot_of_the_run_that_made_it() {
        let (first, second) = (Slot::default(), Slot::default());
        first.scope(async { claim("vault-data-grant") }).await;
        second.scope(async {}).await;
        claim("outside any run");
        assert_eq!(first.claimed().as_deref(), Some("vault-data-grant"));
        assert_eq!(second.claimed(), None);
    }
}
