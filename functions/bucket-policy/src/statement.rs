//! What a policy statement means, as far as this resource needs to know:
//! whom it names (principals in every form S3 renders them), whether it makes
//! the bucket public, whether it is a TLS-only deny, and whether two
//! statements say the same thing however each is spelled.

use crate::properties::OriginIdentity;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The service principal of CloudFront's origin access control.
pub const CLOUDFRONT_SERVICE: &str = "cloudfront.amazonaws.com";
const OAI_USER_PREFIX: &str = "user/CloudFront Origin Access Identity ";

/// One principal, normalised from whichever form it was written or read in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalForm {
    /// `"*"`, `{"AWS": "*"}`: anyone at all.
    Everyone,
    /// `arn:<partition>:iam::cloudfront:user/CloudFront Origin Access Identity <Id>`.
    OriginAccessIdentity(String),
    /// `{"CanonicalUser": "<64 hex>"}`, the S3 canonical id of some identity.
    CanonicalUser(String),
    /// An IAM unique id (`AIDA...`, `AROA...`): how IAM renders a principal
    /// whose name it can no longer resolve.
    UniqueId(String),
    /// `{"Service": "..."}`, lower-cased.
    Service(String),
    /// Any other principal (an account, a role, a federated provider).
    Other(String),
}

/// Every principal in a `Principal` element, or `None` when the element is
/// not in IAM's grammar.
pub fn principal_forms(principal: &Value) -> Option<BTreeSet<PrincipalForm>> {
    match principal {
        Value::String(s) if s == "*" => Some(BTreeSet::from([PrincipalForm::Everyone])),
        Value::Object(kinds) if !kinds.is_empty() => {
            let mut forms = BTreeSet::new();
            for (kind, values) in kinds {
                for value in strings(values)? {
                    forms.insert(classify(kind, value));
                }
            }
            Some(forms)
        }
        _ => None,
    }
}

fn classify(kind: &str, value: &str) -> PrincipalForm {
    if value == "*" {
        return PrincipalForm::Everyone;
    }
    match kind {
        "AWS" => {
            if let Some(id) = oai_id_of_arn(value) {
                PrincipalForm::OriginAccessIdentity(id.to_owned())
            } else if is_unique_id(value) {
                PrincipalForm::UniqueId(value.to_owned())
            } else {
                PrincipalForm::Other(format!("AWS:{value}"))
            }
        }
        "CanonicalUser" => PrincipalForm::CanonicalUser(value.to_ascii_lowercase()),
        "Service" => PrincipalForm::Service(value.to_ascii_lowercase()),
        _ => PrincipalForm::Other(format!("{kind}:{value}")),
    }
}

/// The OAI id in `arn:<partition>:iam::cloudfront:user/CloudFront Origin Access Identity <Id>`.
fn oai_id_of_arn(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let id = rest
        .strip_prefix("iam::cloudfront:")?
        .strip_prefix(OAI_USER_PREFIX)?;
    (!id.is_empty()).then_some(id)
}

/// IAM unique ids: a four-letter type prefix (`AIDA` user, `AROA` role, ...)
/// then upper-case letters and digits.
fn is_unique_id(value: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ASIA", "AGPA", "AKIA",
    ];
    value.len() >= 16
        && PREFIXES.iter().any(|p| value.starts_with(p))
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The principal this resource writes for `identity`.
pub fn principal_for(identity: &OriginIdentity, partition: &str) -> Value {
    match identity {
        OriginIdentity::Oai { id } => serde_json::json!({
            "AWS": format!("arn:{partition}:iam::cloudfront:{OAI_USER_PREFIX}{id}")
        }),
        OriginIdentity::Oac { .. } => serde_json::json!({ "Service": CLOUDFRONT_SERVICE }),
    }
}

/// Whether `principal` names exactly `identity` and nobody else.
///
/// S3 may read a principal back in another form than it was written in
/// (a `CanonicalUser` comes back as the OAI's ARN; a principal IAM cannot
/// resolve comes back as its unique id). Those forms cannot be mapped to an
/// OAI id without asking CloudFront, so they are accepted only when
/// `sid_pins_identity`: the statement's Sid carries the fingerprint of the
/// grant written for `identity`, so the statement is the one this resource
/// wrote for it, rendered by S3.
pub fn names_exactly(
    identity: &OriginIdentity,
    principal: &Value,
    sid_pins_identity: bool,
) -> bool {
    let Some(forms) = principal_forms(principal) else {
        return false;
    };
    let mut forms = forms.into_iter();
    let (Some(form), None) = (forms.next(), forms.next()) else {
        return false;
    };
    match (identity, form) {
        (OriginIdentity::Oai { id }, PrincipalForm::OriginAccessIdentity(read)) => *id == read,
        (
            OriginIdentity::Oai { .. },
            PrincipalForm::CanonicalUser(_) | PrincipalForm::UniqueId(_),
        ) => sid_pins_identity,
        (OriginIdentity::Oac { .. }, PrincipalForm::Service(service)) => {
            service == CLOUDFRONT_SERVICE
        }
        _ => false,
    }
}

