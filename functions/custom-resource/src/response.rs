//! The response body CloudFormation reads from the presigned URL, and the
//! 4096-byte limit on it.

use serde::Serialize;
use serde_json::{Map, Value};

/// CloudFormation rejects a response body larger than this.
pub const MAX_BODY_BYTES: usize = 4096;
/// CloudFormation rejects a physical id longer than this.
pub const MAX_PHYSICAL_ID_BYTES: usize = 1024;
const TRUNCATED: &str = " [truncated]";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Success,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub status: Status,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_echo: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
}

/// The body would exceed [`MAX_BODY_BYTES`] even with an empty `Reason`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the response is {bytes} bytes without its Reason; CloudFormation accepts at most {MAX_BODY_BYTES} (return less in Data)")]
pub struct TooLarge {
    pub bytes: usize,
}

impl Response {
    /// Serialise, trimming `Reason` byte-exactly (on a character boundary,
    /// counting JSON escapes) until the whole body fits.
    pub fn encode(&self) -> Result<Vec<u8>, TooLarge> {
        let body = to_vec(self);
        if body.len() <= MAX_BODY_BYTES {
            return Ok(body);
        }
        let mut bare = self.clone();
        bare.reason = String::new();
        let base = to_vec(&bare).len() + r#","Reason":"""#.len();
        if base + escaped_len(TRUNCATED) > MAX_BODY_BYTES {
            return Err(TooLarge { bytes: base });
        }
        let budget = MAX_BODY_BYTES - base - escaped_len(TRUNCATED);
        let cut = escaped_prefix(&self.reason, budget);
        bare.reason = format!("{}{TRUNCATED}", &self.reason[..cut]);
        let body = to_vec(&bare);
        debug_assert!(
            body.len() <= MAX_BODY_BYTES,
            "trim arithmetic is off: {}",
            body.len()
        );
        Ok(body)
    }
}

impl Response {
    /// The last resort when even a FAILED body without `Data` does not fit:
    /// the event's own ids are too long. Each id is cut (from its end, on a
    /// character boundary) to one common length, the largest that fits, so
    /// the answer is a well-formed FAILED rather than an empty body.
    /// CloudFormation cannot match a cut id to its request, so it will still
    /// wait out its timeout, but nothing here sent it a malformed answer.
    pub fn cut_ids_to_fit(self) -> (Response, Vec<u8>) {
        let cut = |cap: usize| {
            let mut response = Response {
                status: Status::Failed,
                reason: format!(
                    "the event's StackId, RequestId, LogicalResourceId or PhysicalResourceId is too long \
                     for CloudFormation's {MAX_BODY_BYTES}-byte response; they are cut to fit"
                ),
                data: None,
                no_echo: false,
                ..self.clone()
            };
            for id in [
                &mut response.stack_id,
                &mut response.request_id,
                &mut response.logical_resource_id,
                &mut response.physical_resource_id,
            ] {
                let keep = escaped_prefix(id, cap);
                id.truncate(keep);
            }
            let body = to_vec(&response);
            (response, body)
        };
        let longest = [
            &self.stack_id,
            &self.request_id,
            &self.logical_resource_id,
            &self.physical_resource_id,
        ]
        .iter()
        .map(|id| escaped_len(id))
        .max()
        .unwrap_or(0);
        // The largest cap that fits; at 0 every id is empty and the body is small.
        let (mut low, mut high) = (0, longest);
        while low < high {
            let mid = (low + high).div_ceil(2);
            if cut(mid).1.len() <= MAX_BODY_BYTES {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        cut(low)
    }
}

/// The byte length of the longest prefix of `text` whose JSON-escaped form
/// takes at most `budget` bytes.
fn escaped_prefix(text: &str, mut budget: usize) -> usize {
    let mut end = 0;
    for (index, ch) in text.char_indices() {
        let cost = escaped_char_len(ch);
        if cost > budget {
            break;
        }
        budget -= cost;
        end = index + ch.len_utf8();
    }
    end
}

fn to_vec(response: &Response) -> Vec<u8> {
    // Serialising plain strings, bools and a `Map` cannot fail.
    serde_json::to_vec(response).unwrap_or_default()
}

fn escaped_len(text: &str) -> usize {
    text.chars().map(escaped_char_len).sum()
}

/// Bytes serde_json writes for `ch` inside a string literal.
fn escaped_char_len(ch: char) -> usize {
    match ch {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(reason: &str, data: Option<Value>) -> Response {
        Response {
            status: Status::Failed,
            reason: reason.to_owned(),
            physical_resource_id: "id-1".into(),
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/g".into(),
            request_id: "req".into(),
            logical_resource_id: "Res".into(),
            no_echo: false,
            data: data.and_then(|d| d.as_object().cloned()),
        }
    }

    #[test]
    fn small_bodies_are_untouched_and_pascal_case() {
        let body = response("nope", Some(json!({"Nested": {"n": 1}})))
            .encode()
            .unwrap();
        let parsed: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["Status"], "FAILED");
        assert_eq!(parsed["Reason"], "nope");
        assert_eq!(parsed["Data"]["Nested"]["n"], 1);
        assert!(parsed.get("NoEcho").is_none());
    }

    #[test]
    fn long_reasons_are_cut_to_exactly_fit() {
        for filler in ["x", "é", "€", "🦀", "\"", "\n", "\u{1}"] {
            let reason = filler.repeat(5000);
            let body = response(&reason, None).encode().unwrap();
            assert!(
                body.len() <= MAX_BODY_BYTES,
                "{filler:?}: {} bytes",
                body.len()
            );
            // The cut wastes less than one escaped character of room.
            assert!(
                body.len() + escaped_len(filler) > MAX_BODY_BYTES,
                "{filler:?}: only {} bytes",
                body.len()
            );
            let parsed: Value = serde_json::from_slice(&body).unwrap();
            let kept = parsed["Reason"].as_str().unwrap();
            assert!(kept.ends_with(TRUNCATED));
            assert!(reason.starts_with(kept.trim_end_matches(TRUNCATED)));
        }
    }

    #[test]
    fn ids_too_long_for_any_body_are_cut_to_fit() {
        for filler in ["r", "é", "\""] {
            let mut long = response("boom", Some(json!({"K": "v"})));
            long.request_id = filler.repeat(5000);
            long.logical_resource_id = "L".repeat(3000);
            assert!(long.encode().is_err());
            let (cut, body) = long.clone().cut_ids_to_fit();
            assert!(body.len() <= MAX_BODY_BYTES, "{filler:?}: {}", body.len());
            assert!(
                body.len() > MAX_BODY_BYTES - 16,
                "{filler:?}: only {}",
                body.len()
            );
            let parsed: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(parsed["Status"], "FAILED");
            assert!(parsed["Reason"].as_str().unwrap().contains("cut to fit"));
            assert!(parsed.get("Data").is_none());
            assert!(long.request_id.starts_with(&cut.request_id));
            // The short ids are kept whole.
            assert_eq!(cut.stack_id, long.stack_id);
            assert_eq!(cut.physical_resource_id, "id-1");
        }
    }

    #[test]
    fn data_that_cannot_fit_is_an_error() {
        let big = json!({"Blob": "b".repeat(5000)});
        assert!(
            matches!(response("r", Some(big)).encode(), Err(TooLarge { bytes }) if bytes > 5000)
        );
    }
}
