//! The pure reconcile: what the resource asks for, what S3 reports, and from
//! those the writes to make, or a refusal. No AWS calls here.

use crate::properties::{Desired, Mode, Period, Retention};
use std::fmt;
use tracing::warn;

/// A bucket's versioning state as `GetBucketVersioning` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// Never enabled (S3 returns no status).
    Unversioned,
    Enabled,
    Suspended,
}

/// A bucket's Object Lock configuration as `GetObjectLockConfiguration` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    pub enabled: bool,
    /// The default retention, if the bucket has one.
    pub default: Option<Retention>,
    /// A default event hold, a newer S3 setting this resource does not
    /// manage. A write replaces the whole rule, so it is carried over rather
    /// than silently dropped.
    pub event_hold: Option<Period>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub versioning: Versioning,
    pub lock: LockState,
}

/// One `PutObjectLockConfiguration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockWrite {
    pub retention: Retention,
    pub event_hold: Option<Period>,
}

/// The writes that bring the bucket to the desired state, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// `PutBucketVersioning Status=Enabled`: Object Lock requires it first.
    pub enable_versioning: bool,
    pub write: Option<LockWrite>,
}

impl Plan {
    pub fn is_noop(&self) -> bool {
        !self.enable_versioning && self.write.is_none()
    }
}

/// Why the resource will not make a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "versioning is Suspended. Object Lock needs versioning Enabled, and this resource does not \
         undo a suspension someone chose (nor does it ever suspend versioning itself). Re-enable \
         versioning on the bucket (VersioningConfiguration: Status: Enabled in the template, or \
         `aws s3api put-bucket-versioning --bucket <name> --versioning-configuration Status=Enabled`), \
         then retry"
    )]
    VersioningSuspended,
    #[error("{}", weakening(from, to))]
    Weakening { from: Retention, to: Retention },
}

fn weakening(from: &Retention, to: &Retention) -> String {
    let downgrade = to.mode != Mode::Compliance;
    let shorter = to.period.may_be_shorter_than(from.period);
    let mut what = Vec::new();
    if downgrade {
        what.push(format!(
            "move it to {} (which anyone with s3:BypassGovernanceRetention can shorten or lift)",
            to.mode
        ));
    }
    if shorter {
        what.push(format!("shorten it to {}", to.period));
    }
    let mut keep = Vec::new();
    if downgrade {
        keep.push("Mode: COMPLIANCE".to_owned());
    }
    if shorter {
        keep.push(format!("a period of at least {}", from.period));
    }
    format!(
        "the default retention is {from}, and this change would {}. COMPLIANCE retention exists so \
         that nobody can weaken it, so this resource will not do that by accident (objects already \
         written keep their own retain-until dates; objects written afterwards would be protected \
         less). To do it on purpose, set AllowRetentionReduction: true on this resource; otherwise \
         keep {}",
        what.join(" and "),
        keep.join(" and ")
    )
}

/// Decide the writes. Reads nothing and writes nothing.
pub fn plan(desired: &Desired, observed: &Observed) -> Result<Plan, Refusal> {
    let enable_versioning = match observed.versioning {
        Versioning::Enabled => false,
        Versioning::Unversioned => true,
        Versioning::Suspended => return Err(Refusal::VersioningSuspended),
    };
    let wanted = desired.retention;
    let lock = &observed.lock;
    if lock.enabled && lock.default == Some(wanted) {
        return Ok(Plan {
            enable_versioning,
            write: None,
        });
    }
    if let Some(current) = lock.default.filter(|_| lock.enabled) {
        if weakens_compliance(current, wanted) {
            let refusal = Refusal::Weakening {
                from: current,
                to: wanted,
            };
            if !desired.allow_reduction {
                return Err(refusal);
            }
            warn!(bucket = %desired.bucket, from = %current, to = %wanted,
                "AllowRetentionReduction is set: weakening a COMPLIANCE default retention on purpose");
        } else if wanted.period.may_be_shorter_than(current.period) {
            // GOVERNANCE can be bypassed anyway; shortening it is allowed, but worth a line.
            warn!(bucket = %desired.bucket, from = %current, to = %wanted,
                "shortening a GOVERNANCE default retention");
        }
    }
    Ok(Plan {
        enable_versioning,
        write: Some(LockWrite {
            retention: wanted,
            event_hold: lock.event_hold,
        }),
    })
}

/// Leaving COMPLIANCE, or shortening a COMPLIANCE period.
fn weakens_compliance(current: Retention, wanted: Retention) -> bool {
    current.mode == Mode::Compliance
        && (wanted.mode != Mode::Compliance || wanted.period.may_be_shorter_than(current.period))
}

