//! The input contract of `Custom::S3ProxyApi`: the raw properties as
//! CloudFormation sends them, and their validation into a [`Spec`] whose
//! every field is known to be well formed. Errors name the property, the
//! value and the fix; they become the FAILED response's `Reason`.

use crate::logging::{self, AccessLog, LogLevel};
use custom_resource::properties::{number, optional_boolean};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;

/// `ResourceProperties`, as CloudFormation sends them (scalars as strings).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Properties {
    /// The `AWS::ApiGateway::RestApi` this resource fills; the template owns the API itself.
    pub rest_api_id: String,
    pub bucket_name: String,
    /// The role API Gateway assumes to call S3 (scoped to the bucket by the template).
    pub role_arn: String,
    pub stage_name: String,
    /// Subset of GET, HEAD, PUT, DELETE; GET and HEAD when absent.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Keys are served under this prefix of the bucket (ends with `/`).
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// `AWS_IAM` (default) or `NONE`.
    #[serde(default)]
    pub authorization: Option<String>,
    /// Must be `true` for `Authorization: NONE`: anyone on the internet could then call the API.
    #[serde(default, deserialize_with = "optional_boolean")]
    pub acknowledge_unauthenticated_access: Option<bool>,
    /// Only `AWS` is accepted. The property exists so that a template carried
    /// over from the original design, which asked for `AWS_PROXY`, fails with
    /// the reason instead of silently getting something else.
    #[serde(default)]
    pub integration_type: Option<String>,
    /// The stage's default method throttling (`*/*`).
    #[serde(default)]
    pub throttling: Option<ThrottlingProperties>,
    /// The stage's access log (`accessLogSettings`); none when absent.
    #[serde(default)]
    pub access_logging: Option<AccessLoggingProperties>,
    /// Execution logging of every method: `OFF` (default) or `ERROR`.
    #[serde(default)]
    pub execution_log_level: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AccessLoggingProperties {
    /// A Firehose stream named `amazon-apigateway-*`, or a log group.
    pub destination_arn: String,
    /// One line of `$context` variables; [`crate::logging::DEFAULT_FORMAT`] when absent.
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ThrottlingProperties {
    /// Steady-state requests per second.
    #[serde(deserialize_with = "number")]
    pub rate_limit: f64,
    /// Requests allowed in a burst.
    #[serde(deserialize_with = "number")]
    pub burst_limit: i32,
}

/// An HTTP verb the proxy can serve, in the order the document lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Get,
    Head,
    Put,
    Delete,
    /// Never asked for: rendered with PUT, for S3's multipart create and
    /// complete (`POST ?uploads`, `POST ?uploadId=`).
    Post,
}

