//! The data path, exercised rather than read back: a new version gets the
//! default retention and its delete is refused, and S3 refuses an anonymous
//! GET of an object and of the listing.
//!
//! The probe is a 0-byte object under `vaultfront-verify/`. Once written,
//! nothing can remove it before its retention ends (that is what it
//! proves), so on AWS it is written only when asked for (`--probe`).

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, DateTimeFormat};

use super::Facts;
use crate::local::{sdk_text, Clients};

pub const PROBE_PREFIX: &str = "vaultfront-verify/";
const DAY: i64 = 86_400;

/// How S3 answered one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Served,
    Refused {
        status: u16,
        code: String,
    },
    /// No answer from S3 itself (network, region, credentials).
    Failed(String),
}

impl Answer {
    fn of<T, E>(result: &Result<T, SdkError<E>>) -> Answer
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(_) => Answer::Served,
            Err(err @ SdkError::ServiceError(service)) => Answer::Refused {
                status: service.raw().status().as_u16(),
                code: err.code().unwrap_or("no error code").to_owned(),
            },
            Err(err) => Answer::Failed(sdk_text(err)),
        }
    }

    fn describe(&self) -> String {
        match self {
            Answer::Served => "served".into(),
            Answer::Refused { status, code } => format!("{status} {code}"),
            Answer::Failed(reason) => format!("no answer ({reason})"),
        }
    }
}

/// S3 refuses an anonymous caller without the permission with 403
/// AccessDenied, on the object and on the listing. A 404 NoSuchKey for an
/// anonymous caller means it may list the bucket; anything else is not a
/// refusal verify has seen.
pub fn judge_anonymous(key: &str, get: &Answer, list: &Answer) -> Result<String, String> {
    let evidence = format!(
        "anonymous GetObject {key}: {}; anonymous ListObjectsV2: {}",
        get.describe(),
        list.describe()
    );
    let refused = |answer: &Answer| matches!(answer, Answer::Refused { status: 403, code } if code == "AccessDenied");
    if refused(get) && refused(list) {
        Ok(evidence)
    } else {
        Err(evidence)
    }
}

/// Unsigned GetObject of `key` and ListObjectsV2, through the same
/// endpoint the stack's own clients use.
pub async fn anonymous(clients: &Clients, bucket: &str, key: &str) -> Result<String, String> {
    let s3 = &clients.anonymous_s3;
    let get = s3.get_object().bucket(bucket).key(key).send().await;
    let list = s3.list_objects_v2().bucket(bucket).max_keys(1).send().await;
    judge_anonymous(key, &Answer::of(&get), &Answer::of(&list))
}

/// A key to ask for anonymously: the probe if there is one, else an object
/// the bucket holds (a refusal of a real object says more), else a name
/// that is not there; and whether it is there.
pub async fn some_key(clients: &Clients, bucket: &str, probe: Option<&str>) -> (String, bool) {
    if let Some(probe) = probe {
        return (probe.to_owned(), true);
    }
    let listed = clients
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .max_keys(1)
        .send()
        .await;
    listed
        .ok()
        .and_then(|l| {
            l.contents()
                .first()
                .and_then(|o| o.key().map(str::to_owned))
        })
        .map(|key| (key, true))
        .unwrap_or_else(|| (format!("{PROBE_PREFIX}absent"), false))
}

/// The retention a new version must get, as a range of retain-until times
/// (seconds since 1970) for a version written at `now`: a day of slack
/// each way for clocks and rounding, and a leap day per four years.
pub fn expected_until(facts: &Facts, now: i64) -> (i64, i64) {
    let days = facts.retention_days + 365 * facts.retention_years;
    let leap = (facts.retention_years + 3) / 4;
    (now + (days - 1) * DAY, now + (days + leap + 1) * DAY)
}

