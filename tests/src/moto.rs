//! A moto server for a test (cfn-local's, the one the local engine runs),
//! stopped when dropped, with its request log at hand.

use crate::process::{log_file, tools_dir, workspace_root};
use cfn_local::custom::ResponseSlot;
use std::time::Duration;

pub use cfn_local::clients::{ACCOUNT, REGION};

pub struct Moto {
    moto: cfn_local::Moto,
}

impl Moto {
    pub fn start() -> Moto {
        let python = tools_dir().join("venv/bin/python");
        assert!(
            python.is_file(),
            "{} is missing; run scripts/setup",
            python.display()
        );
        let log = log_file("moto");
        let moto = cfn_local::Moto::start(&python, &workspace_root(), &log)
            .unwrap_or_else(|err| panic!("{err}"));
        Moto { moto }
    }

    pub fn endpoint(&self) -> String {
        self.moto.endpoint()
    }

    /// A fresh presigned ResponseURL on this moto, as CloudFormation gives.
    pub async fn response_slot(&self, name: &str) -> ResponseSlot {
        ResponseSlot::new(&self.s3(), name, Duration::from_secs(3600))
            .await
            .unwrap_or_else(|err| panic!("{err}"))
    }

    /// Environment for a process that talks to this moto through the SDK.
    pub fn env(&self) -> Vec<(String, String)> {
        cfn_local::clients::env(&self.endpoint())
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        cfn_local::clients::s3(&self.endpoint())
    }

    pub fn apigateway(&self) -> aws_sdk_apigateway::Client {
        cfn_local::clients::apigateway(&self.endpoint())
    }

    /// moto's request log: one line per request, e.g. `"PUT /b?policy HTTP/1.1" 204`.
    pub fn log(&self) -> String {
        self.moto.service.log_text()
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
