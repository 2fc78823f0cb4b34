//! The whole API as one OpenAPI 3 document with `x-amazon-apigateway-*`
//! extensions, for one `PutRestApi` (mode overwrite). Pure: no AWS calls.
//!
//! What the document holds, and why:
//! - `/{proxy+}`: one operation per verb asked for (never `ANY`), each a
//!   non-proxy `aws` integration (API Gateway cannot front S3 with
//!   `AWS_PROXY`) whose `httpMethod` is the verb itself, the bucket fixed in
//!   the URI `arn:<partition>:apigateway:<region>:s3:path/<bucket>/<prefix>{key}`
//!   and `key` mapped from the greedy path parameter.
//! - `/`: no method, so API Gateway itself answers 403 (`Missing
//!   Authentication Token`, its answer for any route without a method).
//!   Listing the bucket is not offered: a dataset store's key inventory is not
//!   for every caller, and the API's role is scoped to `<bucket>/*` without
//!   `s3:ListBucket`. A method on `/` would need its own integration (the
//!   greedy path does not match `/`); a mock answering 403 was tried and
//!   dropped: it adds nothing over API Gateway's own 403, and moto cannot
//!   import a mock integration at all (its PutRestApi fails with HTTP 500).
//! - Binary safety: `x-amazon-apigateway-binary-media-types: ["*/*"]` and no
//!   `contentHandling` on the S3 integrations, so bodies pass through as bytes
//!   both ways.
//! - Responses: S3's status classes are kept apart with disjoint selection
//!   patterns (success, 206, 304, 400, 403, 404, 412, 416, 500, 503, and a
//!   default of 502 for anything unexpected), never a catch-all 200. Every
//!   mapped header is declared on its method response, which API Gateway
//!   requires.
//! - Reads (GET, HEAD) forward `Range`, the four conditional headers,
//!   `x-amz-checksum-mode` and `?versionId=`, so a client reads an object in
//!   pieces under API Gateway's 10 MB, revalidates, and reads old versions.
//! - S3's protocol tells its calls apart by query string on one path, and API
//!   Gateway cannot route by query string (and `{proxy+}` can have no child
//!   resource). So each method maps the query parameters of S3's own forms
//!   through to the integration, and S3 chooses the call: with PUT enabled,
//!   `POST ?uploads=1` (create: API Gateway forwards no query parameter
//!   without a value, so the caller gives S3's valueless `uploads` one),
//!   `PUT ?partNumber=&uploadId=` (part),
//!   `POST ?uploadId=` (complete), `DELETE ?uploadId=` (abort) and
//!   `GET ?uploadId=` (list parts). A parameter not mapped never reaches S3.
//! - Never forwarded: `versionId` on DELETE (it would remove a version
//!   for good) and any `x-amz-object-lock-*` or
//!   `x-amz-bypass-governance-retention` header (a caller's retention could
//!   be shorter than the bucket's default). With PUT but not DELETE enabled,
//!   DELETE exists only to abort an upload: `uploadId` is required there and
//!   API Gateway's own validator refuses a DELETE without it.
//! - PUT forwards `Content-Type` and the integrity headers S3 accepts
//!   (Object Lock refuses a write with retention that carries none):
//!   `Content-MD5` and the flexible checksums `x-amz-checksum-*` with
//!   `x-amz-sdk-checksum-algorithm`. The checksums are there because API
//!   Gateway REST APIs drop an incoming `Content-MD5` before any mapping
//!   (LocalStack reproduces this and says it matches AWS), so a client of
//!   this API proves its body with `x-amz-checksum-sha256` or another. No
//!   other header is forwarded: never `x-amz-acl`, which S3 refuses on a
//!   BucketOwnerEnforced bucket.

use crate::properties::{Authorization, Spec, Verb};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const PROXY_PATH: &str = "/{proxy+}";
/// API Gateway's longest integration timeout for REST APIs (29 s); bodies are
/// also capped at 10 MB by API Gateway itself, whatever this document says.
pub const INTEGRATION_TIMEOUT_MS: u32 = 29_000;
/// Response headers passed from S3 to the caller, on every status.
pub const MAPPED_RESPONSE_HEADERS: [&str; 17] = [
    "Content-Type",
    "Content-Length",
    "ETag",
    "Accept-Ranges",
    "Content-Range",
    "Last-Modified",
    "Cache-Control",
    "Content-Encoding",
    "Content-Disposition",
    "x-amz-version-id",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
    "x-amz-checksum-type",
    "x-amz-mp-parts-count",
];
/// Request headers GET and HEAD pass to S3: conditions, and the checksum
/// mode that makes S3 answer with the object's checksum headers. Lower
/// case: API Gateway maps a request header by its exact name, and HTTP/2
/// and most HTTP libraries send names in lower case.
pub const READ_REQUEST_HEADERS: [&str; 5] = [
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "x-amz-checksum-mode",
];
/// Only GET reads a byte range.
pub const RANGE_HEADER: &str = "range";
/// Request headers a multipart create or complete (POST) passes to S3: the
/// algorithm every part must then carry, and the object's checksum.
pub const POST_REQUEST_HEADERS: [&str; 8] = [
    "Content-Type",
    "x-amz-checksum-algorithm",
    "x-amz-checksum-type",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
];
/// Reads an old version (GET, HEAD); never mapped on DELETE.
pub const VERSION_ID: &str = "versionId";
/// Names one multipart upload (part, complete, abort, list parts).
pub const UPLOAD_ID: &str = "uploadId";
/// Starts a multipart upload; S3's form carries no value (`?uploads`).
pub const UPLOADS: &str = "uploads";
pub const PART_NUMBER: &str = "partNumber";
/// ListParts pages at 1,000 parts.
pub const LIST_PARTS_QUERY: [&str; 2] = ["max-parts", "part-number-marker"];
/// The validator that makes API Gateway refuse a request missing a required parameter.
const PARAMETER_VALIDATOR: &str = "params";
/// Request headers a PUT passes to S3.
pub const PUT_REQUEST_HEADERS: [&str; 8] = [
    "Content-Type",
    "Content-MD5",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
];
const SECURITY_SCHEME: &str = "sigv4";
/// Status of anything S3 answers that no pattern below expects (1xx, 3xx).
const UNEXPECTED_STATUS: u16 = 502;

