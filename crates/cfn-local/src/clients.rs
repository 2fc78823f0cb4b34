//! SDK clients: for moto (test credentials, us-east-1, path-style S3), or
//! for the real account (verify on AWS).

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

#[derive(Clone)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    /// Unsigned requests: what S3 shows an anonymous caller (verify).
    pub anonymous_s3: aws_sdk_s3::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub firehose: aws_sdk_firehose::Client,
}

impl Clients {
    pub async fn for_endpoint(endpoint: &str) -> Clients {
        let loader = || {
            aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(REGION))
                .endpoint_url(endpoint)
        };
        let shared = loader()
            .credentials_provider(emulator_credentials())
            .load()
            .await;
        let anonymous = loader().no_credentials().load().await;
        Clients::from_shared(&shared, &anonymous)
    }

    /// The real account, from the usual chain (verify on AWS).
    pub async fn from_environment(region: Option<String>, profile: Option<String>) -> Clients {
        let loader = || {
            let mut loader = aws_config::defaults(BehaviorVersion::latest());
            if let Some(region) = &region {
                loader = loader.region(Region::new(region.clone()));
            }
            if let Some(profile) = &profile {
                loader = loader.profile_name(profile);
            }
            loader
        };
        let shared = loader().load().await;
        let anonymous = loader().no_credentials().load().await;
        Clients::from_shared(&shared, &anonymous)
    }

    /// Path-style S3 wherever an endpoint is configured (moto, or
    /// AWS_ENDPOINT_URL): emulators and gateways serve `<endpoint>/<bucket>`,
    /// and `<bucket>.localhost` does not resolve everywhere.
    fn from_shared(shared: &aws_config::SdkConfig, anonymous: &aws_config::SdkConfig) -> Clients {
        let s3 = |config: &aws_config::SdkConfig| {
            aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config)
                    .force_path_style(config.endpoint_url().is_some())
                    .build(),
            )
        };
        Clients {
            s3: s3(shared),
            anonymous_s3: s3(anonymous),
            cloudfront: aws_sdk_cloudfront::Client::new(shared),
            apigateway: aws_sdk_apigateway::Client::new(shared),
            iam: aws_sdk_iam::Client::new(shared),
            logs: aws_sdk_cloudwatchlogs::Client::new(shared),
            cloudformation: aws_sdk_cloudformation::Client::new(shared),
            firehose: aws_sdk_firehose::Client::new(shared),
        }
    }
}

fn emulator_credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "emulator")
}

/// An S3 client for an emulator, built without loading any configuration.
pub fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(emulator_credentials())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// An API Gateway client for an emulator.
pub fn apigateway(endpoint: &str) -> aws_sdk_apigateway::Client {
    let config = aws_sdk_apigateway::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(emulator_credentials())
        .build();
    aws_sdk_apigateway::Client::from_conf(config)
}

/// Environment for a process (a handler) that talks to `endpoint` through the SDK.
pub fn env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// An SDK error with its service code and message, for a FAILED reason.
pub fn sdk_error<E>(operation: &str, err: SdkError<E>) -> crate::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    crate::Error::Service {
        operation: operation.to_owned(),
        code: err.code().map(str::to_owned),
        text: sdk_text(&err),
    }
}

/// An SDK error as one line: the service's code and message when it
/// answered, else each source's text once, never the Debug dump of the raw
/// response that the SDK's `DisplayErrorContext` appends.
pub fn sdk_text<E>(err: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let (Some(code), Some(message)) = (err.code(), err.message()) {
        return format!("{code}: {message}");
    }
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = next {
        let text = current.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyError;
    use aws_sdk_s3::primitives::SdkBody;

    #[test]
    fn an_sdk_error_is_one_short_line() {
        let metadata = ErrorMetadata::builder()
            .code("NoSuchBucketPolicy")
            .message("The bucket policy does not exist")
            .build();
        let raw = HttpResponse::new(
            404.try_into().expect("a status code"),
            SdkBody::from("<Error/>"),
        );
        let service: SdkError<GetBucketPolicyError> =
            SdkError::service_error(GetBucketPolicyError::generic(metadata), raw);
        assert_eq!(
            sdk_text(&service),
            "NoSuchBucketPolicy: The bucket policy does not exist"
        );
        // No answer from the service: the chain of causes, each once.
        let timeout: SdkError<GetBucketPolicyError> =
            SdkError::timeout_error("no answer within 3.1 s");
        assert_eq!(
            sdk_text(&timeout),
            "request has timed out: no answer within 3.1 s"
        );
    }
}
