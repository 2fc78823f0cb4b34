//! `Custom::S3ProxyApi` end to end: the real `s3-proxy-api` binary under
//! `cargo lambda watch`, against moto's API Gateway (control plane: what is
//! written, and how many calls it takes).
//!
//! moto gaps these tests meet (the handler follows API Gateway's documented
//! behaviour; each assertion that depends on a gap says so):
//! - PutRestApi ignores `x-amazon-apigateway-binary-media-types`, and a PATCH
//!   `add /binaryMediaTypes/*~1*` without a value (API Gateway's documented
//!   form) appends an empty string. So moto never reports `*/*`.
//! - PutRestApi ignores the `awsSigv4` security scheme and leaves methods with
//!   no authorization type at all; moto has no UpdateMethod either. The
//!   handler therefore cannot patch or verify authorization there (it logs
//!   that it could not); LocalStack, which reads back `NONE`, is patched.
//! - UpdateStage ignores `remove /*/*`.
//! - CreateDeployment to an existing stage replaces the stage, dropping its
//!   method and access-log settings (API Gateway keeps them); the handler
//!   reads the stage again after redeploying, so it puts them back.
//! - DeleteDeployment refuses any deployment first made for a stage that
//!   still exists (API Gateway refuses only one a stage serves).
//! - A mock integration cannot be imported (PutRestApi answers HTTP 500).
//! - With `failonwarnings`, PutRestApi runs a strict OpenAPI validator that
//!   rejects API Gateway's documented `/{proxy+}` form, so it is not sent.
//! - A deployed REST API cannot be invoked: the data path is LocalStack's.
//!
//! Emulator gap: `cargo lambda watch` sends a past deadline; the runtime
//! falls back to `AWS_LAMBDA_FUNCTION_TIMEOUT`, which these tests set.

use aws_sdk_apigateway::error::ProvideErrorMetadata;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use vaultfront_tests::moto::{ACCOUNT, REGION};
use vaultfront_tests::{CfnEvent, LambdaEmulator, Moto};

const FUNCTION: &str = "s3-proxy-api";
const RESOURCE_TYPE: &str = "Custom::S3ProxyApi";
const BUCKET: &str = "vault-data";
const ROLE: &str = "arn:aws:iam::123456789012:role/vault-api-s3";
const WRITES: [&str; 4] = ["PUT", "POST", "PATCH", "DELETE"];

/// API Gateway control-plane requests in moto's log, by HTTP method.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Calls(BTreeMap<&'static str, usize>);

impl Calls {
    /// Counted from moto's request log.
    fn now(moto: &Moto) -> Calls {
        Calls(
            ["GET", "PUT", "POST", "PATCH", "DELETE"]
                .into_iter()
                .map(|method| (method, moto.count_requests(method, "/restapis")))
                .collect(),
        )
    }

    /// The calls made since `before`.
    fn since(&self, before: &Calls) -> Calls {
        Calls(
            self.0
                .iter()
                .map(|(method, n)| (*method, n - before.0.get(method).copied().unwrap_or(0)))
                .collect(),
        )
    }

    fn of(&self, method: &str) -> usize {
        self.0.get(method).copied().unwrap_or(0)
    }

    fn writes(&self) -> usize {
        WRITES.iter().map(|m| self.of(m)).sum()
    }

    fn total(&self) -> usize {
        self.0.values().sum()
    }
}

struct Harness {
    moto: Moto,
    lambda: LambdaEmulator,
    client: aws_sdk_apigateway::Client,
}

