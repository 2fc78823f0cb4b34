//! A fault-injection proxy: an HTTP server on loopback that sits between a
//! handler (its `AWS_ENDPOINT_URL` points here) and moto, forwards every
//! request unchanged (the `Host` header included: moto routes S3 by it), and
//! answers the requests a [`Rule`] names the way real AWS sometimes does:
//! with an error, late, never, or with a reply cut off half-way.
//!
//! ```ignore
//! let proxy = FaultProxy::start(&moto.endpoint()).await;
//! // The first 2 PutBucketPolicy calls get S3's throttling error.
//! proxy.add(Rule::first(2, Match::operation("PutBucketPolicy"), Fault::s3_error(503, "SlowDown", "Reduce your request rate.")));
//! let lambda = LambdaEmulator::start(&proxy.env());
//! // ... invoke ...
//! assert_eq!(proxy.count(&Match::operation("PutBucketPolicy")), 3);
//! ```
//!
//! Every request is recorded ([`FaultProxy::seen`]) with the operation it
//! was named as and what the proxy did with it.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;

type ProxyBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Which requests a rule applies to. Every field set must match.
#[derive(Debug, Clone, Default)]
pub struct Match {
    /// The AWS operation, e.g. `PutBucketPolicy`, `CreateDeployment` (see [`operation`]).
    pub operation: Option<String>,
    /// The HTTP method, e.g. `PUT`.
    pub method: Option<String>,
    /// A fragment of the path and query, e.g. `/my-bucket?policy`.
    pub path_contains: Option<String>,
}

impl Match {
    /// Every request.
    pub fn any() -> Match {
        Match::default()
    }

    pub fn operation(name: &str) -> Match {
        Match {
            operation: Some(name.to_owned()),
            ..Match::default()
        }
    }

    pub fn request(method: &str, path_contains: &str) -> Match {
        Match {
            method: Some(method.to_owned()),
            path_contains: Some(path_contains.to_owned()),
            ..Match::default()
        }
    }

    fn matches(&self, seen: &Seen) -> bool {
        self.operation
            .as_deref()
            .is_none_or(|op| seen.operation.as_deref() == Some(op))
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&seen.method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| seen.path.contains(p))
    }
}

/// What the proxy does instead of (or on top of) forwarding.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer this, without forwarding.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Wait, then forward.
    Delay(Duration),
    /// Accept the request and never answer it.
    Hang,
    /// Forward, then send the reply's head and only part of its body, then
    /// close the connection.
    DropMidReply,
}

