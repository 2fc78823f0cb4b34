//! The stage's audit trail: where API Gateway writes one access-log line per
//! request, in which format, and whether it also writes execution logs.
//!
//! The destination is a Firehose stream or a CloudWatch Logs log group
//! (API Gateway's two access-log targets). The format is one JSON object per
//! line built from `$context` variables; whatever format is asked for must
//! carry [`REQUIRED_FIELDS`], so every line answers "which principal did
//! what to which key, when, and what came back".

/// The `$context` variables every access-log line must hold: the request,
/// the caller, what was asked, and what S3 answered.
pub const REQUIRED_FIELDS: [&str; 12] = [
    "$context.requestId",
    "$context.requestTime",
    "$context.identity.userArn",
    "$context.identity.accountId",
    "$context.identity.sourceIp",
    "$context.identity.userAgent",
    "$context.httpMethod",
    "$context.resourcePath",
    "$context.status",
    "$context.responseLength",
    "$context.integration.latency",
    "$context.integration.status",
];

/// The format used when the template gives none: one JSON object per line.
/// `path` holds the object key (`resourcePath` is only `/{proxy+}`).
pub const DEFAULT_FORMAT: &str = concat!(
    r#"{"requestId":"$context.requestId","#,
    r#""extendedRequestId":"$context.extendedRequestId","#,
    r#""requestTime":"$context.requestTime","#,
    r#""requestTimeEpoch":"$context.requestTimeEpoch","#,
    r#""userArn":"$context.identity.userArn","#,
    r#""caller":"$context.identity.caller","#,
    r#""accountId":"$context.identity.accountId","#,
    r#""sourceIp":"$context.identity.sourceIp","#,
    r#""userAgent":"$context.identity.userAgent","#,
    r#""httpMethod":"$context.httpMethod","#,
    r#""resourcePath":"$context.resourcePath","#,
    r#""path":"$context.path","#,
    r#""protocol":"$context.protocol","#,
    r#""stage":"$context.stage","#,
    r#""status":"$context.status","#,
    r#""responseLength":"$context.responseLength","#,
    r#""responseLatency":"$context.responseLatency","#,
    r#""integrationLatency":"$context.integration.latency","#,
    r#""integrationStatus":"$context.integration.status","#,
    r#""integrationError":"$context.integration.error","#,
    r#""errorMessage":"$context.error.message"}"#,
);

/// A stage's `accessLogSettings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLog {
    pub destination_arn: String,
    pub format: String,
}

/// Execution logging of every method (`methodSettings["*/*"].loggingLevel`).
/// INFO is not offered: it logs request and response details beyond what an
/// audit needs, and errors are what execution logs are for here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    #[default]
    Off,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "OFF",
            LogLevel::Error => "ERROR",
        }
    }

    /// API Gateway reports no level, or `OFF`, for a stage that never had one.
    pub fn parse_reported(level: Option<&str>) -> LogLevel {
        match level {
            Some(level) if level.eq_ignore_ascii_case("ERROR") => LogLevel::Error,
            _ => LogLevel::Off,
        }
    }
}

/// The problem with a destination ARN, or `None` when API Gateway can log to it.
///
/// A Firehose stream's name must start with `amazon-apigateway-` (the
/// service-linked role API Gateway writes with may only put records to such
/// streams). A log group ARN is taken without CloudFormation's `:*` suffix.
pub fn destination_problem(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Some(format!("{arn:?} is not an ARN"));
    };
    if prefix != "arn" || !partition.starts_with("aws") {
        return Some(format!("{arn:?} is not an ARN"));
    }
    if region.is_empty() || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("{arn:?} lacks a region or a 12-digit account"));
    }
    match service {
        "firehose" => match resource.strip_prefix("deliverystream/") {
            Some(name) if name.starts_with("amazon-apigateway-") => None,
            Some(name) => Some(format!(
                "the Firehose stream {name:?} cannot receive API Gateway access logs: its name must \
                 start with amazon-apigateway-"
            )),
            None => Some(format!("{arn:?} is not a Firehose delivery stream ARN")),
        },
        "logs" => match resource.strip_prefix("log-group:") {
            Some(name) if !name.is_empty() && !name.contains(':') => None,
            _ => Some(format!(
                "{arn:?} is not a log group ARN (arn:aws:logs:<region>:<account>:log-group:<name>)"
            )),
        },
        other => Some(format!(
            "{arn:?} is a {other} ARN; access logs go to a Firehose stream or a CloudWatch Logs log group"
        )),
    }
}

