//! The guard around a handler: read the envelope, run the handler in its own
//! task under a deadline, turn every outcome (success, error, bad property,
//! panic, time-out) into exactly one response, and deliver it; then run the
//! work the handler left for after a SUCCESS (its [`Guard`]) within the deadline.

use crate::claim::Slot;
use crate::deliver::{deliver, DeliveryError};
use crate::envelope::{parse_event, Envelope, Request, RequestType};
use crate::guard::{keep, Guard, Guarded};
use crate::properties::{parse, parse_for_delete};
use crate::resource::{Deletion, Resource, Success};
use crate::response::{Response, Status, MAX_PHYSICAL_ID_BYTES};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;
use tracing::{error, info, warn};

/// Physical id of a Create that failed before it wrote anything (it claimed
/// no id, see [`crate::claim`]). The rollback's Delete for it succeeds
/// without calling the handler: nothing was made.
pub const CREATE_FAILED_PREFIX: &str = "vaultfront:create-failed:";
/// Time kept back from the Lambda deadline so the response PUT itself fits.
const MIN_RESERVE: Duration = Duration::from_millis(500);
const MAX_RESERVE: Duration = Duration::from_secs(10);
/// The last moments before the deadline, when Lambda may freeze the process.
const SAFETY: Duration = Duration::from_millis(100);

