//! The template and the handlers agree: every `Custom::` resource in
//! `infra/template.yaml` passes properties that its handler's own property
//! type accepts and validates, in CloudFormation's stringified form, for the
//! default parameters and for each alternative a user can choose; and every
//! `Fn::GetAtt` on a custom resource names an attribute its handler returns.
//!
//! The template is read with the SAM CLI's own YAML loader (it knows the
//! short-form intrinsics), then evaluated by the local engine's own
//! intrinsics (cfn-local), every resource standing in with an id and
//! attributes in the shapes the handlers check.

use cfn_local::intrinsics::{scalar_text, Context};
use custom_resource::properties::parse;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::process::Command;
use vaultfront_tests::process::{tools_dir, workspace_root};
use vaultfront_tests::stringify;

/// Stand-ins for what CloudFormation returns, in the shapes the handlers check.
fn physical_id(resource_type: &str, logical_id: &str) -> String {
    match resource_type {
        "AWS::S3::Bucket" => format!("vaultfront-{}-1a2b3c", logical_id.to_lowercase()),
        "AWS::CloudFront::Distribution" => "E2QWRUHAPOMQZL".to_owned(),
        "AWS::CloudFront::CloudFrontOriginAccessIdentity" => "E74FTE3AJFJ256A".to_owned(),
        "AWS::ApiGateway::RestApi" => "a1b2c3d4e5".to_owned(),
        _ => format!("{logical_id}-PHYSICAL"),
    }
}

fn attribute(resource_type: &str, logical_id: &str, name: &str) -> Value {
    json!(match (resource_type, name) {
        ("AWS::IAM::Role", "Arn") =>
            format!("arn:aws:iam::123456789012:role/vaultfront-{logical_id}"),
        // The stream's name is made from the stack id (Fn::Select of
        // Fn::Split), which is not evaluated here; cfn-guard checks its prefix.
        ("AWS::KinesisFirehose::DeliveryStream", "Arn") => format!(
            "arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-vf-{}",
            "1a2b3c4d-0000-1111-2222-333344445555"
        ),
        ("AWS::Logs::LogGroup", "Arn") =>
            format!("arn:aws:logs:us-east-1:123456789012:log-group:{logical_id}:*"),
        (_, "Arn") => format!("arn:aws:lambda:us-east-1:123456789012:function:{logical_id}"),
        _ => format!("{logical_id}.{name}"),
    })
}

/// The template as the local engine reads it, every resource standing in
/// with a physical id and the attributes the template reads from it.
struct Template {
    doc: Value,
    template: cfn_local::template::Template,
    context: Context,
}

impl Template {
    fn load(overrides: &[(&str, &str)]) -> Template {
        let python = tools_dir().join("venv/bin/python");
        let script = "import json, sys\nfrom samtranslator.yaml_helper import yaml_parse\n\
                      json.dump(yaml_parse(open(sys.argv[1]).read()), sys.stdout)";
        let output = Command::new(&python)
            .args(["-c", script])
            .arg(workspace_root().join("infra/template.yaml"))
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}; run scripts/setup", python.display()));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let doc: Value = serde_json::from_slice(&output.stdout).expect("the template as JSON");
        let mut parameters: BTreeMap<String, String> = doc["Parameters"]
            .as_object()
            .expect("Parameters")
            .iter()
            .map(|(name, p)| (name.clone(), scalar_text(&p["Default"])))
            .collect();
        for (name, value) in overrides {
            assert!(parameters.contains_key(*name), "no parameter {name}");
            parameters.insert((*name).to_owned(), (*value).to_owned());
        }
        let template = cfn_local::template::Template::from_json(&doc).expect("the template");
        let mut context = Context::for_stack(
            "vaultfront",
            cfn_local::custom::event::STACK_ID,
            parameters,
            template.conditions.clone(),
        );
        for (logical_id, resource) in &template.resources {
            context
                .physical_ids
                .insert(logical_id.clone(), physical_id(&resource.kind, logical_id));
            let attributes = attributes_used(&doc, logical_id)
                .into_iter()
                .map(|name| {
                    let value = attribute(&resource.kind, logical_id, &name);
                    (name, value)
                })
                .collect();
            context.attributes.insert(logical_id.clone(), attributes);
        }
        Template {
            doc,
            template,
            context,
        }
    }

    fn resources(&self) -> &Map<String, Value> {
        self.doc["Resources"].as_object().expect("Resources")
    }

    /// Each custom resource's type and properties as CloudFormation sends
    /// them, for those its condition keeps.
    fn custom_resources(&self) -> Vec<(String, String, Value)> {
        self.template
            .resources
            .values()
            .filter(|r| r.is_custom())
            .filter(|r| {
                r.condition
                    .as_ref()
                    .is_none_or(|c| self.context.condition(c).expect("a condition"))
            })
            .map(|r| {
                let properties = self
                    .context
                    .resolve(&r.properties)
                    .unwrap_or_else(|e| panic!("{}: {e}", r.logical_id))
                    .unwrap_or_default();
                (r.logical_id.clone(), r.kind.clone(), stringify(&properties))
            })
            .collect()
    }
}

