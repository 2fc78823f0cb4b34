//! `vaultfront cp` end to end: the real binary against LocalStack's API
//! Gateway → S3 integration, with the API applied by the real
//! `s3-proxy-api` binary. A 25 MB text file goes up in several parts and
//! comes back by parallel ranged reads, checked against S3's own checksum;
//! an interrupted upload is resumed from the parts S3 already holds; a
//! missing key stops with a message that says so.
//!
//! LocalStack gaps: bodies are text only (bytes ≥ 0x80 become U+FFFD through
//! its S3 integration), and IAM is not enforced, so the SigV4 signature is
//! sent but not checked here, and a missing key is 404 (403 on AWS).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use vaultfront_tests::{s3_api, LocalStack};

const BUCKET: &str = "vault-data";

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/cp-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a work directory");
    dir
}

fn cp(localstack: &LocalStack, api_url: &str, cache: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vaultfront"));
    command
        .arg("cp")
        .args(args)
        .args(["--api-url", api_url])
        .env("XDG_CACHE_HOME", cache)
        .env_remove("AWS_PROFILE");
    for (key, value) in localstack.env() {
        command.env(key, value);
    }
    command.output().expect("run vaultfront cp")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Numbered ASCII lines, so any misplaced range shows.
fn shard(bytes: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(bytes + 64);
    let mut line = 0u64;
    while text.len() < bytes {
        text.extend_from_slice(format!("vaultfront line {line:010} of the shard\n").as_bytes());
        line += 1;
    }
    text
}

#[tokio::test]
async fn cp_uploads_in_parts_resumes_and_downloads_by_ranges() {
    let rig = s3_api::Rig::start(BUCKET, &["GET", "HEAD", "PUT"]).await;
    let localstack = &rig.localstack;
    let s3 = localstack.s3();
    let api_url = rig.invoke_url();
    let dir = work_dir("cp");
    let cache = dir.join("cache");

    // Up: 25 MB in four parts of 8 MiB, three in flight.
    let data = shard(25 * 1024 * 1024);
    let file = dir.join("shard.txt");
    std::fs::write(&file, &data).expect("write the shard");
    let up = cp(
        localstack,
        &api_url,
        &cache,
        &[
            file.to_str().unwrap(),
            "s3api://datasets/shard.txt",
            "--parallel",
            "3",
        ],
    );
    assert!(up.status.success(), "{}", text(&up.stderr));
    let stderr = text(&up.stderr);
    assert!(
        stderr.contains("part 4/4"),
        "plain progress lines off a terminal: {stderr}"
    );
    let first = s3
        .head_object()
        .bucket(BUCKET)
        .key("datasets/shard.txt")
        .part_number(1)
        .send()
        .await
        .expect("the object is there");
    assert_eq!(
        first.parts_count(),
        Some(4),
        "a multipart object of four parts"
    );
    assert_eq!(first.content_length(), Some(8 * 1024 * 1024));
    let stored = s3
        .get_object()
        .bucket(BUCKET)
        .key("datasets/shard.txt")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(stored[..] == data[..], "S3 holds the file byte for byte");
    assert!(
        std::fs::read_dir(cache.join("vaultfront/uploads"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "a finished upload leaves no resume state"
    );

    // Down: ranged GETs in parallel, checked against the composite checksum.
    let back = dir.join("back.txt");
    let down = cp(
        localstack,
        &api_url,
        &cache,
        &["s3api://datasets/shard.txt", back.to_str().unwrap()],
    );
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert!(std::fs::read(&back).unwrap() == data, "the same bytes back");
    assert!(
        !text(&down.stderr).contains("not verified"),
        "the checksum was checked: {}",
        text(&down.stderr)
    );

    // Resume: an upload interrupted after part 2 (made here through the
    // same API) is finished from the parts S3 holds.
    let resumed_key = "datasets/resumed.txt";
    let base = api_url.trim_end_matches('/');
    let create = vaultfront_tests::http::request(
        "POST",
        &format!("{base}/{resumed_key}?uploads=1"),
        &[("x-amz-checksum-algorithm", "SHA256")],
        bytes::Bytes::new(),
    )
    .await
    .unwrap();
    assert_eq!(create.0, 200, "{}", text(&create.2));
    let body = text(&create.2);
    let upload_id = {
        use aws_smithy_xml::decode::{try_data, Document};
        let mut document = Document::new(&body);
        let mut found = None;
        while let Some(element) = document.next_start_element() {
            if element.local() == "UploadId" {
                let mut scoped = document.scoped_to(element);
                found = Some(try_data(&mut scoped).expect("UploadId text").into_owned());
            }
        }
        found.expect("an UploadId")
    };
    for number in 1..=2usize {
        let part = &data[(number - 1) * 8 * 1024 * 1024..number * 8 * 1024 * 1024];
        let checksum = {
            use base64::Engine;
            use sha2::Digest;
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(part))
        };
        let (status, _, answer) = vaultfront_tests::http::request(
            "PUT",
            &format!("{base}/{resumed_key}?partNumber={number}&uploadId={upload_id}"),
            &[("x-amz-checksum-sha256", &checksum)],
            bytes::Bytes::copy_from_slice(part),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{}", text(&answer));
    }
    let modified_ns = std::fs::metadata(&file)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let state_name = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{base}/{resumed_key}").as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    std::fs::create_dir_all(cache.join("vaultfront/uploads")).unwrap();
    std::fs::write(
        cache.join(format!("vaultfront/uploads/{state_name}.json")),
        serde_json::json!({
            "upload_id": upload_id,
            "size": data.len(),
            "modified_ns": modified_ns,
            "part_size": 8 * 1024 * 1024,
        })
        .to_string(),
    )
    .unwrap();
    let resumed = cp(
        localstack,
        &api_url,
        &cache,
        &[file.to_str().unwrap(), &format!("s3api://{resumed_key}")],
    );
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let stderr = text(&resumed.stderr);
    assert!(
        stderr.contains(&format!(
            "resuming upload {upload_id} (2 part(s) already there)"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("part 1/4 (already there)"), "{stderr}");
    let stored = s3
        .get_object()
        .bucket(BUCKET)
        .key(resumed_key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(stored[..] == data[..], "the resumed upload is whole");

    // A directory (-r): small files, one PUT each with its checksum; one
    // comes back by a ranged read checked against its whole SHA-256.
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("labels")).unwrap();
    std::fs::write(tree.join("README.txt"), b"a small dataset\n").unwrap();
    std::fs::write(tree.join("labels/train.txt"), b"cat\ndog\n").unwrap();
    let up = cp(
        localstack,
        &api_url,
        &cache,
        &["-r", tree.to_str().unwrap(), "s3api://sets/small"],
    );
    assert!(up.status.success(), "{}", text(&up.stderr));
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("sets/small/labels/train.txt")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .expect("the file is under the prefix");
    assert!(
        head.checksum_sha256().is_some(),
        "the PUT carried its SHA-256"
    );
    let small = dir.join("train.txt");
    let down = cp(
        localstack,
        &api_url,
        &cache,
        &[
            "s3api://sets/small/labels/train.txt",
            small.to_str().unwrap(),
        ],
    );
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert_eq!(std::fs::read(&small).unwrap(), b"cat\ndog\n");
    assert!(
        !text(&down.stderr).contains("not verified"),
        "{}",
        text(&down.stderr)
    );

    // A missing key: a message that says what it means.
    let missing = cp(
        localstack,
        &api_url,
        &cache,
        &["s3api://no/such/key.txt", dir.join("x").to_str().unwrap()],
    );
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("no such key"),
        "{}",
        text(&missing.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// What LocalStack never does and AWS does: a part refused with a 503 for a
// moment, a reply cut off after the part was stored, a ranged read that
// fails once. The fault proxy sits between `cp` and LocalStack; it runs on
// the runtime's workers while the test waits for `cp` to exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_sends_a_part_or_a_range_again_after_a_transient_failure() {
    use vaultfront_tests::{Fault, FaultProxy, Match, Rule};
    let rig = s3_api::Rig::start(BUCKET, &["GET", "HEAD", "PUT"]).await;
    let localstack = &rig.localstack;
    let proxy = FaultProxy::start(&localstack.endpoint()).await;
    let api_url = rig
        .invoke_url()
        .replace(&localstack.endpoint(), &proxy.endpoint());
    let part_2 = Match::request("PUT", "partNumber=2&");
    let part_3 = Match::request("PUT", "partNumber=3&");
    let slow_down = Fault::s3_error(503, "SlowDown", "Please reduce your request rate.");
    proxy.add(Rule::first(2, part_2.clone(), slow_down.clone()));
    proxy.add(Rule::first(1, part_3.clone(), Fault::DropMidReply));
    let dir = work_dir("cp-retry");
    let cache = dir.join("cache");
    let data = shard(17 * 1024 * 1024);
    let file = dir.join("retry.txt");
    std::fs::write(&file, &data).expect("write the file");

    let up = cp(
        localstack,
        &api_url,
        &cache,
        &[file.to_str().unwrap(), "s3api://datasets/retry.txt"],
    );
    assert!(up.status.success(), "{}", text(&up.stderr));
    assert_eq!(proxy.count(&part_2), 3, "part 2: refused twice, then sent");
    assert_eq!(proxy.count(&part_3), 2, "part 3: cut off once, then sent");

    let ranged_read = Match::request("GET", "datasets/retry.txt");
    proxy.add(Rule::first(1, ranged_read.clone(), slow_down));
    let back = dir.join("back.txt");
    let down = cp(
        localstack,
        &api_url,
        &cache,
        &["s3api://datasets/retry.txt", back.to_str().unwrap()],
    );
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert!(std::fs::read(&back).unwrap() == data, "the same bytes back");
    assert_eq!(
        proxy.count(&ranged_read) - proxy.passed(&ranged_read),
        1,
        "one read refused, and the copy still whole"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
