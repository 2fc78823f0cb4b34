//! The Lambda function behind `Custom::S3ProxyApi`.

use aws_config::BehaviorVersion;
use s3_proxy_api::{aws, handler};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // AWS_ENDPOINT_URL, when set (an emulator), is honoured by the loader.
    let config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(aws::retry_config())
        .load()
        .await;
    let client = aws_sdk_apigateway::Client::new(&config);
    custom_resource::run(handler::S3ProxyApi::new(aws::ApiGateway::new(client))).await
}