/// Condition keys that, with a fixed value, make a grant to `*` non-public
/// (S3's definition of "public" for Block Public Access).
const FIXING_KEYS: [&str; 13] = [
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:userid",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// Whether an Allow statement makes the bucket public: it names everyone
/// (`*`, or everyone-but via `NotPrincipal`) and no condition pins the caller
/// to a fixed value. This follows S3's rule, except that it does not try to
/// tell "bad" actions apart: any public grant is reported.
pub fn is_public_grant(statement: &Map<String, Value>) -> bool {
    if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return false;
    }
    let names_everyone = statement.contains_key("NotPrincipal")
        || statement
            .get("Principal")
            .and_then(principal_forms)
            .is_some_and(|forms| forms.contains(&PrincipalForm::Everyone));
    names_everyone && !condition_fixes_the_caller(statement.get("Condition"))
}

fn condition_fixes_the_caller(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else {
        return false;
    };
    operators.iter().any(|(operator, keys)| {
        // Negations and IfExists pass callers the key does not describe;
        // ForAllValues passes an empty set.
        let fixes = !operator.contains("Not")
            && !operator.ends_with("IfExists")
            && !operator.starts_with("ForAllValues:")
            && operator != "Null";
        fixes
            && keys.as_object().is_some_and(|keys| {
                keys.iter().any(|(key, values)| {
                    FIXING_KEYS.contains(&key.to_ascii_lowercase().as_str())
                        && strings_or_scalars(values).is_some_and(|values| {
                            !values.is_empty()
                                && values.iter().all(|v| {
                                    !v.is_empty() && !v.contains(['*', '?']) && !v.contains("${")
                                })
                        })
                })
            })
    })
}

/// Which of the bucket (`arn:...:::b`) and its objects (`arn:...:::b/*`) a
/// statement denies to every caller over plain HTTP, and to nobody else.
/// A deny with further conditions or exceptions is narrower, so it does not
/// count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlsDenyCoverage {
    pub bucket: bool,
    pub objects: bool,
}

impl TlsDenyCoverage {
    pub fn complete(self) -> bool {
        self.bucket && self.objects
    }

    pub fn union(self, other: TlsDenyCoverage) -> TlsDenyCoverage {
        TlsDenyCoverage {
            bucket: self.bucket || other.bucket,
            objects: self.objects || other.objects,
        }
    }
}

pub fn tls_deny_coverage(statement: &Map<String, Value>, bucket_arn: &str) -> TlsDenyCoverage {
    let none = TlsDenyCoverage::default();
    let is_deny = statement.get("Effect").and_then(Value::as_str) == Some("Deny");
    let narrowing = ["NotPrincipal", "NotAction", "NotResource"]
        .iter()
        .any(|key| statement.contains_key(*key));
    if !is_deny || narrowing {
        return none;
    }
    let everyone = statement
        .get("Principal")
        .and_then(principal_forms)
        .is_some_and(|forms| forms.contains(&PrincipalForm::Everyone));
    let all_actions = statement
        .get("Action")
        .and_then(strings)
        .is_some_and(|actions| {
            actions
                .iter()
                .any(|a| a.eq_ignore_ascii_case("s3:*") || *a == "*")
        });
    if !everyone || !all_actions || !only_insecure_transport(statement.get("Condition")) {
        return none;
    }
    let resources = statement
        .get("Resource")
        .and_then(strings)
        .unwrap_or_default();
    let objects = format!("{bucket_arn}/*");
    TlsDenyCoverage {
        bucket: resources.contains(&bucket_arn),
        objects: resources.contains(&objects.as_str()),
    }
}

/// `{"Bool": {"aws:SecureTransport": "false"}}` and nothing else.
fn only_insecure_transport(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else {
        return false;
    };
    let mut operators = operators.iter();
    let (Some((operator, keys)), None) = (operators.next(), operators.next()) else {
        return false;
    };
    let Some(keys) = keys
        .as_object()
        .filter(|_| operator == "Bool" || operator == "BoolIfExists")
    else {
        return false;
    };
    let mut keys = keys.iter();
    let (Some((key, values)), None) = (keys.next(), keys.next()) else {
        return false;
    };
    key.eq_ignore_ascii_case("aws:SecureTransport")
        && strings_or_scalars(values).is_some_and(|values| {
            !values.is_empty() && values.iter().all(|v| v.eq_ignore_ascii_case("false"))
        })
}

