//! "API stage logs access to the stack's destination": the stage's
//! `accessLogSettings` name the stack's Firehose stream with a format that
//! says who asked for what and what came back, and that stream delivers into
//! the stack's log bucket.

use aws_sdk_apigateway::types::AccessLogSettings;

use super::Facts;
use crate::local::{sdk_text, Clients};

/// The `$context` variables every line must carry (the handler's own list,
/// repeated here so that verify does not trust the code it audits).
const REQUIRED_FIELDS: [&str; 12] = [
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

pub async fn check(clients: &Clients, facts: &Facts) -> Result<String, String> {
    if facts.access_log_destination.is_empty() {
        return Err(
            "the stack names no access-log destination (output ApiAccessLogDestination): \
             it was deployed from a template without API access logs"
                .into(),
        );
    }
    let stage = clients
        .apigateway
        .get_stage()
        .rest_api_id(&facts.rest_api_id)
        .stage_name(&facts.stage)
        .send()
        .await
        .map_err(|e| {
            format!(
                "GetStage {} {}: {}",
                facts.rest_api_id,
                facts.stage,
                sdk_text(&e)
            )
        })?;
    let settings = settings_verdict(stage.access_log_settings(), &facts.access_log_destination)?;
    let stream = stream_verdict(clients, facts).await?;
    Ok(format!("{settings}; {stream}"))
}

/// The stage's settings against the stack's destination.
fn settings_verdict(
    settings: Option<&AccessLogSettings>,
    expected: &str,
) -> Result<String, String> {
    let Some(destination) = settings
        .and_then(|s| s.destination_arn())
        .filter(|d| !d.is_empty())
    else {
        return Err("the stage has no accessLogSettings: its requests are not logged".into());
    };
    if destination != expected {
        return Err(format!(
            "the stage logs to {destination}, not to the stack's {expected}"
        ));
    }
    let format = settings.and_then(|s| s.format()).unwrap_or_default();
    let missing: Vec<&str> = REQUIRED_FIELDS
        .into_iter()
        .filter(|field| !format.contains(field))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the stage logs to {destination}, but its format lacks {}",
            missing.join(", ")
        ));
    }
    Ok(format!(
        "the stage logs every request to {destination} (requestId, userArn, sourceIp, method, path, status, ...)"
    ))
}

/// A Firehose destination is active and delivers into the log bucket.
async fn stream_verdict(clients: &Clients, facts: &Facts) -> Result<String, String> {
    let Some((_, name)) = facts.access_log_destination.split_once(":deliverystream/") else {
        return Ok("the destination is a log group".into());
    };
    let out = clients
        .firehose
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
        .map_err(|e| format!("DescribeDeliveryStream {name}: {}", sdk_text(&e)))?;
    let description = out
        .delivery_stream_description()
        .ok_or_else(|| format!("{name}: no description"))?;
    let status = description.delivery_stream_status().as_str();
    let bucket = description
        .destinations()
        .iter()
        .find_map(|d| {
            d.extended_s3_destination_description()
                .map(|s| s.bucket_arn().to_owned())
                .or_else(|| {
                    d.s3_destination_description()
                        .map(|s| s.bucket_arn().to_owned())
                })
        })
        .unwrap_or_default();
    let log_bucket = format!("arn:aws:s3:::{}", facts.log_bucket);
    if status != "ACTIVE" {
        return Err(format!("the stream {name} is {status}, not ACTIVE"));
    }
    if bucket != log_bucket {
        return Err(format!(
            "the stream {name} delivers to {bucket:?}, not to the log bucket {log_bucket}"
        ));
    }
    Ok(format!("{name} is ACTIVE and delivers to {log_bucket}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str =
        "arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-vf-1";

    fn settings(destination: &str, format: &str) -> AccessLogSettings {
        AccessLogSettings::builder()
            .destination_arn(destination)
            .format(format)
            .build()
    }

    #[test]
    fn the_stacks_destination_with_every_field_passes() {
        let format = REQUIRED_FIELDS.join(" ");
        let verdict = settings_verdict(Some(&settings(STREAM, &format)), STREAM);
        assert!(
            verdict.as_deref().is_ok_and(|e| e.contains(STREAM)),
            "{verdict:?}"
        );
    }

    #[test]
    fn no_other_destination_or_a_thin_format_fails() {
        let format = REQUIRED_FIELDS.join(" ");
        let none = settings_verdict(None, STREAM).unwrap_err();
        assert!(none.contains("no accessLogSettings"), "{none}");
        let other = settings_verdict(
            Some(&settings(
                "arn:aws:logs:us-east-1:123456789012:log-group:x",
                &format,
            )),
            STREAM,
        )
        .unwrap_err();
        assert!(other.contains("not to the stack's"), "{other}");
        let thin =
            settings_verdict(Some(&settings(STREAM, "$context.requestId")), STREAM).unwrap_err();
        assert!(thin.contains("$context.identity.userArn"), "{thin}");
    }
}
