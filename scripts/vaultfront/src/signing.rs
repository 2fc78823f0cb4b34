//! CloudFront signed URLs and signed cookies (README, "Signed URLs and
//! cookies"): a policy statement, signed with the stack's RSA private key,
//! in CloudFront's URL-safe base64.
//!
//! The signature is RSA PKCS#1 v1.5 over SHA-256, announced to CloudFront
//! with `Hash-Algorithm=SHA256` (cookie `CloudFront-Hash-Algorithm`).
//! CloudFront also takes SHA-1, its older default, but aws-lc-rs (the
//! crypto library the AWS SDK already links, maintained by AWS, so no new
//! crypto crate enters the build) signs PKCS#1 v1.5 only with SHA-256 and
//! up: SHA-1 there is verification-only, "for legacy use".

use std::fmt;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};

/// What CloudFront's `Hash-Algorithm` names for our signatures.
pub const HASH_ALGORITHM: &str = "SHA256";

/// The query parameters CloudFront reads for a signature; a URL to sign
/// must not carry them already.
const SIGNING_PARAMETERS: &[&str] = &[
    "Expires",
    "Policy",
    "Signature",
    "Key-Pair-Id",
    "Hash-Algorithm",
];

/// Everything but RFC 3986's unreserved characters is percent-encoded in
/// an object key's path segments (a space is %20, é is %C3%A9).
const KEY_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot read the private key {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a PEM private key ({reason}); expected -----BEGIN PRIVATE KEY----- (PKCS#8) or -----BEGIN RSA PRIVATE KEY----- (PKCS#1), as openssl genpkey -algorithm RSA writes")]
    NotPem { path: PathBuf, reason: String },
    #[error("{path} is not an RSA private key of 2048 to 8192 bits CloudFront can use ({reason})")]
    NotRsa { path: PathBuf, reason: String },
    #[error("--key-pair-id: `{0}` is not a CloudFront public key id (letters and digits, like K2JCJMDEHXQW5F)")]
    KeyPairId(String),
    #[error("the URL `{0}` must start with https:// or http://")]
    Url(String),
    #[error(
        "the URL `{url}` already carries CloudFront's `{parameter}` parameter; pass it unsigned"
    )]
    AlreadySigned { url: String, parameter: String },
    #[error("signing failed in aws-lc-rs")]
    Sign,
}

/// A private key and the id CloudFront knows its public half by.
pub struct Signer {
    key: KeyPair,
    key_pair_id: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key material.
        f.debug_struct("Signer")
            .field("key_pair_id", &self.key_pair_id)
            .finish_non_exhaustive()
    }
}

/// A signed policy: the three values every signed URL and cookie carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The policy statement, as signed.
    pub policy: String,
    /// CloudFront's base64 of the policy (custom policies travel with it).
    pub encoded_policy: String,
    pub signature: String,
    pub key_pair_id: String,
}

impl Signer {
    pub fn new(key: KeyPair, key_pair_id: &str) -> Result<Signer, SigningError> {
        let valid = !key_pair_id.is_empty()
            && key_pair_id.len() <= 64
            && key_pair_id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(SigningError::KeyPairId(key_pair_id.to_owned()));
        }
        Ok(Signer {
            key,
            key_pair_id: key_pair_id.to_owned(),
        })
    }

    /// Read a PEM private key file (PKCS#8 or PKCS#1).
    pub fn from_file(path: &Path, key_pair_id: &str) -> Result<Signer, SigningError> {
        let text = std::fs::read(path).map_err(|source| SigningError::Read {
            path: path.to_owned(),
            source,
        })?;
        Signer::new(private_key_from_pem(path, &text)?, key_pair_id)
    }

    /// Sign `policy` as it is (its bytes are what CloudFront hashes).
    pub fn sign(&self, policy: String) -> Result<Signed, SigningError> {
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                policy.as_bytes(),
                &mut signature,
            )
            .map_err(|_| SigningError::Sign)?;
        Ok(Signed {
            encoded_policy: cloudfront_base64(policy.as_bytes()),
            signature: cloudfront_base64(&signature),
            policy,
            key_pair_id: self.key_pair_id.clone(),
        })
    }

    /// A signed URL with a canned policy: `url` until `expires` (Unix seconds).
    pub fn canned_url(&self, url: &str, expires: u64) -> Result<String, SigningError> {
        check_url(url)?;
        let signed = self.sign(policy(url, expires))?;
        Ok(format!(
            "{url}{}Expires={expires}&Signature={}&Key-Pair-Id={}&Hash-Algorithm={HASH_ALGORITHM}",
            separator(url),
            signed.signature,
            signed.key_pair_id
        ))
    }

    /// Signed cookies with a custom policy: every URL matching `resource`
    /// (which may end in `*`) until `expires`.
    pub fn cookies(&self, resource: &str, expires: u64) -> Result<Vec<Cookie>, SigningError> {
        check_url(resource)?;
        let signed = self.sign(policy(resource, expires))?;
        Ok(vec![
            Cookie::new("CloudFront-Policy", signed.encoded_policy),
            Cookie::new("CloudFront-Signature", signed.signature),
            Cookie::new("CloudFront-Key-Pair-Id", signed.key_pair_id),
            Cookie::new("CloudFront-Hash-Algorithm", HASH_ALGORITHM.to_owned()),
        ])
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: &'static str,
    pub value: String,
}

impl Cookie {
    fn new(name: &'static str, value: String) -> Cookie {
        Cookie { name, value }
    }
}

/// The policy statement, byte for byte as CloudFront documents it for a
/// canned policy (Resource before Condition, no blanks); a custom policy
/// with only an expiry has the same shape. The resource is encoded by
/// serde_json (URLs to sign are ASCII: keys are percent-encoded).
pub fn policy(resource: &str, expires: u64) -> String {
    let resource = serde_json::Value::String(resource.to_owned());
    format!(
        r#"{{"Statement":[{{"Resource":{resource},"Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
    )
}