impl Harness {
    fn start() -> Harness {
        let moto = Moto::start();
        let mut env = moto.env();
        env.push(("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), "60".into()));
        let lambda = LambdaEmulator::start(&env);
        let client = moto.apigateway();
        Harness {
            moto,
            lambda,
            client,
        }
    }

    async fn rest_api(&self, name: &str) -> String {
        self.client
            .create_rest_api()
            .name(name)
            .description("made by the template")
            .send()
            .await
            .expect("create the template's REST API")
            .id()
            .expect("an id")
            .to_owned()
    }

    /// Invoke with `event`; the response CloudFormation would get, and the
    /// control-plane calls the function made.
    async fn answer(&self, event: &CfnEvent) -> (Value, Calls) {
        let before = Calls::now(&self.moto);
        let response = self.lambda.answer(FUNCTION, &self.moto, event).await;
        let calls = Calls::now(&self.moto).since(&before);
        (response, calls)
    }

    async fn methods(&self, api: &str) -> BTreeMap<String, aws_sdk_apigateway::types::Method> {
        let resources = self
            .client
            .get_resources()
            .rest_api_id(api)
            .embed("methods")
            .send()
            .await
            .expect("GetResources");
        resources
            .items()
            .iter()
            .flat_map(|resource| {
                let path = resource.path().unwrap_or_default().to_owned();
                resource
                    .resource_methods()
                    .into_iter()
                    .flatten()
                    .map(move |(verb, method)| (format!("{verb} {path}"), method.clone()))
            })
            .collect()
    }

    async fn stage_exists(&self, api: &str, stage: &str) -> bool {
        match self
            .client
            .get_stage()
            .rest_api_id(api)
            .stage_name(stage)
            .send()
            .await
        {
            Ok(_) => true,
            Err(err) if err.code() == Some("NotFoundException") => false,
            Err(err) => panic!("GetStage: {err:?}"),
        }
    }

    /// Listed, not fetched: moto answers GetDeployment of a missing id with HTTP 500.
    async fn deployment_exists(&self, api: &str, id: &str) -> bool {
        self.client
            .get_deployments()
            .rest_api_id(api)
            .send()
            .await
            .expect("GetDeployments")
            .items()
            .iter()
            .any(|d| d.id() == Some(id))
    }
}

fn properties(api: &str, extra: Value) -> Value {
    let mut properties = json!({
        "RestApiId": api,
        "BucketName": BUCKET,
        "RoleArn": ROLE,
        "StageName": "v1",
    });
    for (key, value) in extra.as_object().cloned().unwrap_or_default() {
        properties[key] = value;
    }
    properties
}

fn text<'a>(response: &'a Value, field: &str) -> &'a str {
    response[field].as_str().unwrap_or_default()
}

