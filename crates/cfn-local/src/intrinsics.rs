//! CloudFormation's intrinsic functions, as far as the template uses them:
//! Ref (parameters, pseudo parameters, resources), Fn::GetAtt, Fn::Sub,
//! Fn::If with AWS::NoValue, Fn::Join, Fn::Select, Fn::Split, and the
//! condition functions Fn::Equals, Fn::Not, Fn::And, Fn::Or.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntrinsicError {
    #[error("unresolved reference `{0}`")]
    Unresolved(String),
    #[error("`{function}`: {problem}")]
    Malformed { function: String, problem: String },
    #[error("unknown condition `{0}`")]
    UnknownCondition(String),
}

fn malformed(function: &str, problem: &str) -> IntrinsicError {
    IntrinsicError::Malformed {
        function: function.to_owned(),
        problem: problem.to_owned(),
    }
}

/// What references resolve against.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Parameters and pseudo parameters (AWS::Region, AWS::StackName, ...).
    pub parameters: HashMap<String, String>,
    pub conditions: Map<String, Value>,
    /// Logical id → physical id, for resources made so far.
    pub physical_ids: HashMap<String, String>,
    /// Logical id → attribute → value.
    pub attributes: HashMap<String, BTreeMap<String, Value>>,
}

impl Context {
    /// Evaluate a named condition.
    pub fn condition(&self, name: &str) -> Result<bool, IntrinsicError> {
        let body = self
            .conditions
            .get(name)
            .ok_or_else(|| IntrinsicError::UnknownCondition(name.to_owned()))?;
        self.truth(body)
    }

    fn truth(&self, value: &Value) -> Result<bool, IntrinsicError> {
        if let Some(Value::String(name)) = value.get("Condition") {
            return self.condition(name);
        }
        let Some((function, args)) = single_key(value) else {
            return match value {
                Value::Bool(b) => Ok(*b),
                Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                _ => Err(malformed("condition", &format!("not a condition: {value}"))),
            };
        };
        let list = args
            .as_array()
            .ok_or_else(|| malformed(function, "expects a list"))?;
        match function {
            "Fn::Equals" => {
                let [left, right] = list.as_slice() else {
                    return Err(malformed(function, "expects two values"));
                };
                Ok(scalar_text(&self.required(left, function)?)
                    == scalar_text(&self.required(right, function)?))
            }
            "Fn::Not" => {
                let [inner] = list.as_slice() else {
                    return Err(malformed(function, "expects one condition"));
                };
                Ok(!self.truth(inner)?)
            }
            "Fn::And" => list
                .iter()
                .try_fold(true, |all, c| Ok(all && self.truth(c)?)),
            "Fn::Or" => list
                .iter()
                .try_fold(false, |any, c| Ok(any || self.truth(c)?)),
            other => Err(malformed(other, "not a condition function")),
        }
    }

