//! AWS calls, counted from moto's request log (one line per request, such
//! as `"PUT /bucket/?policy HTTP/1.1" 204`). moto writes a request's line
//! before it sends the answer, so once a function has reported its result
//! every call it made is in the log.

use cfn_local::custom::RESPONSE_BUCKET;
use serde::Serialize;
use vaultfront_tests::moto::strip_ansi;
use vaultfront_tests::Moto;

/// Requests to the bucket ResponseURLs point into are the protocol's, not
/// AWS calls of the resource.
fn is_response(call: &Call) -> bool {
    call.path
        .strip_prefix('/')
        .and_then(|path| path.strip_prefix(RESPONSE_BUCKET))
        .is_some_and(|rest| rest.starts_with('/'))
}
const WRITES: [&str; 4] = ["PUT", "POST", "PATCH", "DELETE"];

/// Where the log stood: the number of requests in it.
#[derive(Debug, Clone, Copy)]
pub struct Mark(usize);

#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub method: String,
    pub path: String,
}

impl Call {
    pub fn is_write(&self) -> bool {
        WRITES.contains(&self.method.as_str())
    }
}

/// The calls between two marks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Calls(pub Vec<Call>);

impl Calls {
    pub fn reads(&self) -> usize {
        self.0.iter().filter(|c| !c.is_write()).count()
    }

    pub fn writes(&self) -> usize {
        self.0.iter().filter(|c| c.is_write()).count()
    }

    /// `METHOD path` per call, with `name` (the run's bucket or API id)
    /// shown as `placeholder` so runs compare.
    pub fn describe(&self, name: &str, placeholder: &str) -> Vec<String> {
        self.0
            .iter()
            .map(|c| format!("{} {}", c.method, c.path.replace(name, placeholder)))
            .collect()
    }
}

pub fn mark(moto: &Moto) -> Mark {
    Mark(requests(&moto.log()).len())
}

/// The resource's calls since `mark` (the ResponseURL PUT left out).
pub fn since(moto: &Moto, mark: Mark) -> Calls {
    Calls(
        requests(&moto.log())
            .into_iter()
            .skip(mark.0)
            .filter(|c| !is_response(c))
            .collect(),
    )
}

fn requests(log: &str) -> Vec<Call> {
    strip_ansi(log)
        .lines()
        .filter_map(|line| {
            let quoted = line.split('"').nth(1)?;
            let mut parts = quoted.split(' ');
            let method = parts.next()?;
            let path = parts.next()?;
            let protocol = parts.next()?;
            (protocol.starts_with("HTTP/") && method.chars().all(|c| c.is_ascii_uppercase())).then(
                || Call {
                    method: method.to_owned(),
                    path: path.to_owned(),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requests_from_the_log() {
        let log = "127.0.0.1 - - [22/Nov/2025 03:11:12] \"GET /b/?policy HTTP/1.1\" 404 -\n\
                   \u{1b}[33m127.0.0.1 - - [x] \"PUT /vaultfront-local-cfn-responses/k?X-Amz-Signature=s HTTP/1.1\" 200 -\u{1b}[0m\n\
                   noise line\n\
                   127.0.0.1 - - [x] \"PATCH /restapis/a1 HTTP/1.1\" 200 -\n";
        let calls = requests(log);
        assert_eq!(calls.len(), 3);
        let resource = Calls(calls.into_iter().filter(|c| !is_response(c)).collect());
        assert_eq!((resource.reads(), resource.writes()), (1, 1));
        assert_eq!(
            resource.describe("a1", "{api}"),
            ["GET /b/?policy", "PATCH /restapis/{api}"]
        );
    }
}