/// Parse and validate with the handler's own types; the error names the property.
fn accepts(resource_type: &str, properties: &Value) -> Result<(), String> {
    let field = "ResourceProperties";
    match resource_type {
        "Custom::OriginBucketPolicy" => {
            parse::<bucket_policy::properties::Properties>(properties, field)
                .map_err(|e| e.to_string())?
                .validate()
                .map(drop)
                .map_err(|e| e.to_string())
        }
        "Custom::ObjectLock" => parse::<object_lock::properties::Properties>(properties, field)
            .map_err(|e| e.to_string())?
            .validate()
            .map(drop)
            .map_err(|e| e.to_string()),
        "Custom::S3ProxyApi" => parse::<s3_proxy_api::properties::Properties>(properties, field)
            .map_err(|e| e.to_string())?
            .validate()
            .map(drop)
            .map_err(|e| e.to_string()),
        other => Err(format!("no handler knows {other}")),
    }
}

#[test]
fn every_custom_resource_is_accepted_by_its_handler_for_every_choice() {
    let choices: [&[(&str, &str)]; 7] = [
        &[],
        &[("OriginAccess", "OAI")],
        &[
            ("RetentionMode", "COMPLIANCE"),
            ("RetentionDays", "0"),
            ("RetentionYears", "7"),
        ],
        &[
            ("ApiMethods", "GET,HEAD,PUT,DELETE"),
            ("AllowRetentionReduction", "true"),
        ],
        &[("ApiMethods", "GET,HEAD,PUT"), ("ApiStageName", "prod")],
        &[("PriceClass", "PriceClass_All"), ("CdnAccessLogs", "false")],
        &[("ApiExecutionLogging", "ERROR")],
    ];
    for overrides in choices {
        let template = Template::load(overrides);
        let customs = template.custom_resources();
        let types: Vec<&str> = customs.iter().map(|(_, t, _)| t.as_str()).collect();
        for expected in [
            "Custom::OriginBucketPolicy",
            "Custom::ObjectLock",
            "Custom::S3ProxyApi",
        ] {
            assert!(
                types.contains(&expected),
                "{overrides:?}: the template has no {expected}"
            );
        }
        for (logical_id, resource_type, properties) in &customs {
            assert!(
                properties.get("ServiceTimeout").is_some(),
                "{logical_id}: every custom resource needs a ServiceTimeout"
            );
            if let Err(reason) = accepts(resource_type, properties) {
                panic!("{overrides:?}: {logical_id} ({resource_type}) is refused by its handler: {reason}\n{properties:#}");
            }
            if resource_type == "Custom::S3ProxyApi" {
                let spec = parse::<s3_proxy_api::properties::Properties>(properties, "p")
                    .expect("parsed above")
                    .validate()
                    .expect("accepted above");
                assert!(
                    spec.access_log.is_some(),
                    "{overrides:?}: {logical_id}: the API stage logs access whatever is chosen"
                );
                let wanted = overrides.contains(&("ApiExecutionLogging", "ERROR"));
                assert_eq!(
                    spec.execution_log_level == s3_proxy_api::logging::LogLevel::Error,
                    wanted,
                    "{overrides:?}: {logical_id}: execution logging follows ApiExecutionLogging"
                );
            }
        }
    }
}

