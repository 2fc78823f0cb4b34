//! A plain HTTP/1.1 client for loopback emulators (invokes, raw requests),
//! on the hyper stack the SDK already links.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// POST `body` as JSON to `url`; the status and body of the reply.
pub async fn post(url: &str, body: Vec<u8>) -> Result<(u16, Bytes), String> {
    let (status, _, body) = request(
        "POST",
        url,
        &[("content-type", "application/json")],
        Bytes::from(body),
    )
    .await?;
    Ok((status, body))
}

/// One request with any method and headers; the status, headers and body
/// of the reply.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Result<(u16, hyper::HeaderMap, Bytes), String> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?
        .to_bytes();
    Ok((status, headers, body))
}