/// Whether two statements grant or deny the same thing, however each is
/// spelled: a single string or a one-element list, any order, action and
/// condition-key case. `identity` compares the `Principal` through
/// [`names_exactly`] (the caller has matched the Sids, which pin it).
pub fn same_meaning(
    desired: &Map<String, Value>,
    observed: &Map<String, Value>,
    identity: Option<&OriginIdentity>,
) -> bool {
    let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
    if keys(desired) != keys(observed) {
        return false;
    }
    desired.iter().all(|(key, want)| {
        let Some(got) = observed.get(key) else {
            return false;
        };
        match key.as_str() {
            "Principal" | "NotPrincipal" => match identity {
                Some(identity) if key == "Principal" => names_exactly(identity, got, true),
                _ => {
                    principal_forms(want).is_some() && principal_forms(want) == principal_forms(got)
                }
            },
            "Action" | "NotAction" => {
                lowercase_set(want).is_some() && lowercase_set(want) == lowercase_set(got)
            }
            "Resource" | "NotResource" => {
                let set = |v| strings(v).map(|s| s.into_iter().collect::<BTreeSet<_>>());
                set(want).is_some() && set(want) == set(got)
            }
            "Condition" => {
                normal_condition(want).is_some() && normal_condition(want) == normal_condition(got)
            }
            _ => want == got,
        }
    })
}

fn lowercase_set(value: &Value) -> Option<BTreeSet<String>> {
    strings(value).map(|s| s.into_iter().map(str::to_ascii_lowercase).collect())
}

type NormalCondition = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// Operators as written (they are case-sensitive), keys lower-cased (they
/// are not), values as a set of strings (`false` and `"false"` alike).
fn normal_condition(condition: &Value) -> Option<NormalCondition> {
    condition
        .as_object()?
        .iter()
        .map(|(operator, keys)| {
            let keys = keys
                .as_object()?
                .iter()
                .map(|(key, values)| {
                    let values = strings_or_scalars(values)?.into_iter().collect();
                    Some((key.to_ascii_lowercase(), values))
                })
                .collect::<Option<BTreeMap<_, _>>>()?;
            Some((operator.clone(), keys))
        })
        .collect()
}

