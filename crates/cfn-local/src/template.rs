//! The transformed template (CloudFormation JSON from `sam_to_cfn.py`): its
//! resources, conditions and outputs, and the dependency order between the
//! resources that exist under the current conditions.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::Error;

#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    pub properties: Value,
    pub depends_on: Vec<String>,
    pub condition: Option<String>,
    pub deletion_policy: Option<String>,
    pub metadata: Value,
}

impl Resource {
    /// `DeletionPolicy: Retain` (CloudFormation keeps it on delete and on rollback).
    pub fn retained(&self) -> bool {
        self.deletion_policy.as_deref() == Some("Retain")
    }

    pub fn is_custom(&self) -> bool {
        self.kind.starts_with("Custom::") || self.kind == "AWS::CloudFormation::CustomResource"
    }
}

#[derive(Debug, Clone)]
pub struct Template {
    pub resources: BTreeMap<String, Resource>,
    pub conditions: Map<String, Value>,
    pub outputs: Map<String, Value>,
}

impl Template {
    /// No resources: what destroy drives the engine with.
    pub fn empty() -> Template {
        Template {
            resources: BTreeMap::new(),
            conditions: Map::new(),
            outputs: Map::new(),
        }
    }

    pub fn from_json(json: &Value) -> Result<Template, Error> {
        let bad = |what: &str| Error::Template(what.to_owned());
        let resources_json = json
            .get("Resources")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("no Resources map"))?;
        let mut resources = BTreeMap::new();
        for (id, body) in resources_json {
            let kind = body
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("resource {id} has no Type")))?;
            let depends_on = match body.get("DependsOn") {
                Some(Value::String(one)) => vec![one.clone()],
                Some(Value::Array(many)) => many
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            };
            resources.insert(
                id.clone(),
                Resource {
                    logical_id: id.clone(),
                    kind: kind.to_owned(),
                    properties: body.get("Properties").cloned().unwrap_or(Value::Null),
                    depends_on,
                    condition: body
                        .get("Condition")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    deletion_policy: body
                        .get("DeletionPolicy")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    metadata: body.get("Metadata").cloned().unwrap_or(Value::Null),
                },
            );
        }
        let map = |key: &str| {
            json.get(key)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        Ok(Template {
            resources,
            conditions: map("Conditions"),
            outputs: map("Outputs"),
        })
    }

    /// The resources that exist (their Condition holds), dependencies first.
    /// Ties break by logical id, so the order is the same on every run.
    pub fn creation_order(
        &self,
        exists: &dyn Fn(&Resource) -> bool,
    ) -> Result<Vec<&Resource>, Error> {
        let present: BTreeMap<&str, &Resource> = self
            .resources
            .values()
            .filter(|r| exists(r))
            .map(|r| (r.logical_id.as_str(), r))
            .collect();
        let mut deps: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (id, resource) in &present {
            let mut names = BTreeSet::new();
            references(&resource.properties, &mut names);
            names.extend(resource.depends_on.iter().cloned());
            // A reference to a resource whose condition is false can only sit
            // in the branch of an Fn::If that is not taken: no ordering.
            names.retain(|name| present.contains_key(name.as_str()) && name != id);
            deps.insert(id, names);
        }
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut order = Vec::new();
        while order.len() < present.len() {
            let ready: Vec<&str> = deps
                .iter()
                .filter(|(id, needs)| {
                    !done.contains(**id) && needs.iter().all(|n| done.contains(n))
                })
                .map(|(id, _)| *id)
                .collect();
            if ready.is_empty() {
                let stuck: Vec<&str> = deps
                    .keys()
                    .filter(|id| !done.contains(**id))
                    .copied()
                    .collect();
                return Err(Error::Template(format!(
                    "circular dependency between {}",
                    stuck.join(", ")
                )));
            }
            for id in ready {
                done.insert(id.to_owned());
                if let Some(resource) = present.get(id) {
                    order.push(*resource);
                }
            }
        }
        Ok(order)
    }
}

/// Every logical name a value refers to through Ref, Fn::GetAtt or Fn::Sub.
pub fn references(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(name)) = map.get("Ref") {
                names.insert(name.clone());
            }
            match map.get("Fn::GetAtt") {
                Some(Value::Array(parts)) => {
                    if let Some(Value::String(name)) = parts.first() {
                        names.insert(name.clone());
                    }
                }
                Some(Value::String(dotted)) => {
                    if let Some((name, _)) = dotted.split_once('.') {
                        names.insert(name.to_owned());
                    }
                }
                _ => {}
            }
            let sub = match map.get("Fn::Sub") {
                Some(Value::String(text)) => Some(text.as_str()),
                Some(Value::Array(parts)) => parts.first().and_then(Value::as_str),
                _ => None,
            };
            if let Some(text) = sub {
                for variable in crate::intrinsics::sub_variables(text) {
                    let name = variable.split('.').next().unwrap_or_default();
                    names.insert(name.to_owned());
                }
            }
            for inner in map.values() {
                references(inner, names);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn orders_by_ref_getatt_sub_and_depends_on() {
        let template = Template::from_json(&json!({"Resources": {
            "A": {"Type": "T", "Properties": {"X": {"Fn::Sub": "${B.Arn}/*"}}},
            "B": {"Type": "T", "DependsOn": "C"},
            "C": {"Type": "T", "Properties": {"Y": {"Fn::GetAtt": ["D", "Id"]}}},
            "D": {"Type": "T", "Properties": {"Z": {"Ref": "AWS::Region"}}},
            "E": {"Type": "T", "Condition": "Off", "Properties": {"Z": {"Ref": "A"}}}
        }}))
        .unwrap();
        let order: Vec<&str> = template
            .creation_order(&|r| r.condition.is_none())
            .unwrap()
            .iter()
            .map(|r| r.logical_id.as_str())
            .collect();
        assert_eq!(order, ["D", "C", "B", "A"]);
    }

    #[test]
    fn a_cycle_is_named() {
        let template = Template::from_json(&json!({"Resources": {
            "A": {"Type": "T", "Properties": {"X": {"Ref": "B"}}},
            "B": {"Type": "T", "Properties": {"X": {"Ref": "A"}}}
        }}))
        .unwrap();
        let err = template.creation_order(&|_| true).unwrap_err();
        assert!(err.to_string().contains("A, B"), "{err}");
    }
}
