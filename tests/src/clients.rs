//! SDK clients and process environment for a local AWS emulator endpoint.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

fn credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "emulator")
}

/// Path-style S3: `<bucket>.localhost` does not resolve here.
pub fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub fn apigateway(endpoint: &str) -> aws_sdk_apigateway::Client {
    let config = aws_sdk_apigateway::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .build();
    aws_sdk_apigateway::Client::from_conf(config)
}

/// Environment for a process (a handler) that talks to `endpoint` through the SDK.
pub fn env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
