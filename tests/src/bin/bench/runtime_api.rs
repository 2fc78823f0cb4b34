//! A minimal Lambda Runtime API server: the documented interface a Lambda
//! runtime polls for events and answers on
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>):
//!
//! - `GET  /2018-06-01/runtime/invocation/next` waits for an event and
//!   returns it with `Lambda-Runtime-Aws-Request-Id`, a real
//!   `Lambda-Runtime-Deadline-Ms` (epoch milliseconds, now + the function
//!   timeout), `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../error` end
//!   an invocation;
//! - `POST /2018-06-01/runtime/init/error` reports a failed start.
//!
//! It also serves the events' ResponseURLs (`PUT /cfn-response/{token}`),
//! so the arrival of a function's answer to CloudFormation is timed on the
//! same clock as the rest: a handler may answer and keep working after, and
//! CloudFormation waits only for the answer.
//!
//! Why not `cargo lambda watch`: it starts the function itself (and through
//! `cargo run`), so the moment the process starts is hidden, and it sends a
//! deadline in 1970. Here the bench spawns the release binary itself, with
//! `AWS_LAMBDA_RUNTIME_API` pointing at this server, and timestamps the
//! spawn, the first poll (init done), the hand-over of each event and the
//! arrival of each result on one monotonic clock.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The function timeout the deadline of every event is computed from.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(60);
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:vaultfront-bench";
const PREFIX: &str = "/2018-06-01/runtime/";
const RESPONSE_PREFIX: &str = "/cfn-response/";

/// How an invocation ended.
#[derive(Debug)]
pub enum Outcome {
    /// The function returned (its return value is not needed here).
    Response,
    /// The function failed; the runtime's error document.
    Error(Vec<u8>),
}

/// A response the function PUT to its ResponseURL.
#[derive(Debug, Clone)]
pub struct Answer {
    /// When the PUT had fully arrived (it is answered 200 at once).
    pub at: Instant,
    pub body: Vec<u8>,
}

/// One invocation, timed on the bench's clock.
#[derive(Debug)]
pub struct Invoked {
    /// When the event was written to the runtime's `next` request.
    pub delivered: Instant,
    /// When the runtime's `response` (or `error`) request had fully arrived.
    pub completed: Instant,
    pub outcome: Outcome,
}

struct Pending {
    id: String,
    body: Vec<u8>,
    delivered: oneshot::Sender<Instant>,
}

struct Finished {
    outcome: Outcome,
    at: Instant,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Finished>>>,
    /// Told of the first `next` poll (init done) or of an init error.
    first_poll: Mutex<Option<oneshot::Sender<Result<Instant, String>>>>,
    /// Responses PUT to a ResponseURL, by its token.
    answers: Mutex<HashMap<String, Answer>>,
}