/// Where the API lives: the integration URI names the region and partition.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub partition: &'a str,
    pub region: &'a str,
}

/// A set of decimal digits, one bit per digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Digits(u16);

impl Digits {
    const ANY: Digits = Digits(0x3ff);

    const fn one(digit: u8) -> Digits {
        Digits(1 << digit)
    }

    const fn range(low: u8, high: u8) -> Digits {
        let mut bits = 0;
        let mut digit = low;
        while digit <= high {
            bits |= 1 << digit;
            digit += 1;
        }
        Digits(bits)
    }

    const fn or(self, other: Digits) -> Digits {
        Digits(self.0 | other.0)
    }

    fn contains(self, digit: u8) -> bool {
        digit < 10 && self.0 & (1 << digit) != 0
    }

    /// As a Java regex atom: `4`, `\d` or `[0-24-9]`.
    fn regex(self) -> String {
        if self == Digits::ANY {
            return "\\d".to_owned();
        }
        let digits: Vec<u8> = (0..10).filter(|d| self.contains(*d)).collect();
        if let [single] = digits.as_slice() {
            return single.to_string();
        }
        let mut class = String::from("[");
        let mut i = 0;
        while i < digits.len() {
            let start = digits[i];
            let mut end = start;
            while i + 1 < digits.len() && digits[i + 1] == end + 1 {
                i += 1;
                end = digits[i];
            }
            match end - start {
                0 => class.push_str(&start.to_string()),
                1 => class.push_str(&format!("{start}{end}")),
                _ => class.push_str(&format!("{start}-{end}")),
            }
            i += 1;
        }
        class.push(']');
        class
    }
}

/// Three-digit status codes, as alternatives of per-digit sets. Kept in this
/// form (rather than as regex text) so a test can prove the patterns are
/// disjoint: API Gateway does not say which of two matching patterns wins.
#[derive(Debug, Clone, Copy)]
pub struct StatusPattern(&'static [[Digits; 3]]);

impl StatusPattern {
    #[cfg(test)]
    pub fn matches(&self, status: u16) -> bool {
        let digits = [
            (status / 100) as u8,
            (status / 10 % 10) as u8,
            (status % 10) as u8,
        ];
        status < 1000
            && self.0.iter().any(|alternative| {
                alternative
                    .iter()
                    .zip(digits)
                    .all(|(set, digit)| set.contains(digit))
            })
    }

    /// The `selectionPattern` API Gateway matches against S3's status code.
    pub fn regex(&self) -> String {
        self.0
            .iter()
            .map(|alternative| alternative.iter().map(|d| d.regex()).collect::<String>())
            .collect::<Vec<_>>()
            .join("|")
    }
}

const fn d(digit: u8) -> Digits {
    Digits::one(digit)
}

/// One mapping from S3's answer to the caller's status.
#[derive(Debug, Clone, Copy)]
pub struct StatusMapping {
    /// `None` is the `default` response: whatever no pattern matched.
    pub pattern: Option<StatusPattern>,
    pub status: u16,
}

/// How S3's status codes become the API's, for `verb`.
pub fn status_mappings(verb: Verb) -> Vec<StatusMapping> {
    // Every 2xx but 206.
    const SUCCESS: StatusPattern = StatusPattern(&[
        [d(2), d(0), Digits::range(0, 5).or(Digits::range(7, 9))],
        [d(2), Digits::range(1, 9), Digits::ANY],
    ]);
    // A ranged read: the caller needs to know it got part of the object.
    const PARTIAL: StatusPattern = StatusPattern(&[[d(2), d(0), d(6)]]);
    // A conditional read whose entity tag or date still matches: no body.
    const NOT_MODIFIED: StatusPattern = StatusPattern(&[[d(3), d(0), d(4)]]);
    const FORBIDDEN: StatusPattern = StatusPattern(&[[d(4), d(0), d(3)]]);
    const NOT_FOUND: StatusPattern = StatusPattern(&[[d(4), d(0), d(4)]]);
    const PRECONDITION_FAILED: StatusPattern = StatusPattern(&[[d(4), d(1), d(2)]]);
    const RANGE_NOT_SATISFIABLE: StatusPattern = StatusPattern(&[[d(4), d(1), d(6)]]);
    // Every other 4xx: 400-402, 405-411, 413-415, 417-499 (S3's
    // InvalidDigest, EntityTooLarge, InvalidPart, ...).
    const OTHER_CLIENT: StatusPattern = StatusPattern(&[
        [d(4), d(0), Digits::range(0, 2).or(Digits::range(5, 9))],
        [
            d(4),
            d(1),
            Digits::range(0, 1)
                .or(Digits::range(3, 5))
                .or(Digits::range(7, 9)),
        ],
        [d(4), Digits::range(2, 9), Digits::ANY],
    ]);
    // S3's SlowDown: the caller must back off, so it keeps its code.
    const SLOW_DOWN: StatusPattern = StatusPattern(&[[d(5), d(0), d(3)]]);
    const OTHER_SERVER: StatusPattern = StatusPattern(&[
        [d(5), d(0), Digits::range(0, 2).or(Digits::range(4, 9))],
        [d(5), Digits::range(1, 9), Digits::ANY],
    ]);
    // S3 answers a DeleteObject (and an AbortMultipartUpload) with 204 and no body.
    let success = if verb == Verb::Delete { 204 } else { 200 };
    let mapping = |pattern, status| StatusMapping {
        pattern: Some(pattern),
        status,
    };
    vec![
        mapping(SUCCESS, success),
        mapping(PARTIAL, 206),
        mapping(NOT_MODIFIED, 304),
        mapping(OTHER_CLIENT, 400),
        mapping(FORBIDDEN, 403),
        mapping(NOT_FOUND, 404),
        mapping(PRECONDITION_FAILED, 412),
        mapping(RANGE_NOT_SATISFIABLE, 416),
        mapping(OTHER_SERVER, 500),
        mapping(SLOW_DOWN, 503),
        StatusMapping {
            pattern: None,
            status: UNEXPECTED_STATUS,
        },
    ]
}

/// The S3 integration a method must have, as API Gateway reports it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationSpec {
    pub http_method: Verb,
    pub uri: String,
    pub credentials: String,
    pub request_parameters: BTreeMap<String, String>,
}