impl Fault {
    /// An S3 error in S3's XML format, e.g. `s3_error(503, "SlowDown", "Reduce your request rate.")`.
    pub fn s3_error(status: u16, code: &str, message: &str) -> Fault {
        Fault::Respond {
            status,
            headers: vec![("content-type".into(), "application/xml".into())],
            body: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
                 <RequestId>FAULTPROXY</RequestId><HostId>fault-proxy</HostId></Error>"
            ),
        }
    }

    /// An API Gateway (REST-JSON) error, e.g. `api_error(429, "TooManyRequestsException", "Too Many Requests")`.
    pub fn api_error(status: u16, error_type: &str, message: &str) -> Fault {
        Fault::Respond {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-amzn-errortype".into(), error_type.into()),
            ],
            body: serde_json::json!({ "message": message }).to_string(),
        }
    }

    /// Forward as is: a rule with this, added before another on the same
    /// requests, lets the first few through before the other applies.
    pub fn pass() -> Fault {
        Fault::Delay(Duration::ZERO)
    }

    /// The same fault with one more response header (e.g. `Retry-After`).
    pub fn with_header(mut self, name: &str, value: &str) -> Fault {
        if let Fault::Respond { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

/// A fault for the requests a [`Match`] names: the first `times` of them, or all.
#[derive(Debug, Clone)]
pub struct Rule {
    pub on: Match,
    /// How many more matching requests get the fault; `None`: every one.
    pub times: Option<usize>,
    pub fault: Fault,
}

impl Rule {
    /// The first `n` matching requests get `fault`; later ones pass.
    pub fn first(n: usize, on: Match, fault: Fault) -> Rule {
        Rule {
            on,
            times: Some(n),
            fault,
        }
    }

    /// Every matching request gets `fault`.
    pub fn always(on: Match, fault: Fault) -> Rule {
        Rule {
            on,
            times: None,
            fault,
        }
    }
}

/// One request the proxy received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    /// The AWS service from the request's signature (`s3`, `apigateway`).
    pub service: Option<String>,
    /// The operation, when [`operation`] knows it.
    pub operation: Option<String>,
    /// The fault applied, or `None` when it was forwarded untouched.
    pub fault: Option<Fault>,
    /// The upstream status, when it was forwarded and answered.
    pub status: Option<u16>,
}

impl Seen {
    /// Forwarded and answered by moto (possibly after a delay).
    pub fn passed(&self) -> bool {
        self.status.is_some()
    }
}

struct Shared {
    upstream: String,
    rules: Mutex<Vec<Rule>>,
    seen: Mutex<Vec<Seen>>,
    client: Client<HttpConnector, Incoming>,
}

/// The running proxy; stops when dropped.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listen on a free loopback port, forwarding to `upstream` (e.g. `http://localhost:5000`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            rules: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let state = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, std::convert::Infallible>(handle(&state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy { port, shared, task }
    }

    /// The endpoint to give the handler: `localhost`, so that moto still
    /// sees a host name it routes S3 by.
    pub fn endpoint(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// Environment for a handler that talks to AWS through this proxy.
    pub fn env(&self) -> Vec<(String, String)> {
        crate::clients::env(&self.endpoint())
    }

    /// Add a rule. Rules are tried in the order added; the first whose
    /// match holds and which has uses left applies.
    pub fn add(&self, rule: Rule) {
        if let Ok(mut rules) = self.shared.rules.lock() {
            rules.push(rule);
        }
    }

    /// Remove every rule: from now on everything passes.
    pub fn clear(&self) {
        if let Ok(mut rules) = self.shared.rules.lock() {
            rules.clear();
        }
    }

    /// Every request received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared
            .seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Requests received so far that `on` matches (faulted or not).
    pub fn count(&self, on: &Match) -> usize {
        self.seen().iter().filter(|s| on.matches(s)).count()
    }

    /// Requests that `on` matches which reached moto and were answered.
    pub fn passed(&self, on: &Match) -> usize {
        self.seen()
            .iter()
            .filter(|s| on.matches(s) && s.passed())
            .count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(shared: &Shared, request: Request<Incoming>) -> Response<ProxyBody> {
    let method = request.method().as_str().to_owned();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let service = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(signing_service);
    let mut seen = Seen {
        operation: service
            .as_deref()
            .and_then(|s| operation(s, &method, &path))
            .map(str::to_owned),
        method,
        path,
        service,
        fault: None,
        status: None,
    };
    seen.fault = take_fault(shared, &seen);
    let index = record(shared, seen.clone());
    let fault = seen.fault;
    match fault {
        Some(Fault::Respond {
            status,
            headers,
            body,
        }) => {
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            return response
                .body(full(body))
                .unwrap_or_else(|e| error_response(e.to_string()));
        }
        Some(Fault::Hang) => std::future::pending::<()>().await,
        Some(Fault::Delay(pause)) => tokio::time::sleep(pause).await,
        Some(Fault::DropMidReply) | None => {}
    }
    let response = match forward(shared, request).await {
        Ok(response) => response,
        Err(err) => return error_response(format!("fault proxy: upstream failed: {err}")),
    };
    if let Ok(mut seen) = shared.seen.lock() {
        if let Some(entry) = seen.get_mut(index) {
            entry.status = Some(response.status().as_u16());
        }
    }
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => return error_response(format!("fault proxy: upstream body: {err}")),
    };
    if matches!(fault, Some(Fault::DropMidReply)) {
        // The head promises the whole body (moto's Content-Length, or the
        // length of the whole); half of it is sent, then the connection breaks.
        let mut parts = parts;
        parts
            .headers
            .insert(hyper::header::CONTENT_LENGTH, body.len().max(2).into());
        parts.headers.remove(hyper::header::TRANSFER_ENCODING);
        let half = body.slice(..body.len() / 2);
        return Response::from_parts(parts, BoxBody::new(CutOff(Some(half))));
    }
    Response::from_parts(parts, full(body))
}

async fn forward(
    shared: &Shared,
    request: Request<Incoming>,
) -> Result<Response<Incoming>, Box<dyn std::error::Error + Send + Sync>> {
    let (mut parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = format!("{}{path}", shared.upstream).parse()?;
    // The Host header stays as the SDK sent it (`localhost:<proxy port>`).
    Ok(shared
        .client
        .request(Request::from_parts(parts, body))
        .await?)
}

fn take_fault(shared: &Shared, seen: &Seen) -> Option<Fault> {
    let mut rules = shared.rules.lock().ok()?;
    let rule = rules
        .iter_mut()
        .find(|r| r.times != Some(0) && r.on.matches(seen))?;
    if let Some(left) = rule.times.as_mut() {
        *left -= 1;
    }
    Some(rule.fault.clone())
}

fn record(shared: &Shared, seen: Seen) -> usize {
    shared
        .seen
        .lock()
        .map(|mut log| {
            log.push(seen);
            log.len() - 1
        })
        .unwrap_or(usize::MAX)
}

fn full(body: impl Into<Bytes>) -> ProxyBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

fn error_response(message: String) -> Response<ProxyBody> {
    let mut response = Response::new(full(message));
    *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
    response
}

/// A body that yields one chunk and then fails, so the server breaks the
/// connection before the promised length was sent.
struct CutOff(Option<Bytes>);

impl Body for CutOff {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(match self.0.take() {
            Some(chunk) => Ok(Frame::data(chunk)),
            None => Err("fault proxy: reply cut off".into()),
        }))
    }
}

/// The service a SigV4 `Authorization` header was signed for:
/// `Credential=<key>/<date>/<region>/<service>/aws4_request`.
fn signing_service(authorization: &str) -> Option<String> {
    let credential = authorization.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    scope.split('/').nth(3).map(str::to_owned)
}

