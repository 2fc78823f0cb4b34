//! `vaultfront sign-url` and `sign-cookies` against an independent
//! implementation: botocore's CloudFrontSigner (tests/support/botocore_sign.py,
//! run in the tool venv). RSA PKCS#1 v1.5 signatures are deterministic, so
//! the same key, resource and expiry must give the same bytes.
//!
//! botocore's CloudFrontSigner predates CloudFront's `Hash-Algorithm`
//! parameter: it is given a SHA-256 signer, builds the policy, base64 and
//! URL itself, and our URL must be exactly its URL plus
//! `&Hash-Algorithm=SHA256` (our cookies: its Policy and Signature values,
//! plus `CloudFront-Hash-Algorithm=SHA256`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vaultfront_tests::process::tools_dir;

const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/signed-url-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

fn botocore(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/botocore_sign.py");
    let output = Command::new(tools_dir().join("venv/bin/python"))
        .arg(script)
        .args(args)
        .output()
        .expect("run the tool venv's python (scripts/setup installs it)");
    assert!(
        output.status.success(),
        "botocore_sign.py {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim_end()
        .to_owned()
}

fn vaultfront(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vaultfront"))
        .args(args)
        // sign-url needs no checkout: run it from somewhere else.
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run vaultfront")
}

fn query_value<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

#[test]
fn canned_url_is_botocores_byte_for_byte() {
    let dir = scratch("canned");
    // A PKCS#1 key made by `cryptography`, not by us.
    let key = dir.join("key.pem");
    botocore(&["genkey", key.to_str().expect("UTF-8 path")]);
    let raw = "https://d1.cloudfront.net/data sets/café ü/model 1.bin";
    let encoded = "https://d1.cloudfront.net/data%20sets/caf%C3%A9%20%C3%BC/model%201.bin";

    let output = vaultfront(&[
        "sign-url",
        raw,
        "--private-key",
        key.to_str().expect("UTF-8 path"),
        "--key-pair-id",
        KEY_PAIR_ID,
        "--expires-in",
        "3600",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty(), "sign-url wrote to stderr");
    assert_eq!(
        stdout.lines().count(),
        1,
        "stdout is the URL only: {stdout}"
    );
    let ours = stdout.trim_end();
    let expires = query_value(ours, "Expires");

    let theirs = botocore(&[
        "canned",
        key.to_str().expect("UTF-8 path"),
        KEY_PAIR_ID,
        encoded,
        expires,
    ]);
    assert_eq!(ours, format!("{theirs}&Hash-Algorithm=SHA256"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wildcard_cookies_are_botocores_custom_policy_byte_for_byte() {
    let dir = scratch("custom");
    let key = dir.join("key.pem");
    botocore(&["genkey", key.to_str().expect("UTF-8 path")]);
    let raw = "https://d1.cloudfront.net/training data/jeu de données/*";
    let encoded = "https://d1.cloudfront.net/training%20data/jeu%20de%20donn%C3%A9es/*";

    let output = vaultfront(&[
        "sign-cookies",
        raw,
        "--private-key",
        key.to_str().expect("UTF-8 path"),
        "--key-pair-id",
        KEY_PAIR_ID,
        "--expires-in",
        "2h",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let cookie = |name: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in:\n{stdout}"))
            .to_owned()
    };
    // Our policy says when it ends; botocore gets the same moment.
    let policy = cookie("CloudFront-Policy");
    let decoded = base64_decode_cloudfront(&policy);
    let document: serde_json::Value = serde_json::from_slice(&decoded).expect("policy JSON");
    assert_eq!(document["Statement"][0]["Resource"], encoded, "{document}");
    let expires = document["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"]
        .as_u64()
        .expect("an expiry");

    let theirs = botocore(&[
        "custom",
        key.to_str().expect("UTF-8 path"),
        KEY_PAIR_ID,
        encoded,
        &expires.to_string(),
    ]);
    assert_eq!(policy, query_value(&theirs, "Policy"));
    assert_eq!(
        cookie("CloudFront-Signature"),
        query_value(&theirs, "Signature")
    );
    assert_eq!(cookie("CloudFront-Key-Pair-Id"), KEY_PAIR_ID);
    assert_eq!(cookie("CloudFront-Hash-Algorithm"), "SHA256");
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_key_or_id_is_named() {
    let dir = scratch("bad");
    let not_a_key = dir.join("public.pem");
    std::fs::write(&not_a_key, "hello").expect("write");
    let output = vaultfront(&[
        "sign-url",
        "https://d1.cloudfront.net/a",
        "--private-key",
        not_a_key.to_str().expect("UTF-8 path"),
        "--key-pair-id",
        KEY_PAIR_ID,
        "--expires-in",
        "60",
    ]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is not a PEM private key") && stderr.contains("public.pem"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// CloudFront's base64 back to bytes (test-side, to read the policy).
fn base64_decode_cloudfront(text: &str) -> Vec<u8> {
    use base64::Engine;
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '=',
            '~' => '/',
            other => other,
        })
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(standard)
        .expect("CloudFront base64")
}
