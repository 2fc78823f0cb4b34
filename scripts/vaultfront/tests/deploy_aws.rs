//! `vaultfront deploy` on AWS asks CloudFormation for the stack's state
//! before it builds anything: a stack whose first create failed
//! (ROLLBACK_COMPLETE) is reported with its cause and the way out, instead
//! of sam's change-set error minutes later.
//!
//! moto cannot show this: its stacks never roll back (a failed resource
//! leaves them CREATE_IN_PROGRESS or raises), so CloudFormation's answers
//! come from a canned endpoint on loopback, in the Query protocol's XML as
//! CloudFormation documents it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const STACK: &str = "vaultfront-blocked";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Answers every request with the XML for its `Action`, and records the actions.
fn canned_cloudformation(status: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let endpoint = format!("http://{}", listener.local_addr().expect("its address"));
    let actions = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&actions);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let body = String::from_utf8_lossy(&body).into_owned();
            let action = body
                .split('&')
                .find_map(|pair| pair.strip_prefix("Action="))
                .unwrap_or_default()
                .to_owned();
            let xml = answer(&action, status);
            if let Ok(mut seen) = seen.lock() {
                seen.push(action);
            }
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{xml}",
                xml.len()
            );
        }
    });
    (endpoint, actions)
}

fn answer(action: &str, status: &str) -> String {
    const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
    let id = format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/1");
    let event = |n: u32, logical: &str, status: &str, reason: &str| {
        format!(
            "<member><StackId>{id}</StackId><EventId>e{n}</EventId><StackName>{STACK}</StackName>\
             <LogicalResourceId>{logical}</LogicalResourceId><ResourceType>Custom::ObjectLock</ResourceType>\
             <Timestamp>2026-12-01T00:00:0{n}Z</Timestamp><ResourceStatus>{status}</ResourceStatus>\
             <ResourceStatusReason>{reason}</ResourceStatusReason></member>"
        )
    };
    match action {
        "DescribeStacks" => format!(
            "<DescribeStacksResponse xmlns=\"{NS}\"><DescribeStacksResult><Stacks><member>\
             <StackName>{STACK}</StackName><StackId>{id}</StackId>\
             <CreationTime>2026-12-01T00:00:00Z</CreationTime><StackStatus>{status}</StackStatus>\
             </member></Stacks></DescribeStacksResult>\
             <ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeStacksResponse>"
        ),
        "DescribeStackEvents" => format!(
            "<DescribeStackEventsResponse xmlns=\"{NS}\"><DescribeStackEventsResult><StackEvents>{}{}{}\
             </StackEvents></DescribeStackEventsResult>\
             <ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeStackEventsResponse>",
            event(3, STACK, "ROLLBACK_COMPLETE", ""),
            event(2, "Distribution", "CREATE_FAILED", "Resource creation cancelled"),
            event(1, "DataBucketObjectLock", "CREATE_FAILED", "ResourceProperties.Mode: bad mode"),
        ),
        other => format!("<Unexpected>{other}</Unexpected>"),
    }
}

/// `vaultfront deploy --no-build` with credentials and region from the
/// environment only, CloudFormation at `endpoint`.
fn deploy(endpoint: &str, home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vaultfront"))
        .args(["deploy", "--no-build", "--stack-name", STACK])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("VAULTFRONT_ROOT", root())
        .env("VAULTFRONT_TOOLS", home.join("tools"))
        // No tool is installed: going on past the check reaches the
        // bootstrap, which this stand-in fails at once.
        .env("VAULTFRONT_SETUP", "/bin/false")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .output()
        .expect("run vaultfront deploy")
}

#[test]
fn a_stack_whose_first_create_failed_is_explained_before_the_build() {
    let home = std::env::temp_dir().join(format!("vaultfront-blocked-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("create an empty HOME");

    let (endpoint, actions) = canned_cloudformation("ROLLBACK_COMPLETE");
    let output = deploy(&endpoint, &home);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{all}");
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!("stack `{STACK}` is ROLLBACK_COMPLETE")),
        "{all}"
    );
    assert!(
        all.contains("It failed at DataBucketObjectLock: ResourceProperties.Mode: bad mode."),
        "the cause is not the first failure:\n{all}"
    );
    assert!(
        all.contains(&format!("scripts/deploy --destroy --stack-name {STACK}")),
        "{all}"
    );
    // Stopped before any tool ran: no install, no sam.
    assert!(!all.contains("scripts/setup"), "{all}");
    assert_eq!(
        *actions.lock().expect("the recorded actions"),
        ["DescribeStacks", "DescribeStackEvents"]
    );

    // A stack CloudFormation can update goes on to the tools and the build.
    let (endpoint, _) = canned_cloudformation("UPDATE_ROLLBACK_COMPLETE");
    let output = deploy(&endpoint, &home);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains("ROLLBACK_COMPLETE:"), "{all}");
    assert!(
        all.contains("`scripts/setup deploy` failed"),
        "it did not go on past the check:\n{all}"
    );
    let _ = std::fs::remove_dir_all(&home);
}
