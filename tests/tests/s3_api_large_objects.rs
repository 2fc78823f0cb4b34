//! The S3 API past API Gateway's 10 MB, on LocalStack's data path: the real
//! `s3-proxy-api` binary applies the API, and requests in S3's own protocol
//! forms go through LocalStack's API Gateway → S3 integration. Multipart
//! writes, ranged and conditional reads, old versions, aborts, and the
//! headers that must never reach S3.
//!
//! LocalStack gaps these tests meet (the handler follows API Gateway's
//! documented behaviour):
//! - Bodies are text only: LocalStack turns bytes ≥ 0x80 into U+FFFD through
//!   the S3 integration, so the object here is ASCII text.
//! - IAM is not enforced: requests are unsigned, and a missing key is 404
//!   (403 on AWS, where the API role has no `s3:ListBucket`).

use bytes::Bytes;
use std::collections::BTreeMap;
use vaultfront_tests::http::request;
use vaultfront_tests::s3_api::Rig;
use vaultfront_tests::LocalStack;

const BUCKET: &str = "vault-data";
/// S3's smallest part but the last is 5 MiB; API Gateway's body limit is 10 MB.
const PART_SIZE: usize = 8 * 1024 * 1024;

/// The texts of every element named `name` in an S3 XML answer.
fn xml_texts(xml: &[u8], name: &str) -> Vec<String> {
    use aws_smithy_xml::decode::{try_data, Document};
    let text = std::str::from_utf8(xml).expect("S3 answers UTF-8 XML");
    let mut document = Document::new(text);
    let mut found = Vec::new();
    while let Some(element) = document.next_start_element() {
        if element.local() == name {
            let mut scoped = document.scoped_to(element);
            found.push(try_data(&mut scoped).expect("element text").into_owned());
        }
    }
    found
}

fn sha256_base64(data: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
}

fn header<'a>(headers: &'a hyper::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `lines` numbered lines of ASCII text, so that any misplaced byte range shows.
fn text_of(lines: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(lines * 40);
    for line in 0..lines {
        text.extend_from_slice(format!("vaultfront line {line:010} of the shard\n").as_bytes());
    }
    text
}

struct Api<'a> {
    localstack: &'a LocalStack,
    id: String,
}

