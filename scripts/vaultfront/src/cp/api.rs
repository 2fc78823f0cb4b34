//! SigV4-signed requests to the stack's S3 API (service `execute-api`), with
//! the caller's own credential chain (`aws-config`) and `aws-sigv4`.

use super::CpError;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::time::{Duration, SystemTime};

use crate::https::HttpsClient;

/// Attempts per request: a part that fails for a transient reason (a
/// connection reset, 500, 502, 503, 504) is sent again, after 1 s, 2 s.
const ATTEMPTS: u32 = 3;

/// An answer of the API.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The API at `base` (the stack's `ApiInvokeUrl`), signed for `region`.
#[derive(Clone)]
pub struct Api {
    base: String,
    region: String,
    credentials: SharedCredentialsProvider,
    client: HttpsClient,
}

impl Api {
    pub fn new(
        base: &str,
        region: &str,
        credentials: SharedCredentialsProvider,
    ) -> Result<Api, CpError> {
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            credentials,
            client: crate::https::client().map_err(CpError::Transport)?,
        })
    }

    /// The URL of `key` with `query`.
    pub fn url(&self, key: &str, query: &[(&str, &str)]) -> String {
        let mut url = format!("{}/{}", self.base, encode_key(key));
        for (i, (name, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(name);
            url.push('=');
            url.push_str(&encode_component(value));
        }
        url
    }

    /// Send one request, again on a transient failure; 403 and 404 come
    /// back as replies for the caller to explain.
    pub async fn send(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Reply, CpError> {
        let url = self.url(key, query);
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
            }
            match self.send_once(method, &url, headers, body.clone()).await {
                Ok(reply) if matches!(reply.status, 500 | 502 | 503 | 504) => {
                    last = format!("HTTP {}", reply.status);
                }
                Ok(reply) => return Ok(reply),
                Err(err @ CpError::Transport(_)) => last = err.to_string(),
                Err(err) => return Err(err),
            }
        }
        Err(CpError::Transport(format!(
            "{method} {url} failed {ATTEMPTS} times; last: {last}"
        )))
    }

    async fn send_once(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Reply, CpError> {
        use aws_credential_types::provider::ProvideCredentials;
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|err| CpError::Credentials(err.to_string()))?;
        let request = signed_request(
            method,
            url,
            headers,
            body,
            credentials,
            &self.region,
            SystemTime::now(),
        )?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|err| CpError::Transport(format!("{method} {url}: {err}")))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|err| CpError::Transport(format!("{method} {url}: {err}")))?
            .to_bytes();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// The request, signed with SigV4 for `execute-api` in `region` at `time`.
fn signed_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
    credentials: aws_credential_types::Credentials,
    region: &str,
    time: SystemTime,
) -> Result<http::Request<Full<Bytes>>, CpError> {
    let signing = |err: &dyn std::fmt::Display| CpError::Signing(format!("{method} {url}: {err}"));
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("execute-api")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|err| signing(&err))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(&body),
    )
    .map_err(|err| signing(&err))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|err| signing(&err))?
        .into_parts();
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Full::new(body)).map_err(|err| signing(&err))?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request)
}

/// A key as a URL path: each segment percent-encoded, `/` kept.
fn encode_key(key: &str) -> String {
    key.split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// RFC 3986 unreserved characters kept, every other byte percent-encoded.
fn encode_component(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_signed_for_execute_api_in_the_region() {
        let credentials = aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("session-token".into()),
            None,
            "test",
        );
        // 2026-12-02T20:00:00Z
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_241_600);
        let request = signed_request(
            "PUT",
            "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/a/b.txt?partNumber=1&uploadId=u",
            &[("x-amz-checksum-sha256", "c2hh")],
            Bytes::from_static(b"part"),
            credentials,
            "eu-west-1",
            time,
        )
        .unwrap();
        let header = |name| request.headers().get(name).and_then(|v| v.to_str().ok());
        let authorization = header("authorization").expect("signed");
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/eu-west-1/execute-api/aws4_request"
            ),
            "{authorization}"
        );
        assert!(
            authorization.contains("x-amz-checksum-sha256"),
            "the part's checksum is signed: {authorization}"
        );
        assert_eq!(header("x-amz-date"), Some("20261202T200000Z"));
        assert_eq!(header("x-amz-security-token"), Some("session-token"));
        assert_eq!(header("x-amz-checksum-sha256"), Some("c2hh"));
    }

    #[test]
    fn keys_keep_their_slashes_and_escape_the_rest() {
        assert_eq!(encode_key("a b/c+d/e~f.txt"), "a%20b/c%2Bd/e~f.txt");
        assert_eq!(encode_component("2~x/y="), "2~x%2Fy%3D");
    }
}
