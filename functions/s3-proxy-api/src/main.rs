//! `Custom::S3ProxyApi`: an authenticated, binary-safe S3 proxy on a REST
//! API, defined in one PutRestApi and deployed to a stage.

mod aws;
mod digest;
mod openapi;
mod plan;
mod properties;
mod resource;

use aws_config::BehaviorVersion;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // AWS_ENDPOINT_URL, when set (an emulator), is honoured by the loader.
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let client = aws_sdk_apigateway::Client::new(&config);
    custom_resource::run(resource::S3ProxyApi::new(aws::ApiGateway::new(client))).await
}