    /// Resolve every intrinsic in `value`; `None` is AWS::NoValue (the key
    /// or list item is dropped).
    pub fn resolve(&self, value: &Value) -> Result<Option<Value>, IntrinsicError> {
        match value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(resolved) = self.resolve(item)? {
                        out.push(resolved);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            Value::Object(map) => {
                if let Some((function, args)) = single_key(value) {
                    if function == "Ref" || function.starts_with("Fn::") {
                        return self.function(function, args);
                    }
                }
                let mut out = Map::new();
                for (key, inner) in map {
                    if let Some(resolved) = self.resolve(inner)? {
                        out.insert(key.clone(), resolved);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    fn required(&self, value: &Value, function: &str) -> Result<Value, IntrinsicError> {
        self.resolve(value)?
            .ok_or_else(|| malformed(function, "AWS::NoValue where a value is needed"))
    }

    fn function(&self, function: &str, args: &Value) -> Result<Option<Value>, IntrinsicError> {
        match function {
            "Ref" => {
                let name = args
                    .as_str()
                    .ok_or_else(|| malformed("Ref", "expects a name"))?;
                if name == "AWS::NoValue" {
                    return Ok(None);
                }
                self.reference(name).map(|s| Some(Value::String(s)))
            }
            "Fn::GetAtt" => {
                let (name, attribute) = match args {
                    Value::Array(parts) => match parts.as_slice() {
                        [Value::String(n), Value::String(a)] => (n.clone(), a.clone()),
                        _ => return Err(malformed(function, "expects [name, attribute]")),
                    },
                    Value::String(dotted) => match dotted.split_once('.') {
                        Some((n, a)) => (n.to_owned(), a.to_owned()),
                        None => return Err(malformed(function, "expects name.attribute")),
                    },
                    _ => return Err(malformed(function, "expects [name, attribute]")),
                };
                self.attribute(&name, &attribute).map(Some)
            }
            "Fn::Sub" => {
                let (text, locals) = match args {
                    Value::String(text) => (text.clone(), Map::new()),
                    Value::Array(parts) => match parts.as_slice() {
                        [Value::String(text), Value::Object(vars)] => (text.clone(), vars.clone()),
                        _ => return Err(malformed(function, "expects text or [text, map]")),
                    },
                    _ => return Err(malformed(function, "expects text or [text, map]")),
                };
                let mut locals_resolved = HashMap::new();
                for (key, inner) in &locals {
                    locals_resolved
                        .insert(key.clone(), scalar_text(&self.required(inner, function)?));
                }
                self.substitute(&text, &locals_resolved)
                    .map(|s| Some(Value::String(s)))
            }
            "Fn::If" => {
                let list = args.as_array().map(Vec::as_slice).unwrap_or_default();
                let [Value::String(condition), then, otherwise] = list else {
                    return Err(malformed(function, "expects [condition, then, else]"));
                };
                if self.condition(condition)? {
                    self.resolve(then)
                } else {
                    self.resolve(otherwise)
                }
            }
            "Fn::Join" => {
                let list = args.as_array().map(Vec::as_slice).unwrap_or_default();
                let [Value::String(separator), items] = list else {
                    return Err(malformed(function, "expects [separator, list]"));
                };
                let items = self.required(items, function)?;
                let parts: Vec<String> = items
                    .as_array()
                    .ok_or_else(|| malformed(function, "second argument is not a list"))?
                    .iter()
                    .map(scalar_text)
                    .collect();
                Ok(Some(Value::String(parts.join(separator))))
            }
            "Fn::Select" => {
                let list = args.as_array().map(Vec::as_slice).unwrap_or_default();
                let [index, items] = list else {
                    return Err(malformed(function, "expects [index, list]"));
                };
                let index: usize = scalar_text(&self.required(index, function)?)
                    .parse()
                    .map_err(|_| malformed(function, "index is not a number"))?;
                let items = self.required(items, function)?;
                items
                    .as_array()
                    .and_then(|items| items.get(index))
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| malformed(function, "index out of range"))
            }
            "Fn::Split" => {
                let list = args.as_array().map(Vec::as_slice).unwrap_or_default();
                let [Value::String(separator), text] = list else {
                    return Err(malformed(function, "expects [separator, text]"));
                };
                let text = scalar_text(&self.required(text, function)?);
                Ok(Some(Value::Array(
                    text.split(separator.as_str())
                        .map(|part| Value::String(part.to_owned()))
                        .collect(),
                )))
            }
            other => Err(malformed(other, "not supported by the local engine")),
        }
    }

    fn reference(&self, name: &str) -> Result<String, IntrinsicError> {
        self.parameters
            .get(name)
            .or_else(|| self.physical_ids.get(name))
            .cloned()
            .ok_or_else(|| IntrinsicError::Unresolved(name.to_owned()))
    }

    fn attribute(&self, name: &str, attribute: &str) -> Result<Value, IntrinsicError> {
        self.attributes
            .get(name)
            .and_then(|attributes| attributes.get(attribute))
            .cloned()
            .ok_or_else(|| IntrinsicError::Unresolved(format!("{name}.{attribute}")))
    }

    fn substitute(
        &self,
        text: &str,
        locals: &HashMap<String, String>,
    ) -> Result<String, IntrinsicError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| malformed("Fn::Sub", "unclosed ${"))?;
            let variable = &after[..end];
            if let Some(literal) = variable.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = locals.get(variable) {
                out.push_str(value);
            } else if let Some((name, attribute)) = variable
                .split_once('.')
                .filter(|(name, _)| !name.starts_with("AWS::"))
            {
                out.push_str(&scalar_text(&self.attribute(name, attribute)?));
            } else {
                out.push_str(&self.reference(variable)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// The `${...}` names in an Fn::Sub string, literals (`${!x}`) excluded.
pub fn sub_variables(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let variable = &after[..end];
        if !variable.starts_with('!') && !variable.starts_with("AWS::") {
            names.push(variable.to_owned());
        }
        rest = &after[end + 1..];
    }
    names
}

fn single_key(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    map.iter().next().map(|(k, v)| (k.as_str(), v))
}

/// A scalar as CloudFormation prints it into a string.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Context {
        let mut context = Context::default();
        for (k, v) in [
            ("Mode", "OAC"),
            ("Days", "0"),
            ("AWS::StackName", "s"),
            (
                "AWS::StackId",
                "arn:aws:cloudformation:us-east-1:1:stack/s/uuid-1",
            ),
        ] {
            context.parameters.insert(k.into(), v.into());
        }
        context.conditions = json!({
            "UseOac": {"Fn::Equals": [{"Ref": "Mode"}, "OAC"]},
            "InYears": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Days"}, "0"]}]},
            "Both": {"Fn::And": [{"Condition": "UseOac"}, {"Fn::Or": [{"Condition": "InYears"}, true]}]}
        })
        .as_object()
        .cloned()
        .unwrap();
        context.physical_ids.insert("Bucket".into(), "b-1".into());
        context.attributes.insert(
            "Bucket".into(),
            [("Arn".to_owned(), json!("arn:aws:s3:::b-1"))].into(),
        );
        context
    }

    #[test]
    fn conditions_evaluate() {
        let c = context();
        assert!(c.condition("UseOac").unwrap());
        assert!(!c.condition("InYears").unwrap());
        assert!(c.condition("Both").unwrap());
        assert!(c.condition("Nope").is_err());
    }

    #[test]
    fn functions_resolve_and_novalue_drops() {
        let c = context();
        let value = json!({
            "Name": {"Fn::Join": ["-", ["vf", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]]},
            "Arn": {"Fn::Sub": "${Bucket.Arn}/* in ${AWS::StackName} ${!Literal} ${X}", },
            "Days": {"Fn::If": ["InYears", 1, {"Ref": "AWS::NoValue"}]},
            "List": [{"Fn::If": ["UseOac", "a", {"Ref": "AWS::NoValue"}]}, {"Fn::If": ["InYears", "b", {"Ref": "AWS::NoValue"}]}],
            "Att": {"Fn::GetAtt": ["Bucket", "Arn"]}
        });
        let err = c.resolve(&value).unwrap_err();
        assert_eq!(err, IntrinsicError::Unresolved("X".into()));
        let mut value = value;
        value["Arn"] = json!({"Fn::Sub": ["${Bucket.Arn}/* in ${AWS::StackName} ${!Literal} ${X}", {"X": {"Ref": "Bucket"}}]});
        assert_eq!(
            c.resolve(&value).unwrap().unwrap(),
            json!({"Name": "vf-uuid-1", "Arn": "arn:aws:s3:::b-1/* in s ${Literal} b-1", "List": ["a"], "Att": "arn:aws:s3:::b-1"})
        );
    }
}
