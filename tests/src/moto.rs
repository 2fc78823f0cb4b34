//! A moto server on a free loopback port.

use crate::process::{free_port, tool, Service};
use std::process::Command;
use std::time::Duration;

pub use crate::clients::{ACCOUNT, REGION};

pub struct Moto {
    service: Service,
    port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let mut command = Command::new(tool("moto_server"));
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let service = Service::start("moto", command, port, Duration::from_secs(60));
        Moto { service, port }
    }

    /// `localhost`, not `127.0.0.1`: moto routes S3 by host name.
    pub fn endpoint(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// Environment for a process that talks to this moto through the SDK.
    pub fn env(&self) -> Vec<(String, String)> {
        crate::clients::env(&self.endpoint())
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        crate::clients::s3(&self.endpoint())
    }

    pub fn apigateway(&self) -> aws_sdk_apigateway::Client {
        crate::clients::apigateway(&self.endpoint())
    }

    /// moto's request log: one line per request, e.g. `"PUT /b?policy HTTP/1.1" 204`.
    pub fn log(&self) -> String {
        self.service.log_text()
    }

    /// Requests in the log with `method` whose path contains `fragment`.
    pub fn count_requests(&self, method: &str, fragment: &str) -> usize {
        let prefix = format!("\"{method} ");
        self.log()
            .lines()
            .filter_map(|line| line.split_once(&prefix).map(|(_, rest)| rest))
            .filter(|rest| {
                rest.split(' ')
                    .next()
                    .is_some_and(|path| path.contains(fragment))
            })
            .count()
    }
}