/// Base64 with CloudFront's substitutions for URLs and cookies:
/// `+` -> `-`, `=` -> `_`, `/` -> `~`.
pub fn cloudfront_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            other => other,
        })
        .collect()
}

/// `<cdn_url>/<key>`, each segment of the key percent-encoded.
pub fn object_url(cdn_url: &str, key: &str) -> String {
    let path: Vec<String> = key
        .split('/')
        .map(|segment| utf8_percent_encode(segment, KEY_SEGMENT).to_string())
        .collect();
    format!("{}/{}", cdn_url.trim_end_matches('/'), path.join("/"))
}

/// What a URL cannot carry raw, for `sign-url`: spaces, quotes, angle
/// brackets, backticks, controls and every non-ASCII byte (UTF-8) are
/// percent-encoded; `%`, `/`, `?`, `*` and the rest stay as given.
const NOT_IN_URLS: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`');

/// A URL as CloudFront sees it on the wire (signatures cover those bytes).
pub fn encode_url(url: &str) -> String {
    utf8_percent_encode(url, NOT_IN_URLS).to_string()
}

fn separator(url: &str) -> char {
    if url.contains('?') {
        '&'
    } else {
        '?'
    }
}

fn check_url(url: &str) -> Result<(), SigningError> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(SigningError::Url(url.to_owned()));
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            let name = pair.split('=').next().unwrap_or_default();
            if SIGNING_PARAMETERS.contains(&name) {
                return Err(SigningError::AlreadySigned {
                    url: url.to_owned(),
                    parameter: name.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// A PEM private key: PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
pub fn private_key_from_pem(path: &Path, text: &[u8]) -> Result<KeyPair, SigningError> {
    let parsed = pem::parse(text).map_err(|err| SigningError::NotPem {
        path: path.to_owned(),
        reason: err.to_string(),
    })?;
    let not_rsa = |err: aws_lc_rs::error::KeyRejected| SigningError::NotRsa {
        path: path.to_owned(),
        reason: err.to_string(),
    };
    match parsed.tag() {
        "PRIVATE KEY" => KeyPair::from_pkcs8(parsed.contents()).map_err(not_rsa),
        "RSA PRIVATE KEY" => KeyPair::from_der(parsed.contents()).map_err(not_rsa),
        other => Err(SigningError::NotPem {
            path: path.to_owned(),
            reason: format!("its block is `{other}`"),
        }),
    }
}

/// `5m`, `2h`, `7d`, `3600s` or plain seconds, for `--expires-in`.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let count: u64 = number.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    count.checked_mul(scale).filter(|&seconds| seconds > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudfront_base64_swaps_the_three_characters() {
        // 0xfb 0xff -> "+/8=" in standard base64.
        assert_eq!(cloudfront_base64(&[0xfb, 0xff]), "-~8_");
        assert_eq!(cloudfront_base64(b"abc"), "YWJj");
    }

    #[test]
    fn the_policy_is_compact_with_resource_first() {
        assert_eq!(
            policy("https://d1.cloudfront.net/a%20b", 1_700_000_000),
            r#"{"Statement":[{"Resource":"https://d1.cloudfront.net/a%20b","Condition":{"DateLessThan":{"AWS:EpochTime":1700000000}}}]}"#
        );
    }

    #[test]
    fn keys_are_percent_encoded_per_segment() {
        assert_eq!(
            object_url("https://d1.cloudfront.net/", "data sets/café/model+1.bin"),
            "https://d1.cloudfront.net/data%20sets/caf%C3%A9/model%2B1.bin"
        );
    }

    #[test]
    fn raw_urls_are_encoded_once() {
        assert_eq!(
            encode_url("https://d1.cloudfront.net/data sets/café*"),
            "https://d1.cloudfront.net/data%20sets/caf%C3%A9*"
        );
        assert_eq!(
            encode_url("https://d1.cloudfront.net/a%20b?x=1"),
            "https://d1.cloudfront.net/a%20b?x=1"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3600"), Some(3600));
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("7d"), Some(604_800));
        for bad in ["", "0", "1w", "h", "-5", "1.5h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_signed_url_verifies_with_the_public_key_and_refuses_bad_input() {
        use aws_lc_rs::signature::{KeyPair as _, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
        let key = KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let public = key.public_key().as_ref().to_vec();
        let signer = Signer::new(key, "K2JCJMDEHXQW5F").unwrap();
        let url = signer
            .canned_url("https://d1.cloudfront.net/a%20b", 1_700_000_000)
            .unwrap();
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "https://d1.cloudfront.net/a%20b");
        let fields: Vec<(&str, &str)> = query
            .split('&')
            .map(|p| p.split_once('=').unwrap())
            .collect();
        let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["Expires", "Signature", "Key-Pair-Id", "Hash-Algorithm"]
        );
        let signature = fields[1]
            .1
            .replace('-', "+")
            .replace('_', "=")
            .replace('~', "/");
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .unwrap();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
            .verify(
                policy("https://d1.cloudfront.net/a%20b", 1_700_000_000).as_bytes(),
                &signature,
            )
            .expect("the signature verifies with the public key");

        assert!(matches!(
            signer.canned_url("d1.cloudfront.net/a", 1),
            Err(SigningError::Url(_))
        ));
        assert!(matches!(
            signer.canned_url("https://d1.cloudfront.net/a?x=1&Signature=abc", 1),
            Err(SigningError::AlreadySigned { .. })
        ));
        let key = KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        assert!(matches!(
            Signer::new(key, "K2/../x"),
            Err(SigningError::KeyPairId(_))
        ));
    }
}