#[tokio::test]
async fn create_noop_update_update_and_delete_against_moto() {
    let h = Harness::start();
    let api = h.rest_api("vault-api").await;
    let create = CfnEvent::create(
        RESOURCE_TYPE,
        "ObjectApi",
        properties(
            &api,
            json!({"Throttling": {"RateLimit": 10, "BurstLimit": 5}}),
        ),
    );

    // Create.
    let (created, calls) = h.answer(&create).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let physical_id = text(&created, "PhysicalResourceId").to_owned();
    assert_eq!(
        physical_id,
        format!("arn:aws:apigateway:{REGION}::/restapis/{api}/stages/v1")
    );
    assert_eq!(
        created["Data"]["InvokeUrl"],
        format!("https://{api}.execute-api.{REGION}.amazonaws.com/v1")
    );
    assert_eq!(
        created["Data"]["ExecuteApiArn"],
        format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/v1/*/*")
    );
    let first_deployment = text(&created["Data"], "DeploymentId").to_owned();
    assert!(!first_deployment.is_empty(), "{created}");
    eprintln!(
        "control-plane calls of a Create: {calls:?} = {}",
        calls.total()
    );
    assert_eq!(calls.of("PUT"), 1, "one PutRestApi defines the whole API");
    assert_eq!(calls.of("POST"), 1, "one CreateDeployment");
    // UpdateStage (throttling) and UpdateRestApi (binary media type: moto
    // ignores it on import; API Gateway applies it, so on AWS this PATCH is not made).
    assert_eq!(calls.of("PATCH"), 2, "{calls:?}");
    assert_eq!(calls.of("DELETE"), 0);
    // GetStage (absent), GetRestApi (its name for info.title), GetResources (read-back).
    assert_eq!(calls.of("GET"), 3, "{calls:?}");

    let methods = h.methods(&api).await;
    let keys: BTreeSet<&str> = methods.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["GET /{proxy+}", "HEAD /{proxy+}"].into(),
        "GET and HEAD by default; `/` has no method (API Gateway answers it 403)"
    );
    for verb in ["GET", "HEAD"] {
        let integration = methods[&format!("{verb} /{{proxy+}}")]
            .method_integration()
            .expect("an integration");
        assert!(integration
            .r#type()
            .is_some_and(|t| t.as_str().eq_ignore_ascii_case("AWS")));
        assert_eq!(integration.http_method(), Some(verb));
        assert_eq!(
            integration.uri(),
            Some(format!("arn:aws:apigateway:{REGION}:s3:path/{BUCKET}/{{key}}").as_str())
        );
        assert_eq!(integration.credentials(), Some(ROLE));
        assert_eq!(
            integration
                .request_parameters()
                .and_then(|p| p.get("integration.request.path.key"))
                .map(String::as_str),
            Some("method.request.path.proxy")
        );
        let statuses: BTreeSet<&str> = integration
            .integration_responses()
            .into_iter()
            .flatten()
            .map(|(_, r)| r.status_code().unwrap_or_default())
            .collect();
        assert_eq!(
            statuses,
            ["200", "206", "304", "400", "403", "404", "412", "416", "500", "502", "503"].into(),
            "{verb}: errors keep their own codes"
        );
    }
    let stage = h
        .client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("v1")
        .send()
        .await
        .expect("the stage exists");
    assert_eq!(stage.deployment_id(), Some(first_deployment.as_str()));
    let throttling = &stage.method_settings().expect("method settings")["*/*"];
    assert_eq!(
        (
            throttling.throttling_rate_limit(),
            throttling.throttling_burst_limit()
        ),
        (10.0, 5)
    );
    let rest_api = h
        .client
        .get_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rest_api.name(),
        Some("vault-api"),
        "the template's name is kept"
    );

    // The same event again (Lambda retries async invocations): nothing written.
    let (repeated, calls) = h.answer(&create).await;
    assert_eq!(repeated["Status"], "SUCCESS", "{repeated}");
    assert_eq!(repeated["PhysicalResourceId"], physical_id);
    assert_eq!(
        calls.writes(),
        0,
        "a repeated Create writes nothing: {calls:?}"
    );

    // No-op Update: nothing written.
    let noop = create.update(&physical_id, create.properties.clone());
    let (unchanged, calls) = h.answer(&noop).await;
    assert_eq!(unchanged["Status"], "SUCCESS", "{unchanged}");
    assert_eq!(unchanged["PhysicalResourceId"], physical_id);
    assert_eq!(unchanged["Data"]["DeploymentId"], first_deployment.as_str());
    assert_eq!(
        calls.writes(),
        0,
        "a no-op Update writes nothing: {calls:?}"
    );
    eprintln!(
        "control-plane calls of a no-op Update: {calls:?} = {}",
        calls.total()
    );
    assert_eq!(calls.of("GET"), 2, "GetStage and GetDeployment: {calls:?}");

    // Update adding PUT: the API changes, so the stage gets a new deployment.
    let with_put = properties(
        &api,
        json!({"Methods": ["GET", "HEAD", "PUT"], "Throttling": {"RateLimit": 10, "BurstLimit": 5}}),
    );
    let (updated, calls) = h
        .answer(&create.update(&physical_id, with_put.clone()))
        .await;
    assert_eq!(updated["Status"], "SUCCESS", "{updated}");
    assert_eq!(updated["PhysicalResourceId"], physical_id, "in place");
    let second_deployment = text(&updated["Data"], "DeploymentId").to_owned();
    assert!(!second_deployment.is_empty());
    assert_ne!(
        second_deployment, first_deployment,
        "a change redeploys the stage"
    );
    eprintln!(
        "control-plane calls of an Update adding PUT: {calls:?} = {}",
        calls.total()
    );
    assert_eq!((calls.of("PUT"), calls.of("POST")), (1, 1), "{calls:?}");
    assert_eq!(
        calls.of("DELETE"),
        1,
        "the superseded deployment is deleted: {calls:?}"
    );
    let methods = h.methods(&api).await;
    let put = methods["PUT /{proxy+}"]
        .method_integration()
        .expect("PUT has an integration");
    assert_eq!(put.http_method(), Some("PUT"));
    let forwarded: BTreeSet<&str> = put
        .request_parameters()
        .expect("request parameters")
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        forwarded.is_superset(
            &[
                "integration.request.header.Content-MD5",
                "integration.request.header.Content-Type",
                "integration.request.header.x-amz-checksum-sha256",
                "integration.request.path.key"
            ]
            .into()
        ),
        "integrity headers for Object Lock: {forwarded:?}"
    );
    assert!(
        !forwarded
            .iter()
            .any(|p| p.to_ascii_lowercase().contains("x-amz-acl")),
        "never an ACL"
    );
    let stage = h
        .client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("v1")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.deployment_id(), Some(second_deployment.as_str()));
    // moto's CreateDeployment to an existing stage replaces the stage and
    // drops its settings (API Gateway keeps them): the handler reads the
    // stage again after a redeployment, so the throttling is still there.
    let throttling = &stage.method_settings().expect("method settings")["*/*"];
    assert_eq!(
        (
            throttling.throttling_rate_limit(),
            throttling.throttling_burst_limit()
        ),
        (10.0, 5)
    );
    // The superseded deployment's DELETE was sent (counted above). moto
    // refuses it (StageStillActive): it ties a deployment to the stage it was
    // first made for, where API Gateway only refuses a deployment a stage
    // still serves. The handler logs that and goes on, so only the call is checked.

    // Update of the throttling only: the stage is patched, not redeployed.
    let slower = properties(
        &api,
        json!({"Methods": ["GET", "HEAD", "PUT"], "Throttling": {"RateLimit": "2.5", "BurstLimit": "3"}}),
    );
    let (throttled, calls) = h.answer(&create.update(&physical_id, slower.clone())).await;
    assert_eq!(throttled["Status"], "SUCCESS", "{throttled}");
    assert_eq!(
        throttled["Data"]["DeploymentId"],
        second_deployment.as_str()
    );
    assert_eq!(calls.writes(), 1, "one UpdateStage: {calls:?}");
    let stage = h
        .client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("v1")
        .send()
        .await
        .unwrap();
    let throttling = &stage.method_settings().unwrap()["*/*"];
    assert_eq!(
        (
            throttling.throttling_rate_limit(),
            throttling.throttling_burst_limit()
        ),
        (2.5, 3)
    );

    // A failed Update keeps the old id and changes nothing.
    let broken = properties(&api, json!({"Methods": ["GET", "ANY"]}));
    let (failed, calls) = h.answer(&create.update(&physical_id, broken)).await;
    assert_eq!(failed["Status"], "FAILED");
    assert_eq!(failed["PhysicalResourceId"], physical_id);
    assert_eq!(calls.total(), 0, "{calls:?}");

    // Delete: the stage, our deployments and the API's content go; the API stays.
    let (deleted, calls) = h.answer(&create.delete(&physical_id)).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    eprintln!(
        "control-plane calls of a Delete: {calls:?} = {}",
        calls.total()
    );
    assert!(!h.stage_exists(&api, "v1").await);
    assert!(!h.deployment_exists(&api, &second_deployment).await);
    assert!(
        h.methods(&api).await.is_empty(),
        "no method is left on the API"
    );
    let rest_api = h.client.get_rest_api().rest_api_id(&api).send().await;
    assert!(rest_api.is_ok(), "the REST API belongs to the template");

    // Delete again: already gone, nothing written.
    let (again, calls) = h.answer(&create.delete(&physical_id)).await;
    assert_eq!(again["Status"], "SUCCESS", "{again}");
    assert_eq!(calls.writes(), 0, "{calls:?}");
}