/// One method of the API: what is rendered, and what a read-back must find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodSpec {
    pub path: &'static str,
    pub verb: Verb,
    pub authorization: Authorization,
    pub integration: IntegrationSpec,
    /// Method request parameters (`method.request.querystring.uploadId`)
    /// API Gateway must refuse a request without.
    pub required_parameters: BTreeSet<String>,
}

/// Where a forwarded request parameter comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Header,
    Query,
}

impl Location {
    fn mapping_name(self) -> &'static str {
        match self {
            Location::Header => "header",
            Location::Query => "querystring",
        }
    }
}

/// What `verb` forwards to S3, besides the key. `multipart`: PUT is
/// enabled, so the multipart forms are served too.
fn forwarded(verb: Verb, multipart: bool) -> Vec<(Location, &'static str)> {
    let headers = |names: &[&'static str]| {
        names
            .iter()
            .map(|n| (Location::Header, *n))
            .collect::<Vec<_>>()
    };
    let query = |names: &[&'static str]| {
        names
            .iter()
            .map(|n| (Location::Query, *n))
            .collect::<Vec<_>>()
    };
    let mut forwarded = Vec::new();
    match verb {
        Verb::Get | Verb::Head => {
            if verb == Verb::Get {
                forwarded.extend(headers(&[RANGE_HEADER]));
            }
            forwarded.extend(headers(&READ_REQUEST_HEADERS));
            // partNumber reads one part of a multipart object (its size and
            // checksum), which is how a client checks a composite checksum.
            forwarded.extend(query(&[VERSION_ID, PART_NUMBER]));
            if verb == Verb::Get && multipart {
                forwarded.extend(query(&[UPLOAD_ID]));
                forwarded.extend(query(&LIST_PARTS_QUERY));
            }
        }
        Verb::Put => {
            forwarded.extend(headers(&PUT_REQUEST_HEADERS));
            forwarded.extend(query(&[PART_NUMBER, UPLOAD_ID]));
        }
        Verb::Post => {
            forwarded.extend(headers(&POST_REQUEST_HEADERS));
            forwarded.extend(query(&[UPLOADS, UPLOAD_ID]));
        }
        // Never versionId: deleting a version is permanent.
        Verb::Delete if multipart => forwarded.extend(query(&[UPLOAD_ID])),
        Verb::Delete => {}
    }
    forwarded
}

/// The verbs rendered for `asked`: PUT brings POST (multipart create and
/// complete) and, if DELETE was not asked for, a DELETE that only aborts.
fn rendered_verbs(asked: &BTreeSet<Verb>) -> BTreeSet<Verb> {
    let mut verbs = asked.clone();
    if asked.contains(&Verb::Put) {
        verbs.insert(Verb::Post);
        verbs.insert(Verb::Delete);
    }
    verbs
}

/// Every method the document defines, in document order.
pub fn methods(spec: &Spec, target: Target<'_>) -> Vec<MethodSpec> {
    let uri = format!(
        "arn:{}:apigateway:{}:s3:path/{}/{}{{key}}",
        target.partition, target.region, spec.bucket, spec.key_prefix
    );
    let multipart = spec.verbs.contains(&Verb::Put);
    rendered_verbs(&spec.verbs)
        .into_iter()
        .map(|verb| {
            let mut request_parameters = BTreeMap::from([(
                "integration.request.path.key".to_owned(),
                "method.request.path.proxy".to_owned(),
            )]);
            for (location, name) in forwarded(verb, multipart) {
                let kind = location.mapping_name();
                request_parameters.insert(
                    format!("integration.request.{kind}.{name}"),
                    format!("method.request.{kind}.{name}"),
                );
            }
            let mut required_parameters = BTreeSet::new();
            if verb == Verb::Delete && !spec.verbs.contains(&Verb::Delete) {
                required_parameters.insert(format!("method.request.querystring.{UPLOAD_ID}"));
            }
            MethodSpec {
                path: PROXY_PATH,
                verb,
                authorization: spec.authorization,
                integration: IntegrationSpec {
                    http_method: verb,
                    uri: uri.clone(),
                    credentials: spec.role_arn.clone(),
                    request_parameters,
                },
                required_parameters,
            }
        })
        .collect()
}