impl Api<'_> {
    fn url(&self, key_and_query: &str) -> String {
        self.localstack.invoke_url(&self.id, "v1", key_and_query)
    }

    async fn call(
        &self,
        method: &str,
        key_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, hyper::HeaderMap, Bytes) {
        request(
            method,
            &self.url(key_and_query),
            headers,
            Bytes::copy_from_slice(body),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// CreateMultipartUpload. S3's form is `?uploads` with no value, which
    /// API Gateway drops before the integration (a mapped query parameter
    /// without a value is not forwarded), so the caller gives it one; S3
    /// reads the subresource by its name.
    async fn create_upload(&self, key: &str) -> String {
        let headers = [
            ("content-type", "text/plain"),
            ("x-amz-checksum-algorithm", "SHA256"),
        ];
        let (status, _, _) = self
            .call("POST", &format!("{key}?uploads"), &headers, b"")
            .await;
        assert_ne!(
            status, 200,
            "the bare S3 form does not reach S3 as a create"
        );
        let (status, _, body) = self
            .call("POST", &format!("{key}?uploads=1"), &headers, b"")
            .await;
        assert_eq!(
            status,
            200,
            "POST ?uploads=1: {}",
            String::from_utf8_lossy(&body)
        );
        xml_texts(&body, "UploadId")
            .pop()
            .expect("CreateMultipartUpload answers an UploadId")
    }

    /// UploadPart with its SHA-256; the part's ETag.
    async fn upload_part(&self, key: &str, upload_id: &str, number: usize, part: &[u8]) -> String {
        let checksum = sha256_base64(part);
        let (status, headers, body) = self
            .call(
                "PUT",
                &format!("{key}?partNumber={number}&uploadId={upload_id}"),
                &[("x-amz-checksum-sha256", &checksum)],
                part,
            )
            .await;
        assert_eq!(
            status,
            200,
            "part {number}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(
            header(&headers, "x-amz-checksum-sha256"),
            Some(checksum.as_str()),
            "part {number}: S3 checked the part's checksum and the API passes it back"
        );
        header(&headers, "etag").expect("a part's ETag").to_owned()
    }
}

#[tokio::test]
async fn large_objects_go_in_parts_and_come_back_by_ranges_versions_and_conditions() {
    let rig = Rig::start(BUCKET, &["GET", "HEAD", "PUT"]).await;
    let localstack = &rig.localstack;
    let s3 = localstack.s3();
    let api = Api {
        id: rig.api.clone(),
        localstack,
    };

    // A 25 MB text shard in four parts, each with its checksum.
    let shard = text_of(25 * 1024 * 1024 / 40 + 1);
    assert!(shard.len() >= 25 * 1024 * 1024);
    let key = "datasets/shard-0001.txt";
    let upload_id = api.create_upload(key).await;
    let mut parts = Vec::new();
    for (index, part) in shard.chunks(PART_SIZE).enumerate() {
        let etag = api.upload_part(key, &upload_id, index + 1, part).await;
        parts.push((index + 1, etag, sha256_base64(part)));
    }
    assert_eq!(
        parts.len(),
        4,
        "several parts, each under API Gateway's 10 MB"
    );

    // ListParts (how a client resumes) sees every part.
    let (status, _, listing) = api
        .call("GET", &format!("{key}?uploadId={upload_id}"), &[], b"")
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&listing));
    assert_eq!(xml_texts(&listing, "PartNumber"), ["1", "2", "3", "4"]);

    let complete: String = parts
        .iter()
        .map(|(number, etag, checksum)| {
            format!(
                "<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag>\
                 <ChecksumSHA256>{checksum}</ChecksumSHA256></Part>"
            )
        })
        .collect();
    let complete = format!("<CompleteMultipartUpload>{complete}</CompleteMultipartUpload>");
    let (status, _, body) = api
        .call(
            "POST",
            &format!("{key}?uploadId={upload_id}"),
            &[("content-type", "application/xml")],
            complete.as_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(
        xml_texts(&body, "Error").is_empty() && !xml_texts(&body, "ETag").is_empty(),
        "CompleteMultipartUpload succeeded: {}",
        String::from_utf8_lossy(&body)
    );

    // Read back whole (LocalStack has no 10 MB cap), and by ranges.
    let (status, headers, whole) = api.call("GET", key, &[], b"").await;
    assert_eq!(status, 200);
    assert!(whole[..] == shard[..], "the whole object, byte for byte");
    let etag = header(&headers, "etag").expect("ETag").to_owned();
    assert!(
        header(&headers, "last-modified").is_some(),
        "Last-Modified mapped"
    );
    let size = shard.len();
    for (range, start, end) in [
        ("bytes=0-99".to_owned(), 0, 99),
        (
            format!("bytes={}-{}", PART_SIZE - 10, PART_SIZE + 9),
            PART_SIZE - 10,
            PART_SIZE + 9,
        ),
        (format!("bytes={}-", size - 1000), size - 1000, size - 1),
    ] {
        let (status, headers, piece) = api.call("GET", key, &[("range", &range)], b"").await;
        assert_eq!(
            status,
            206,
            "{range}: Partial Content; got {} bytes, headers {headers:?}",
            piece.len()
        );
        assert!(piece[..] == shard[start..=end], "{range}: the same bytes");
        assert_eq!(
            header(&headers, "content-range"),
            Some(format!("bytes {start}-{end}/{size}").as_str()),
            "{range}"
        );
    }
    let (status, _, _) = api
        .call("GET", key, &[("range", &format!("bytes={size}-"))], b"")
        .await;
    assert_eq!(status, 416, "a range past the end keeps its own code");

    // Conditional reads.
    // (LocalStack's 304 carries no ETag; S3's does, and the API maps it.)
    let (status, _, body) = api.call("GET", key, &[("if-none-match", &etag)], b"").await;
    assert_eq!(status, 304, "the entity tag still matches");
    assert!(body.is_empty(), "no body on 304");
    let (status, _, _) = api
        .call("HEAD", key, &[("if-match", "\"not-the-etag\"")], b"")
        .await;
    assert_eq!(status, 412, "If-Match of another entity tag");
    let (status, _, _) = api
        .call(
            "GET",
            key,
            &[("if-match", &etag), ("range", "bytes=0-9")],
            b"",
        )
        .await;
    assert_eq!(status, 206, "If-Match of the entity tag, with a range");

    // Old versions: the dataset as it was.
    let versioned = "datasets/labels.txt";
    let mut versions = BTreeMap::new();
    for body in ["labels, first edition\n", "labels, second edition\n"] {
        let (status, headers, answer) = api
            .call(
                "PUT",
                versioned,
                &[
                    ("content-type", "text/plain"),
                    ("x-amz-checksum-sha256", &sha256_base64(body.as_bytes())),
                ],
                body.as_bytes(),
            )
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        let version = header(&headers, "x-amz-version-id")
            .expect("the PUT answers S3's version id")
            .to_owned();
        versions.insert(version, body);
    }
    assert_eq!(versions.len(), 2);
    for (version, body) in &versions {
        let (status, headers, got) = api
            .call("GET", &format!("{versioned}?versionId={version}"), &[], b"")
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
        assert_eq!(&got[..], body.as_bytes(), "version {version}");
        assert_eq!(header(&headers, "x-amz-version-id"), Some(version.as_str()));
        let (status, _, got) = api
            .call(
                "HEAD",
                &format!("{versioned}?versionId={version}"),
                &[],
                b"",
            )
            .await;
        assert_eq!((status, got.len()), (200, 0), "HEAD of version {version}");
    }

    // An aborted upload leaves no object and no upload.
    let aborted = "datasets/aborted.txt";
    let upload_id = api.create_upload(aborted).await;
    api.upload_part(aborted, &upload_id, 1, &shard[..1024])
        .await;
    let (status, _, body) = api
        .call(
            "DELETE",
            &format!("{aborted}?uploadId={upload_id}"),
            &[],
            b"",
        )
        .await;
    assert_eq!(status, 204, "{}", String::from_utf8_lossy(&body));
    assert!(s3
        .head_object()
        .bucket(BUCKET)
        .key(aborted)
        .send()
        .await
        .is_err());
    let uploads = s3
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .expect("ListMultipartUploads");
    assert!(
        uploads.uploads().iter().all(|u| u.key() != Some(aborted)),
        "the aborted upload is gone"
    );

    // DELETE is not enabled: without an uploadId, API Gateway refuses it
    // before S3 is called, and the object stays.
    let (status, _, _) = api.call("DELETE", key, &[], b"").await;
    assert_eq!(status, 400, "a DELETE that is not an abort");
    assert!(s3
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .is_ok());

    // A caller's retention, legal hold or governance bypass never reaches S3.
    let locked = "datasets/caller-retention.txt";
    let body = b"a caller tried to set its own retention\n";
    let (status, _, answer) = api
        .call(
            "PUT",
            locked,
            &[
                ("content-type", "text/plain"),
                ("x-amz-checksum-sha256", &sha256_base64(body)),
                ("x-amz-object-lock-mode", "GOVERNANCE"),
                (
                    "x-amz-object-lock-retain-until-date",
                    "2099-01-01T00:00:00Z",
                ),
                ("x-amz-object-lock-legal-hold", "ON"),
                ("x-amz-bypass-governance-retention", "true"),
            ],
            body,
        )
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let stored = s3
        .head_object()
        .bucket(BUCKET)
        .key(locked)
        .send()
        .await
        .expect("stored");
    assert_eq!(stored.object_lock_mode(), None, "no caller retention mode");
    assert_eq!(stored.object_lock_retain_until_date(), None);
    assert_eq!(
        stored.object_lock_legal_hold_status(),
        None,
        "no caller legal hold"
    );
}