impl Verb {
    /// The verbs `Methods` may list.
    pub const ALL: [Verb; 4] = [Verb::Get, Verb::Head, Verb::Put, Verb::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Head => "HEAD",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
            Verb::Post => "POST",
        }
    }

    /// The OpenAPI operation key (`get`, `head`, ...).
    pub fn operation_key(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Head => "head",
            Verb::Put => "put",
            Verb::Delete => "delete",
            Verb::Post => "post",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization {
    AwsIam,
    None,
}

impl Authorization {
    /// The value API Gateway reports in a method's `authorizationType`.
    pub fn as_str(self) -> &'static str {
        match self {
            Authorization::AwsIam => "AWS_IAM",
            Authorization::None => "NONE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttling {
    pub rate_limit: f64,
    pub burst_limit: i32,
}

/// Validated properties: what the resource must make.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub rest_api_id: String,
    pub bucket: String,
    pub role_arn: String,
    pub stage: String,
    /// Non-empty, without duplicates, in [`Verb::ALL`] order.
    pub verbs: BTreeSet<Verb>,
    /// Empty, or ends with `/`.
    pub key_prefix: String,
    pub authorization: Authorization,
    pub throttling: Option<Throttling>,
    pub access_log: Option<AccessLog>,
    pub execution_log_level: LogLevel,
}

/// A property that is present but wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("ResourceProperties.{field}: {problem}")]
pub struct InvalidProperty {
    pub field: &'static str,
    pub problem: String,
}

fn invalid(field: &'static str, problem: impl Into<String>) -> InvalidProperty {
    InvalidProperty {
        field,
        problem: problem.into(),
    }
}

impl Properties {
    pub fn validate(&self) -> Result<Spec, InvalidProperty> {
        if let Some(kind) = &self.integration_type {
            if kind != "AWS" {
                return Err(invalid(
                    "IntegrationType",
                    format!(
                        "{kind:?} is not supported; only \"AWS\" is. API Gateway cannot front S3 with \
                         AWS_PROXY (that is for Lambda); an S3 proxy needs a non-proxy AWS integration, \
                         which this resource renders. Remove the property or set it to \"AWS\""
                    ),
                ));
            }
        }
        let authorization = match self.authorization.as_deref() {
            None | Some("AWS_IAM") => Authorization::AwsIam,
            Some("NONE") if self.acknowledge_unauthenticated_access == Some(true) => {
                Authorization::None
            }
            Some("NONE") => {
                return Err(invalid(
                    "Authorization",
                    "\"NONE\" lets anyone on the internet call the API (and reach the bucket through its \
                     role); set AcknowledgeUnauthenticatedAccess: true to confirm, or use \"AWS_IAM\"",
                ))
            }
            Some(other) => {
                return Err(invalid(
                    "Authorization",
                    format!("{other:?} is not supported; use \"AWS_IAM\" (default) or \"NONE\""),
                ))
            }
        };
        Ok(Spec {
            rest_api_id: check_rest_api_id(&self.rest_api_id)?,
            bucket: check_bucket_name(&self.bucket_name)?,
            role_arn: check_role_arn(&self.role_arn)?,
            stage: check_stage_name(&self.stage_name)?,
            verbs: check_methods(self.methods.as_deref())?,
            key_prefix: check_key_prefix(self.key_prefix.as_deref())?,
            authorization,
            throttling: self.throttling.as_ref().map(check_throttling).transpose()?,
            access_log: self
                .access_logging
                .as_ref()
                .map(check_access_logging)
                .transpose()?,
            execution_log_level: check_log_level(self.execution_log_level.as_deref())?,
        })
    }
}

/// API Gateway REST API ids are 10 lower-case letters and digits.
fn check_rest_api_id(id: &str) -> Result<String, InvalidProperty> {
    let ok = id.len() == 10
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    ok.then(|| id.to_owned()).ok_or_else(|| {
        invalid(
            "RestApiId",
            format!(
                "{id:?} is not a REST API id (10 lower-case letters and digits, like \"a1b2c3d4e5\"); \
                 pass !Ref of the AWS::ApiGateway::RestApi"
            ),
        )
    })
}

fn check_bucket_name(name: &str) -> Result<String, InvalidProperty> {
    match custom_resource::bucket_name::problem(name) {
        None => Ok(name.to_owned()),
        Some(problem) => Err(invalid(
            "BucketName",
            format!("{name:?} is not a valid S3 bucket name: {problem}"),
        )),
    }
}

/// `arn:<partition>:iam::<account>:role/<optional/path/>name`.
fn check_role_arn(arn: &str) -> Result<String, InvalidProperty> {
    let well_formed = (|| {
        let rest = arn.strip_prefix("arn:")?;
        let (partition, rest) = rest.split_once(':')?;
        let rest = rest.strip_prefix("iam::")?;
        let (account, resource) = rest.split_once(':')?;
        let path_and_name = resource.strip_prefix("role/")?;
        let name = path_and_name.rsplit('/').next()?;
        let name_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
        let ok = partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && (1..=64).contains(&name.len())
            && path_and_name
                .split('/')
                .all(|part| !part.is_empty() && part.chars().all(name_char));
        ok.then_some(())
    })();
    well_formed.map(|()| arn.to_owned()).ok_or_else(|| {
        invalid(
            "RoleArn",
            format!(
                "{arn:?} is not an IAM role ARN (arn:aws:iam::123456789012:role/name); \
                 pass !GetAtt <Role>.Arn of the API's S3 role"
            ),
        )
    })
}

/// Stage names: letters, digits, hyphens and underscores, at most 128.
fn check_stage_name(name: &str) -> Result<String, InvalidProperty> {
    if name.is_empty() {
        return Err(invalid(
            "StageName",
            "is empty; name the stage to deploy to, like \"v1\"",
        ));
    }
    let ok = name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| name.to_owned()).ok_or_else(|| {
        invalid(
            "StageName",
            format!(
                "{name:?} may hold only letters, digits, hyphens and underscores (at most 128)"
            ),
        )
    })
}