/// The S3 protocol's large-object forms, as moto reads them back after a
/// Create with PUT: every method, every forwarded parameter, every status
/// and every declared header. Expectations are written out here, not taken
/// from the handler, so that a mapping dropped from the document fails.
#[tokio::test]
async fn ranged_conditional_versioned_and_multipart_methods_read_back_from_moto() {
    let h = Harness::start();
    let api = h.rest_api("vault-api").await;
    let create = CfnEvent::create(
        RESOURCE_TYPE,
        "ObjectApi",
        properties(&api, json!({"Methods": ["GET", "HEAD", "PUT"]})),
    );
    let (created, _) = h.answer(&create).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");

    let methods = h.methods(&api).await;
    let keys: BTreeSet<&str> = methods.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "DELETE /{proxy+}",
            "GET /{proxy+}",
            "HEAD /{proxy+}",
            "POST /{proxy+}",
            "PUT /{proxy+}"
        ]
        .into(),
        "PUT brings POST (multipart create/complete) and DELETE (abort only)"
    );

    let reads = [
        "header.if-match",
        "header.if-none-match",
        "header.if-modified-since",
        "header.if-unmodified-since",
        "header.x-amz-checksum-mode",
        "querystring.versionId",
        "querystring.partNumber",
    ];
    let checksums = [
        "header.x-amz-checksum-crc32",
        "header.x-amz-checksum-crc32c",
        "header.x-amz-checksum-crc64nvme",
        "header.x-amz-checksum-sha1",
        "header.x-amz-checksum-sha256",
    ];
    let mut get: Vec<&str> = reads.to_vec();
    get.extend([
        "header.range",
        "querystring.uploadId",
        "querystring.max-parts",
        "querystring.part-number-marker",
    ]);
    let mut put: Vec<&str> = checksums.to_vec();
    put.extend([
        "header.Content-Type",
        "header.Content-MD5",
        "header.x-amz-sdk-checksum-algorithm",
        "querystring.partNumber",
        "querystring.uploadId",
    ]);
    let mut post: Vec<&str> = checksums.to_vec();
    post.extend([
        "header.Content-Type",
        "header.x-amz-checksum-algorithm",
        "header.x-amz-checksum-type",
        "querystring.uploads",
        "querystring.uploadId",
    ]);
    let expected: [(&str, Vec<&str>); 5] = [
        ("GET", get),
        ("HEAD", reads.to_vec()),
        ("PUT", put),
        ("POST", post),
        // Never versionId (a permanent delete) on DELETE.
        ("DELETE", vec!["querystring.uploadId"]),
    ];
    for (verb, forwarded) in expected {
        let method = &methods[&format!("{verb} /{{proxy+}}")];
        let integration = method.method_integration().expect("an integration");
        assert_eq!(integration.http_method(), Some(verb));
        let mut wanted: BTreeMap<String, String> = forwarded
            .iter()
            .map(|name| {
                (
                    format!("integration.request.{name}"),
                    format!("method.request.{name}"),
                )
            })
            .collect();
        wanted.insert(
            "integration.request.path.key".into(),
            "method.request.path.proxy".into(),
        );
        let found: BTreeMap<String, String> = integration
            .request_parameters()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        assert_eq!(found, wanted, "{verb}: what reaches S3");
        for key in found.keys() {
            assert!(
                !key.to_ascii_lowercase().contains("object-lock")
                    && !key.to_ascii_lowercase().contains("bypass-governance"),
                "{verb}: {key}"
            );
        }

        // moto's PutRestApi keeps no method request parameters, no request
        // validator and no method response headers (it calls PutMethod and
        // PutMethodResponse without them): their declarations are held by
        // the unit tests on the rendered document, and the validator's
        // refusal of a DELETE without uploadId by the LocalStack data-path test.
        let responses = integration
            .integration_responses()
            .cloned()
            .unwrap_or_default();
        let by_status: BTreeMap<&str, &aws_sdk_apigateway::types::IntegrationResponse> = responses
            .values()
            .map(|r| (r.status_code().unwrap_or_default(), r))
            .collect();
        let success = if verb == "DELETE" { "204" } else { "200" };
        let statuses: BTreeSet<&str> = by_status.keys().copied().collect();
        assert_eq!(
            statuses,
            [success, "206", "304", "400", "403", "404", "412", "416", "500", "502", "503"].into(),
            "{verb}"
        );
        assert_eq!(by_status["206"].selection_pattern(), Some("206"));
        assert_eq!(by_status["304"].selection_pattern(), Some("304"));
        assert_eq!(by_status["412"].selection_pattern(), Some("412"));
        assert_eq!(by_status["416"].selection_pattern(), Some("416"));
        let method_responses = method.method_responses().cloned().unwrap_or_default();
        for (status, response) in &by_status {
            assert!(
                method_responses.contains_key(*status),
                "{verb}: status {status} has a method response"
            );
            let mapped = response.response_parameters().cloned().unwrap_or_default();
            for header in [
                "Content-Range",
                "Accept-Ranges",
                "Last-Modified",
                "x-amz-version-id",
                "Cache-Control",
                "Content-Encoding",
                "Content-Disposition",
                "x-amz-checksum-sha256",
                "x-amz-checksum-crc64nvme",
                "x-amz-mp-parts-count",
            ] {
                let target = format!("method.response.header.{header}");
                assert_eq!(
                    mapped.get(&target).map(String::as_str),
                    Some(format!("integration.response.header.{header}").as_str()),
                    "{verb} {status}: {header} mapped"
                );
            }
        }
    }
}