pub struct RuntimeApi {
    port: u16,
    shared: Arc<Shared>,
    queue: mpsc::UnboundedSender<Pending>,
    first_poll: Option<oneshot::Receiver<Result<Instant, String>>>,
    next_id: u64,
    task: JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> Result<RuntimeApi, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|err| format!("bind the Runtime API: {err}"))?;
        let port = listener
            .local_addr()
            .map_err(|err| format!("Runtime API address: {err}"))?
            .port();
        let (queue, receiver) = mpsc::unbounded_channel();
        let (first_tx, first_rx) = oneshot::channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            first_poll: Mutex::new(Some(first_tx)),
            answers: Mutex::new(HashMap::new()),
        });
        let serving = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(Connection::new(stream), Arc::clone(&serving)));
            }
        });
        Ok(RuntimeApi {
            port,
            shared,
            queue,
            first_poll: Some(first_rx),
            next_id: 0,
            task,
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A ResponseURL on this server, for `token`. The query looks like a
    /// presigned URL's (the functions must never log it).
    pub fn response_url(&self, token: &str) -> String {
        format!(
            "http://127.0.0.1:{}{RESPONSE_PREFIX}{token}?X-Amz-Expires=7200&X-Amz-Signature=bench-signature",
            self.port
        )
    }

    /// The first response PUT to `token`'s ResponseURL, if one arrived.
    pub fn answer(&self, token: &str) -> Option<Answer> {
        self.shared.answers.lock().ok()?.get(token).cloned()
    }

    /// When the runtime first asked for an event: `Ok(None)` while it has not
    /// within `step`, an error if it reported an init error.
    pub async fn first_poll(&mut self, step: Duration) -> Result<Option<Instant>, String> {
        let receiver = self
            .first_poll
            .as_mut()
            .ok_or("the first poll was already seen")?;
        match tokio::time::timeout(step, receiver).await {
            Ok(Ok(result)) => {
                self.first_poll = None;
                result.map(Some)
            }
            Ok(Err(_)) => Err("the Runtime API stopped".to_owned()),
            Err(_) => Ok(None),
        }
    }

    /// Hand `event` to the runtime and wait for its result.
    pub async fn invoke(&mut self, event: &Value, within: Duration) -> Result<Invoked, String> {
        self.next_id += 1;
        let id = format!("bench-{:08}-{:04}", std::process::id(), self.next_id);
        let (done_tx, done_rx) = oneshot::channel();
        self.shared
            .waiting
            .lock()
            .map_err(|_| "Runtime API state poisoned")?
            .insert(id.clone(), done_tx);
        let (delivered_tx, delivered_rx) = oneshot::channel();
        self.queue
            .send(Pending {
                id: id.clone(),
                body: event.to_string().into_bytes(),
                delivered: delivered_tx,
            })
            .map_err(|_| "the Runtime API stopped")?;
        let wait = async {
            let delivered = delivered_rx
                .await
                .map_err(|_| "the event was never handed over".to_owned())?;
            let finished = done_rx
                .await
                .map_err(|_| "the invocation never finished".to_owned())?;
            Ok::<_, String>(Invoked {
                delivered,
                completed: finished.at,
                outcome: finished.outcome,
            })
        };
        tokio::time::timeout(within, wait)
            .await
            .map_err(|_| format!("invocation {id} did not finish within {within:?}"))?
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

async fn serve(mut connection: Connection, shared: Arc<Shared>) {
    while let Some(request) = connection.read_request().await {
        let arrived = Instant::now();
        let path = request.path.as_str();
        let written = match (request.method.as_str(), path.strip_prefix(PREFIX)) {
            ("GET", Some("invocation/next")) => {
                if let Some(tx) = shared.first_poll.lock().ok().and_then(|mut t| t.take()) {
                    let _ = tx.send(Ok(arrived));
                }
                let pending = shared.queue.lock().await.recv().await;
                let Some(pending) = pending else { return };
                let deadline = epoch_ms() + FUNCTION_TIMEOUT.as_millis();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     lambda-runtime-aws-request-id: {}\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
                     lambda-runtime-invoked-function-arn: {FUNCTION_ARN}\r\n\
                     lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\r\n",
                    pending.body.len(),
                    pending.id
                );
                let mut message = head.into_bytes();
                message.extend_from_slice(&pending.body);
                let delivered = Instant::now();
                let written = connection.write(&message).await;
                let _ = pending.delivered.send(delivered);
                written
            }
            ("POST", Some("init/error")) => {
                if let Some(tx) = shared.first_poll.lock().ok().and_then(|mut t| t.take()) {
                    let _ = tx.send(Err(format!(
                        "init error: {}",
                        String::from_utf8_lossy(&request.body)
                    )));
                }
                connection.accepted().await
            }
            ("POST", Some(rest)) if rest.starts_with("invocation/") => {
                let mut parts = rest.trim_start_matches("invocation/").splitn(2, '/');
                let id = parts.next().unwrap_or_default();
                let outcome = match parts.next() {
                    Some("response") => Some(Outcome::Response),
                    Some("error") => Some(Outcome::Error(request.body)),
                    _ => None,
                };
                let waiter = shared.waiting.lock().ok().and_then(|mut w| w.remove(id));
                match (outcome, waiter) {
                    (Some(outcome), Some(waiter)) => {
                        let _ = waiter.send(Finished {
                            outcome,
                            at: arrived,
                        });
                        connection.accepted().await
                    }
                    _ => connection.status("404 Not Found").await,
                }
            }
            ("PUT", _) if path.starts_with(RESPONSE_PREFIX) => {
                let token = path[RESPONSE_PREFIX.len()..]
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                if let Ok(mut answers) = shared.answers.lock() {
                    answers.entry(token).or_insert(Answer {
                        at: arrived,
                        body: request.body,
                    });
                }
                connection.status("200 OK").await
            }
            _ => connection.status("404 Not Found").await,
        };
        if written.is_err() {
            return;
        }
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// One keep-alive HTTP/1.1 connection from the runtime.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    fn new(stream: TcpStream) -> Connection {
        Connection {
            stream,
            buffer: Vec::new(),
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    async fn accepted(&mut self) -> std::io::Result<()> {
        let body = r#"{"status":"OK"}"#;
        let message = format!(
            "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        self.write(message.as_bytes()).await
    }

    async fn status(&mut self, status: &str) -> std::io::Result<()> {
        let message = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
        self.write(message.as_bytes()).await
    }

    /// Read until the buffer holds at least `len` bytes; false at EOF.
    async fn fill(&mut self, len: usize) -> bool {
        let mut chunk = [0u8; 8192];
        while self.buffer.len() < len {
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
        true
    }

    /// The position just past the next CRLF at or after `from`, reading as needed.
    async fn line_end(&mut self, from: usize, terminator: &[u8]) -> Option<usize> {
        loop {
            if let Some(at) = self.buffer[from.min(self.buffer.len())..]
                .windows(terminator.len())
                .position(|w| w == terminator)
            {
                return Some(from + at + terminator.len());
            }
            let len = self.buffer.len() + 1;
            if !self.fill(len).await {
                return None;
            }
        }
    }

    async fn read_request(&mut self) -> Option<Request> {
        let head_end = self.line_end(0, b"\r\n\r\n").await?;
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next()?.split(' ');
        let method = first.next()?.to_owned();
        let path = first.next()?.to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n").await.ok()?;
        }
        let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        let length = header("content-length").and_then(|v| v.parse::<usize>().ok());
        let (body, end) = if chunked {
            self.read_chunked(head_end).await?
        } else {
            let end = head_end + length.unwrap_or(0);
            if !self.fill(end).await {
                return None;
            }
            (self.buffer[head_end..end].to_vec(), end)
        };
        self.buffer.drain(..end);
        Some(Request { method, path, body })
    }

    /// A chunked body starting at `at`: the body and where the message ends.
    async fn read_chunked(&mut self, mut at: usize) -> Option<(Vec<u8>, usize)> {
        let mut body = Vec::new();
        loop {
            let size_end = self.line_end(at, b"\r\n").await?;
            let size_line = String::from_utf8_lossy(&self.buffer[at..size_end - 2]).into_owned();
            let size_text = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16).ok()?;
            at = size_end;
            if size == 0 {
                // Trailers, if any, then the empty line.
                loop {
                    let end = self.line_end(at, b"\r\n").await?;
                    let empty = end == at + 2;
                    at = end;
                    if empty {
                        return Some((body, at));
                    }
                }
            }
            if !self.fill(at + size + 2).await {
                return None;
            }
            body.extend_from_slice(&self.buffer[at..at + size]);
            at += size + 2;
        }
    }
}
