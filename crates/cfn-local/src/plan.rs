//! The planner: what CloudFormation does next, decided from the stack's
//! state alone (no emulator, no process), so each decision is unit-tested.
//! The engine carries the steps out and reports them.

use serde_json::Value;

use crate::state::ResourceState;

/// Who provisions a resource type: the one place custom and native part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// A Lambda function, through CloudFormation's custom-resource protocol.
    Custom,
    /// The engine itself, in the emulator (a type it has not registered is
    /// refused on every verb).
    Native,
}

impl Provider {
    pub fn of(kind: &str) -> Provider {
        if kind.starts_with("Custom::") || kind == "AWS::CloudFormation::CustomResource" {
            Provider::Custom
        } else {
            Provider::Native
        }
    }
}

/// What a resource of the template needs in this run, given its resolved
/// properties and what the stack holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    /// An update; the provider decides whether it is in place or a
    /// replacement (a new physical id).
    Update,
    Keep,
}

pub fn action(existing: Option<&ResourceState>, properties: &Value) -> Action {
    match existing {
        None => Action::Create,
        Some(before) if before.properties == *properties => Action::Keep,
        Some(_) => Action::Update,
    }
}

/// What a run changed, kept to be undone in reverse on a failure.
#[derive(Debug, Clone)]
pub enum Change {
    Created(ResourceState),
    /// `before` is the resource as it was; the stack holds what it became.
    Updated {
        before: ResourceState,
    },
}

/// One step of a rollback.
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// Delete a resource this run created, then forget it.
    DeleteCreated(ResourceState),
    /// Delete the new resource of a replacement (the old one was never
    /// touched), then point the stack at the old one again.
    DeleteReplacement {
        new: ResourceState,
        before: ResourceState,
    },
    /// Update a resource back to its properties before the run (an Update
    /// whose old properties are the current ones), then record `before`.
    Restore {
        current: ResourceState,
        before: ResourceState,
    },
}

/// The rollback of `changes` (in the order they were made) while the stack
/// holds `current`: newest first, as CloudFormation's.
pub fn rollback(changes: &[Change], current: &[ResourceState]) -> Vec<Undo> {
    changes
        .iter()
        .rev()
        .filter_map(|change| match change {
            Change::Created(made) => Some(Undo::DeleteCreated(made.clone())),
            Change::Updated { before } => {
                let now = current.iter().find(|r| r.logical_id == before.logical_id)?;
                Some(if now.physical_id != before.physical_id {
                    Undo::DeleteReplacement {
                        new: now.clone(),
                        before: before.clone(),
                    }
                } else {
                    Undo::Restore {
                        current: now.clone(),
                        before: before.clone(),
                    }
                })
            }
        })
        .collect()
}

/// After every resource succeeded, CloudFormation's cleanup: the old
/// resources of replacements, then those the template (or a condition) no
/// longer has, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Cleanup {
    pub replaced: Vec<ResourceState>,
    pub removed: Vec<ResourceState>,
}

pub fn cleanup(
    changes: &[Change],
    current: &[ResourceState],
    in_template: impl Fn(&str) -> bool,
) -> Cleanup {
    let replaced = changes
        .iter()
        .filter_map(|change| match change {
            Change::Updated { before } => current
                .iter()
                .find(|r| r.logical_id == before.logical_id)
                .filter(|now| now.physical_id != before.physical_id)
                .map(|_| before.clone()),
            Change::Created(_) => None,
        })
        .collect();
    let removed = current
        .iter()
        .rev()
        .filter(|r| !in_template(&r.logical_id))
        .cloned()
        .collect();
    Cleanup { replaced, removed }
}

/// One step of deleting the stack.
#[derive(Debug, Clone, PartialEq)]
pub enum Teardown {
    Delete(ResourceState),
    /// `DeletionPolicy: Retain`: left in place and reported.
    Retain(ResourceState),
}