/// The AWS operation a request is, for the S3 and API Gateway calls
/// vaultfront's handlers make; `None` for anything else.
pub fn operation(service: &str, method: &str, path_and_query: &str) -> Option<&'static str> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    match service {
        "s3" => s3_operation(method, path, query),
        "apigateway" => apigateway_operation(method, path),
        _ => None,
    }
}

fn s3_operation(method: &str, path: &str, query: &str) -> Option<&'static str> {
    let keys: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('=').next().unwrap_or(p))
        .collect();
    let has = |key: &str| keys.contains(&key);
    let object = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .contains('/');
    let table: &[(&str, [Option<&'static str>; 3])] = &[
        (
            "policy",
            [
                Some("GetBucketPolicy"),
                Some("PutBucketPolicy"),
                Some("DeleteBucketPolicy"),
            ],
        ),
        (
            "versioning",
            [
                Some("GetBucketVersioning"),
                Some("PutBucketVersioning"),
                None,
            ],
        ),
        (
            "object-lock",
            [
                Some("GetObjectLockConfiguration"),
                Some("PutObjectLockConfiguration"),
                None,
            ],
        ),
        (
            "tagging",
            [
                Some("GetBucketTagging"),
                Some("PutBucketTagging"),
                Some("DeleteBucketTagging"),
            ],
        ),
        (
            "ownershipControls",
            [
                Some("GetBucketOwnershipControls"),
                Some("PutBucketOwnershipControls"),
                Some("DeleteBucketOwnershipControls"),
            ],
        ),
    ];
    let column = match method {
        "GET" => 0,
        "PUT" => 1,
        "DELETE" => 2,
        "HEAD" => return Some(if object { "HeadObject" } else { "HeadBucket" }),
        _ => return None,
    };
    if let Some((_, ops)) = table.iter().find(|(key, _)| has(key)) {
        return ops[column];
    }
    match (method, object) {
        ("GET", true) => Some("GetObject"),
        ("PUT", true) => Some("PutObject"),
        ("DELETE", true) => Some("DeleteObject"),
        ("GET", false) if has("versions") => Some("ListObjectVersions"),
        ("GET", false) => Some("ListObjectsV2"),
        ("PUT", false) => Some("CreateBucket"),
        ("DELETE", false) => Some("DeleteBucket"),
        _ => None,
    }
}

fn apigateway_operation(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let op = match (method, segments.as_slice()) {
        ("POST", ["restapis"]) => "CreateRestApi",
        ("GET", ["restapis"]) => "GetRestApis",
        ("GET", ["restapis", _]) => "GetRestApi",
        ("PUT", ["restapis", _]) => "PutRestApi",
        ("PATCH", ["restapis", _]) => "UpdateRestApi",
        ("DELETE", ["restapis", _]) => "DeleteRestApi",
        ("GET", ["restapis", _, "resources"]) => "GetResources",
        ("GET", ["restapis", _, "resources", _, "methods", _]) => "GetMethod",
        ("PATCH", ["restapis", _, "resources", _, "methods", _]) => "UpdateMethod",
        ("PATCH", ["restapis", _, "resources", _, "methods", _, "integration"]) => {
            "UpdateIntegration"
        }
        ("GET", ["restapis", _, "resources", _, "methods", _, "integration"]) => "GetIntegration",
        ("POST", ["restapis", _, "deployments"]) => "CreateDeployment",
        ("GET", ["restapis", _, "deployments"]) => "GetDeployments",
        ("GET", ["restapis", _, "deployments", _]) => "GetDeployment",
        ("DELETE", ["restapis", _, "deployments", _]) => "DeleteDeployment",
        ("POST", ["restapis", _, "stages"]) => "CreateStage",
        ("GET", ["restapis", _, "stages"]) => "GetStages",
        ("GET", ["restapis", _, "stages", _]) => "GetStage",
        ("PATCH", ["restapis", _, "stages", _]) => "UpdateStage",
        ("DELETE", ["restapis", _, "stages", _]) => "DeleteStage",
        _ => return None,
    };
    Some(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_operations() {
        assert_eq!(
            operation("s3", "PUT", "/bucket/?policy"),
            Some("PutBucketPolicy")
        );
        assert_eq!(
            operation("s3", "GET", "/bucket?object-lock"),
            Some("GetObjectLockConfiguration")
        );
        assert_eq!(
            operation("s3", "PUT", "/bucket/key?x-id=PutObject"),
            Some("PutObject")
        );
        assert_eq!(
            operation("apigateway", "POST", "/restapis/abc/deployments"),
            Some("CreateDeployment")
        );
        assert_eq!(
            operation("apigateway", "PATCH", "/restapis/abc/stages/v1"),
            Some("UpdateStage")
        );
        assert_eq!(operation("iam", "POST", "/"), None);
    }

    #[test]
    fn reads_the_signing_service() {
        let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(signing_service(auth).as_deref(), Some("apigateway"));
        assert_eq!(signing_service("Bearer x"), None);
    }
}
