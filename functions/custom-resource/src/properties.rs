//! Typed properties from `ResourceProperties`, with errors that name the
//! property, the value it got and what was expected.
//!
//! CloudFormation turns every scalar into a string (`90` arrives as `"90"`,
//! `true` as `"true"`); the `number` and `boolean` deserializers accept both
//! forms. Lists and maps keep their shape.

use serde::de::{self, DeserializeOwned, Deserializer, Unexpected, Visitor};
use serde_json::Value;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

/// Keys CloudFormation adds to `ResourceProperties` that are not the resource's own.
const PROTOCOL_KEYS: [&str; 2] = ["ServiceToken", "ServiceTimeout"];

#[derive(Debug, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct PropertyError {
    what: String,
    detail: String,
}

/// Parse `ResourceProperties` (or `OldResourceProperties`) into `P`.
pub fn parse<P: DeserializeOwned>(properties: &Value, field: &str) -> Result<P, PropertyError> {
    parse_at(properties, field).map_err(|(err, _)| err)
}

/// Parse a Delete's properties into `P`, leniently: CloudFormation sends a
/// Delete with the properties the resource was made with, perhaps by an
/// older handler, and removing it must not fail over its contract. An
/// unknown property, or one whose value no longer parses, is dropped (an
/// optional one then takes its default) and named in the returned list; so
/// is an optional map that lacks a key it now requires. Only a required
/// top-level property that is missing (or unreadable) still fails.
pub fn parse_for_delete<P: DeserializeOwned>(
    properties: &Value,
    field: &str,
) -> Result<(P, Vec<String>), PropertyError> {
    let mut properties = properties.clone();
    let mut dropped = Vec::new();
    loop {
        match parse_at(&properties, field) {
            Ok(parsed) => return Ok((parsed, dropped)),
            // An unknown or unreadable value is at `path`; a missing one is
            // reported at its parent, which is dropped in turn (an optional
            // parent then defaults) until the top, where it is final.
            Err((err, path)) => {
                if !remove_at(&mut properties, &path) {
                    return Err(err);
                }
                dropped.push(err.to_string());
            }
        }
    }
}

/// Where in the properties an error is: map keys and list indexes.
enum Step {
    Key(String),
    Index(usize),
}

fn parse_at<P: DeserializeOwned>(
    properties: &Value,
    field: &str,
) -> Result<P, (PropertyError, Vec<Step>)> {
    let mut properties = properties.clone();
    match properties.as_object_mut() {
        Some(map) => PROTOCOL_KEYS.iter().for_each(|key| {
            map.remove(*key);
        }),
        None => {
            let err = PropertyError {
                what: field.to_owned(),
                detail: format!("expected a map of properties, got {properties}"),
            };
            return Err((err, Vec::new()));
        }
    }
    serde_path_to_error::deserialize(properties).map_err(|err| {
        let path = err.path().to_string();
        let steps = err
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(Step::Key(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(Step::Index(*index)),
                _ => None,
            })
            .collect();
        let detail = err.inner().to_string();
        let what = if path == "." {
            field.to_owned()
        } else {
            format!("{field}.{path}")
        };
        let err = PropertyError {
            what,
            detail: detail
                .replace("missing field", "missing required property")
                .replace("unknown field", "unknown property"),
        };
        (err, steps)
    })
}

/// Remove the value at `path`; false when there is none.
fn remove_at(value: &mut Value, path: &[Step]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut node = value;
    for step in parents {
        let next = match (step, node) {
            (Step::Key(key), Value::Object(map)) => map.get_mut(key),
            (Step::Index(index), Value::Array(items)) => items.get_mut(*index),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    match (last, node) {
        (Step::Key(key), Value::Object(map)) => map.remove(key).is_some(),
        (Step::Index(index), Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
            true
        }
        _ => false,
    }
}

/// Deserialize a number from `90` or `"90"`.
pub fn number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
{
    deserializer.deserialize_any(Lenient::<T>::new("a whole number, like 90 or \"90\""))
}

/// Deserialize a boolean from `true`, `"true"`, `false` or `"false"` (any case).
pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    deserializer.deserialize_any(Lenient::<bool>::new(
        "true or false (or \"true\"/\"false\")",
    ))
}

/// [`number`] for an optional property (`#[serde(default, deserialize_with = ...)]`).
pub fn optional_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
{
    number(deserializer).map(Some)
}

/// [`boolean`] for an optional property (`#[serde(default, deserialize_with = ...)]`).
pub fn optional_boolean<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    boolean(deserializer).map(Some)
}

struct Lenient<T> {
    expecting: &'static str,
    target: PhantomData<T>,
}

impl<T> Lenient<T> {
    fn new(expecting: &'static str) -> Self {
        Lenient {
            expecting,
            target: PhantomData,
        }
    }
}

