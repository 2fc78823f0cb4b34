//! The reconcile step, pure: the policy as read plus what this resource wants
//! gives the one write (if any) that brings the policy there.

use crate::document::{MalformedPolicy, PolicyDocument, Statement, MAX_POLICY_BYTES};
use crate::naming::{fingerprint, is_managed, Owner};
use crate::properties::{OriginIdentity, Settings};
use crate::statement::{
    is_public_grant, principal_for, same_meaning, tls_deny_coverage, TlsDenyCoverage,
};
use serde::Serialize;
use serde_json::{json, Value};

/// The read grant this resource wants in place, with everything needed to
/// spell its statements.
#[derive(Debug, Clone)]
pub struct Grant {
    pub owner: Owner,
    pub settings: Settings,
    pub partition: String,
    pub account: String,
}

impl Grant {
    pub fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.settings.bucket)
    }

    /// The distribution an OAC grant is pinned to.
    pub fn source_arn(&self) -> Option<String> {
        match &self.settings.identity {
            OriginIdentity::Oac { distribution_id } => Some(format!(
                "arn:{}:cloudfront::{}:distribution/{distribution_id}",
                self.partition, self.account
            )),
            OriginIdentity::Oai { .. } => None,
        }
    }

    /// `s3:GetObject` on the objects (under the prefix), for exactly the
    /// identity: nothing else, never `*`, never the account root.
    fn grant_statement(&self) -> OwnStatement {
        let principal = principal_for(&self.settings.identity, &self.partition);
        let resource = json!(format!(
            "{}/{}*",
            self.bucket_arn(),
            self.settings.key_prefix
        ));
        let condition = self
            .source_arn()
            .map(|arn| json!({"StringEquals": {"AWS:SourceArn": arn}}));
        let pinned = fingerprint(&[
            &principal.to_string(),
            &resource.to_string(),
            &condition.as_ref().map(Value::to_string).unwrap_or_default(),
        ]);
        OwnStatement {
            sid: self.owner.grant_sid(pinned),
            effect: "Allow",
            principal,
            action: "s3:GetObject",
            resource,
            condition,
        }
    }

    fn tls_deny_statement(&self) -> OwnStatement {
        let bucket = self.bucket_arn();
        OwnStatement {
            sid: self.owner.tls_deny_sid(),
            effect: "Deny",
            principal: json!("*"),
            action: "s3:*",
            resource: json!([bucket.clone(), format!("{bucket}/*")]),
            condition: Some(json!({"Bool": {"aws:SecureTransport": "false"}})),
        }
    }
}

/// A statement this resource writes, serialised in IAM's usual element order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OwnStatement {
    sid: String,
    effect: &'static str,
    principal: Value,
    action: &'static str,
    resource: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
}

impl OwnStatement {
    fn into_statement(self) -> Result<Statement, PlanError> {
        let text = serde_json::to_string(&self)
            .map_err(|err| MalformedPolicy::NotJson(err.to_string()))?;
        Ok(Statement::from_text(text)?)
    }
}

/// What the resource wants of the policy.
#[derive(Debug, Clone)]
pub enum Intent {
    /// Its statements present, exactly as the settings say.
    Grant(Grant),
    /// None of its statements present.
    Revoke(Owner),
}

impl Intent {
    fn owner(&self) -> &Owner {
        match self {
            Intent::Grant(grant) => &grant.owner,
            Intent::Revoke(owner) => owner,
        }
    }
}

/// The write that brings the policy to what the intent wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put(String),
    /// Nothing but this resource's statements were left.
    Delete,
}

/// The outcome of reviewing one read of the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// `None` when the policy already is what the intent wants.
    pub write: Option<Write>,
    /// This resource's statements found in the read.
    pub own_found: usize,
    /// Statements that are not this resource's (kept as they are).
    pub foreign: usize,
    /// The Sids of this resource's statements once the policy is as wanted.
    pub sids: Vec<String>,
    pub grant_sid: Option<String>,
    /// The TLS-only deny this resource owns, when it needs one.
    pub tls_deny_sid: Option<String>,
    /// The grant's principal as the read shows it (S3's rendering) when the
    /// grant was already in place, else as it is about to be written.
    pub principal: Option<Value>,
    /// Public foreign statements kept because `AllowExistingPublicStatements` is set.
    pub kept_public: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the bucket's existing policy cannot be merged into: {0}")]
    Malformed(#[from] MalformedPolicy),
    #[error(
        "the bucket's existing policy makes it public: {} allow(s) everyone (Principal \"*\") with no \
         condition that pins the caller. This resource keeps the bucket private and will not merge into \
         such a policy: remove the statement, or set AllowExistingPublicStatements: true to keep it \
         knowingly (S3 Block Public Access, if on, will still refuse to store it)",
        .labels.join(", ")
    )]
    PublicStatement { labels: Vec<String> },
    #[error(
        "the merged policy would be {bytes} bytes; S3 allows at most {MAX_POLICY_BYTES}. Remove \
         statements the bucket no longer needs"
    )]
    TooLarge { bytes: usize },
}

