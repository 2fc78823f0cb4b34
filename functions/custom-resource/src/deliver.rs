//! Delivering the response: one HTTP PUT to the presigned `ResponseURL`,
//! retried on connect errors, time-outs and 5xx with jittered backoff that
//! stays inside the deadline. A 4xx is final. The URL never reaches a log or
//! an error message: it is a credential.

use crate::backoff::jittered;
use crate::envelope::ResponseUrl;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::time::Instant;

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const MAX_ATTEMPT_TIME: Duration = Duration::from_secs(10);

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// How a delivered response went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub attempts: u32,
    pub status: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the ResponseURL is not a valid http(s) URL")]
    InvalidUrl,
    #[error("could not set up TLS for the response: {0}")]
    Tls(String),
    #[error("the ResponseURL refused the response with HTTP {status}{code} (final; not retried)")]
    Rejected { status: u16, code: String },
    #[error("gave up after {attempts} attempts before the deadline; last error: {last}")]
    GaveUp { attempts: u32, last: String },
}

impl DeliveryError {
    /// Whether running the whole event again could still deliver it.
    pub fn is_transient(&self) -> bool {
        matches!(self, DeliveryError::GaveUp { .. })
    }
}

/// PUT `body` to `url`, retrying until `until`.
pub async fn deliver(
    url: &ResponseUrl,
    body: Vec<u8>,
    until: Instant,
) -> Result<Delivered, DeliveryError> {
    let uri: Uri = url
        .expose()
        .parse()
        .map_err(|_| DeliveryError::InvalidUrl)?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
        return Err(DeliveryError::InvalidUrl);
    }
    let client = client()?;
    let body = Bytes::from(body);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let left = until.saturating_duration_since(Instant::now());
        let last =
            match tokio::time::timeout(left.min(MAX_ATTEMPT_TIME), put(client, &uri, body.clone()))
                .await
            {
                Ok(Ok((status, _))) if status < 400 => return Ok(Delivered { attempts, status }),
                Ok(Ok((status, reply))) if status < 500 => {
                    return Err(DeliveryError::Rejected {
                        status,
                        code: error_code(&reply),
                    })
                }
                Ok(Ok((status, reply))) => format!("HTTP {status}{}", error_code(&reply)),
                Ok(Err(err)) => err,
                Err(_) => format!(
                    "no answer within {:.1} s",
                    left.min(MAX_ATTEMPT_TIME).as_secs_f32()
                ),
            };
        tracing::warn!(attempt = attempts, error = %last, "response PUT failed; will retry if time allows");
        let pause = jittered(
            FIRST_BACKOFF
                .saturating_mul(1 << attempts.min(8))
                .min(MAX_BACKOFF),
        );
        if Instant::now() + pause >= until {
            return Err(DeliveryError::GaveUp { attempts, last });
        }
        tokio::time::sleep(pause).await;
    }
}

async fn put(client: &HttpsClient, uri: &Uri, body: Bytes) -> Result<(u16, Bytes), String> {
    let length = body.len();
    let mut request = hyper::Request::new(Full::new(body));
    *request.method_mut() = Method::PUT;
    *request.uri_mut() = uri.clone();
    // The presigned URL is signed without a content type: send an empty one.
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(""));
    request
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(length));
    let response = client
        .request(request)
        .await
        .map_err(|err| crate::error_chain(&err))?;
    let status = response.status().as_u16();
    let reply = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok((status, reply))
}

fn client() -> Result<&'static HttpsClient, DeliveryError> {
    static CLIENT: OnceLock<HttpsClient> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|err| DeliveryError::Tls(err.to_string()))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build(connector)))
}

/// The S3 error `<Code>` of a reply, if any. The rest of an S3 error body can
/// echo the request (and so the credential in the URL): it is never shown.
fn error_code(reply: &[u8]) -> String {
    let text = String::from_utf8_lossy(reply);
    text.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| format!(" ({code})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_only_the_s3_error_code() {
        let reply = b"<Error><Code>AccessDenied</Code><StringToSign>secret</StringToSign></Error>";
        assert_eq!(error_code(reply), " (AccessDenied)");
        assert_eq!(error_code(b"plain"), "");
    }

    #[tokio::test]
    async fn rejects_malformed_urls_without_echoing_them() {
        let until = Instant::now() + Duration::from_secs(1);
        for bad in [
            "not a url",
            "ftp://host/x?X-Amz-Signature=s3cret",
            "/relative",
        ] {
            let url = crate::envelope::Envelope::read(&serde_json::json!({"ResponseURL": bad}))
                .response_url
                .unwrap();
            let err = deliver(&url, Vec::new(), until).await.unwrap_err();
            assert!(matches!(err, DeliveryError::InvalidUrl), "{bad}: {err}");
            assert!(!err.to_string().contains("s3cret"));
        }
    }
}