impl fmt::Display for Versioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Versioning::Unversioned => "never enabled",
            Versioning::Enabled => "Enabled",
            Versioning::Suspended => "Suspended",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::Period::{Days, Years};

    fn desired(mode: Mode, period: Period, allow_reduction: bool) -> Desired {
        Desired {
            bucket: "b".into(),
            retention: Retention { mode, period },
            allow_reduction,
        }
    }

    fn locked(mode: Mode, period: Period) -> Observed {
        Observed {
            versioning: Versioning::Enabled,
            lock: LockState {
                enabled: true,
                default: Some(Retention { mode, period }),
                event_hold: None,
            },
        }
    }

    fn write(mode: Mode, period: Period) -> Option<LockWrite> {
        Some(LockWrite {
            retention: Retention { mode, period },
            event_hold: None,
        })
    }

    #[test]
    fn an_unversioned_bucket_gets_versioning_then_the_lock() {
        let observed = Observed {
            versioning: Versioning::Unversioned,
            lock: LockState::default(),
        };
        let plan = plan(&desired(Mode::Governance, Days(1), false), &observed);
        assert_eq!(
            plan,
            Ok(Plan {
                enable_versioning: true,
                write: write(Mode::Governance, Days(1))
            })
        );
    }

    #[test]
    fn a_versioned_bucket_without_lock_gets_only_the_lock() {
        let observed = Observed {
            versioning: Versioning::Enabled,
            lock: LockState::default(),
        };
        let plan = plan(&desired(Mode::Compliance, Years(7), false), &observed);
        assert_eq!(
            plan,
            Ok(Plan {
                enable_versioning: false,
                write: write(Mode::Compliance, Years(7))
            })
        );
    }

    #[test]
    fn lock_enabled_without_a_rule_gets_the_rule() {
        let observed = Observed {
            versioning: Versioning::Enabled,
            lock: LockState {
                enabled: true,
                default: None,
                event_hold: None,
            },
        };
        let plan = plan(&desired(Mode::Compliance, Days(1), false), &observed);
        assert_eq!(plan.map(|p| p.write), Ok(write(Mode::Compliance, Days(1))));
    }

    #[test]
    fn the_desired_state_needs_no_write() {
        let plan = plan(
            &desired(Mode::Compliance, Days(30), false),
            &locked(Mode::Compliance, Days(30)),
        );
        assert_eq!(plan.map(|p| p.is_noop()), Ok(true));
    }

    #[test]
    fn a_suspended_bucket_is_refused_and_never_resumed_or_suspended() {
        let observed = Observed {
            versioning: Versioning::Suspended,
            lock: LockState::default(),
        };
        for allow in [false, true] {
            let refused = plan(&desired(Mode::Governance, Days(1), allow), &observed);
            assert_eq!(refused, Err(Refusal::VersioningSuspended));
        }
        let text = Refusal::VersioningSuspended.to_string();
        assert!(
            text.contains("Suspended") && text.contains("Status=Enabled"),
            "{text}"
        );
    }

    #[test]
    fn strengthening_is_allowed_without_the_override() {
        for (from, to) in [
            ((Mode::Compliance, Days(30)), (Mode::Compliance, Days(31))),
            ((Mode::Compliance, Days(365)), (Mode::Compliance, Years(1))),
            ((Mode::Compliance, Years(1)), (Mode::Compliance, Days(366))),
            ((Mode::Governance, Days(30)), (Mode::Compliance, Days(30))),
            ((Mode::Governance, Days(30)), (Mode::Compliance, Days(1))),
            // GOVERNANCE is bypassable by design: shortening it is not guarded.
            ((Mode::Governance, Years(2)), (Mode::Governance, Days(1))),
        ] {
            let result = plan(&desired(to.0, to.1, false), &locked(from.0, from.1));
            assert_eq!(
                result.map(|p| p.write),
                Ok(write(to.0, to.1)),
                "{from:?} -> {to:?}"
            );
        }
    }

    #[test]
    fn weakening_compliance_is_refused_without_the_override() {
        for (from, to, says) in [
            (
                Days(30),
                (Mode::Compliance, Days(29)),
                "shorten it to 29 days",
            ),
            (
                Years(2),
                (Mode::Compliance, Years(1)),
                "shorten it to 1 year",
            ),
            (
                Years(1),
                (Mode::Compliance, Days(365)),
                "shorten it to 365 days",
            ),
            (
                Days(30),
                (Mode::Governance, Days(30)),
                "move it to GOVERNANCE",
            ),
            (
                Days(30),
                (Mode::Governance, Days(90)),
                "move it to GOVERNANCE",
            ),
        ] {
            let wanted = desired(to.0, to.1, false);
            let refused = plan(&wanted, &locked(Mode::Compliance, from));
            assert_eq!(
                refused,
                Err(Refusal::Weakening {
                    from: Retention {
                        mode: Mode::Compliance,
                        period: from
                    },
                    to: wanted.retention
                })
            );
            let reason = refused
                .map(|_| String::new())
                .unwrap_or_else(|r| r.to_string());
            assert!(reason.contains(says), "{reason}");
            assert!(
                reason.contains("AllowRetentionReduction: true"),
                "the reason names the override: {reason}"
            );
            assert!(reason.contains("COMPLIANCE for"), "{reason}");

            let allowed = plan(&desired(to.0, to.1, true), &locked(Mode::Compliance, from));
            assert_eq!(
                allowed.map(|p| p.write),
                Ok(write(to.0, to.1)),
                "the override lets {from:?} -> {to:?} through"
            );
        }
    }

    #[test]
    fn a_downgrade_that_also_shortens_says_both() {
        let refused = plan(
            &desired(Mode::Governance, Days(1), false),
            &locked(Mode::Compliance, Days(30)),
        );
        let reason = refused
            .map(|_| String::new())
            .unwrap_or_else(|r| r.to_string());
        assert!(
            reason.contains("move it to GOVERNANCE") && reason.contains("and shorten it to 1 day"),
            "{reason}"
        );
        assert!(
            reason.contains("keep Mode: COMPLIANCE and a period of at least 30 days"),
            "{reason}"
        );
    }

    #[test]
    fn a_default_event_hold_is_carried_over() {
        let mut observed = locked(Mode::Compliance, Days(30));
        observed.lock.event_hold = Some(Days(10));
        let plan = plan(&desired(Mode::Compliance, Days(60), false), &observed);
        assert_eq!(
            plan.map(|p| p.write.and_then(|w| w.event_hold)),
            Ok(Some(Days(10)))
        );
    }
}
