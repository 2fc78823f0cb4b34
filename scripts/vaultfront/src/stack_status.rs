//! Before `sam deploy`: is the stack one CloudFormation can update? A stack
//! whose first create failed is left in ROLLBACK_COMPLETE, and CloudFormation
//! refuses every change set on it; `sam deploy` reports that only as a
//! ValidationError, after the build. Asked before the build, the user hears
//! what happened and what to do.

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{ResourceStatus, StackStatus};

/// A stack that `sam deploy` cannot create or update as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub stack: String,
    pub status: String,
    /// The first resource that failed, and why (from the stack's events).
    pub first_failure: Option<String>,
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Blocked {
            stack,
            status,
            first_failure,
        } = self;
        write!(
            f,
            "stack `{stack}` is {status}: its first create failed and CloudFormation rolled it back, and such a stack can only be deleted, never updated."
        )?;
        if let Some(failure) = first_failure {
            write!(f, " It failed at {failure}.")?;
        }
        write!(
            f,
            " Fix that cause, then run `scripts/deploy --destroy --stack-name {stack}` (it removes only the rolled-back shell: \
             the buckets it retained stay, with their data) and `scripts/deploy` again"
        )
    }
}

/// `Ok(None)` when `sam deploy` can go ahead (no such stack, or one in a
/// state it can update); `Ok(Some(..))` for a stack only a delete can
/// clear. An error is for the caller to report as a warning: sam will
/// meet the same cause and say it.
pub async fn check(
    client: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<Option<Blocked>, String> {
    let described = match client.describe_stacks().stack_name(stack).send().await {
        Ok(out) => out,
        // CloudFormation's answer for a stack that does not exist.
        Err(SdkError::ServiceError(err))
            if err.err().code() == Some("ValidationError")
                && err
                    .err()
                    .message()
                    .is_some_and(|m| m.contains("does not exist")) =>
        {
            return Ok(None);
        }
        Err(err) => return Err(crate::local::sdk_text(&err)),
    };
    let Some(status) = described
        .stacks()
        .first()
        .and_then(|s| s.stack_status())
        .cloned()
    else {
        return Ok(None);
    };
    if !only_delete_clears(&status) {
        return Ok(None);
    }
    let events = client
        .describe_stack_events()
        .stack_name(stack)
        .send()
        .await
        .map(|out| {
            out.stack_events()
                .iter()
                .map(|e| {
                    (
                        e.resource_status().cloned(),
                        e.logical_resource_id().unwrap_or_default().to_owned(),
                        e.resource_status_reason().unwrap_or_default().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    Ok(Some(Blocked {
        stack: stack.to_owned(),
        status: status.as_str().to_owned(),
        first_failure: first_failure(&events),
    }))
}

/// The states of a stack whose first create did not complete.
fn only_delete_clears(status: &StackStatus) -> bool {
    matches!(
        status,
        StackStatus::RollbackComplete | StackStatus::RollbackFailed
    )
}

/// The cause among the stack's events (newest first, as CloudFormation
/// lists them): the oldest CREATE_FAILED that is not a knock-on
/// cancellation of the others.
fn first_failure(events: &[(Option<ResourceStatus>, String, String)]) -> Option<String> {
    events
        .iter()
        .rev()
        .filter(|(status, _, _)| status.as_ref() == Some(&ResourceStatus::CreateFailed))
        .find(|(_, _, reason)| !reason.contains("Resource creation cancelled"))
        .map(|(_, logical_id, reason)| format!("{logical_id}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        status: ResourceStatus,
        id: &str,
        reason: &str,
    ) -> (Option<ResourceStatus>, String, String) {
        (Some(status), id.to_owned(), reason.to_owned())
    }

    #[test]
    fn only_a_failed_first_create_blocks_the_deploy() {
        assert!(only_delete_clears(&StackStatus::RollbackComplete));
        assert!(only_delete_clears(&StackStatus::RollbackFailed));
        for updatable in [
            StackStatus::CreateComplete,
            StackStatus::UpdateComplete,
            StackStatus::UpdateRollbackComplete,
        ] {
            assert!(!only_delete_clears(&updatable), "{updatable:?}");
        }
    }

    #[test]
    fn the_first_failure_is_the_cause_not_the_cancellations() {
        // Newest first, as DescribeStackEvents lists them.
        let events = [
            event(ResourceStatus::DeleteComplete, "DataBucketObjectLock", ""),
            event(
                ResourceStatus::CreateFailed,
                "Distribution",
                "Resource creation cancelled",
            ),
            event(
                ResourceStatus::CreateFailed,
                "DataBucketObjectLock",
                "ResourceProperties.Mode: `BOGUS` is not a retention mode",
            ),
            event(ResourceStatus::CreateInProgress, "DataBucketObjectLock", ""),
        ];
        assert_eq!(
            first_failure(&events).as_deref(),
            Some("DataBucketObjectLock: ResourceProperties.Mode: `BOGUS` is not a retention mode")
        );
        assert_eq!(first_failure(&events[..2]), None);
    }

    #[test]
    fn the_message_says_what_happened_and_what_to_do() {
        let text = Blocked {
            stack: "vaultfront".into(),
            status: "ROLLBACK_COMPLETE".into(),
            first_failure: Some("DataBucketObjectLock: bad mode".into()),
        }
        .to_string();
        assert!(
            text.contains("is ROLLBACK_COMPLETE: its first create failed"),
            "{text}"
        );
        assert!(
            text.contains("It failed at DataBucketObjectLock: bad mode."),
            "{text}"
        );
        assert!(
            text.contains("scripts/deploy --destroy --stack-name vaultfront"),
            "{text}"
        );
    }
}
