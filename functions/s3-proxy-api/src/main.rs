//! The Lambda function behind `Custom::S3ProxyApi`.

use s3_proxy_api::{aws, handler};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let client = aws::client().await;
    custom_resource::run(handler::S3ProxyApi::new(aws::ApiGateway::new(client))).await
}