/// A string or a list of strings.
fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// A scalar or a list of scalars, each as the string IAM compares.
fn strings_or_scalars(value: &Value) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OAI_ID: &str = "E74FTE3AJFJ256A";
    const BUCKET_ARN: &str = "arn:aws:s3:::data-bucket";

    fn oai() -> OriginIdentity {
        OriginIdentity::Oai { id: OAI_ID.into() }
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn arn_canonical_user_and_unique_id_forms_of_the_oai_compare_equal() {
        let written = principal_for(&oai(), "aws");
        assert_eq!(
            written,
            json!({"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E74FTE3AJFJ256A"})
        );
        let read_backs = [
            written.clone(),
            json!({"AWS": ["arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E74FTE3AJFJ256A"]}),
            json!({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}),
            json!({"AWS": "AIDAJQABLZS4A3QDU576Q"}),
        ];
        for read_back in &read_backs {
            assert!(names_exactly(&oai(), read_back, true), "{read_back}");
        }
        // The ARN form is checked on its own; the other forms only under a
        // Sid that pins the identity.
        assert!(names_exactly(&oai(), &read_backs[1], false));
        assert!(!names_exactly(&oai(), &read_backs[2], false));
        assert!(!names_exactly(&oai(), &read_backs[3], false));
    }

    #[test]
    fn other_principals_never_compare_equal_to_the_identity() {
        for other in [
            json!({"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E000OTHER00000"}),
            json!({"AWS": "arn:aws:iam::123456789012:root"}),
            json!("*"),
            json!({"AWS": "*"}),
            json!({"AWS": ["arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E74FTE3AJFJ256A", "arn:aws:iam::123456789012:root"]}),
            json!({"Service": CLOUDFRONT_SERVICE}),
            json!({"AWS": 7}),
            json!({}),
        ] {
            assert!(!names_exactly(&oai(), &other, true), "{other}");
        }
        let oac = OriginIdentity::Oac {
            distribution_id: "EDFDVBD6EXAMPLE".into(),
        };
        assert!(names_exactly(
            &oac,
            &json!({"Service": "CloudFront.amazonaws.com"}),
            false
        ));
        assert!(names_exactly(
            &oac,
            &json!({"Service": ["cloudfront.amazonaws.com"]}),
            false
        ));
        assert!(!names_exactly(
            &oac,
            &json!({"Service": "s3.amazonaws.com"}),
            true
        ));
        assert!(!names_exactly(
            &oac,
            &json!({"CanonicalUser": "79a5"}),
            true
        ));
    }

    #[test]
    fn principals_in_other_partitions_keep_their_oai_id() {
        assert_eq!(
            principal_forms(
                &json!({"AWS": "arn:aws-cn:iam::cloudfront:user/CloudFront Origin Access Identity E1X"})
            ),
            Some(BTreeSet::from([PrincipalForm::OriginAccessIdentity(
                "E1X".into()
            )]))
        );
        assert_eq!(
            principal_forms(&json!(["*"])),
            None,
            "a list is not a principal"
        );
    }

    #[test]
    fn public_grants_are_detected_and_fixed_conditions_respected() {
        let public = [
            json!({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
            json!({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}),
            json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
            // Conditions that do not pin the caller.
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                   "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:cloudfront::*"}}}),
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                   "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}),
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                   "Condition": {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}}),
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                   "Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
        ];
        for statement in public {
            assert!(is_public_grant(&object(statement.clone())), "{statement}");
        }
        let private = [
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                   "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}),
            json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                   "Condition": {"IpAddress": {"AWS:SOURCEIP": ["192.0.2.0/24"]}}}),
            json!({"Effect": "Allow", "Principal": {"Service": CLOUDFRONT_SERVICE}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}),
        ];
        for statement in private {
            assert!(!is_public_grant(&object(statement.clone())), "{statement}");
        }
    }

    #[test]
    fn tls_denies_are_recognised_in_their_usual_spellings() {
        let full = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [BUCKET_ARN, format!("{BUCKET_ARN}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        assert!(tls_deny_coverage(&object(full), BUCKET_ARN).complete());
        let spelled = json!({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["S3:*"],
            "Resource": format!("{BUCKET_ARN}/*"),
            "Condition": {"Bool": {"AWS:SecureTransport": false}}});
        let objects_only = tls_deny_coverage(&object(spelled), BUCKET_ARN);
        assert_eq!(
            objects_only,
            TlsDenyCoverage {
                bucket: false,
                objects: true
            }
        );
        let bucket_only = json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": BUCKET_ARN,
            "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}});
        let bucket_only = tls_deny_coverage(&object(bucket_only), BUCKET_ARN);
        assert!(!bucket_only.complete());
        assert!(
            bucket_only.union(objects_only).complete(),
            "two statements can cover both"
        );
    }

    #[test]
    fn narrower_or_different_denies_are_not_tls_denies() {
        let base = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [BUCKET_ARN, format!("{BUCKET_ARN}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        let variants: [(&str, Value); 7] = [
            ("Effect", json!("Allow")),
            ("Principal", json!({"AWS": "arn:aws:iam::1:root"})),
            ("Action", json!("s3:GetObject")),
            (
                "Condition",
                json!({"Bool": {"aws:SecureTransport": "true"}}),
            ),
            (
                "Condition",
                json!({"Bool": {"aws:SecureTransport": "false"}, "IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
            ),
            (
                "Condition",
                json!({"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
            ),
            ("Resource", json!("arn:aws:s3:::other-bucket/*")),
        ];
        for (key, value) in variants {
            let mut statement = object(base.clone());
            statement.insert(key.into(), value.clone());
            assert_eq!(
                tls_deny_coverage(&statement, BUCKET_ARN),
                TlsDenyCoverage::default(),
                "{key}: {value}"
            );
        }
        let mut excepting = object(base);
        excepting.insert("NotPrincipal".into(), json!({"AWS": "arn:aws:iam::1:root"}));
        assert!(!tls_deny_coverage(&excepting, BUCKET_ARN).complete());
    }

    #[test]
    fn same_meaning_ignores_spelling_but_not_substance() {
        let desired = object(
            json!({"Sid": "S", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [BUCKET_ARN, format!("{BUCKET_ARN}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        );
        let respelled = object(
            json!({"Sid": "S", "Effect": "Deny", "Principal": {"AWS": ["*"]}, "Action": ["S3:*"],
            "Resource": [format!("{BUCKET_ARN}/*"), BUCKET_ARN],
            "Condition": {"Bool": {"AWS:SecureTransport": false}}}),
        );
        assert!(same_meaning(&desired, &respelled, None));
        let mut widened = respelled.clone();
        widened.insert("Resource".into(), json!(format!("{BUCKET_ARN}/*")));
        assert!(!same_meaning(&desired, &widened, None));
        let mut extra = respelled;
        extra.insert("NotAction".into(), json!("s3:GetObject"));
        assert!(!same_meaning(&desired, &extra, None));

        let grant = object(
            json!({"Sid": "G", "Effect": "Allow", "Principal": principal_for(&oai(), "aws"),
            "Action": "s3:GetObject", "Resource": format!("{BUCKET_ARN}/*")}),
        );
        let mut canonical = grant.clone();
        canonical.insert(
            "Principal".into(),
            json!({"CanonicalUser": "79a59df900b949e5"}),
        );
        assert!(same_meaning(&grant, &canonical, Some(&oai())));
        let mut public = grant.clone();
        public.insert("Principal".into(), json!("*"));
        assert!(!same_meaning(&grant, &public, Some(&oai())));
    }
}