fn check_methods(methods: Option<&[String]>) -> Result<BTreeSet<Verb>, InvalidProperty> {
    let Some(methods) = methods else {
        return Ok([Verb::Get, Verb::Head].into());
    };
    if methods.is_empty() {
        return Err(invalid(
            "Methods",
            "is empty; list at least one of GET, HEAD, PUT, DELETE (or leave it out for GET and HEAD)",
        ));
    }
    methods
        .iter()
        .map(|method| {
            let upper = method.trim().to_ascii_uppercase();
            Verb::ALL
                .into_iter()
                .find(|verb| verb.as_str() == upper)
                .ok_or_else(|| {
                    let why = if upper == "ANY" {
                        "ANY is not allowed: each verb needs its own S3 integration whose HTTP method \
                         equals it, so list the verbs you need"
                            .to_owned()
                    } else {
                        format!("{method:?} is not a verb this proxy serves")
                    };
                    invalid(
                        "Methods",
                        format!("{why}; choose from GET, HEAD, PUT, DELETE"),
                    )
                })
        })
        .collect()
}

/// An S3 key prefix that can sit in the integration URI as it is: no
/// characters that need URL-encoding or that API Gateway reads as a template.
fn check_key_prefix(prefix: Option<&str>) -> Result<String, InvalidProperty> {
    let Some(prefix) = prefix.filter(|p| !p.is_empty()) else {
        return Ok(String::new());
    };
    let safe = |c: char| c.is_ascii_alphanumeric() || "!-_.*'()/".contains(c);
    let problem = if prefix.len() > 512 {
        Some("is longer than 512 characters")
    } else if !prefix.chars().all(safe) {
        Some("may hold only letters, digits, / and !-_.*'()")
    } else if prefix.starts_with('/') {
        Some("must not start with / (keys have no leading slash)")
    } else if !prefix.ends_with('/') {
        Some("must end with / (like \"datasets/\")")
    } else if prefix
        .trim_end_matches('/')
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        Some("must not have empty, . or .. segments")
    } else {
        None
    };
    match problem {
        None => Ok(prefix.to_owned()),
        Some(problem) => Err(invalid("KeyPrefix", format!("{prefix:?} {problem}"))),
    }
}

fn check_throttling(throttling: &ThrottlingProperties) -> Result<Throttling, InvalidProperty> {
    if !throttling.rate_limit.is_finite() || throttling.rate_limit < 0.0 {
        return Err(invalid(
            "Throttling.RateLimit",
            format!(
                "{} must be a number of requests per second, 0 or more",
                throttling.rate_limit
            ),
        ));
    }
    if throttling.burst_limit < 0 {
        return Err(invalid(
            "Throttling.BurstLimit",
            format!(
                "{} must be a number of requests, 0 or more",
                throttling.burst_limit
            ),
        ));
    }
    Ok(Throttling {
        rate_limit: throttling.rate_limit,
        burst_limit: throttling.burst_limit,
    })
}

fn check_access_logging(access: &AccessLoggingProperties) -> Result<AccessLog, InvalidProperty> {
    let destination_arn = logging::normalise_destination(access.destination_arn.trim());
    if let Some(problem) = logging::destination_problem(&destination_arn) {
        return Err(invalid("AccessLogging.DestinationArn", problem));
    }
    let format = match access.format.as_deref().map(str::trim) {
        None | Some("") => logging::DEFAULT_FORMAT.to_owned(),
        Some(format) => format.to_owned(),
    };
    if format.contains(['\n', '\r']) {
        return Err(invalid(
            "AccessLogging.Format",
            "spans several lines; API Gateway writes one line per request, so write the format on one line",
        ));
    }
    let missing = logging::missing_fields(&format);
    if !missing.is_empty() {
        return Err(invalid(
            "AccessLogging.Format",
            format!(
                "lacks {}: every line must say who asked for what and what came back; add them, or \
                 leave Format out for the built-in JSON format",
                missing.join(", ")
            ),
        ));
    }
    Ok(AccessLog {
        destination_arn,
        format,
    })
}