/// Write the probe, read its retention, try to delete its version, and
/// check the version is still there. Returns the probe's key (when one was
/// written) and the verdict.
pub async fn locked_delete(
    clients: &Clients,
    facts: &Facts,
) -> (Option<String>, Result<String, String>) {
    let s3 = &clients.s3;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let key = format!("{PROBE_PREFIX}probe-{now}");
    let put = s3
        .put_object()
        .bucket(&facts.bucket)
        .key(&key)
        .body(ByteStream::from_static(b""))
        .content_type("application/octet-stream")
        .send()
        .await;
    let version = match put {
        Ok(out) => match out.version_id() {
            Some(version) => version.to_owned(),
            None => {
                return (
                    Some(key.clone()),
                    Err(format!(
                        "PutObject {key} returned no VersionId: versioning is off"
                    )),
                )
            }
        },
        Err(err) => return (None, Err(format!("PutObject {key}: {}", sdk_text(&err)))),
    };
    let probe = format!("probe {key} (version {version})");
    let head = || {
        s3.head_object()
            .bucket(&facts.bucket)
            .key(&key)
            .version_id(&version)
            .send()
    };
    let retention = match head().await {
        Ok(head) => {
            let mode = head.object_lock_mode().map(|m| m.as_str().to_owned());
            match (mode, head.object_lock_retain_until_date()) {
                (Some(mode), Some(until)) => {
                    let (earliest, latest) = expected_until(facts, now);
                    let when = until.fmt(DateTimeFormat::DateTime).unwrap_or_default();
                    let until = until.secs();
                    if mode != facts.retention_mode || until < earliest || until > latest {
                        Err(format!(
                            "{probe} got {mode} until {when}; expected {} for {} day(s), {} year(s)",
                            facts.retention_mode, facts.retention_days, facts.retention_years
                        ))
                    } else {
                        Ok(format!("{probe}: {mode} until {when}"))
                    }
                }
                _ => Err(format!(
                    "{probe} has no retention: the default retention did not apply (or the caller lacks s3:GetObjectRetention, without which HeadObject hides it)"
                )),
            }
        }
        Err(err) => Err(format!("HeadObject {key}: {}", sdk_text(&err))),
    };
    let delete = s3
        .delete_object()
        .bucket(&facts.bucket)
        .key(&key)
        .version_id(&version)
        .send()
        .await;
    let still_there = head().await.is_ok();
    let deletion = match Answer::of(&delete) {
        // The version read back afterwards is the proof; the code says why.
        Answer::Refused { status, code } if code == "AccessDenied" && still_there => Ok(format!(
            "DeleteObject of that version refused ({status} {code})"
        )),
        Answer::Served if !still_there => Err(format!(
            "DeleteObject removed {probe}: Object Lock did not hold"
        )),
        answer => Err(format!(
            "DeleteObject of {probe}: {}; version still there: {still_there}",
            answer.describe()
        )),
    };
    let held = retention.is_ok() && deletion.is_ok();
    let evidence = format!(
        "{}; {}",
        retention.unwrap_or_else(|e| e),
        deletion.unwrap_or_else(|e| e)
    );
    (Some(key), if held { Ok(evidence) } else { Err(evidence) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, code: &str) -> Answer {
        Answer::Refused {
            status,
            code: code.into(),
        }
    }

    #[test]
    fn only_403_access_denied_on_both_is_a_refusal() {
        let denied = refused(403, "AccessDenied");
        assert!(matches!(
            judge_anonymous("k", &denied, &denied),
            Ok(e) if e.contains("GetObject k: 403 AccessDenied")
        ));
        // The object refused but the listing served: still exposed.
        assert!(matches!(
            judge_anonymous("k", &denied, &Answer::Served),
            Err(e) if e.contains("ListObjectsV2: served")
        ));
        // 404 to an anonymous caller: it may list the bucket.
        assert!(judge_anonymous("k", &refused(404, "NoSuchKey"), &denied).is_err());
        // A 403 for another reason (a signature, a policy's Deny answered
        // without a code) is not the refusal of a missing permission.
        assert!(judge_anonymous("k", &refused(403, "SignatureDoesNotMatch"), &denied).is_err());
        assert!(judge_anonymous("k", &refused(403, "no error code"), &denied).is_err());
        assert!(matches!(
            judge_anonymous("k", &Answer::Failed("timeout".into()), &denied),
            Err(e) if e.contains("no answer (timeout)")
        ));
        assert!(judge_anonymous("k", &Answer::Served, &Answer::Served).is_err());
    }

    fn facts(days: i64, years: i64) -> Facts {
        Facts {
            local: false,
            stack: "s".into(),
            bucket: "b".into(),
            distribution_id: "d".into(),
            rest_api_id: "a".into(),
            stage: "v1".into(),
            origin_access: "OAC".into(),
            access_log_destination: String::new(),
            log_bucket: "logs".into(),
            retention_mode: "GOVERNANCE".into(),
            retention_days: days,
            retention_years: years,
            probe: true,
            cdn_access: "signed".into(),
            key_pair_ids: Vec::new(),
            cdn_url: String::new(),
            signing_key: None,
        }
    }

    #[test]
    fn expected_until_allows_a_day_each_way_and_leap_days() {
        assert_eq!(expected_until(&facts(30, 0), 0), (29 * DAY, 31 * DAY));
        // 4 years may hold a leap day; S3 counts calendar years.
        assert_eq!(
            expected_until(&facts(0, 4), 0),
            (1459 * DAY, (1460 + 1 + 1) * DAY)
        );
    }
}
