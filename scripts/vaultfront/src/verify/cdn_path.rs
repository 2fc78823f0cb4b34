//! On AWS with CdnAccess=signed, the CDN's side of "private": an unsigned
//! GET of an object through the distribution is refused by CloudFront
//! itself (403 MissingKey, before any origin is asked), and the same GET
//! with a URL signed by the stack's key is served.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use super::checks::{guarantee, not_applicable, CDN_DATA_PATH};
use super::{Facts, Guarantee};
use crate::signing::{self, Signer};

/// How long the signed URL verify makes is valid.
const SIGNED_FOR: Duration = Duration::from_secs(300);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Enough of an error body to find CloudFront's code in.
const BODY_KEPT: usize = 2048;

/// What one GET through the CDN came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reached {
    Answered { status: u16, body: String },
    Failed(String),
}

/// `key` names an object the bucket holds (`exists`), or one that is not
/// there, which still shows the unsigned refusal but cannot be served.
pub async fn check(facts: &Facts, key: &str, exists: bool) -> Guarantee {
    if facts.local {
        return not_applicable(
            CDN_DATA_PATH,
            "moto's CloudFront serves no content, so no request can go through it locally",
        );
    }
    if facts.cdn_access == "public" {
        return not_applicable(
            CDN_DATA_PATH,
            "CdnAccess=public: CloudFront serves every object unsigned, by choice",
        );
    }
    if facts.cdn_url.is_empty() {
        return guarantee(CDN_DATA_PATH, Err("the stack has no CdnUrl output".into()));
    }
    let client = match crate::https::client() {
        Ok(client) => client,
        Err(err) => return guarantee(CDN_DATA_PATH, Err(err)),
    };
    let url = signing::object_url(&facts.cdn_url, key);
    let unsigned = get(&client, &url).await;
    let signed = match (&facts.signing_key, exists) {
        (_, false) => {
            Err("the bucket holds no object to fetch (verify --probe writes one)".to_owned())
        }
        (None, true) => Err(
            "no private key on this machine for a key the stack trusts (keys are made by the \
             first signed deploy from a machine)"
                .to_owned(),
        ),
        (Some((file, id)), true) => match signed_url(file, id, &url) {
            Ok(signed) => Ok(get(&client, &signed).await),
            Err(err) => Err(err),
        },
    };
    guarantee(CDN_DATA_PATH, judge(key, &unsigned, signed.as_ref()))
}

fn signed_url(file: &Path, id: &str, url: &str) -> Result<String, String> {
    let until = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d + SIGNED_FOR).as_secs())
        .unwrap_or_default();
    let signer = Signer::from_file(file, id).map_err(|err| err.to_string())?;
    signer.canned_url(url, until).map_err(|err| err.to_string())
}

async fn get(client: &crate::https::HttpsClient, url: &str) -> Reached {
    let request = match http::Request::get(url).body(Full::new(Bytes::new())) {
        Ok(request) => request,
        Err(err) => return Reached::Failed(format!("GET {url}: {err}")),
    };
    let answer = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        // Only an error's body is read: a served object may be large.
        let body = if status >= 400 {
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_KEPT)]).into_owned()
        } else {
            String::new()
        };
        Ok::<_, String>(Reached::Answered { status, body })
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, answer).await {
        Ok(Ok(reached)) => reached,
        Ok(Err(err)) => Reached::Failed(err),
        Err(_) => Reached::Failed(format!("no answer within {REQUEST_TIMEOUT:?}")),
    }
}

/// PASS only when CloudFront itself refused the unsigned GET (403 with its
/// `MissingKey` code; a 403 from the origin would say nothing about
/// signing) and, where a signed GET could be made, served it.
pub fn judge(
    key: &str,
    unsigned: &Reached,
    signed: Result<&Reached, &String>,
) -> Result<String, String> {
    let refused = match unsigned {
        Reached::Answered { status: 403, body } if body.contains("MissingKey") => {
            format!("unsigned GET {key}: 403 MissingKey from CloudFront")
        }
        Reached::Answered { status: 403, body } => {
            return Err(format!(
                "unsigned GET {key}: 403 without CloudFront's MissingKey (the origin refused, so \
                 the distribution did not ask for a signature): {}",
                body.trim()
            ))
        }
        Reached::Answered { status, .. } => {
            return Err(format!(
                "unsigned GET {key}: HTTP {status}: CloudFront answers requests without a signature"
            ))
        }
        Reached::Failed(err) => return Err(format!("unsigned GET {key}: {err}")),
    };
    match signed {
        Err(why) => Ok(format!("{refused}; signed GET not tried: {why}")),
        Ok(Reached::Answered {
            status: status @ (200 | 206),
            ..
        }) => Ok(format!("{refused}; signed GET: {status}, served")),
        Ok(Reached::Answered { status, body }) => Err(format!(
            "{refused}, but the signed GET was refused too (HTTP {status}: {}): the key group \
             does not trust this key, or the origin refuses the distribution",
            body.trim()
        )),
        Ok(Reached::Failed(err)) => Err(format!("{refused}; signed GET: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, body: &str) -> Reached {
        Reached::Answered {
            status,
            body: body.to_owned(),
        }
    }

    const MISSING_KEY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>";

    #[test]
    fn passes_when_cloudfront_refuses_unsigned_and_serves_signed() {
        let verdict = judge("k", &answered(403, MISSING_KEY), Ok(&answered(200, "")));
        assert_eq!(
            verdict,
            Ok("unsigned GET k: 403 MissingKey from CloudFront; signed GET: 200, served".into())
        );
        let not_tried = "no object".to_owned();
        assert!(judge("k", &answered(403, MISSING_KEY), Err(&not_tried))
            .is_ok_and(|e| e.ends_with("signed GET not tried: no object")));
    }

    #[test]
    fn an_unsigned_request_served_or_refused_by_the_origin_fails() {
        let served = answered(200, "");
        assert!(judge("k", &answered(200, ""), Ok(&served)).is_err());
        // S3's AccessDenied reached through an unsigned request: the
        // distribution asked for no signature.
        let origin = "<Error><Code>AccessDenied</Code></Error>";
        assert!(judge("k", &answered(403, origin), Ok(&served)).is_err());
        assert!(judge("k", &Reached::Failed("timeout".into()), Ok(&served)).is_err());
    }

    #[test]
    fn a_signed_request_refused_fails() {
        let unknown = "<Error><Code>InvalidKey</Code><Message>Unknown Key</Message></Error>";
        let verdict = judge(
            "k",
            &answered(403, MISSING_KEY),
            Ok(&answered(403, unknown)),
        );
        assert!(verdict.is_err_and(|e| e.contains("Unknown Key")));
    }
}