impl<T: FromStr> Lenient<T> {
    fn parse_text<E: de::Error>(&self, text: &str, unexpected: Unexpected<'_>) -> Result<T, E> {
        let trimmed = text.trim();
        let parsed =
            if trimmed.eq_ignore_ascii_case("true") || trimmed.eq_ignore_ascii_case("false") {
                trimmed.to_ascii_lowercase().parse()
            } else {
                trimmed.parse()
            };
        parsed.map_err(|_| E::invalid_value(unexpected, self))
    }
}

impl<T: FromStr> Visitor<'_> for Lenient<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        self.parse_text(v, Unexpected::Str(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.parse_text(&v.to_string(), Unexpected::Unsigned(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.parse_text(&v.to_string(), Unexpected::Signed(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.parse_text(&v.to_string(), Unexpected::Float(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        self.parse_text(if v { "true" } else { "false" }, Unexpected::Bool(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase", deny_unknown_fields)]
    struct Props {
        name: String,
        #[serde(deserialize_with = "number")]
        days: u32,
        #[serde(default, deserialize_with = "optional_boolean")]
        enforce: Option<bool>,
        #[serde(default)]
        methods: Vec<String>,
    }

    fn parse_props(value: Value) -> Result<Props, String> {
        parse::<Props>(&value, "ResourceProperties").map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_stringified_and_native_scalars() {
        for (days, enforce) in [
            (json!("90"), json!("true")),
            (json!(90), json!(true)),
            (json!(" 90 "), json!("TRUE")),
        ] {
            let props = parse_props(json!({
                "ServiceToken": "arn:aws:lambda:...", "ServiceTimeout": "300",
                "Name": "n", "Days": days, "Enforce": enforce, "Methods": ["GET"]
            }))
            .unwrap();
            assert_eq!(
                props,
                Props {
                    name: "n".into(),
                    days: 90,
                    enforce: Some(true),
                    methods: vec!["GET".into()]
                }
            );
        }
        assert_eq!(
            parse_props(json!({"Name": "n", "Days": "1"}))
                .unwrap()
                .enforce,
            None
        );
    }

    #[test]
    fn errors_name_the_property_the_value_and_the_expectation() {
        let err = parse_props(json!({"Name": "n", "Days": "ninety"})).unwrap_err();
        assert!(err.contains("ResourceProperties.Days"), "{err}");
        assert!(err.contains("\"ninety\""), "{err}");
        assert!(err.contains("whole number"), "{err}");

        let err = parse_props(json!({"Name": "n", "Days": "-3"})).unwrap_err();
        assert!(err.contains("Days") && err.contains("\"-3\""), "{err}");

        let err = parse_props(json!({"Days": "1"})).unwrap_err();
        assert!(err.contains("missing required property `Name`"), "{err}");

        let err = parse_props(json!({"Name": "n", "Days": "1", "Dayz": "2"})).unwrap_err();
        assert!(err.contains("unknown property `Dayz`"), "{err}");

        let err = parse_props(json!({"Name": "n", "Days": "1", "Enforce": "yes"})).unwrap_err();
        assert!(
            err.contains("ResourceProperties.Enforce") && err.contains("\"yes\""),
            "{err}"
        );

        let err = parse_props(json!("x")).unwrap_err();
        assert!(err.contains("expected a map of properties"), "{err}");
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase", deny_unknown_fields)]
    struct Outer {
        name: String,
        #[serde(default)]
        limits: Option<Props>,
    }

    #[test]
    fn a_delete_drops_an_optional_map_that_lacks_what_it_now_requires() {
        let (outer, dropped) = parse_for_delete::<Outer>(
            &json!({"Name": "n", "Limits": {"Old": "shape"}}),
            "ResourceProperties",
        )
        .unwrap();
        assert_eq!(
            outer,
            Outer {
                name: "n".into(),
                limits: None
            }
        );
        assert_eq!(dropped.len(), 2, "{dropped:?}");
    }

    #[test]
    fn a_delete_drops_what_no_longer_parses_and_keeps_the_rest() {
        let (props, dropped) = parse_for_delete::<Props>(
            &json!({"ServiceToken": "arn", "Name": "n", "Days": "1", "Legacy": "x",
                    "Enforce": "yes", "Methods": ["GET"]}),
            "ResourceProperties",
        )
        .unwrap();
        assert_eq!(
            props,
            Props {
                name: "n".into(),
                days: 1,
                enforce: None,
                methods: vec!["GET".into()]
            }
        );
        assert_eq!(dropped.len(), 2, "{dropped:?}");
        assert!(dropped.iter().any(|d| d.contains("Legacy")), "{dropped:?}");
        assert!(dropped.iter().any(|d| d.contains("Enforce")), "{dropped:?}");

        let err = parse_for_delete::<Props>(&json!({"Days": "1", "Old": 1}), "ResourceProperties")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing required property `Name`"), "{err}");
        let err =
            parse_for_delete::<Props>(&json!({"Name": "n", "Days": "x"}), "ResourceProperties")
                .unwrap_err()
                .to_string();
        assert!(err.contains("missing required property `Days`"), "{err}");
    }
}
