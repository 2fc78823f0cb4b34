//! The bucket policy, judged: who it allows, and whether the TLS-only deny
//! covers the bucket and its objects. Pure functions over the document.

use serde_json::Value;

/// The one principal the stack's origin may be, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `cloudfront.amazonaws.com` with `AWS:SourceArn` = this distribution.
    Oac { distribution_arn: String },
    /// This origin access identity's IAM ARN.
    Oai { identity_arn: String },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Oac { distribution_arn } => {
                write!(
                    f,
                    "cloudfront.amazonaws.com with AWS:SourceArn {distribution_arn}"
                )
            }
            Origin::Oai { identity_arn } => write!(f, "{identity_arn}"),
        }
    }
}

fn list(value: Option<&Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    list(value)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn statements(policy: &Value) -> Vec<Value> {
    list(policy.get("Statement"))
}

fn label(statement: &Value, index: usize) -> String {
    statement
        .get("Sid")
        .and_then(Value::as_str)
        .map(|sid| format!("Sid {sid}"))
        .unwrap_or_else(|| format!("statement #{}", index + 1))
}

/// Allow statements that grant anything but the stack's origin, each
/// described; empty when the policy grants only the origin.
pub fn foreign_grants(policy: &Value, origin: &Origin) -> (usize, Vec<String>) {
    let mut ours = 0;
    let mut foreign = Vec::new();
    for (index, statement) in statements(policy).iter().enumerate() {
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let principal = statement.get("Principal").cloned().unwrap_or(Value::Null);
        let is_ours = match origin {
            Origin::Oac { distribution_arn } => {
                strings(principal.get("Service")) == ["cloudfront.amazonaws.com"]
                    && principal.as_object().is_some_and(|p| p.len() == 1)
                    && statement
                        .pointer("/Condition/StringEquals/AWS:SourceArn")
                        .map(|v| strings(Some(v)))
                        .is_some_and(|arns| arns == [distribution_arn.clone()])
            }
            Origin::Oai { identity_arn } => {
                // S3 may read the principal back as a canonical user or an
                // ARN; either naming this identity is ours.
                let aws = strings(principal.get("AWS"));
                !aws.is_empty() && aws.iter().all(|a| a == identity_arn)
            }
        };
        if is_ours {
            ours += 1;
        } else {
            foreign.push(format!("{} allows {}", label(statement, index), principal));
        }
    }
    (ours, foreign)
}

/// Deny statements that are not the TLS deny, listed as evidence.
pub fn foreign_denies(policy: &Value) -> Vec<String> {
    statements(policy)
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.get("Effect").and_then(Value::as_str) == Some("Deny") && !is_tls_deny_shape(s)
        })
        .map(|(i, s)| label(s, i))
        .collect()
}

fn is_tls_deny_shape(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Deny")
        && statement
            .pointer("/Condition/Bool/aws:SecureTransport")
            .and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_bool().map(|b| b.to_string()))
            })
            .as_deref()
            == Some("false")
}

/// Is there a deny of `s3:*` to everyone without TLS, on `bucket_arn` and `bucket_arn/*`?
pub fn tls_deny(policy: &Value, bucket_arn: &str) -> Result<String, String> {
    let objects = format!("{bucket_arn}/*");
    for (index, statement) in statements(policy).iter().enumerate() {
        if !is_tls_deny_shape(statement) {
            continue;
        }
        let everyone = match statement.get("Principal") {
            Some(Value::String(p)) => p == "*",
            Some(p) => strings(p.get("AWS")) == ["*"],
            None => false,
        };
        let actions = strings(statement.get("Action"));
        let resources = strings(statement.get("Resource"));
        if everyone
            && actions.iter().any(|a| a == "s3:*" || a == "*")
            && resources.iter().any(|r| r == bucket_arn)
            && resources.contains(&objects)
        {
            return Ok(format!(
                "{}: Deny s3:* to * when aws:SecureTransport=false on the bucket and /*",
                label(statement, index)
            ));
        }
    }
    Err(format!("no Deny of s3:* to * with aws:SecureTransport=false covering both {bucket_arn} and {objects}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DIST: &str = "arn:aws:cloudfront::123456789012:distribution/E1";

    fn policy(extra: Value) -> Value {
        let mut statements = vec![
            json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                   "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
            json!({"Sid": "Cdn", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                   "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"AWS:SourceArn": DIST}}}),
        ];
        if !extra.is_null() {
            statements.push(extra);
        }
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn only_the_distribution_is_granted() {
        let origin = Origin::Oac {
            distribution_arn: DIST.into(),
        };
        assert_eq!(foreign_grants(&policy(Value::Null), &origin), (1, vec![]));
        let public = json!({"Sid": "Oops", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        let (ours, foreign) = foreign_grants(&policy(public), &origin);
        assert_eq!(ours, 1);
        assert_eq!(foreign, ["Sid Oops allows \"*\""]);
        let other = Origin::Oac {
            distribution_arn: "arn:aws:cloudfront::123456789012:distribution/E2".into(),
        };
        assert_eq!(foreign_grants(&policy(Value::Null), &other).0, 0);
    }

    #[test]
    fn tls_deny_must_cover_bucket_and_objects() {
        assert!(tls_deny(&policy(Value::Null), "arn:aws:s3:::b").is_ok());
        let mut half = policy(Value::Null);
        half["Statement"][0]["Resource"] = json!("arn:aws:s3:::b/*");
        assert!(tls_deny(&half, "arn:aws:s3:::b").is_err());
        assert!(
            foreign_denies(&policy(
                json!({"Sid": "X", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::b"})
            )) == ["Sid X"]
        );
    }
}