fn check_log_level(level: Option<&str>) -> Result<LogLevel, InvalidProperty> {
    match level.map(str::trim) {
        None | Some("") => Ok(LogLevel::Off),
        Some(level) if level.eq_ignore_ascii_case("OFF") => Ok(LogLevel::Off),
        Some(level) if level.eq_ignore_ascii_case("ERROR") => Ok(LogLevel::Error),
        Some(other) => Err(invalid(
            "ExecutionLogLevel",
            format!(
                "{other:?} is not supported; use \"OFF\" (default) or \"ERROR\" (INFO would log \
                 request details an audit does not need; the access log records every request)"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn base() -> Value {
        json!({
            "RestApiId": "a1b2c3d4e5",
            "BucketName": "vault-data",
            "RoleArn": "arn:aws:iam::123456789012:role/vault/api-s3",
            "StageName": "v1"
        })
    }

    fn spec(changes: Value) -> Result<Spec, String> {
        let mut value = base();
        for (key, change) in changes.as_object().cloned().unwrap_or_default() {
            value[key] = change;
        }
        let properties: Properties =
            custom_resource::properties::parse(&value, "ResourceProperties")
                .map_err(|e| e.to_string())?;
        properties.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_get_and_head_with_iam() {
        let spec = spec(json!({})).unwrap();
        assert_eq!(spec.verbs, [Verb::Get, Verb::Head].into());
        assert_eq!(spec.authorization, Authorization::AwsIam);
        assert_eq!(spec.key_prefix, "");
        assert_eq!(spec.throttling, None);
        assert_eq!(spec.access_log, None);
        assert_eq!(spec.execution_log_level, LogLevel::Off);
    }

    #[test]
    fn access_logging_takes_a_destination_and_defaults_the_format() {
        let spec = spec(json!({
            "AccessLogging": {"DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:api:*"},
            "ExecutionLogLevel": "error"
        }))
        .unwrap();
        assert_eq!(
            spec.access_log,
            Some(AccessLog {
                destination_arn: "arn:aws:logs:us-east-1:123456789012:log-group:api".into(),
                format: logging::DEFAULT_FORMAT.into(),
            })
        );
        assert_eq!(spec.execution_log_level, LogLevel::Error);
    }

    #[test]
    fn accepts_cloudformation_shapes() {
        let spec = spec(json!({
            "Methods": ["put", "GET", "GET", "Delete"],
            "KeyPrefix": "datasets/v1/",
            "Throttling": {"RateLimit": "12.5", "BurstLimit": "20"},
            "IntegrationType": "AWS"
        }))
        .unwrap();
        assert_eq!(spec.verbs, [Verb::Get, Verb::Put, Verb::Delete].into());
        assert_eq!(spec.key_prefix, "datasets/v1/");
        assert_eq!(
            spec.throttling,
            Some(Throttling {
                rate_limit: 12.5,
                burst_limit: 20
            })
        );
    }

    #[test]
    fn bad_input_fails_naming_the_field() {
        let cases = [
            (
                json!({"IntegrationType": "AWS_PROXY"}),
                "IntegrationType",
                "AWS_PROXY",
            ),
            (
                json!({"Methods": ["GET", "ANY"]}),
                "Methods",
                "ANY is not allowed",
            ),
            (json!({"Methods": ["GET", "POST"]}), "Methods", "\"POST\""),
            (json!({"Methods": []}), "Methods", "is empty"),
            (json!({"StageName": ""}), "StageName", "is empty"),
            (json!({"StageName": "v 1"}), "StageName", "\"v 1\""),
            (
                json!({"RoleArn": "arn:aws:iam::123456789012:user/bob"}),
                "RoleArn",
                "not an IAM role ARN",
            ),
            (
                json!({"RoleArn": "api-s3"}),
                "RoleArn",
                "not an IAM role ARN",
            ),
            (
                json!({"RestApiId": "My-Api"}),
                "RestApiId",
                "not a REST API id",
            ),
            (
                json!({"RestApiId": "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5"}),
                "RestApiId",
                "not a REST API id",
            ),
            (
                json!({"BucketName": "Vault_Data"}),
                "BucketName",
                "lower-case letters",
            ),
            (json!({"BucketName": "ab"}), "BucketName", "3 to 63"),
            (
                json!({"BucketName": "192.168.1.1"}),
                "BucketName",
                "IP address",
            ),
            (json!({"BucketName": "a..b"}), "BucketName", "dot next to"),
            (json!({"BucketName": "-abc"}), "BucketName", "begin and end"),
            (
                json!({"KeyPrefix": "/data/"}),
                "KeyPrefix",
                "must not start with /",
            ),
            (json!({"KeyPrefix": "data"}), "KeyPrefix", "must end with /"),
            (json!({"KeyPrefix": "a/../b/"}), "KeyPrefix", ".. segments"),
            (
                json!({"KeyPrefix": "{proxy}/"}),
                "KeyPrefix",
                "may hold only",
            ),
            (
                json!({"Authorization": "NONE"}),
                "Authorization",
                "AcknowledgeUnauthenticatedAccess",
            ),
            (
                json!({"Authorization": "COGNITO_USER_POOLS"}),
                "Authorization",
                "not supported",
            ),
            (
                json!({"Throttling": {"RateLimit": "-1", "BurstLimit": "1"}}),
                "Throttling.RateLimit",
                "0 or more",
            ),
            (
                json!({"Throttling": {"RateLimit": "1", "BurstLimit": "-1"}}),
                "Throttling.BurstLimit",
                "0 or more",
            ),
            (
                json!({"Throttling": {"RateLimit": "1"}}),
                "Throttling",
                "BurstLimit",
            ),
            (
                json!({"AccessLogging": {"DestinationArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/logs"}}),
                "AccessLogging.DestinationArn",
                "amazon-apigateway-",
            ),
            (
                json!({"AccessLogging": {
                    "DestinationArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-x",
                    "Format": "$context.requestId $context.status"
                }}),
                "AccessLogging.Format",
                "$context.identity.userArn",
            ),
            (
                json!({"AccessLogging": {"Format": "$context.requestId"}}),
                "ResourceProperties",
                "DestinationArn",
            ),
            (
                json!({"ExecutionLogLevel": "INFO"}),
                "ExecutionLogLevel",
                "not supported",
            ),
            (
                json!({"Colour": "red"}),
                "ResourceProperties",
                "unknown property `Colour`",
            ),
        ];
        for (change, field, detail) in cases {
            let err = spec(change.clone()).expect_err(&change.to_string());
            assert!(
                err.contains(&format!("ResourceProperties.{field}")) || err.starts_with(field),
                "{change}: {err}"
            );
            assert!(err.contains(detail), "{change}: {err}");
        }
    }

    #[test]
    fn unauthenticated_access_needs_the_acknowledgement() {
        let spec =
            spec(json!({"Authorization": "NONE", "AcknowledgeUnauthenticatedAccess": "true"}))
                .unwrap();
        assert_eq!(spec.authorization, Authorization::None);
    }

    #[test]
    fn accepts_valid_names() {
        for bucket in ["abc", "vault.data-2024", "a".repeat(63).as_str()] {
            assert!(check_bucket_name(bucket).is_ok(), "{bucket}");
        }
        for arn in [
            "arn:aws:iam::123456789012:role/r",
            "arn:aws-cn:iam::123456789012:role/service-role/api+s3=x,y.z@w_v-1",
        ] {
            assert!(check_role_arn(arn).is_ok(), "{arn}");
        }
        assert!(check_stage_name("prod_2-a").is_ok());
    }
}