/// What every access-log line must say: the request, the caller, what was
/// asked, and what S3 answered (listed here, not taken from the handler, so
/// that a field dropped from its format fails this test).
const AUDIT_FIELDS: [&str; 12] = [
    "$context.requestId",
    "$context.requestTime",
    "$context.identity.userArn",
    "$context.identity.accountId",
    "$context.identity.sourceIp",
    "$context.identity.userAgent",
    "$context.httpMethod",
    "$context.resourcePath",
    "$context.status",
    "$context.responseLength",
    "$context.integration.latency",
    "$context.integration.status",
];

fn firehose_arn(name: &str) -> String {
    format!("arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}")
}

impl Harness {
    /// The stage's access-log settings and `*/*` execution log level, read back.
    async fn logging(&self, api: &str) -> (Option<(String, String)>, Option<String>) {
        let stage = self
            .client
            .get_stage()
            .rest_api_id(api)
            .stage_name("v1")
            .send()
            .await
            .expect("the stage exists");
        let access = stage.access_log_settings().map(|s| {
            (
                s.destination_arn().unwrap_or_default().to_owned(),
                s.format().unwrap_or_default().to_owned(),
            )
        });
        let level = stage
            .method_settings()
            .and_then(|m| m.get("*/*"))
            .and_then(|s| s.logging_level())
            .map(str::to_owned);
        (access, level)
    }
}