/// Review `observed` (the policy text, `None` when the bucket has none).
pub fn review(observed: Option<&str>, intent: &Intent) -> Result<Review, PlanError> {
    let document = match observed {
        Some(text) => PolicyDocument::parse(text)?,
        None => PolicyDocument::empty(),
    };
    let owner = intent.owner();
    let (own, foreign): (Vec<&Statement>, Vec<&Statement>) = document
        .statements
        .iter()
        .partition(|s| s.sid().is_some_and(|sid| owner.owns(sid)));
    match intent {
        Intent::Revoke(_) => Ok(review_revoke(observed, &document, &own, foreign)),
        Intent::Grant(grant) => review_grant(grant, &document, &own, foreign),
    }
}

/// The `expected` Sids that `observed` lacks. A policy that does not parse
/// lacks nothing here: [`review`] reports it.
pub fn missing_sids(observed: Option<&str>, expected: &[String]) -> Vec<String> {
    let document = match observed {
        Some(text) => match PolicyDocument::parse(text) {
            Ok(document) => document,
            Err(_) => return Vec::new(),
        },
        None => PolicyDocument::empty(),
    };
    expected
        .iter()
        .filter(|sid| {
            !document
                .statements
                .iter()
                .any(|s| s.sid() == Some(sid.as_str()))
        })
        .cloned()
        .collect()
}

/// Whether two reads of the policy hold the same statements apart from
/// `owner`'s, byte for byte and in the same order. A change to `owner`'s
/// statements alone is what the same resource's next event writes, having
/// read the policy as it was; a write from an older read also changes
/// (drops or adds) someone else's.
pub fn only_owner_differs(before: Option<&str>, after: Option<&str>, owner: &Owner) -> bool {
    let others = |text: Option<&str>| -> Option<Vec<String>> {
        let document = match text {
            Some(text) => PolicyDocument::parse(text).ok()?,
            None => PolicyDocument::empty(),
        };
        Some(
            document
                .statements
                .iter()
                .filter(|s| !s.sid().is_some_and(|sid| owner.owns(sid)))
                .map(|s| s.text().to_owned())
                .collect(),
        )
    };
    match (others(before), others(after)) {
        (Some(before), Some(after)) => before == after,
        _ => false,
    }
}

fn review_revoke(
    observed: Option<&str>,
    document: &PolicyDocument,
    own: &[&Statement],
    foreign: Vec<&Statement>,
) -> Review {
    let write = match (observed, own.is_empty(), foreign.is_empty()) {
        (None, _, _) | (_, true, _) => None,
        (Some(_), false, true) => Some(Write::Delete),
        (Some(_), false, false) => {
            let mut rest = document.clone();
            rest.statements = foreign.iter().map(|s| (*s).clone()).collect();
            Some(Write::Put(rest.render()))
        }
    };
    Review {
        write,
        own_found: own.len(),
        foreign: foreign.len(),
        sids: Vec::new(),
        grant_sid: None,
        tls_deny_sid: None,
        principal: None,
        kept_public: Vec::new(),
    }
}