/// The rendered API: the part of the document that defines what is served,
/// and its fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The document without `info`: `info.title` must repeat the API's
    /// current name (PutRestApi may rename the API after it), which is the
    /// template's business and must not count as a change of what is served.
    pub served: Value,
    /// SHA-256 of `served` as compact JSON with sorted keys.
    pub digest: String,
}

impl Rendered {
    /// The full document for PutRestApi.
    pub fn document(&self, title: &str, description: Option<&str>) -> Value {
        let mut document = self.served.clone();
        let mut info = json!({"title": title, "version": self.digest});
        if let Some(description) = description.filter(|d| !d.is_empty()) {
            info["description"] = json!(description);
        }
        if let Value::Object(map) = &mut document {
            map.insert("info".to_owned(), info);
        }
        document
    }
}

/// A document with no paths: PutRestApi (overwrite) with it removes every
/// resource and method this resource made, leaving the API the template made.
pub fn empty_document(title: &str, description: Option<&str>) -> Value {
    let mut info = json!({"title": title, "version": "emptied by Custom::S3ProxyApi"});
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        info["description"] = json!(description);
    }
    json!({"openapi": "3.0.1", "info": info, "paths": {}})
}

pub fn render(spec: &Spec, target: Target<'_>) -> Rendered {
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for method in methods(spec, target) {
        paths
            .entry(method.path)
            .or_default()
            .insert(method.verb.operation_key().to_owned(), operation(&method));
    }
    let mut served = json!({
        "openapi": "3.0.1",
        "paths": paths,
        "x-amazon-apigateway-binary-media-types": ["*/*"],
    });
    if methods(spec, target)
        .iter()
        .any(|m| !m.required_parameters.is_empty())
    {
        served["x-amazon-apigateway-request-validators"] = json!({
            PARAMETER_VALIDATOR: {"validateRequestParameters": true, "validateRequestBody": false}
        });
    }
    if spec.authorization == Authorization::AwsIam {
        served["components"] = json!({
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4"
                }
            }
        });
    }
    let digest: String = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        canonical_json(&served).as_bytes(),
    )
    .as_ref()
    .iter()
    .map(|byte| format!("{byte:02x}"))
    .collect();
    Rendered { served, digest }
}

/// JSON with object keys sorted at every level, whatever serde_json's map
/// order is in this build, so the digest depends on content only.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, String> = map
                .iter()
                .map(|(key, value)| (key, canonical_json(value)))
                .collect();
            let fields: Vec<String> = sorted
                .into_iter()
                .map(|(key, value)| format!("{}:{value}", Value::String(key.clone())))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

fn operation(method: &MethodSpec) -> Value {
    let mut operation = s3_operation(&method.integration, &method.required_parameters);
    if !method.required_parameters.is_empty() {
        operation["x-amazon-apigateway-request-validator"] = json!(PARAMETER_VALIDATOR);
    }
    if method.authorization == Authorization::AwsIam {
        operation["security"] = json!([{ SECURITY_SCHEME: [] }]);
    }
    operation
}

fn header_declarations() -> Value {
    MAPPED_RESPONSE_HEADERS
        .iter()
        .map(|h| ((*h).to_owned(), json!({"schema": {"type": "string"}})))
        .collect::<Map<_, _>>()
        .into()
}

fn header_mappings() -> Value {
    MAPPED_RESPONSE_HEADERS
        .iter()
        .map(|h| {
            (
                format!("method.response.header.{h}"),
                json!(format!("integration.response.header.{h}")),
            )
        })
        .collect::<Map<_, _>>()
        .into()
}