#[tokio::test]
async fn the_stage_logs_access_and_a_new_destination_is_applied_in_place() {
    let h = Harness::start();
    let api = h.rest_api("vault-api").await;
    let first = firehose_arn("amazon-apigateway-vault-a");
    let logged_to = |destination: &str| {
        properties(
            &api,
            json!({
                "Throttling": {"RateLimit": 10, "BurstLimit": 5},
                "AccessLogging": {"DestinationArn": destination},
                "ExecutionLogLevel": "ERROR"
            }),
        )
    };
    let create = CfnEvent::create(RESOURCE_TYPE, "ObjectApi", logged_to(&first));
    let (created, calls) = h.answer(&create).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let physical_id = text(&created, "PhysicalResourceId").to_owned();
    // Throttling, the log level and the access log go in the one UpdateStage;
    // the other PATCH is moto's binary media type (see the first test).
    assert_eq!(calls.of("PATCH"), 2, "{calls:?}");

    let (access, level) = h.logging(&api).await;
    let (destination, format) = access.expect("accessLogSettings after Create");
    assert_eq!(destination, first);
    for field in AUDIT_FIELDS {
        assert!(format.contains(field), "the format lacks {field}: {format}");
    }
    let line: Value = serde_json::from_str(&format).expect("one JSON object per line");
    assert_eq!(
        line["path"], "$context.path",
        "the key asked for, not only /{{proxy+}}"
    );
    assert_eq!(
        level.as_deref(),
        Some("ERROR"),
        "execution logging, errors only"
    );

    // No-op Update: the settings read back as asked, so nothing is written.
    let (unchanged, calls) = h
        .answer(&create.update(&physical_id, create.properties.clone()))
        .await;
    assert_eq!(unchanged["Status"], "SUCCESS", "{unchanged}");
    assert_eq!(
        calls.writes(),
        0,
        "a no-op Update writes nothing: {calls:?}"
    );

    // A new destination: one UpdateStage, no redeployment.
    let second = firehose_arn("amazon-apigateway-vault-b");
    let (moved, calls) = h
        .answer(&create.update(&physical_id, logged_to(&second)))
        .await;
    assert_eq!(moved["Status"], "SUCCESS", "{moved}");
    assert_eq!(moved["PhysicalResourceId"], physical_id, "in place");
    assert_eq!(
        moved["Data"]["DeploymentId"], created["Data"]["DeploymentId"],
        "the document did not change, so the stage is not redeployed"
    );
    assert_eq!(
        (calls.writes(), calls.of("PATCH")),
        (1, 1),
        "one UpdateStage: {calls:?}"
    );
    let (access, level) = h.logging(&api).await;
    let (destination, moved_format) = access.expect("accessLogSettings after the Update");
    assert_eq!(destination, second);
    assert_eq!(moved_format, format);
    assert_eq!(level.as_deref(), Some("ERROR"));

    // And again with nothing changed: nothing written.
    let (_, calls) = h
        .answer(&create.update(&physical_id, logged_to(&second)))
        .await;
    assert_eq!(calls.writes(), 0, "{calls:?}");

    // A change to the API redeploys the stage; the access log stays.
    let mut with_put = logged_to(&second);
    with_put["Methods"] = json!(["GET", "HEAD", "PUT"]);
    let (redeployed, calls) = h.answer(&create.update(&physical_id, with_put)).await;
    assert_eq!(redeployed["Status"], "SUCCESS", "{redeployed}");
    assert_eq!(calls.of("POST"), 1, "one CreateDeployment: {calls:?}");
    let (access, level) = h.logging(&api).await;
    assert_eq!(
        access.map(|(destination, _)| destination).as_deref(),
        Some(second.as_str()),
        "a redeployed stage keeps logging"
    );
    assert_eq!(level.as_deref(), Some("ERROR"));

    // Logging removed from the template: the stage stops logging.
    let (quiet, calls) = h
        .answer(&create.update(
            &physical_id,
            properties(
                &api,
                json!({
                    "Methods": ["GET", "HEAD", "PUT"],
                    "Throttling": {"RateLimit": 10, "BurstLimit": 5}
                }),
            ),
        ))
        .await;
    assert_eq!(quiet["Status"], "SUCCESS", "{quiet}");
    assert_eq!(calls.writes(), 1, "{calls:?}");
    let (access, level) = h.logging(&api).await;
    assert_eq!(access, None);
    assert_eq!(level.as_deref(), Some("OFF"));
}

#[tokio::test]
async fn a_new_stage_name_replaces_and_the_old_delete_keeps_the_new_stage() {
    let h = Harness::start();
    let api = h.rest_api("vault-api").await;
    let create = CfnEvent::create(RESOURCE_TYPE, "ObjectApi", properties(&api, json!({})));
    let (created, _) = h.answer(&create).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let old_id = text(&created, "PhysicalResourceId").to_owned();

    let (replaced, _) = h
        .answer(&create.update(&old_id, properties(&api, json!({"StageName": "v2"}))))
        .await;
    assert_eq!(replaced["Status"], "SUCCESS", "{replaced}");
    let new_id = text(&replaced, "PhysicalResourceId").to_owned();
    assert_eq!(
        new_id,
        format!("arn:aws:apigateway:{REGION}::/restapis/{api}/stages/v2"),
        "a new stage is a new resource"
    );
    assert!(h.stage_exists(&api, "v2").await);

    // CloudFormation deletes the old resource after the new one is in place.
    let (deleted, _) = h.answer(&create.delete(&old_id)).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert!(!h.stage_exists(&api, "v1").await, "the old stage goes");
    assert!(h.stage_exists(&api, "v2").await, "the new stage stays");
    let new_deployment = text(&replaced["Data"], "DeploymentId");
    assert!(h.deployment_exists(&api, new_deployment).await);
    assert!(
        h.methods(&api).await.contains_key("GET /{proxy+}"),
        "the content the new stage was made from stays"
    );
}