/// `arn:...:log-group:<name>:*` (what CloudFormation's `Arn` attribute of a
/// log group gives) as API Gateway stores it: without the `:*`.
pub fn normalise_destination(arn: &str) -> String {
    if arn.contains(":logs:") {
        arn.strip_suffix(":*").unwrap_or(arn).to_owned()
    } else {
        arn.to_owned()
    }
}

/// The required fields a format lacks.
pub fn missing_fields(format: &str) -> Vec<&'static str> {
    REQUIRED_FIELDS
        .into_iter()
        .filter(|field| {
            // `$context.status` must not be satisfied by `$context.statusX`.
            !format.match_indices(field).any(|(at, _)| {
                !format[at + field.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_')
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_format_is_one_json_line_with_every_required_field() {
        assert!(missing_fields(DEFAULT_FORMAT).is_empty());
        assert!(!DEFAULT_FORMAT.contains('\n'));
        let line: serde_json::Value =
            serde_json::from_str(DEFAULT_FORMAT).expect("the format is a JSON object");
        assert_eq!(line["userArn"], "$context.identity.userArn");
        assert_eq!(line["path"], "$context.path");
    }

    #[test]
    fn missing_fields_are_named() {
        let format = DEFAULT_FORMAT.replace("$context.identity.userArn", "-");
        assert_eq!(missing_fields(&format), ["$context.identity.userArn"]);
        assert_eq!(
            missing_fields(r#"{"s":"$context.statusCode"}"#).len(),
            REQUIRED_FIELDS.len(),
            "a longer variable does not count"
        );
    }

    #[test]
    fn destinations_are_firehose_streams_for_api_gateway_or_log_groups() {
        for ok in [
            "arn:aws:firehose:eu-west-1:123456789012:deliverystream/amazon-apigateway-vault",
            "arn:aws:logs:eu-west-1:123456789012:log-group:/vault/api-access",
            "arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/amazon-apigateway-x",
        ] {
            assert_eq!(destination_problem(ok), None, "{ok}");
        }
        for (bad, why) in [
            (
                "arn:aws:firehose:eu-west-1:123456789012:deliverystream/vault-access",
                "amazon-apigateway-",
            ),
            ("vault-access", "not an ARN"),
            (
                "arn:aws:s3:::vault-logs",
                "lacks a region or a 12-digit account",
            ),
            (
                "arn:aws:sqs:eu-west-1:123456789012:queue",
                "Firehose stream or a CloudWatch Logs log group",
            ),
            (
                "arn:aws:logs:eu-west-1:123456789012:log-group:x:*",
                "not a log group ARN",
            ),
        ] {
            let problem = destination_problem(bad).expect(bad);
            assert!(problem.contains(why), "{bad}: {problem}");
        }
        assert_eq!(
            normalise_destination("arn:aws:logs:eu-west-1:123456789012:log-group:g:*"),
            "arn:aws:logs:eu-west-1:123456789012:log-group:g"
        );
    }

    #[test]
    fn reported_levels() {
        assert_eq!(LogLevel::parse_reported(None), LogLevel::Off);
        assert_eq!(LogLevel::parse_reported(Some("OFF")), LogLevel::Off);
        assert_eq!(LogLevel::parse_reported(Some("ERROR")), LogLevel::Error);
    }
}