fn s3_operation(integration: &IntegrationSpec, required: &BTreeSet<String>) -> Value {
    let IntegrationSpec {
        http_method: verb,
        uri,
        credentials,
        request_parameters,
    } = integration;
    let verb = *verb;
    let mut parameters = vec![json!({
        "name": "proxy", "in": "path", "required": true, "schema": {"type": "string"}
    })];
    // Every mapped source is declared on the method request, or the mapping
    // is invalid.
    for source in request_parameters.values() {
        let declared = [
            ("header", "method.request.header."),
            ("query", "method.request.querystring."),
        ]
        .into_iter()
        .find_map(|(place, prefix)| source.strip_prefix(prefix).map(|name| (place, name)));
        if let Some((place, name)) = declared {
            parameters.push(json!({
                "name": name,
                "in": place,
                "required": required.contains(source),
                "schema": {"type": "string"}
            }));
        }
    }
    let mut responses = Map::new();
    let mut integration_responses = Map::new();
    for mapping in status_mappings(verb) {
        responses.insert(
            mapping.status.to_string(),
            json!({
                "description": format!("S3 answered {}", mapping.pattern.map_or_else(|| "something unexpected".to_owned(), |p| p.regex())),
                "headers": header_declarations(),
            }),
        );
        let key = mapping
            .pattern
            .map_or_else(|| "default".to_owned(), |p| p.regex());
        integration_responses.insert(
            key,
            json!({
                "statusCode": mapping.status.to_string(),
                "responseParameters": header_mappings(),
            }),
        );
    }
    json!({
        "operationId": format!("{}Object", verb.operation_key()),
        "parameters": parameters,
        "responses": responses,
        "x-amazon-apigateway-integration": {
            "type": "aws",
            "httpMethod": verb.as_str(),
            "uri": uri,
            "credentials": credentials,
            "requestParameters": request_parameters,
            "passthroughBehavior": "when_no_match",
            "timeoutInMillis": INTEGRATION_TIMEOUT_MS,
            "responses": integration_responses,
        }
    })
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const TARGET: Target<'static> = Target {
        partition: "aws",
        region: "eu-west-1",
    };
    const RENDERED_VERBS: [Verb; 5] = [Verb::Get, Verb::Head, Verb::Put, Verb::Delete, Verb::Post];

    fn spec(verbs: &[Verb]) -> Spec {
        Spec {
            rest_api_id: "a1b2c3d4e5".into(),
            bucket: "vault-data".into(),
            role_arn: "arn:aws:iam::123456789012:role/api-s3".into(),
            stage: "v1".into(),
            verbs: verbs.iter().copied().collect(),
            key_prefix: String::new(),
            authorization: Authorization::AwsIam,
            throttling: None,
            access_log: None,
            execution_log_level: crate::logging::LogLevel::Off,
        }
    }

    fn all_verbs() -> Value {
        render(&spec(&Verb::ALL), TARGET).served
    }

    /// Every (path, verb, operation) in the document.
    fn operations(document: &Value) -> Vec<(String, String, Value)> {
        let mut found = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (verb, operation) in item.as_object().unwrap() {
                found.push((path.clone(), verb.clone(), operation.clone()));
            }
        }
        found
    }

    fn proxy_operations(document: &Value) -> Vec<(String, Value)> {
        operations(document)
            .into_iter()
            .filter(|(path, _, _)| path == PROXY_PATH)
            .map(|(_, verb, op)| (verb, op))
            .collect()
    }

    #[test]
    fn gotcha_1_every_verb_is_a_non_proxy_aws_integration_of_its_own_verb() {
        let document = all_verbs();
        let verbs: BTreeSet<String> = proxy_operations(&document)
            .into_iter()
            .map(|(verb, operation)| {
                let integration = &operation["x-amazon-apigateway-integration"];
                assert_eq!(integration["type"], "aws", "{verb}: never aws_proxy");
                assert_eq!(
                    integration["httpMethod"],
                    verb.to_ascii_uppercase(),
                    "IntegrationHttpMethod equals the method's verb"
                );
                verb
            })
            .collect();
        assert_eq!(
            verbs,
            ["delete", "get", "head", "post", "put"]
                .map(String::from)
                .into()
        );
        let text = document.to_string().to_ascii_lowercase();
        assert!(!text.contains("aws_proxy"), "no AWS_PROXY anywhere");
        assert!(!text.contains("x-amazon-apigateway-any-method"), "no ANY");
        for (_, verb, _) in operations(&document) {
            assert_ne!(verb, "any");
        }
    }

    #[test]
    fn only_the_verbs_asked_for_are_rendered() {
        let document = render(&spec(&[Verb::Get, Verb::Head]), TARGET).served;
        let verbs: Vec<String> = proxy_operations(&document)
            .into_iter()
            .map(|(verb, _)| verb)
            .collect();
        assert_eq!(verbs, ["get", "head"]);
    }

    #[test]
    fn gotcha_2_the_bucket_is_fixed_and_the_key_comes_from_the_greedy_path() {
        let document = all_verbs();
        for (verb, operation) in proxy_operations(&document) {
            let integration = &operation["x-amazon-apigateway-integration"];
            assert_eq!(
                integration["uri"], "arn:aws:apigateway:eu-west-1:s3:path/vault-data/{key}",
                "{verb}"
            );
            assert_eq!(
                integration["requestParameters"]["integration.request.path.key"],
                "method.request.path.proxy"
            );
            assert_eq!(
                integration["credentials"],
                "arn:aws:iam::123456789012:role/api-s3"
            );
            let proxy = &operation["parameters"][0];
            assert_eq!(
                (&proxy["name"], &proxy["in"], &proxy["required"]),
                (&json!("proxy"), &json!("path"), &json!(true)),
                "the path parameter is declared, so method.request.path.proxy exists"
            );
        }
        let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
        assert_eq!(
            paths,
            [PROXY_PATH],
            "a greedy resource with no children; `/` has no method, so API Gateway answers it 403"
        );
    }

    #[test]
    fn the_prefix_and_partition_are_part_of_the_uri() {
        let mut spec = spec(&[Verb::Get]);
        spec.key_prefix = "datasets/v1/".into();
        let document = render(
            &spec,
            Target {
                partition: "aws-cn",
                region: "cn-north-1",
            },
        )
        .served;
        assert_eq!(
            document["paths"][PROXY_PATH]["get"]["x-amazon-apigateway-integration"]["uri"],
            "arn:aws-cn:apigateway:cn-north-1:s3:path/vault-data/datasets/v1/{key}"
        );
    }

    #[test]
    fn gotcha_3_errors_keep_their_own_codes_and_every_mapped_header_is_declared() {
        let document = all_verbs();
        for (verb, operation) in proxy_operations(&document) {
            let integration = &operation["x-amazon-apigateway-integration"];
            let responses = integration["responses"].as_object().unwrap();
            let status_of = |key: &str| responses[key]["statusCode"].as_str().unwrap().to_owned();
            assert_eq!(status_of("403"), "403", "{verb}");
            assert_eq!(status_of("404"), "404", "{verb}");
            assert_eq!(status_of("503"), "503", "{verb}");
            assert_eq!(status_of("412"), "412", "{verb}");
            assert_eq!(status_of("416"), "416", "{verb}");
            assert_eq!(status_of("206"), "206", "{verb}");
            assert_eq!(status_of("304"), "304", "{verb}");
            assert_eq!(status_of("50[0-24-9]|5[1-9]\\d"), "500", "{verb}");
            assert_eq!(
                status_of("40[0-25-9]|41[013-57-9]|4[2-9]\\d"),
                "400",
                "{verb}"
            );
            assert_ne!(status_of("default"), "200", "{verb}: no catch-all success");
            for (key, response) in responses {
                let status = response["statusCode"].as_str().unwrap();
                let declared = &operation["responses"][status];
                assert!(
                    declared.is_object(),
                    "{verb} {key}: status {status} has a method response"
                );
                for target in response["responseParameters"].as_object().unwrap().keys() {
                    let header = target.strip_prefix("method.response.header.").unwrap();
                    assert!(
                        declared["headers"][header].is_object(),
                        "{verb} {status}: {header} is mapped but not declared (Invalid mapping expression)"
                    );
                }
            }
        }
    }

    #[test]
    fn status_patterns_are_disjoint_and_keep_each_class_apart() {
        for verb in RENDERED_VERBS {
            let mappings = status_mappings(verb);
            for status in 100..600u16 {
                let matching: Vec<u16> = mappings
                    .iter()
                    .filter(|m| m.pattern.is_some_and(|p| p.matches(status)))
                    .map(|m| m.status)
                    .collect();
                assert!(matching.len() <= 1, "{verb}: {status} matches {matching:?}");
                let answered = matching.first().copied().unwrap_or(UNEXPECTED_STATUS);
                let expected = match status {
                    206 => 206,
                    200..=299 if verb == Verb::Delete => 204,
                    200..=299 => 200,
                    304 => 304,
                    403 => 403,
                    404 => 404,
                    412 => 412,
                    416 => 416,
                    400..=499 => 400,
                    503 => 503,
                    500..=599 => 500,
                    _ => 502,
                };
                assert_eq!(answered, expected, "{verb}: S3 {status}");
            }
        }
    }

    #[test]
    fn status_patterns_render_as_api_gateway_regexes() {
        let regexes: Vec<String> = status_mappings(Verb::Get)
            .iter()
            .filter_map(|m| m.pattern.map(|p| p.regex()))
            .collect();
        assert_eq!(
            regexes,
            [
                "20[0-57-9]|2[1-9]\\d",
                "206",
                "304",
                "40[0-25-9]|41[013-57-9]|4[2-9]\\d",
                "403",
                "404",
                "412",
                "416",
                "50[0-24-9]|5[1-9]\\d",
                "503"
            ]
        );
    }

    #[test]
    fn gotcha_4_binary_media_and_headers_pass_through() {
        let document = all_verbs();
        assert_eq!(
            document["x-amazon-apigateway-binary-media-types"],
            json!(["*/*"])
        );
        for (verb, operation) in proxy_operations(&document) {
            let integration = &operation["x-amazon-apigateway-integration"];
            assert!(
                integration.get("contentHandling").is_none(),
                "{verb}: no conversion, bytes pass through"
            );
            for response in integration["responses"].as_object().unwrap().values() {
                assert!(response.get("contentHandling").is_none());
                assert!(
                    response.get("responseTemplates").is_none(),
                    "a template would rewrite the body"
                );
                for header in MAPPED_RESPONSE_HEADERS {
                    assert_eq!(
                        response["responseParameters"][format!("method.response.header.{header}")],
                        format!("integration.response.header.{header}"),
                        "{verb}: {header}"
                    );
                }
            }
            assert!(
                integration.get("requestTemplates").is_none(),
                "{verb}: the body is not rewritten"
            );
        }
    }

    /// What a method forwards to S3: `header.X` and `querystring.X`, the key aside.
    fn forwarded_of(operation: &Value) -> BTreeSet<String> {
        let parameters = operation["x-amazon-apigateway-integration"]["requestParameters"]
            .as_object()
            .unwrap();
        for (target, source) in parameters {
            let name = target.strip_prefix("integration.request.").unwrap();
            assert_eq!(
                source,
                &if name == "path.key" {
                    "method.request.path.proxy".to_owned()
                } else {
                    format!("method.request.{name}")
                },
                "{target} comes from the caller's parameter of the same name"
            );
        }
        parameters
            .keys()
            .map(|k| k.strip_prefix("integration.request.").unwrap().to_owned())
            .filter(|k| k != "path.key")
            .collect()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    const READS: [&str; 7] = [
        "header.if-match",
        "header.if-modified-since",
        "header.if-none-match",
        "header.if-unmodified-since",
        "header.x-amz-checksum-mode",
        "querystring.partNumber",
        "querystring.versionId",
    ];

    #[test]
    fn gotcha_5_put_forwards_content_type_and_integrity_headers_and_never_an_acl() {
        let document = all_verbs();
        let put = &document["paths"][PROXY_PATH]["put"];
        assert_eq!(
            forwarded_of(put),
            set(&[
                "header.Content-MD5",
                "header.Content-Type",
                "header.x-amz-checksum-crc32",
                "header.x-amz-checksum-crc32c",
                "header.x-amz-checksum-crc64nvme",
                "header.x-amz-checksum-sha1",
                "header.x-amz-checksum-sha256",
                "header.x-amz-sdk-checksum-algorithm",
                "querystring.partNumber",
                "querystring.uploadId",
            ])
        );
        assert!(!document
            .to_string()
            .to_ascii_lowercase()
            .contains("x-amz-acl"));
    }

    #[test]
    fn every_forwarded_parameter_is_declared_on_the_method_request() {
        for verbs in [&Verb::ALL[..], &[Verb::Get, Verb::Head], &[Verb::Put]] {
            let document = render(&spec(verbs), TARGET).served;
            for (verb, operation) in proxy_operations(&document) {
                let declared: BTreeSet<String> = operation["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        let place = match p["in"].as_str().unwrap() {
                            "query" => "querystring",
                            other => other,
                        };
                        format!("{place}.{}", p["name"].as_str().unwrap())
                    })
                    .collect();
                for name in forwarded_of(&operation) {
                    assert!(
                        declared.contains(&name),
                        "{verb}: {name} is mapped but not declared (Invalid mapping expression)"
                    );
                }
            }
        }
    }

    #[test]
    fn get_reads_ranges_conditionally_and_old_versions() {
        let document = render(&spec(&[Verb::Get, Verb::Head]), TARGET).served;
        let get = &document["paths"][PROXY_PATH]["get"];
        let mut wanted = set(&READS);
        wanted.insert("header.range".into());
        assert_eq!(forwarded_of(get), wanted, "no multipart query without PUT");
        let head = &document["paths"][PROXY_PATH]["head"];
        assert_eq!(
            forwarded_of(head),
            set(&READS),
            "HEAD: conditions, checksum mode, versionId and partNumber, no Range"
        );
    }

    #[test]
    fn partial_not_modified_and_precondition_answers_keep_their_codes() {
        let document = all_verbs();
        for verb in ["get", "head"] {
            let operation = &document["paths"][PROXY_PATH][verb];
            let responses = &operation["x-amazon-apigateway-integration"]["responses"];
            for (pattern, status) in [
                ("206", "206"),
                ("304", "304"),
                ("412", "412"),
                ("416", "416"),
            ] {
                assert_eq!(responses[pattern]["statusCode"], status, "{verb} {pattern}");
                assert!(
                    operation["responses"][status].is_object(),
                    "{verb}: {status} declared"
                );
                // S3 sends no body on 304; a template would invent one.
                assert!(responses[pattern].get("responseTemplates").is_none());
            }
            let range = &responses["206"]["responseParameters"];
            for header in ["Content-Range", "Accept-Ranges", "Content-Length"] {
                assert_eq!(
                    range[format!("method.response.header.{header}")],
                    format!("integration.response.header.{header}"),
                    "{verb} 206 maps {header}"
                );
            }
        }
    }

    #[test]
    fn object_metadata_and_checksum_headers_reach_the_caller_on_every_status() {
        let document = all_verbs();
        let wanted = [
            "Last-Modified",
            "x-amz-version-id",
            "Cache-Control",
            "Content-Encoding",
            "Content-Disposition",
            "x-amz-checksum-crc32",
            "x-amz-checksum-crc32c",
            "x-amz-checksum-crc64nvme",
            "x-amz-checksum-sha1",
            "x-amz-checksum-sha256",
            "x-amz-checksum-type",
            "x-amz-mp-parts-count",
            "Content-Range",
            "Accept-Ranges",
        ];
        for (verb, operation) in proxy_operations(&document) {
            let integration = &operation["x-amazon-apigateway-integration"];
            for response in integration["responses"].as_object().unwrap().values() {
                let status = response["statusCode"].as_str().unwrap();
                for header in wanted {
                    assert_eq!(
                        response["responseParameters"][format!("method.response.header.{header}")],
                        format!("integration.response.header.{header}"),
                        "{verb} {status}: {header} mapped"
                    );
                    assert!(
                        operation["responses"][status]["headers"][header].is_object(),
                        "{verb} {status}: {header} declared"
                    );
                }
            }
        }
    }

    #[test]
    fn no_method_forwards_a_version_delete_or_a_retention_of_the_callers() {
        for verbs in [&Verb::ALL[..], &[Verb::Get, Verb::Head, Verb::Put]] {
            let document = render(&spec(verbs), TARGET).served;
            let delete = &document["paths"][PROXY_PATH]["delete"];
            assert_eq!(
                forwarded_of(delete),
                set(&["querystring.uploadId"]),
                "DELETE never forwards versionId: deleting a version is permanent"
            );
            let text = document.to_string().to_ascii_lowercase();
            for forbidden in ["x-amz-object-lock", "x-amz-bypass-governance-retention"] {
                assert!(
                    !text.contains(forbidden),
                    "{forbidden} appears in {verbs:?}"
                );
            }
        }
        let read_only = render(&spec(&[Verb::Get, Verb::Delete]), TARGET).served;
        assert_eq!(
            forwarded_of(&read_only["paths"][PROXY_PATH]["delete"]),
            BTreeSet::new(),
            "without PUT there is no upload to abort"
        );
    }

    #[test]
    fn put_brings_multipart_in_s3s_own_forms() {
        let document = render(&spec(&[Verb::Get, Verb::Head, Verb::Put]), TARGET).served;
        let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
        assert_eq!(
            paths,
            [PROXY_PATH],
            "no child resource under the greedy path"
        );
        let proxy = &document["paths"][PROXY_PATH];
        assert_eq!(
            forwarded_of(&proxy["post"]),
            set(&[
                "header.Content-Type",
                "header.x-amz-checksum-algorithm",
                "header.x-amz-checksum-crc32",
                "header.x-amz-checksum-crc32c",
                "header.x-amz-checksum-crc64nvme",
                "header.x-amz-checksum-sha1",
                "header.x-amz-checksum-sha256",
                "header.x-amz-checksum-type",
                "querystring.uploadId",
                "querystring.uploads",
            ]),
            "POST ?uploads creates, POST ?uploadId= completes"
        );
        assert_eq!(
            proxy["post"]["x-amazon-apigateway-integration"]["httpMethod"],
            "POST"
        );
        let mut get = set(&READS);
        get.extend(set(&[
            "header.range",
            "querystring.uploadId",
            "querystring.max-parts",
            "querystring.part-number-marker",
        ]));
        assert_eq!(
            forwarded_of(&proxy["get"]),
            get,
            "GET ?uploadId= lists parts"
        );

        // DELETE was not asked for: it exists to abort, and API Gateway
        // refuses it without an uploadId before S3 is called.
        let delete = &proxy["delete"];
        assert_eq!(delete["x-amazon-apigateway-request-validator"], "params");
        assert_eq!(
            document["x-amazon-apigateway-request-validators"]["params"]
                ["validateRequestParameters"],
            true
        );
        let upload_id = delete["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "uploadId")
            .unwrap();
        assert_eq!(
            (&upload_id["in"], &upload_id["required"]),
            (&json!("query"), &json!(true))
        );

        let with_delete = all_verbs();
        let delete = &with_delete["paths"][PROXY_PATH]["delete"];
        assert!(delete
            .get("x-amazon-apigateway-request-validator")
            .is_none());
        assert!(with_delete
            .get("x-amazon-apigateway-request-validators")
            .is_none());

        let read_only = render(&spec(&[Verb::Get, Verb::Head]), TARGET).served;
        let verbs: Vec<String> = proxy_operations(&read_only)
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        assert_eq!(verbs, ["get", "head"], "no multipart without PUT");
    }

    #[test]
    fn authorization_is_sigv4_unless_none_was_acknowledged() {
        let document = all_verbs();
        assert_eq!(
            document["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"],
            "awsSigv4"
        );
        for (path, verb, operation) in operations(&document) {
            assert_eq!(
                operation["security"],
                json!([{"sigv4": []}]),
                "{verb} {path}"
            );
        }
        let mut open = spec(&[Verb::Get]);
        open.authorization = Authorization::None;
        let document = render(&open, TARGET).served;
        assert!(document.get("components").is_none());
        for (_, _, operation) in operations(&document) {
            assert!(operation.get("security").is_none());
        }
    }

    #[test]
    fn limits_are_explicit() {
        for (_, operation) in proxy_operations(&all_verbs()) {
            assert_eq!(
                operation["x-amazon-apigateway-integration"]["timeoutInMillis"],
                29_000
            );
        }
    }

    #[test]
    fn the_digest_follows_what_is_served_and_nothing_else() {
        let get = render(&spec(&[Verb::Get]), TARGET);
        assert_eq!(get, render(&spec(&[Verb::Get]), TARGET), "deterministic");
        assert_eq!(get.digest.len(), 64);
        let with_put = render(&spec(&[Verb::Get, Verb::Put]), TARGET);
        assert_ne!(get.digest, with_put.digest);
        let mut other_role = spec(&[Verb::Get]);
        other_role.role_arn = "arn:aws:iam::123456789012:role/other".into();
        assert_ne!(get.digest, render(&other_role, TARGET).digest);
        let mut other_stage = spec(&[Verb::Get]);
        other_stage.stage = "v2".into();
        other_stage.throttling = Some(crate::properties::Throttling {
            rate_limit: 1.0,
            burst_limit: 1,
        });
        assert_eq!(
            get.digest,
            render(&other_stage, TARGET).digest,
            "stage settings are compared on the stage, not in the document"
        );

        let full = get.document("vault-api", Some("the API"));
        assert_eq!(full["info"]["title"], "vault-api");
        assert_eq!(full["info"]["version"], get.digest.as_str());
        assert_eq!(full["info"]["description"], "the API");
        assert_eq!(full["paths"], get.served["paths"]);
        assert!(get.served.get("info").is_none());
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value = json!({"b": {"z": 1, "a": [ {"y": 2, "x": 3} ]}, "a": "\"q\""});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":"\"q\"","b":{"a":[{"x":3,"y":2}],"z":1}}"#
        );
    }

    #[test]
    fn methods_match_the_document() {
        let spec = spec(&Verb::ALL);
        let document = render(&spec, TARGET).served;
        for method in methods(&spec, TARGET) {
            let operation = &document["paths"][method.path][method.verb.operation_key()];
            let integration = &operation["x-amazon-apigateway-integration"];
            assert_eq!(integration["uri"], method.integration.uri.as_str());
            assert_eq!(
                integration["httpMethod"],
                method.integration.http_method.as_str()
            );
            assert_eq!(
                integration["requestParameters"],
                json!(method.integration.request_parameters)
            );
        }
    }
}
