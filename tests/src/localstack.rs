//! LocalStack community, run on the host (Python 3.13, no Docker) with only
//! the services vaultfront needs. Used where moto is not faithful: S3 Object
//! Lock on non-empty buckets and retention, and API Gateway → S3 integrations
//! that really serve objects.

use crate::process::{free_port, log_dir, start_service, tools_dir, Service};
use std::process::Command;
use std::time::Duration;

pub struct LocalStack {
    service: Service,
    port: u16,
}

impl LocalStack {
    pub fn start() -> LocalStack {
        let port = free_port();
        let python = tools_dir().join("venv-localstack/bin/python");
        assert!(
            python.is_file(),
            "{} is missing; run scripts/setup",
            python.display()
        );
        let state = log_dir().join(format!("localstack-{port}"));
        let mut command = Command::new(python);
        command
            .args(["-m", "localstack.runtime.main"])
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("OVERRIDE_IN_DOCKER", "0")
            .env("SERVICES", "s3,apigateway,iam,sts")
            .env("LOCALSTACK_VOLUME_DIR", state.join("volume"))
            .env("FILESYSTEM_ROOT", state.join("filesystem"))
            // No telemetry, no downloads: the machine reaches no network but package registries.
            .env("DISABLE_EVENTS", "1")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("SKIP_INFRA_DOWNLOADS", "1");
        let service = start_service("localstack", command, port, Duration::from_secs(120));
        LocalStack { service, port }
    }

    pub fn endpoint(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// Environment for a process that talks to this LocalStack through the SDK.
    pub fn env(&self) -> Vec<(String, String)> {
        cfn_local::clients::env(&self.endpoint())
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        cfn_local::clients::s3(&self.endpoint())
    }

    pub fn apigateway(&self) -> aws_sdk_apigateway::Client {
        cfn_local::clients::apigateway(&self.endpoint())
    }

    /// The URL that invokes `path` on a deployed stage of REST API `api_id`.
    pub fn invoke_url(&self, api_id: &str, stage: &str, path: &str) -> String {
        format!(
            "{}/_aws/execute-api/{api_id}/{stage}/{}",
            self.endpoint(),
            path.trim_start_matches('/')
        )
    }

    pub fn log(&self) -> String {
        self.service.log_text()
    }
}
