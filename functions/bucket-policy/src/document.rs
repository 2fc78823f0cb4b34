//! A bucket policy document as text: parsed enough to find its statements,
//! and written back with every statement this resource does not own kept
//! exactly as S3 returned it, byte for byte.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;

/// The policy language version written when the bucket has no policy yet.
pub const POLICY_VERSION: &str = "2012-10-17";
/// S3's limit on the size of a bucket policy.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// Why an existing policy cannot be merged into.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedPolicy {
    #[error("it is not JSON ({0})")]
    NotJson(String),
    #[error("it is not a JSON object")]
    NotAnObject,
    #[error("it has `{0}` more than once")]
    DuplicateMember(String),
    #[error("it has no `Statement`")]
    NoStatement,
    #[error("its `Statement` is neither a list nor an object")]
    StatementNotAList,
    #[error("statement {index} is not a JSON object")]
    StatementNotAnObject { index: usize },
    #[error("statement {index} has a `Sid` that is not a string")]
    SidNotAString { index: usize },
}

/// One statement: its text as read, and the parsed object for inspection.
#[derive(Debug, Clone)]
pub struct Statement {
    raw: Box<RawValue>,
    pub body: Map<String, Value>,
}

impl Statement {
    /// A statement from its text (the statements this resource writes are
    /// serialised by their own types, in the element order IAM documents).
    pub fn from_text(text: String) -> Result<Statement, MalformedPolicy> {
        let raw =
            RawValue::from_string(text).map_err(|err| MalformedPolicy::NotJson(err.to_string()))?;
        match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Object(body)) => Ok(Statement { raw, body }),
            _ => Err(MalformedPolicy::StatementNotAnObject { index: 1 }),
        }
    }

    pub fn sid(&self) -> Option<&str> {
        self.body.get("Sid").and_then(Value::as_str)
    }

    /// The statement's text as it will be written.
    pub fn text(&self) -> &str {
        self.raw.get()
    }

    /// A short, human label for messages: the Sid, else the position.
    pub fn label(&self, index: usize) -> String {
        match self.sid() {
            Some(sid) => format!("Sid `{sid}`"),
            None => format!("statement {} (no Sid)", index + 1),
        }
    }
}

/// A parsed policy document.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    /// Top-level members other than `Statement` (`Version`, `Id`, ...), raw, in order.
    members: Vec<(String, Box<RawValue>)>,
    /// Where `Statement` stood among the members, to write it back there.
    statement_at: usize,
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// The document for a bucket that has no policy yet.
    pub fn empty() -> PolicyDocument {
        // A JSON string literal is always a valid raw value.
        let members = RawValue::from_string(json_string(POLICY_VERSION))
            .map(|version| vec![("Version".to_owned(), version)])
            .unwrap_or_default();
        PolicyDocument {
            statement_at: members.len(),
            members,
            statements: Vec::new(),
        }
    }

    pub fn parse(text: &str) -> Result<PolicyDocument, MalformedPolicy> {
        let members: OrderedMembers = serde_json::from_str(text).map_err(|err| {
            if err.is_data() {
                MalformedPolicy::NotAnObject
            } else {
                MalformedPolicy::NotJson(err.to_string())
            }
        })?;
        let mut kept = Vec::new();
        let mut statement = None;
        for (name, value) in members.0 {
            if kept.iter().any(|(seen, _)| *seen == name)
                || (name == "Statement" && statement.is_some())
            {
                return Err(MalformedPolicy::DuplicateMember(name));
            }
            if name == "Statement" {
                statement = Some((kept.len(), value));
            } else {
                kept.push((name, value));
            }
        }
        let (statement_at, statement) = statement.ok_or(MalformedPolicy::NoStatement)?;
        let raws: Vec<Box<RawValue>> = match statement.get().trim_start().as_bytes().first() {
            Some(b'[') => serde_json::from_str(statement.get())
                .map_err(|_| MalformedPolicy::StatementNotAList)?,
            // A single statement may stand on its own; it is written back in a list.
            Some(b'{') => vec![statement],
            _ => return Err(MalformedPolicy::StatementNotAList),
        };
        let statements = raws
            .into_iter()
            .enumerate()
            .map(|(index, raw)| {
                let body = match serde_json::from_str::<Value>(raw.get()) {
                    Ok(Value::Object(body)) => body,
                    _ => return Err(MalformedPolicy::StatementNotAnObject { index: index + 1 }),
                };
                if body.get("Sid").is_some_and(|sid| !sid.is_string()) {
                    return Err(MalformedPolicy::SidNotAString { index: index + 1 });
                }
                Ok(Statement { raw, body })
            })
            .collect::<Result<_, _>>()?;
        Ok(PolicyDocument {
            members: kept,
            statement_at,
            statements,
        })
    }

    /// The document as text: members as read, statements in order.
    pub fn render(&self) -> String {
        let statements = self
            .statements
            .iter()
            .map(Statement::text)
            .collect::<Vec<_>>()
            .join(",");
        let mut parts: Vec<String> = self
            .members
            .iter()
            .map(|(name, value)| format!("{}:{}", json_string(name), value.get()))
            .collect();
        let at = self.statement_at.min(parts.len());
        parts.insert(at, format!("\"Statement\":[{statements}]"));
        format!("{{{}}}", parts.join(","))
    }
}

