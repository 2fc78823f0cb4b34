//! A moto server on a free loopback port, started through
//! `tests/emulators/moto_server.py`, which fixes where moto is not S3 in a way
//! that breaks the Rust SDK (see that file).

use crate::process::{free_port, tools_dir, workspace_root, Service};
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
        let python = tools_dir().join("venv/bin/python");
        assert!(
            python.is_file(),
            "{} is missing; run scripts/setup",
            python.display()
        );
        let mut command = Command::new(python);
        command
            .arg(workspace_root().join("tests/emulators/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
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
    /// (The SDK writes S3 bucket paths as `/<bucket>/?policy`.)
    pub fn count_requests(&self, method: &str, fragment: &str) -> usize {
        let prefix = format!("\"{method} ");
        strip_ansi(&self.log())
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

/// moto colours every line of a non-200 answer; the escapes hide the request.
pub fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            // CSI sequence: ESC [ parameters final-byte (a letter).
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(ch);
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_colour_codes() {
        let line = "\u{1b}[33m127.0.0.1 - - \"DELETE /b/?policy HTTP/1.1\" 204 -\u{1b}[0m";
        assert_eq!(
            super::strip_ansi(line),
            "127.0.0.1 - - \"DELETE /b/?policy HTTP/1.1\" 204 -"
        );
    }
}