/// Run `resource` as a Lambda function. Call this from `main`.
pub async fn run<R: Resource>(resource: R) -> Result<(), lambda_runtime::Error> {
    crate::logging::init();
    let resource = Arc::new(resource);
    // The payload is taken as raw JSON text (which tolerates what a `Value`
    // does not, like a lone surrogate escape) and parsed here, so that every
    // event that is JSON at all reaches the guard and gets an answer.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let resource = Arc::clone(&resource);
        async move {
            let deadline = deadline_from_epoch_ms(event.context.deadline);
            let payload = parse_event(event.payload.get());
            handle(resource, payload, deadline)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}

/// Answer one event. Returns `Err` only when the response could not be
/// delivered for a reason a new attempt could fix, so Lambda retries the event.
pub async fn handle<R: Resource>(
    resource: Arc<R>,
    event: Value,
    deadline: Instant,
) -> Result<(), DeliveryError> {
    let envelope = Envelope::read(&event);
    info!(
        request_type = envelope.request_type.as_ref().map_or_else(|raw| raw.as_str(), |t| t.as_str()),
        logical_resource_id = %envelope.logical_resource_id,
        request_id = %envelope.request_id,
        stack_id = %envelope.stack_id,
        resource_type = %envelope.resource_type,
        physical_resource_id = envelope.physical_resource_id.as_deref().unwrap_or(""),
        "custom resource event"
    );
    let Some(url) = envelope.response_url.clone() else {
        error!("the event has no ResponseURL, so CloudFormation cannot be answered; was it sent by hand?");
        return Ok(());
    };
    let now = Instant::now();
    let handler_deadline = deadline
        .checked_sub(reserve(deadline.saturating_duration_since(now)))
        .unwrap_or(now);
    let (response, guard) = respond(resource, &envelope, handler_deadline).await;
    let (response, body) = match response.encode() {
        Ok(body) => (response, body),
        Err(too_large) => {
            // Keep the physical id: a created resource must still be found by the rollback's Delete.
            let fallback = Response {
                status: Status::Failed,
                reason: too_large.to_string(),
                data: None,
                ..response
            };
            match fallback.encode() {
                Ok(body) => (fallback, body),
                // The event's own ids leave no room: cut them rather than send nothing.
                Err(_) => fallback.cut_ids_to_fit(),
            }
        }
    };
    log_response(&response);
    let until = deadline.checked_sub(SAFETY).unwrap_or(now);
    match deliver(&url, body, until).await {
        Ok(delivered) => {
            info!(
                attempts = delivered.attempts,
                http_status = delivered.status,
                "response delivered"
            );
            // Only after a delivered SUCCESS: after a FAILED there is nothing to keep.
            if let (Some(guard), Status::Success) = (guard, response.status) {
                keep(guard, handler_deadline).await;
            }
            Ok(())
        }
        Err(err) if err.is_transient() => {
            error!(error = %err, "response not delivered; failing the invocation so Lambda retries the event");
            Err(err)
        }
        Err(err) => {
            error!(error = %err, "response not delivered");
            Ok(())
        }
    }
}

/// What the handler produced, before it becomes a response.
enum Outcome {
    Done(Success),
    Deleted(Deletion),
}

/// The response, and the guard to run once it is delivered.
async fn respond<R: Resource>(
    resource: Arc<R>,
    envelope: &Envelope,
    handler_deadline: Instant,
) -> (Response, Option<Guard>) {
    let request_type = match envelope.request_type {
        Ok(request_type) => request_type,
        Err(ref raw) => {
            let reason = format!("unknown RequestType {raw}; expected Create, Update or Delete");
            return (
                answer(envelope, RequestType::Create, Err(reason), None),
                None,
            );
        }
    };
    let missing = envelope.missing_fields();
    if !missing.is_empty() {
        let reason = format!(
            "the event lacks {}; it was not sent by CloudFormation",
            missing.join(", ")
        );
        return (answer(envelope, request_type, Err(reason), None), None);
    }
    let physical_id = envelope.physical_resource_id.clone();
    if request_type != RequestType::Create && physical_id.is_none() {
        let reason = format!("the {request_type} event has no PhysicalResourceId");
        return (answer(envelope, request_type, Err(reason), None), None);
    }
    if request_type == RequestType::Delete
        && physical_id
            .as_deref()
            .is_some_and(|id| id.starts_with(CREATE_FAILED_PREFIX))
    {
        info!("Delete of a resource whose Create failed before writing: nothing was made, nothing to remove");
        let gone = Ok(Outcome::Deleted(Deletion::AlreadyGone));
        return (answer(envelope, request_type, gone, None), None);
    }

    let request = Request {
        request_type,
        stack_id: envelope.stack_id.clone(),
        request_id: envelope.request_id.clone(),
        logical_resource_id: envelope.logical_resource_id.clone(),
        resource_type: envelope.resource_type.clone(),
    };
    let started = Instant::now();
    let slot = Slot::default();
    let task = tokio::spawn(slot.scope(dispatch(
        resource,
        request,
        physical_id.unwrap_or_default(),
        envelope.properties.clone(),
        envelope.old_properties.clone(),
    )));
    let abort = task.abort_handle();
    let (outcome, guard) = match tokio::time::timeout_at(handler_deadline, task).await {
        Ok(Ok(Ok(Guarded { outcome, guard }))) => (Ok(outcome), guard),
        Ok(Ok(Err(reason))) => (Err(reason), None),
        Ok(Err(join)) => (
            Err(match join.try_into_panic() {
                Ok(payload) => format!("the handler panicked: {}", panic_message(payload.as_ref())),
                Err(join) => format!("the handler task ended abnormally: {join}"),
            }),
            None,
        ),
        Err(_) => {
            let waiting = crate::in_flight::current()
                .map(|call| format!(", waiting on {call}"))
                .unwrap_or_default();
            abort.abort();
            let reason = format!(
                "timed out after {:.1} s while running {request_type}{waiting}; stopped early to leave time to answer \
                 CloudFormation before the Lambda deadline (raise the function's Timeout if the work needs longer)",
                started.elapsed().as_secs_f32()
            );
            (Err(reason), None)
        }
    };
    (
        answer(envelope, request_type, outcome, slot.claimed()),
        guard,
    )
}

async fn dispatch<R: Resource>(
    resource: Arc<R>,
    request: Request,
    physical_id: String,
    properties: Value,
    old_properties: Option<Value>,
) -> Result<Guarded<Outcome>, String> {
    let properties: R::Properties = if request.request_type == RequestType::Delete {
        let (parsed, dropped) =
            parse_for_delete(&properties, "ResourceProperties").map_err(|err| err.to_string())?;
        if !dropped.is_empty() {
            warn!(
                ?dropped,
                "Delete: ignoring properties this handler does not know or cannot read"
            );
        }
        parsed
    } else {
        parse(&properties, "ResourceProperties").map_err(|err| err.to_string())?
    };
    let done = |g: Guarded<Success>| Guarded {
        outcome: Outcome::Done(g.outcome),
        guard: g.guard,
    };
    let result = match request.request_type {
        RequestType::Create => resource
            .create_guarded(&request, properties)
            .await
            .map(done),
        RequestType::Update => {
            let old = old_properties.and_then(|old| match parse(&old, "OldResourceProperties") {
                Ok(old) => Some(old),
                Err(err) => {
                    warn!(error = %err, "old properties do not parse; updating from what AWS reports");
                    None
                }
            });
            resource
                .update_guarded(&request, &physical_id, properties, old)
                .await
                .map(done)
        }
        RequestType::Delete => resource
            .delete_guarded(&request, &physical_id, properties)
            .await
            .map(|g| Guarded {
                outcome: Outcome::Deleted(g.outcome),
                guard: g.guard,
            }),
    };
    result.map_err(|err| crate::error_chain(err.as_ref()))
}

/// The response for an outcome: which physical id it carries is the protocol's
/// rule, not the handler's (the README's "Guarantees", Physical ids).
/// `claimed` is the id a Create claimed before its first write.
fn answer(
    envelope: &Envelope,
    request_type: RequestType,
    outcome: Result<Outcome, String>,
    claimed: Option<String>,
) -> Response {
    let marker = format!("{CREATE_FAILED_PREFIX}{}", envelope.request_id);
    let previous = envelope
        .physical_resource_id
        .clone()
        .unwrap_or_else(|| marker.clone());
    let failed_id = match (request_type, claimed) {
        (RequestType::Create, Some(claimed))
            if !claimed.is_empty() && claimed.len() <= MAX_PHYSICAL_ID_BYTES =>
        {
            claimed
        }
        (RequestType::Create, _) => marker,
        _ => previous.clone(),
    };
    let mut response = Response {
        status: Status::Success,
        reason: String::new(),
        physical_resource_id: previous,
        stack_id: envelope.stack_id.clone(),
        request_id: envelope.request_id.clone(),
        logical_resource_id: envelope.logical_resource_id.clone(),
        no_echo: false,
        data: None,
    };
    match outcome {
        Ok(Outcome::Done(success))
            if success.physical_id.is_empty()
                || success.physical_id.len() > MAX_PHYSICAL_ID_BYTES =>
        {
            response.status = Status::Failed;
            response.reason = format!(
                "the handler returned a physical id of {} bytes; it must be 1 to {MAX_PHYSICAL_ID_BYTES} bytes",
                success.physical_id.len()
            );
            response.physical_resource_id = failed_id;
        }
        Ok(Outcome::Done(success)) => {
            response.physical_resource_id = success.physical_id;
            response.no_echo = success.no_echo;
            response.data = (!success.data.is_empty()).then_some(success.data);
        }
        Ok(Outcome::Deleted(deletion)) => info!(?deletion, "delete finished"),
        Err(reason) => {
            response.status = Status::Failed;
            response.reason = reason;
            response.physical_resource_id = failed_id;
        }
    }
    response
}

fn log_response(response: &Response) {
    let data = match (&response.data, response.no_echo) {
        (None, _) => String::new(),
        (Some(_), true) => "<redacted: NoEcho>".to_owned(),
        (Some(data), false) => Value::Object(data.clone()).to_string(),
    };
    let status = match response.status {
        Status::Success => "SUCCESS",
        Status::Failed => "FAILED",
    };
    info!(status, physical_resource_id = %response.physical_resource_id, reason = %response.reason, data, "answering CloudFormation");
}

/// How much of the time left to keep for delivering the response.
fn reserve(left: Duration) -> Duration {
    (left / 3).clamp(MIN_RESERVE, MAX_RESERVE).min(left)
}

/// The invocation's deadline. Lambda sends it as Unix epoch milliseconds.
/// Emulators may not: `cargo lambda watch` sends a fixed `600000` (1970).
/// A deadline already past on arrival cannot come from Lambda, so it is
/// replaced by `AWS_LAMBDA_FUNCTION_TIMEOUT` seconds (set by AWS's runtime
/// interface emulator) or, failing that, Lambda's 900 s maximum.
fn deadline_from_epoch_ms(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let left = u128::from(deadline_ms).saturating_sub(now_ms);
    if left > 0 {
        return Instant::now() + Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX));
    }
    let timeout = std::env::var("AWS_LAMBDA_FUNCTION_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| (1..=900).contains(s))
        .unwrap_or(900);
    warn!(
        deadline_ms,
        assumed_timeout_s = timeout,
        "the runtime sent a deadline in the past; assuming the function timeout"
    );
    Instant::now() + Duration::from_secs(timeout)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::HandlerError;
    use serde_json::json;

    fn envelope(request_type: &str, physical_id: Option<&str>) -> Envelope {
        let mut event = json!({
            "RequestType": request_type, "RequestId": "req-1", "StackId": "arn:aws:cloudformation:us-east-1:1:stack/s/g",
            "LogicalResourceId": "Res", "ResponseURL": "http://127.0.0.1/x"
        });
        if let Some(id) = physical_id {
            event["PhysicalResourceId"] = json!(id);
        }
        Envelope::read(&event)
    }

    #[test]
    fn physical_ids_follow_the_protocol() {
        let create = envelope("Create", None);
        let ok = answer(
            &create,
            RequestType::Create,
            Ok(Outcome::Done(Success::new("new-id"))),
            None,
        );
        assert_eq!(
            (ok.status, ok.physical_resource_id.as_str()),
            (Status::Success, "new-id")
        );
        let failed = answer(&create, RequestType::Create, Err("boom".into()), None);
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(
            failed.physical_resource_id,
            format!("{CREATE_FAILED_PREFIX}req-1")
        );
        // A Create that claimed an id before writing answers with it, so the
        // rollback's Delete removes what it wrote; an unusable claim is ignored.
        let wrote = answer(
            &create,
            RequestType::Create,
            Err("boom".into()),
            Some("written-id".into()),
        );
        assert_eq!(
            (wrote.status, wrote.physical_resource_id.as_str()),
            (Status::Failed, "written-id")
        );
        let too_long = "x".repeat(MAX_PHYSICAL_ID_BYTES + 1);
        let unusable = answer(
            &create,
            RequestType::Create,
            Err("boom".into()),
            Some(too_long),
        );
        assert_eq!(
            unusable.physical_resource_id,
            format!("{CREATE_FAILED_PREFIX}req-1")
        );

        let update = envelope("Update", Some("old-id"));
        let failed = answer(
            &update,
            RequestType::Update,
            Err("boom".into()),
            Some("written-id".into()),
        );
        assert_eq!(
            (failed.status, failed.physical_resource_id.as_str()),
            (Status::Failed, "old-id")
        );
        let replaced = answer(
            &update,
            RequestType::Update,
            Ok(Outcome::Done(Success::new("other-id"))),
            None,
        );
        assert_eq!(replaced.physical_resource_id, "other-id");

        let delete = envelope("Delete", Some("old-id"));
        let gone = answer(
            &delete,
            RequestType::Delete,
            Ok(Outcome::Deleted(Deletion::AlreadyGone)),
            None,
        );
        assert_eq!(
            (gone.status, gone.physical_resource_id.as_str()),
            (Status::Success, "old-id")
        );
    }

    #[test]
    fn invalid_physical_ids_from_a_handler_fail() {
        let create = envelope("Create", None);
        for id in [String::new(), "x".repeat(MAX_PHYSICAL_ID_BYTES + 1)] {
            let response = answer(
                &create,
                RequestType::Create,
                Ok(Outcome::Done(Success::new(id))),
                None,
            );
            assert_eq!(response.status, Status::Failed);
            assert!(
                response.reason.contains("physical id"),
                "{}",
                response.reason
            );
        }
    }

    #[test]
    fn the_reserve_leaves_time_for_the_answer() {
        assert_eq!(reserve(Duration::from_secs(3)), Duration::from_secs(1));
        assert_eq!(reserve(Duration::from_secs(900)), MAX_RESERVE);
        assert_eq!(
            reserve(Duration::from_millis(300)),
            Duration::from_millis(300)
        );
        assert_eq!(reserve(Duration::from_secs(1)), MIN_RESERVE);
    }

    /// A resource whose Create answers at once and leaves a guard that
    /// ends only once the response has reached the ResponseURL.
    struct AnswersEarly {
        response_seen: Arc<tokio::sync::Notify>,
        guard_ended: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Resource for AnswersEarly {
        type Properties = Value;

        async fn create(&self, _: &Request, _: Value) -> Result<Success, HandlerError> {
            unreachable!("the runner calls create_guarded")
        }

        async fn create_guarded(
            &self,
            _: &Request,
            _: Value,
        ) -> Result<Guarded<Success>, HandlerError> {
            let (seen, ended) = (
                Arc::clone(&self.response_seen),
                Arc::clone(&self.guard_ended),
            );
            let guard = Guard::new("the test's work", Duration::from_secs(1), async move {
                seen.notified().await;
                ended.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok("kept".to_owned())
            });
            Ok(Guarded::new(Success::new("early-id"), guard))
        }

        async fn update(
            &self,
            _: &Request,
            _: &str,
            _: Value,
            _: Option<Value>,
        ) -> Result<Success, HandlerError> {
            Err("not used".into())
        }

        async fn delete(&self, _: &Request, _: &str, _: Value) -> Result<Deletion, HandlerError> {
            Err("not used".into())
        }
    }

    /// A ResponseURL on loopback that answers 200 and signals each body it got.
    async fn response_sink(
        seen: Arc<tokio::sync::Notify>,
    ) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/response?X-Amz-Signature=s",
            listener.local_addr().unwrap()
        );
        let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stored = Arc::clone(&bodies);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let Ok(n) = stream.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buffer).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break body.to_owned();
                        }
                    }
                };
                stored.lock().unwrap().push(body);
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                    .await;
                seen.notify_one();
            }
        });
        (url, bodies)
    }

    #[tokio::test]
    async fn the_guard_runs_after_the_response_is_delivered_and_before_the_invocation_ends() {
        let resource = AnswersEarly {
            response_seen: Arc::new(tokio::sync::Notify::new()),
            guard_ended: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let (url, bodies) = response_sink(Arc::clone(&resource.response_seen)).await;
        let guard_ended = Arc::clone(&resource.guard_ended);
        let event = json!({
            "RequestType": "Create", "RequestId": "req-1", "StackId": "arn:aws:cloudformation:us-east-1:1:stack/s/g",
            "LogicalResourceId": "Res", "ResourceType": "Custom::Test", "ResponseURL": url,
            "ResourceProperties": {}
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        handle(Arc::new(resource), event, deadline).await.unwrap();
        // The guard waits for the response to reach the sink: had the runner
        // run it first, it would have been cut off, never setting the flag.
        assert!(guard_ended.load(std::sync::atomic::Ordering::SeqCst));
        let bodies = bodies.lock().unwrap().clone();
        assert_eq!(bodies.len(), 1, "{bodies:?}");
        let response: Value = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(response["Status"], "SUCCESS");
        assert_eq!(response["PhysicalResourceId"], "early-id");
    }

    /// A resource whose Create claims an id, as before a first write, and
    /// then panics or never returns.
    struct ClaimsThenFails {
        hangs: bool,
    }

    impl Resource for ClaimsThenFails {
        type Properties = Value;

        async fn create(&self, _: &Request, _: Value) -> Result<Success, HandlerError> {
            crate::claim::claim("written-id");
            if self.hangs {
                std::future::pending::<()>().await;
            }
            panic!("after the first write");
        }

        async fn update(
            &self,
            _: &Request,
            _: &str,
            _: Value,
            _: Option<Value>,
        ) -> Result<Success, HandlerError> {
            Err("not used".into())
        }

        async fn delete(&self, _: &Request, _: &str, _: Value) -> Result<Deletion, HandlerError> {
            Err("not used".into())
        }
    }

    #[tokio::test]
    async fn a_create_that_claimed_an_id_fails_with_it_however_it_ends() {
        for hangs in [false, true] {
            let (url, bodies) = response_sink(Arc::new(tokio::sync::Notify::new())).await;
            let event = json!({
                "RequestType": "Create", "RequestId": "req-1", "StackId": "arn:aws:cloudformation:us-east-1:1:stack/s/g",
                "LogicalResourceId": "Res", "ResourceType": "Custom::Test", "ResponseURL": url,
                "ResourceProperties": {}
            });
            let deadline = Instant::now() + Duration::from_secs(2);
            handle(Arc::new(ClaimsThenFails { hangs }), event, deadline)
                .await
                .unwrap();
            let bodies = bodies.lock().unwrap().clone();
            assert_eq!(bodies.len(), 1, "{bodies:?}");
            let response: Value = serde_json::from_str(&bodies[0]).unwrap();
            assert_eq!(response["Status"], "FAILED", "hangs: {hangs}");
            assert_eq!(
                response["PhysicalResourceId"], "written-id",
                "hangs: {hangs}"
            );
        }
    }

    #[test]
    fn a_past_deadline_falls_back_to_the_function_timeout() {
        let deadline = deadline_from_epoch_ms(600_000);
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(1), "{left:?}");
        let soon = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
            + 5_000;
        let left = deadline_from_epoch_ms(soon).saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_secs(5) && left > Duration::from_secs(4),
            "{left:?}"
        );
    }
}