#[tokio::test]
async fn bad_input_and_conflicts_fail_naming_the_field() {
    let h = Harness::start();
    let api = h.rest_api("vault-api").await;
    let cases = [
        (
            json!({"IntegrationType": "AWS_PROXY"}),
            "ResourceProperties.IntegrationType",
        ),
        (
            json!({"Methods": ["ANY"]}),
            "ResourceProperties.Methods: ANY is not allowed",
        ),
        (
            json!({"Methods": ["GET", "PATCH"]}),
            "ResourceProperties.Methods: \"PATCH\"",
        ),
        (
            json!({"StageName": ""}),
            "ResourceProperties.StageName: is empty",
        ),
        (
            json!({"RoleArn": "vault-api-s3"}),
            "ResourceProperties.RoleArn",
        ),
        (
            json!({"RestApiId": "VaultApi"}),
            "ResourceProperties.RestApiId",
        ),
        (
            json!({"BucketName": "Vault_Data"}),
            "ResourceProperties.BucketName",
        ),
        (
            json!({"Authorization": "NONE"}),
            "AcknowledgeUnauthenticatedAccess",
        ),
        (
            json!({"AccessLogging": {"DestinationArn": firehose_arn("vault-access")}}),
            "ResourceProperties.AccessLogging.DestinationArn: the Firehose stream \"vault-access\" \
             cannot receive API Gateway access logs: its name must start with amazon-apigateway-",
        ),
        (
            json!({"ExecutionLogLevel": "INFO"}),
            "ResourceProperties.ExecutionLogLevel",
        ),
        (
            json!({"RestApiId": "zzzzzzzzzz"}),
            "REST API zzzzzzzzzz does not exist",
        ),
    ];
    for (change, expected) in cases {
        let event = CfnEvent::create(RESOURCE_TYPE, "ObjectApi", properties(&api, change.clone()));
        let (response, calls) = h.answer(&event).await;
        assert_eq!(response["Status"], "FAILED", "{change}: {response}");
        let reason = text(&response, "Reason");
        assert!(reason.contains(expected), "{change}: {reason}");
        assert_eq!(calls.writes(), 0, "{change}: nothing is written: {calls:?}");
    }

    // A stage someone else deployed is not taken over.
    let manual = h.rest_api("manual-api").await;
    let root = h
        .client
        .get_resources()
        .rest_api_id(&manual)
        .send()
        .await
        .unwrap()
        .items()[0]
        .id()
        .unwrap()
        .to_owned();
    h.client
        .put_method()
        .rest_api_id(&manual)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    h.client
        .put_integration()
        .rest_api_id(&manual)
        .resource_id(&root)
        .http_method("GET")
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    h.client
        .create_deployment()
        .rest_api_id(&manual)
        .stage_name("live")
        .send()
        .await
        .unwrap();
    let event = CfnEvent::create(
        RESOURCE_TYPE,
        "ObjectApi",
        properties(&manual, json!({"StageName": "live"})),
    );
    let (response, calls) = h.answer(&event).await;
    assert_eq!(response["Status"], "FAILED", "{response}");
    assert!(
        text(&response, "Reason").contains("did not make"),
        "{response}"
    );
    assert_eq!(calls.writes(), 0, "{calls:?}");
}

/// One HTTP request to an emulator; the status, headers and body of the answer.
async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, hyper::HeaderMap, bytes::Bytes) {
    vaultfront_tests::http::request(method, url, headers, bytes::Bytes::copy_from_slice(body))
        .await
        .unwrap_or_else(|err| panic!("{err}"))
}

