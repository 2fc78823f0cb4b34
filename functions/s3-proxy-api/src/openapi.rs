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
//!   patterns (success, 400, 403, 404, 500, 503, and a default of 502 for
//!   anything unexpected), never a catch-all 200. Every mapped header is
//!   declared on its method response, which API Gateway requires.
//! - PUT forwards `Content-Type` and the integrity headers S3 accepts
//!   (Object Lock refuses a write with retention that carries none):
//!   `Content-MD5` and the flexible checksums `x-amz-checksum-*` with
//!   `x-amz-sdk-checksum-algorithm`. The checksums are there because API
//!   Gateway REST APIs drop an incoming `Content-MD5` before any mapping
//!   (LocalStack reproduces this and says it matches AWS), so a client of
//!   this API proves its body with `x-amz-checksum-sha256` or another. No
//!   other header is forwarded: never `x-amz-acl`, which S3 refuses on a
//!   BucketOwnerEnforced bucket.

use crate::digest::sha256_hex;
use crate::properties::{Authorization, Spec, Verb};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const PROXY_PATH: &str = "/{proxy+}";
/// API Gateway's longest integration timeout for REST APIs (29 s); bodies are
/// also capped at 10 MB by API Gateway itself, whatever this document says.
pub const INTEGRATION_TIMEOUT_MS: u32 = 29_000;
/// Response headers passed from S3 to the caller.
pub const MAPPED_RESPONSE_HEADERS: [&str; 3] = ["Content-Type", "Content-Length", "ETag"];
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
    const SUCCESS: StatusPattern = StatusPattern(&[[d(2), Digits::ANY, Digits::ANY]]);
    const FORBIDDEN: StatusPattern = StatusPattern(&[[d(4), d(0), d(3)]]);
    const NOT_FOUND: StatusPattern = StatusPattern(&[[d(4), d(0), d(4)]]);
    // Every other 4xx: 400-402, 405-409, 410-499 (S3's InvalidDigest,
    // EntityTooLarge, PreconditionFailed, ...).
    const OTHER_CLIENT: StatusPattern = StatusPattern(&[
        [d(4), d(0), Digits::range(0, 2).or(Digits::range(5, 9))],
        [d(4), Digits::range(1, 9), Digits::ANY],
    ]);
    // S3's SlowDown: the caller must back off, so it keeps its code.
    const SLOW_DOWN: StatusPattern = StatusPattern(&[[d(5), d(0), d(3)]]);
    const OTHER_SERVER: StatusPattern = StatusPattern(&[
        [d(5), d(0), Digits::range(0, 2).or(Digits::range(4, 9))],
        [d(5), Digits::range(1, 9), Digits::ANY],
    ]);
    // S3 answers a DeleteObject with 204 and no body.
    let success = if verb == Verb::Delete { 204 } else { 200 };
    vec![
        StatusMapping {
            pattern: Some(SUCCESS),
            status: success,
        },
        StatusMapping {
            pattern: Some(OTHER_CLIENT),
            status: 400,
        },
        StatusMapping {
            pattern: Some(FORBIDDEN),
            status: 403,
        },
        StatusMapping {
            pattern: Some(NOT_FOUND),
            status: 404,
        },
        StatusMapping {
            pattern: Some(OTHER_SERVER),
            status: 500,
        },
        StatusMapping {
            pattern: Some(SLOW_DOWN),
            status: 503,
        },
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
}

/// Every method the document defines, in document order.
pub fn methods(spec: &Spec, target: Target<'_>) -> Vec<MethodSpec> {
    let uri = format!(
        "arn:{}:apigateway:{}:s3:path/{}/{}{{key}}",
        target.partition, target.region, spec.bucket, spec.key_prefix
    );
    spec.verbs
        .iter()
        .map(|&verb| {
            let mut request_parameters = BTreeMap::from([(
                "integration.request.path.key".to_owned(),
                "method.request.path.proxy".to_owned(),
            )]);
            if verb == Verb::Put {
                for header in PUT_REQUEST_HEADERS {
                    request_parameters.insert(
                        format!("integration.request.header.{header}"),
                        format!("method.request.header.{header}"),
                    );
                }
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
    let digest = sha256_hex(canonical_json(&served).as_bytes());
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
    let mut operation = s3_operation(&method.integration);
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

fn s3_operation(integration: &IntegrationSpec) -> Value {
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
    if verb == Verb::Put {
        parameters.extend(PUT_REQUEST_HEADERS.iter().map(|header| {
            json!({"name": header, "in": "header", "required": false, "schema": {"type": "string"}})
        }));
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
            ["delete", "get", "head", "put"].map(String::from).into()
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
            assert_eq!(status_of("50[0-24-9]|5[1-9]\\d"), "500", "{verb}");
            assert_eq!(status_of("40[0-25-9]|4[1-9]\\d"), "400", "{verb}");
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
        for verb in Verb::ALL {
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
                    200..=299 if verb == Verb::Delete => 204,
                    200..=299 => 200,
                    403 => 403,
                    404 => 404,
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
                "2\\d\\d",
                "40[0-25-9]|4[1-9]\\d",
                "403",
                "404",
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

    #[test]
    fn gotcha_5_put_forwards_content_type_and_integrity_headers_and_never_an_acl() {
        let document = all_verbs();
        for (verb, operation) in proxy_operations(&document) {
            let parameters = operation["x-amazon-apigateway-integration"]["requestParameters"]
                .as_object()
                .unwrap();
            let forwarded: BTreeSet<&str> = parameters.keys().map(String::as_str).collect();
            if verb == "put" {
                assert_eq!(
                    forwarded,
                    [
                        "integration.request.header.Content-MD5",
                        "integration.request.header.Content-Type",
                        "integration.request.header.x-amz-checksum-crc32",
                        "integration.request.header.x-amz-checksum-crc32c",
                        "integration.request.header.x-amz-checksum-crc64nvme",
                        "integration.request.header.x-amz-checksum-sha1",
                        "integration.request.header.x-amz-checksum-sha256",
                        "integration.request.header.x-amz-sdk-checksum-algorithm",
                        "integration.request.path.key"
                    ]
                    .into()
                );
                for (target, source) in parameters {
                    if let Some(header) = target.strip_prefix("integration.request.header.") {
                        assert_eq!(
                            source,
                            &format!("method.request.header.{header}"),
                            "same name"
                        );
                    }
                }
                for header in PUT_REQUEST_HEADERS {
                    assert!(
                        operation["parameters"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|p| p["name"] == header && p["in"] == "header"),
                        "{header} is declared on the method request"
                    );
                }
            } else {
                assert_eq!(forwarded, ["integration.request.path.key"].into(), "{verb}");
            }
        }
        assert!(!document
            .to_string()
            .to_ascii_lowercase()
            .contains("x-amz-acl"));
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