#[test]
fn the_origin_policy_expects_every_statement_of_the_native_policy_on_its_bucket() {
    // A read of the bucket policy that lacks one of these is taken as stale;
    // a native statement missing from the list could be dropped by a merge.
    let template = Template::load(&[]);
    let resources = template.resources();
    let mut checked = 0;
    for (logical_id, origin) in resources {
        if origin["Type"] != "Custom::OriginBucketPolicy" {
            continue;
        }
        let bucket = &origin["Properties"]["BucketName"];
        let expected: Vec<&str> = origin["Properties"]["ExpectedSids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for (native_id, native) in resources {
            if native["Type"] != "AWS::S3::BucketPolicy"
                || &native["Properties"]["Bucket"] != bucket
            {
                continue;
            }
            for statement in native["Properties"]["PolicyDocument"]["Statement"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let sid = statement["Sid"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{native_id}: every statement needs a Sid"));
                assert!(
                    expected.contains(&sid),
                    "{logical_id}: ExpectedSids lacks {sid} of {native_id}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 2, "the TLS statements were not found");
}

#[test]
fn a_property_the_handler_does_not_know_is_caught() {
    // The check above could only pass vacuously if `accepts` accepted anything.
    let template = Template::load(&[]);
    let (_, resource_type, mut properties) = template.custom_resources().remove(0);
    properties["Colour"] = json!("red");
    let reason = accepts(&resource_type, &properties).expect_err("an unknown property");
    assert!(reason.contains("Colour"), "{reason}");
}

#[test]
fn every_get_att_on_a_custom_resource_is_an_attribute_its_handler_returns() {
    // The attributes each handler puts in `Data` on success (see its crate).
    let returns: BTreeMap<&str, &[&str]> = BTreeMap::from([
        (
            "Custom::OriginBucketPolicy",
            &[
                "Sids",
                "GrantSid",
                "TlsDenySid",
                "Principal",
                "SourceArn",
                "Mode",
            ][..],
        ),
        (
            "Custom::ObjectLock",
            &[
                "BucketName",
                "Mode",
                "Days",
                "Years",
                "RetentionPeriod",
                "EnabledVersioning",
            ][..],
        ),
        (
            "Custom::S3ProxyApi",
            &["InvokeUrl", "DeploymentId", "ExecuteApiArn"][..],
        ),
    ]);
    let template = Template::load(&[]);
    let text = template.doc.to_string();
    let mut checked = 0;
    for (logical_id, resource) in template.resources() {
        let Some(data) = returns.get(resource["Type"].as_str().unwrap_or_default()) else {
            continue;
        };
        for attribute in attributes_used(&template.doc, logical_id) {
            assert!(
                data.contains(&attribute.as_str()),
                "Fn::GetAtt {logical_id}.{attribute}: the handler returns {data:?}"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 0 || !text.contains("GetAtt"),
        "no Fn::GetAtt on a custom resource was found to check"
    );
}

/// Attributes of `logical_id` used through Fn::GetAtt anywhere in `value`.
fn attributes_used(value: &Value, logical_id: &str) -> Vec<String> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, v)| {
                let mut found = if key == "Fn::GetAtt" {
                    match v {
                        Value::Array(parts) if scalar_text(&parts[0]) == logical_id => {
                            vec![scalar_text(&parts[1])]
                        }
                        Value::String(s) => s
                            .split_once('.')
                            .filter(|(l, _)| *l == logical_id)
                            .map(|(_, a)| vec![a.to_owned()])
                            .unwrap_or_default(),
                        _ => Vec::new(),
                    }
                } else {
                    Vec::new()
                };
                found.extend(attributes_used(v, logical_id));
                found
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .flat_map(|v| attributes_used(v, logical_id))
            .collect(),
        Value::String(s) => {
            // Fn::Sub strings: ${Logical.Attribute}
            let prefix = format!("${{{logical_id}.");
            s.match_indices(&prefix)
                .filter_map(|(at, _)| {
                    s[at + prefix.len()..]
                        .split_once('}')
                        .map(|(a, _)| a.to_owned())
                })
                .collect()
        }
        _ => Vec::new(),
    }
}
