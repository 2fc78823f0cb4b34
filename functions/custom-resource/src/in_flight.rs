//! The AWS call a handler is waiting on right now, so that a time-out can
//! say which call never answered. One event runs at a time per process, so
//! one slot for the whole process is enough.

use std::sync::Mutex;

static CURRENT: Mutex<Option<String>> = Mutex::new(None);

/// Clears the slot when the call ends (or its task is aborted).
#[must_use = "the call counts as in flight only while this lives"]
pub struct InFlight(());

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut current) = CURRENT.lock() {
            *current = None;
        }
    }
}

/// Record that `call` (e.g. `API Gateway PutRestApi on REST API a1b2`) has
/// started; it counts as in flight until the returned guard is dropped.
pub fn begin(call: impl Into<String>) -> InFlight {
    if let Ok(mut current) = CURRENT.lock() {
        *current = Some(call.into());
    }
    InFlight(())
}

/// The call in flight, if any.
pub fn current() -> Option<String> {
    CURRENT.lock().ok().and_then(|current| current.clone())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_call_is_in_flight_while_its_guard_lives() {
        let guard = super::begin("S3 GetBucketPolicy on bucket `b`");
        assert_eq!(
            super::current().as_deref(),
            Some("S3 GetBucketPolicy on bucket `b`")
        );
        drop(guard);
        assert_eq!(super::current(), None);
    }
}