/// Deleting the stack: newest first, the retained ones left alone.
pub fn teardown(resources: &[ResourceState]) -> Vec<Teardown> {
    resources
        .iter()
        .rev()
        .map(|r| {
            if r.retained {
                Teardown::Retain(r.clone())
            } else {
                Teardown::Delete(r.clone())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn resource(logical_id: &str, physical_id: &str, properties: Value) -> ResourceState {
        ResourceState {
            logical_id: logical_id.to_owned(),
            kind: "Custom::Thing".to_owned(),
            physical_id: physical_id.to_owned(),
            properties,
            attributes: BTreeMap::new(),
            retained: false,
        }
    }

    #[test]
    fn custom_and_native_part_in_one_place() {
        assert_eq!(Provider::of("Custom::ObjectLock"), Provider::Custom);
        assert_eq!(
            Provider::of("AWS::CloudFormation::CustomResource"),
            Provider::Custom
        );
        assert_eq!(Provider::of("AWS::S3::Bucket"), Provider::Native);
        assert_eq!(Provider::of("AWS::SQS::Queue"), Provider::Native);
    }

    #[test]
    fn a_resource_is_created_updated_or_kept_by_its_resolved_properties() {
        let bucket = resource("Bucket", "b-1", json!({"Days": 30}));
        assert_eq!(action(None, &json!({"Days": 30})), Action::Create);
        assert_eq!(action(Some(&bucket), &json!({"Days": 30})), Action::Keep);
        assert_eq!(action(Some(&bucket), &json!({"Days": 60})), Action::Update);
    }

    #[test]
    fn a_replacement_is_undone_by_deleting_the_new_resource_and_cleaned_up_by_deleting_the_old() {
        let before = resource("Api", "stage-v1", json!({"StageName": "v1"}));
        let after = resource("Api", "stage-v2", json!({"StageName": "v2"}));
        let changes = [Change::Updated {
            before: before.clone(),
        }];
        assert_eq!(
            rollback(&changes, std::slice::from_ref(&after)),
            [Undo::DeleteReplacement {
                new: after.clone(),
                before: before.clone()
            }]
        );
        let done = cleanup(&changes, std::slice::from_ref(&after), |_| true);
        assert_eq!(done.replaced, [before]);
        assert!(done.removed.is_empty());
    }

    #[test]
    fn an_update_is_rolled_back_to_its_old_properties_newest_change_first() {
        let bucket = resource("Bucket", "b-1", json!({}));
        let lock_before = resource("Lock", "lock-1", json!({"Days": 30}));
        let lock_now = resource("Lock", "lock-1", json!({"Days": 60}));
        let queue = resource("Queue", "q-1", json!({}));
        let changes = [
            Change::Updated {
                before: lock_before.clone(),
            },
            Change::Created(queue.clone()),
        ];
        let current = [bucket, lock_now.clone(), queue.clone()];
        assert_eq!(
            rollback(&changes, &current),
            [
                Undo::DeleteCreated(queue),
                Undo::Restore {
                    current: lock_now,
                    before: lock_before
                },
            ]
        );
        let in_place = cleanup(&changes, &current, |_| true);
        assert!(
            in_place.replaced.is_empty(),
            "an in-place update replaces nothing"
        );
    }

    #[test]
    fn resources_the_template_dropped_are_removed_newest_first() {
        let current = [
            resource("A", "a", json!({})),
            resource("B", "b", json!({})),
            resource("C", "c", json!({})),
        ];
        let done = cleanup(&[], &current, |id| id == "B");
        let removed: Vec<&str> = done.removed.iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(removed, ["C", "A"]);
    }

    #[test]
    fn a_destroy_deletes_newest_first_and_leaves_retained_resources() {
        let mut bucket = resource("Bucket", "b-1", json!({}));
        bucket.retained = true;
        let policy = resource("Policy", "p-1", json!({}));
        let lock = resource("Lock", "l-1", json!({}));
        assert_eq!(
            teardown(&[bucket.clone(), policy.clone(), lock.clone()]),
            [
                Teardown::Delete(lock),
                Teardown::Delete(policy),
                Teardown::Retain(bucket)
            ]
        );
    }
}