fn header<'a>(headers: &'a hyper::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The data path, for real: the binary applies the API to LocalStack, whose
/// API Gateway → S3 integration serves objects. Only text round-trips here:
/// LocalStack turns body bytes ≥ 0x80 into U+FFFD through the S3 integration
/// (real API Gateway passes them, with binary media `*/*` and no content
/// handling, which the unit tests on the rendered document hold). LocalStack
/// also does not enforce IAM, so requests are unsigned and a missing key is
/// 404; on AWS, with the API role lacking `s3:ListBucket` (it is scoped to
/// `<bucket>/*`), S3 answers a missing key with 403, which the API keeps as 403.
#[tokio::test]
async fn objects_are_served_through_the_api_on_localstack() {
    let localstack = vaultfront_tests::LocalStack::start();
    let s3 = localstack.s3();
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("bucket");
    let text = "plain text, line one\nline two\n";
    let json_body = r#"{"dataset": "vault", "rows": [1, 2, 3]}"#;
    for (key, body, content_type) in [
        ("hello.txt", text, "text/plain"),
        ("a/b/c.json", json_body, "application/json"),
    ] {
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .content_type(content_type)
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .expect("seed object");
    }
    let mut env = localstack.env();
    env.push(("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), "60".into()));
    let lambda = LambdaEmulator::start(&env);
    let api =
        vaultfront_tests::s3_api::deploy(&localstack, &lambda, BUCKET, &["GET", "HEAD", "PUT"])
            .await;
    let client = localstack.apigateway();

    // LocalStack's import drops the sigv4 scheme (methods read back NONE):
    // the handler patched every method back to AWS_IAM before deploying.
    let resources = client
        .get_resources()
        .rest_api_id(&api)
        .embed("methods")
        .send()
        .await
        .expect("GetResources");
    let mut authorization = BTreeMap::new();
    for resource in resources.items() {
        for (verb, method) in resource.resource_methods().into_iter().flatten() {
            let found = client
                .get_method()
                .rest_api_id(&api)
                .resource_id(resource.id().unwrap_or_default())
                .http_method(verb)
                .send()
                .await
                .expect("GetMethod");
            assert_eq!(
                found.method_integration().and_then(|i| i.credentials()),
                Some(ROLE),
                "LocalStack's import drops the integration's role; the handler patched it back"
            );
            assert!(method.http_method().is_some());
            authorization.insert(
                format!("{verb} {}", resource.path().unwrap_or_default()),
                found.authorization_type().unwrap_or_default().to_owned(),
            );
        }
    }
    assert_eq!(
        authorization,
        ["DELETE", "GET", "HEAD", "POST", "PUT"]
            .map(|verb| (format!("{verb} /{{proxy+}}"), "AWS_IAM".to_owned()))
            .into(),
        "{}",
        lambda.log()
    );

    let url = |key: &str| localstack.invoke_url(&api, "v1", key);

    // Text and JSON come back byte for byte, with their content type and ETag.
    for (key, body, content_type) in [
        ("hello.txt", text, "text/plain"),
        ("a/b/c.json", json_body, "application/json"),
    ] {
        let stored = s3
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
        let (status, headers, got) = http("GET", &url(key), &[], b"").await;
        assert_eq!(status, 200, "GET {key}: {}", String::from_utf8_lossy(&got));
        assert_eq!(&got[..], body.as_bytes(), "GET {key}: the same bytes");
        assert_eq!(
            header(&headers, "content-type"),
            Some(content_type),
            "GET {key}"
        );
        assert_eq!(
            header(&headers, "etag"),
            stored.e_tag(),
            "GET {key}: S3's ETag"
        );
    }

    // HEAD answers with the object's length and no body.
    let (status, headers, got) = http("HEAD", &url("hello.txt"), &[], b"").await;
    assert_eq!(status, 200);
    assert!(got.is_empty());
    assert_eq!(header(&headers, "content-type"), Some("text/plain"));

    // A missing key keeps its own code (404 here; 403 on AWS, see above).
    let (status, _, body) = http("GET", &url("no/such/key.txt"), &[], b"").await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));

    // PUT stores the object with its Content-Type, and the body's checksum
    // reaches S3. Content-MD5 is sent too, but LocalStack drops it on entry, as
    // it says API Gateway does, so S3 never sees it here; x-amz-checksum-sha256
    // is what proves the body (and satisfies Object Lock) through this API.
    let put_body = b"stored through the API\n";
    // base64(MD5(put_body)) and base64(SHA-256(put_body)), computed with openssl.
    let put_md5 = "5DtT/aSY4C1W6h6petRRGA==";
    let put_sha256 = "NrLMlfjR4Q3bXivEsOIvQsJG8UL7vYJrxHgnzO40RN4=";
    let (status, _, answer) = http(
        "PUT",
        &url("uploads/new.txt"),
        &[
            ("content-type", "text/plain"),
            ("content-md5", put_md5),
            ("x-amz-checksum-sha256", put_sha256),
        ],
        put_body,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let stored = s3
        .get_object()
        .bucket(BUCKET)
        .key("uploads/new.txt")
        .send()
        .await
        .expect("the PUT stored the object");
    assert_eq!(stored.content_type(), Some("text/plain"));
    let bytes = stored.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], put_body);

    // A checksum that does not match the body: S3 refuses it (BadDigest), so
    // the header was forwarded, and the refusal stays a client error, not a 200.
    let (status, _, answer) = http(
        "PUT",
        &url("uploads/bad.txt"),
        &[
            ("content-type", "text/plain"),
            (
                "x-amz-checksum-sha256",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
        ],
        put_body,
    )
    .await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&answer));
    assert!(
        String::from_utf8_lossy(&answer).contains("BadDigest"),
        "S3's own error passes through: {}",
        String::from_utf8_lossy(&answer)
    );
    let missing = s3
        .head_object()
        .bucket(BUCKET)
        .key("uploads/bad.txt")
        .send()
        .await;
    assert!(missing.is_err(), "the refused PUT stored nothing");

    // `/` has no method: no listing, and API Gateway's own 403.
    let (status, _, body) = http("GET", &url(""), &[], b"").await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));

    // LocalStack applies the document's binary media types on import.
    let rest_api = client
        .get_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(rest_api.binary_media_types(), ["*/*"]);
}