fn review_grant(
    grant: &Grant,
    document: &PolicyDocument,
    own: &[&Statement],
    foreign: Vec<&Statement>,
) -> Result<Review, PlanError> {
    let public: Vec<String> = document
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.sid().is_some_and(|sid| grant.owner.owns(sid)))
        .filter(|(_, s)| is_public_grant(&s.body))
        .map(|(index, s)| s.label(index))
        .collect();
    if !public.is_empty() && !grant.settings.allow_existing_public_statements {
        return Err(PlanError::PublicStatement { labels: public });
    }

    // Only a deny nobody of ours wrote makes ours unnecessary: another
    // instance's deny goes when that instance is deleted.
    let bucket_arn = grant.bucket_arn();
    let foreign_tls = foreign
        .iter()
        .filter(|s| !s.sid().is_some_and(is_managed))
        .fold(TlsDenyCoverage::default(), |coverage, s| {
            coverage.union(tls_deny_coverage(&s.body, &bucket_arn))
        });
    let grant_statement = grant.grant_statement().into_statement()?;
    let mut desired = vec![grant_statement];
    if grant.settings.enforce_tls && !foreign_tls.complete() {
        desired.push(grant.tls_deny_statement().into_statement()?);
    }

    let in_place = own.len() == desired.len()
        && desired.iter().enumerate().all(|(index, want)| {
            let mut same_sid = own.iter().filter(|o| o.sid() == want.sid());
            // The grant (first) names the identity; the deny names everyone.
            let identity = (index == 0).then_some(&grant.settings.identity);
            matches!((same_sid.next(), same_sid.next()), (Some(got), None) if same_meaning(&want.body, &got.body, identity))
        });
    let sid_of = |s: &Statement| s.sid().map(str::to_owned);
    let grant_sid = sid_of(&desired[0]);
    let (write, principal) = if in_place {
        let read = own.iter().find(|o| o.sid() == grant_sid.as_deref());
        (None, read.and_then(|s| s.body.get("Principal").cloned()))
    } else {
        let mut merged = document.clone();
        merged.statements = foreign.iter().map(|s| (*s).clone()).collect();
        merged.statements.extend(desired.iter().cloned());
        let text = merged.render();
        if text.len() > MAX_POLICY_BYTES {
            return Err(PlanError::TooLarge { bytes: text.len() });
        }
        (
            Some(Write::Put(text)),
            desired[0].body.get("Principal").cloned(),
        )
    };
    Ok(Review {
        write,
        own_found: own.len(),
        foreign: foreign.len(),
        sids: desired.iter().filter_map(sid_of).collect(),
        grant_sid,
        tls_deny_sid: desired.get(1).and_then(sid_of),
        principal,
        kept_public: public,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::OriginIdentity;

    const FOREIGN_ALLOW: &str = r#"{"Sid":"AllowAnalytics","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/analytics"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data-bucket/reports/*"}"#;
    const FOREIGN_DENY: &str = r#"{"Sid": "DenyDeletes",  "Effect":"Deny", "Principal":"*", "Action":"s3:DeleteObject", "Resource":"arn:aws:s3:::data-bucket/*"}"#;

    fn settings(identity: OriginIdentity) -> Settings {
        Settings {
            bucket: "data-bucket".into(),
            identity,
            key_prefix: String::new(),
            enforce_tls: true,
            allow_existing_public_statements: false,
            expected_sids: Vec::new(),
        }
    }

    #[test]
    fn missing_sids_names_each_expected_statement_a_read_lacks() {
        let expected = vec!["AllowAnalytics".to_owned(), "DenyDeletes".to_owned()];
        let both =
            format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN_ALLOW},{FOREIGN_DENY}]}}"#);
        let one = format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN_DENY}]}}"#);
        assert!(missing_sids(Some(&both), &expected).is_empty());
        assert_eq!(missing_sids(Some(&one), &expected), ["AllowAnalytics"]);
        assert_eq!(missing_sids(None, &expected), expected);
        assert!(missing_sids(None, &[]).is_empty());
        assert!(missing_sids(Some("not json"), &expected).is_empty());
    }

    fn oai_grant(physical_id: &str) -> Grant {
        Grant {
            owner: Owner::new(physical_id),
            settings: settings(OriginIdentity::Oai {
                id: "E74FTE3AJFJ256A".into(),
            }),
            partition: "aws".into(),
            account: "123456789012".into(),
        }
    }

    fn oac_grant(physical_id: &str) -> Grant {
        Grant {
            settings: settings(OriginIdentity::Oac {
                distribution_id: "EDFDVBD6EXAMPLE".into(),
            }),
            ..oai_grant(physical_id)
        }
    }

    fn policy(statements: &[&str]) -> String {
        format!(
            "{{\"Version\": \"2012-10-17\", \"Statement\": [{}]}}",
            statements.join(",\n ")
        )
    }

    fn put(review: &Review) -> &str {
        match &review.write {
            Some(Write::Put(text)) => text,
            other => panic!("expected a Put, got {other:?}"),
        }
    }

    fn statements(text: &str) -> Vec<Value> {
        let value: Value = serde_json::from_str(text).unwrap();
        value["Statement"].as_array().unwrap().clone()
    }

    /// Apply reviews until none writes; the number of writes it took.
    fn settle(policy: &mut Option<String>, intent: &Intent) -> usize {
        for writes in 0..5 {
            let review = review(policy.as_deref(), intent).unwrap();
            match review.write {
                None => return writes,
                Some(Write::Put(text)) => *policy = Some(text),
                Some(Write::Delete) => *policy = None,
            }
        }
        panic!("no fixed point after 5 writes: {policy:?}");
    }

    #[test]
    fn an_oai_grant_on_a_bucket_without_policy() {
        let grant = oai_grant("data-bucket/Origin-1");
        let review = review(None, &Intent::Grant(grant.clone())).unwrap();
        let written = statements(put(&review));
        assert_eq!(written.len(), 2);
        assert_eq!(
            written[0],
            json!({"Sid": review.grant_sid.clone().unwrap(), "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E74FTE3AJFJ256A"},
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-bucket/*"})
        );
        assert_eq!(
            written[1],
            json!({"Sid": review.tls_deny_sid.clone().unwrap(), "Effect": "Deny", "Principal": "*",
                "Action": "s3:*", "Resource": ["arn:aws:s3:::data-bucket", "arn:aws:s3:::data-bucket/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
        );
        assert!(put(&review).starts_with(r#"{"Version":"2012-10-17","Statement":[{"Sid":"#));
        assert_eq!(review.sids.len(), 2);
        assert!(review.sids.iter().all(|sid| grant.owner.owns(sid)));
        assert_eq!(review.principal, Some(written[0]["Principal"].clone()));
    }

    #[test]
    fn an_oac_grant_is_pinned_to_the_distribution_and_prefix() {
        let mut grant = oac_grant("data-bucket/Origin-1");
        grant.settings.key_prefix = "media/".into();
        grant.settings.enforce_tls = false;
        let review = review(None, &Intent::Grant(grant)).unwrap();
        let written = statements(put(&review));
        assert_eq!(written.len(), 1, "no TLS deny when EnforceTls is false");
        assert_eq!(
            written[0]["Principal"],
            json!({"Service": "cloudfront.amazonaws.com"})
        );
        assert_eq!(written[0]["Resource"], "arn:aws:s3:::data-bucket/media/*");
        assert_eq!(
            written[0]["Condition"],
            json!({"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"}})
        );
        assert_eq!(review.tls_deny_sid, None);
    }

    #[test]
    fn foreign_statements_are_kept_byte_for_byte_and_a_repeat_writes_nothing() {
        let existing = policy(&[FOREIGN_ALLOW, FOREIGN_DENY]);
        let intent = Intent::Grant(oai_grant("data-bucket/Origin-1"));
        let first = review(Some(&existing), &intent).unwrap();
        let merged = put(&first).to_owned();
        assert!(
            merged.contains(FOREIGN_ALLOW) && merged.contains(FOREIGN_DENY),
            "{merged}"
        );
        assert!(
            merged.find(FOREIGN_ALLOW) < merged.find(FOREIGN_DENY),
            "order kept"
        );
        assert_eq!((first.foreign, first.own_found), (2, 0));
        let again = review(Some(&merged), &intent).unwrap();
        assert_eq!(again.write, None);
        assert_eq!((again.foreign, again.own_found), (2, 2));
        assert_eq!(again.sids, first.sids);
    }

    #[test]
    fn s3_renderings_of_the_own_statements_cause_no_rewrite() {
        let intent = Intent::Grant(oai_grant("data-bucket/Origin-1"));
        let written = put(&review(None, &intent).unwrap()).to_owned();
        // What S3 may hand back: the principal as a canonical user or unique
        // id, single values as lists, keys reordered, other whitespace.
        for principal in [
            json!({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}),
            json!({"AWS": "AIDAJQABLZS4A3QDU576Q"}),
            json!({"AWS": ["arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E74FTE3AJFJ256A"]}),
        ] {
            let mut document: Value = serde_json::from_str(&written).unwrap();
            document["Statement"][0]["Principal"] = principal.clone();
            document["Statement"][0]["Action"] = json!(["s3:GetObject"]);
            document["Statement"][1]["Condition"] = json!({"Bool": {"aws:SecureTransport": false}});
            let rendered = serde_json::to_string_pretty(&document).unwrap();
            let review = review(Some(&rendered), &intent).unwrap();
            assert_eq!(review.write, None, "{principal}");
            assert_eq!(
                review.principal,
                Some(principal),
                "Data reports what S3 holds"
            );
        }
    }

    #[test]
    fn a_tampered_own_statement_is_rewritten() {
        let intent = Intent::Grant(oai_grant("data-bucket/Origin-1"));
        let written = put(&review(None, &intent).unwrap()).to_owned();
        for (path, value) in [
            ("Principal", json!("*")),
            (
                "Principal",
                json!({"AWS": "arn:aws:iam::123456789012:root"}),
            ),
            ("Resource", json!("arn:aws:s3:::data-bucket*")),
            ("Action", json!("s3:*")),
        ] {
            let mut document: Value = serde_json::from_str(&written).unwrap();
            document["Statement"][0][path] = value;
            let review = review(Some(&document.to_string()), &intent).unwrap();
            assert_eq!(
                statements(put(&review))[0],
                statements(&written)[0],
                "{path}"
            );
        }
        let mut duplicated: Value = serde_json::from_str(&written).unwrap();
        let copy = duplicated["Statement"][0].clone();
        duplicated["Statement"].as_array_mut().unwrap().push(copy);
        let review = review(Some(&duplicated.to_string()), &intent).unwrap();
        assert_eq!(statements(put(&review)).len(), 2, "a duplicate is dropped");
    }

    #[test]
    fn changing_the_identity_replaces_only_the_own_statements() {
        let existing = policy(&[FOREIGN_ALLOW]);
        let oai = Intent::Grant(oai_grant("data-bucket/Origin-1"));
        let oac = Intent::Grant(oac_grant("data-bucket/Origin-1"));
        let with_oai = put(&review(Some(&existing), &oai).unwrap()).to_owned();
        let switched = review(Some(&with_oai), &oac).unwrap();
        let after = put(&switched);
        let statements = statements(after);
        assert_eq!(statements.len(), 3);
        assert!(after.contains(FOREIGN_ALLOW));
        assert!(
            !after.contains("Origin Access Identity"),
            "the OAI grant is gone"
        );
        assert_eq!(
            statements[1]["Principal"],
            json!({"Service": "cloudfront.amazonaws.com"})
        );
        let old_sids = review(Some(&with_oai), &oai).unwrap().sids;
        assert_ne!(
            switched.grant_sid.as_ref(),
            old_sids.first(),
            "the grant's fingerprint changed"
        );
        assert_eq!(
            switched.tls_deny_sid.as_ref(),
            old_sids.get(1),
            "the TLS deny did not"
        );
    }

    #[test]
    fn resources_on_one_bucket_keep_each_others_statements_and_revoke_only_their_own() {
        let a = oai_grant("data-bucket/A-1");
        let b = oac_grant("data-bucket/B-2");
        let mut stored = Some(policy(&[FOREIGN_ALLOW]));
        assert_eq!(settle(&mut stored, &Intent::Grant(a.clone())), 1);
        assert_eq!(settle(&mut stored, &Intent::Grant(b.clone())), 1);
        let text = stored.clone().unwrap();
        assert_eq!(
            statements(&text).len(),
            5,
            "foreign + two grants + two denies: {text}"
        );
        assert_eq!(
            settle(&mut stored, &Intent::Grant(a.clone())),
            0,
            "A is still in place"
        );

        assert_eq!(settle(&mut stored, &Intent::Revoke(a.owner.clone())), 1);
        let after = stored.clone().unwrap();
        assert!(after.contains(FOREIGN_ALLOW));
        let sids: Vec<String> = statements(&after)
            .iter()
            .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
            .collect();
        assert!(sids.iter().all(|sid| !a.owner.owns(sid)), "{sids:?}");
        assert_eq!(sids.iter().filter(|sid| b.owner.owns(sid)).count(), 2);
        assert_eq!(settle(&mut stored, &Intent::Grant(b)), 0, "B untouched");
    }

    #[test]
    fn only_owner_differs_tells_an_own_change_from_a_write_from_an_older_read() {
        let a = Intent::Grant(oai_grant("data-bucket/A-1"));
        let b = Intent::Grant(oac_grant("data-bucket/B-2"));
        let owner = Owner::new("data-bucket/A-1");
        let mut with_a = Some(policy(&[FOREIGN_ALLOW]));
        settle(&mut with_a, &a);
        let with_a = with_a.unwrap();
        // A's own Delete: the same statements but A's.
        let revoked =
            put(&review(Some(&with_a), &Intent::Revoke(owner.clone())).unwrap()).to_owned();
        assert!(only_owner_differs(Some(&with_a), Some(&revoked), &owner));
        // B wrote from a read older than A's write: A is gone, and B came.
        let stale = put(&review(Some(&policy(&[FOREIGN_ALLOW])), &b).unwrap()).to_owned();
        assert!(!only_owner_differs(Some(&with_a), Some(&stale), &owner));
        // Someone put back an older policy with a foreign statement fewer.
        assert!(!only_owner_differs(
            Some(&with_a),
            Some(&policy(&[])),
            &owner
        ));
        assert!(!only_owner_differs(Some(&with_a), None, &owner));
        assert!(!only_owner_differs(Some(&with_a), Some("not json"), &owner));
    }

    #[test]
    fn revoking_the_last_statements_deletes_the_policy() {
        let grant = oai_grant("data-bucket/A-1");
        let mut stored = None;
        settle(&mut stored, &Intent::Grant(grant.clone()));
        let revoke = Intent::Revoke(grant.owner);
        let review = review(stored.as_deref(), &revoke).unwrap();
        assert_eq!(review.write, Some(Write::Delete));
        assert_eq!(review.own_found, 2);
        let gone = super::review(None, &revoke).unwrap();
        assert_eq!((gone.write, gone.own_found), (None, 0));
        let foreign_only = super::review(Some(&policy(&[FOREIGN_ALLOW])), &revoke).unwrap();
        assert_eq!(foreign_only.write, None, "nothing of ours: no write");
    }

    #[test]
    fn a_foreign_tls_deny_makes_ours_unnecessary_but_another_instances_does_not() {
        let foreign_tls = r#"{"Sid":"DenyHttp","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::data-bucket","arn:aws:s3:::data-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#;
        let grant = Intent::Grant(oai_grant("data-bucket/A-1"));
        let review = review(Some(&policy(&[foreign_tls])), &grant).unwrap();
        assert_eq!(
            statements(put(&review)).len(),
            2,
            "the foreign deny and our grant"
        );
        assert_eq!(review.tls_deny_sid, None);

        let mut stored = None;
        settle(&mut stored, &Intent::Grant(oac_grant("data-bucket/B-2")));
        let review = super::review(stored.as_deref(), &grant).unwrap();
        assert!(
            review.tls_deny_sid.is_some(),
            "B's deny goes when B is deleted"
        );
    }

    #[test]
    fn a_public_foreign_statement_fails_unless_allowed() {
        let public = r#"{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data-bucket/*"}"#;
        let unnamed = r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::data-bucket"}"#;
        let existing = policy(&[FOREIGN_ALLOW, public, unnamed]);
        let mut grant = oai_grant("data-bucket/A-1");
        let err = review(Some(&existing), &Intent::Grant(grant.clone())).unwrap_err();
        assert_eq!(
            err,
            PlanError::PublicStatement {
                labels: vec!["Sid `PublicRead`".into(), "statement 3 (no Sid)".into()]
            }
        );
        assert!(
            err.to_string().contains("AllowExistingPublicStatements"),
            "{err}"
        );
        grant.settings.allow_existing_public_statements = true;
        let review = review(Some(&existing), &Intent::Grant(grant)).unwrap();
        assert!(put(&review).contains(public), "kept, byte for byte");
        assert_eq!(review.kept_public.len(), 2);
    }

    #[test]
    fn malformed_policies_are_refused_and_nothing_is_written() {
        let intent = Intent::Grant(oai_grant("data-bucket/A-1"));
        for text in [
            "not json",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Statement":[1]}"#,
        ] {
            let err = review(Some(text), &intent).unwrap_err();
            assert!(matches!(err, PlanError::Malformed(_)), "{text}: {err}");
        }
        let revoke = Intent::Revoke(Owner::new("data-bucket/A-1"));
        assert!(
            review(Some("not json"), &revoke).is_err(),
            "a Delete does not guess either"
        );
    }

    #[test]
    fn an_oversized_merge_fails_before_writing() {
        let filler = format!(
            r#"{{"Sid":"Big","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":[{}]}}"#,
            (0..610)
                .map(|i| format!("\"arn:aws:s3:::data-bucket/k{i:04}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let existing = policy(&[&filler]);
        assert!(
            existing.len() < MAX_POLICY_BYTES,
            "S3 would hold it: {}",
            existing.len()
        );
        let err = review(
            Some(&existing),
            &Intent::Grant(oai_grant("data-bucket/A-1")),
        )
        .unwrap_err();
        assert!(
            matches!(err, PlanError::TooLarge { bytes } if bytes > MAX_POLICY_BYTES),
            "{err}"
        );
    }
}