fn json_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// A JSON object's members in document order, values unparsed.
struct OrderedMembers(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for OrderedMembers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = OrderedMembers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedMembers, A::Error> {
                let mut members = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push((name, value));
                }
                Ok(OrderedMembers(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOREIGN: &str = r#"{ "Version":"2012-10-17", "Id" : "keep-me",
  "Statement": [
    {"Sid": "AllowAnalytics", "Effect":"Allow", "Principal": {"AWS":"arn:aws:iam::111122223333:role/analytics"},
     "Action":["s3:GetObject"], "Resource":"arn:aws:s3:::data-bucket/reports/*"},
    {"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::data-bucket/*","Condition":{"NumericLessThan":{"s3:TlsVersion":1.20}}}
  ]
}"#;

    #[test]
    fn keeps_statements_and_members_byte_for_byte() {
        let document = PolicyDocument::parse(FOREIGN).unwrap();
        assert_eq!(document.statements.len(), 2);
        assert_eq!(document.statements[0].sid(), Some("AllowAnalytics"));
        assert_eq!(document.statements[1].sid(), None);
        let rendered = document.render();
        for original in [
            r#"{"Sid": "AllowAnalytics", "Effect":"Allow", "Principal": {"AWS":"arn:aws:iam::111122223333:role/analytics"},
     "Action":["s3:GetObject"], "Resource":"arn:aws:s3:::data-bucket/reports/*"}"#,
            // `1.20` would become `1.2` through a parsed value.
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::data-bucket/*","Condition":{"NumericLessThan":{"s3:TlsVersion":1.20}}}"#,
        ] {
            assert!(rendered.contains(original), "{rendered}");
        }
        assert!(rendered.starts_with(r#"{"Version":"2012-10-17","Id":"keep-me","Statement":["#));
        // The rendering is itself a stable fixed point.
        assert_eq!(PolicyDocument::parse(&rendered).unwrap().render(), rendered);
    }

    #[test]
    fn a_single_statement_object_is_accepted_and_member_order_kept() {
        let text = r#"{"Statement":{"Sid":"A","Effect":"Allow"},"Version":"2008-10-17"}"#;
        let document = PolicyDocument::parse(text).unwrap();
        assert_eq!(document.statements.len(), 1);
        assert_eq!(
            document.render(),
            r#"{"Statement":[{"Sid":"A","Effect":"Allow"}],"Version":"2008-10-17"}"#
        );
    }

    #[test]
    fn malformed_documents_are_refused_with_the_reason() {
        type Expect = fn(&MalformedPolicy) -> bool;
        let cases: [(&str, Expect); 7] = [
            ("not json", |e| matches!(e, MalformedPolicy::NotJson(_))),
            ("[1]", |e| *e == MalformedPolicy::NotAnObject),
            (r#"{"Version":"2012-10-17"}"#, |e| {
                *e == MalformedPolicy::NoStatement
            }),
            (r#"{"Statement":"x"}"#, |e| {
                *e == MalformedPolicy::StatementNotAList
            }),
            (r#"{"Statement":[{"Sid":"a"}, 3]}"#, |e| {
                *e == MalformedPolicy::StatementNotAnObject { index: 2 }
            }),
            (r#"{"Statement":[{"Sid":7}]}"#, |e| {
                *e == MalformedPolicy::SidNotAString { index: 1 }
            }),
            (r#"{"Statement":[],"Statement":[]}"#, |e| {
                *e == MalformedPolicy::DuplicateMember("Statement".into())
            }),
        ];
        for (text, expected) in cases {
            let err = PolicyDocument::parse(text).unwrap_err();
            assert!(expected(&err), "{text}: {err:?}");
        }
    }

    #[test]
    fn an_empty_document_renders_a_versioned_policy() {
        let mut document = PolicyDocument::empty();
        let mine = Statement::from_text(r#"{"Sid":"Mine","Effect":"Allow"}"#.into()).unwrap();
        assert_eq!(mine.sid(), Some("Mine"));
        document.statements.push(mine);
        assert_eq!(
            document.render(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Mine","Effect":"Allow"}]}"#
        );
    }
}
