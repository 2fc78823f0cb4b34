//! A file to a key: one PUT up to one part, else a multipart upload with
//! several parts in flight, a SHA-256 per part, and a resume of an
//! interrupted upload (its id is kept in a state file; ListParts says which
//! parts S3 already holds).

use super::api::Api;
use super::progress::Progress;
use super::{check, sha256_base64, xml, CpError, Settings};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What is needed to resume an upload, kept until it completes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct UploadState {
    upload_id: String,
    size: u64,
    modified_ns: u128,
    part_size: u64,
}

pub async fn upload(api: &Api, file: &Path, key: &str, settings: &Settings) -> Result<(), CpError> {
    let metadata = std::fs::metadata(file).map_err(|source| CpError::io(file, source))?;
    let size = metadata.len();
    let progress = Progress::new(&format!("{} -> s3api://{key}", file.display()), size);
    if size <= settings.part_size {
        let body = read_part(file, 0, size)?;
        let checksum = sha256_base64(&body);
        let reply = api
            .send(
                "PUT",
                key,
                &[],
                &[
                    ("content-type", "application/octet-stream"),
                    ("x-amz-checksum-sha256", &checksum),
                    ("x-amz-sdk-checksum-algorithm", "SHA256"),
                ],
                body,
            )
            .await?;
        check(&reply, "PUT", key)?;
        progress.advance("the object", size);
        progress.finish();
        return Ok(());
    }
    let modified_ns = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let state_file = state_path(&settings.state_dir, api, key);
    let resumed = read_state(&state_file).filter(|state| {
        state.size == size
            && state.modified_ns == modified_ns
            && state.part_size == settings.part_size
    });
    let (upload_id, held) = match resumed {
        Some(state) => match list_parts(api, key, &state.upload_id).await? {
            Some(held) => {
                eprintln!(
                    "s3api://{key}: resuming upload {} ({} part(s) already there)",
                    state.upload_id,
                    held.len()
                );
                (state.upload_id, held)
            }
            None => (create(api, key).await?, BTreeMap::new()),
        },
        None => (create(api, key).await?, BTreeMap::new()),
    };
    write_state(
        &state_file,
        &UploadState {
            upload_id: upload_id.clone(),
            size,
            modified_ns,
            part_size: settings.part_size,
        },
    )?;

    let parts = size.div_ceil(settings.part_size);
    let progress = Arc::new(progress);
    let limit = Arc::new(tokio::sync::Semaphore::new(settings.parallel));
    let mut tasks = tokio::task::JoinSet::new();
    for number in 1..=parts {
        let offset = (number - 1) * settings.part_size;
        let length = settings.part_size.min(size - offset);
        let (api, key, upload_id, file) = (
            api.clone(),
            key.to_owned(),
            upload_id.clone(),
            file.to_owned(),
        );
        let (progress, limit, held) = (progress.clone(), limit.clone(), held.get(&number).cloned());
        tasks.spawn(async move {
            // Memory: parts in flight x part size, whatever the file's size.
            let _permit = limit
                .acquire_owned()
                .await
                .map_err(|_| CpError::Transport("cancelled".into()))?;
            let body = read_part(&file, offset, length)?;
            let checksum = sha256_base64(&body);
            if let Some((etag, held_checksum)) = held {
                if held_checksum == checksum {
                    progress.advance(&format!("part {number}/{parts} (already there)"), length);
                    return Ok((number, etag, checksum));
                }
            }
            let number_text = number.to_string();
            let reply = api
                .send(
                    "PUT",
                    &key,
                    &[("partNumber", &number_text), ("uploadId", &upload_id)],
                    &[("x-amz-checksum-sha256", &checksum)],
                    body,
                )
                .await?;
            check(&reply, "PUT (part)", &key)?;
            let etag = reply
                .header("etag")
                .ok_or_else(|| {
                    CpError::Answer(format!(
                        "part {number} of s3api://{key}: no ETag in the answer"
                    ))
                })?
                .to_owned();
            progress.advance(&format!("part {number}/{parts}"), length);
            Ok::<_, CpError>((number, etag, checksum))
        });
    }
    let mut done = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (number, etag, checksum) = joined
            .map_err(|err| CpError::Transport(format!("a part task stopped: {err}")))?
            .map_err(|err| CpError::Resumable(Box::new(err)))?;
        done.insert(number, (etag, checksum));
    }
    complete(api, key, &upload_id, &done).await?;
    progress.finish();
    // Best effort: a state file left behind only names a finished upload,
    // which the next run finds gone (ListParts 404) and starts afresh.
    let _ = std::fs::remove_file(&state_file);
    Ok(())
}

fn read_part(file: &Path, offset: u64, length: u64) -> Result<Bytes, CpError> {
    use std::os::unix::fs::FileExt;
    let handle = std::fs::File::open(file).map_err(|source| CpError::io(file, source))?;
    let mut buffer =
        vec![0; usize::try_from(length).map_err(|_| CpError::Usage("part too large".into()))?];
    handle
        .read_exact_at(&mut buffer, offset)
        .map_err(|source| CpError::io(file, source))?;
    Ok(Bytes::from(buffer))
}

async fn create(api: &Api, key: &str) -> Result<String, CpError> {
    let reply = api
        .send(
            "POST",
            key,
            // S3's form has no value, but API Gateway forwards no query
            // parameter without one; S3 reads `uploads` by its name.
            &[("uploads", "1")],
            &[
                ("content-type", "application/octet-stream"),
                ("x-amz-checksum-algorithm", "SHA256"),
            ],
            Bytes::new(),
        )
        .await?;
    check(&reply, "POST ?uploads", key)?;
    xml::texts(&reply.body, "UploadId")
        .map_err(CpError::Answer)?
        .pop()
        .ok_or_else(|| {
            CpError::Answer(format!(
                "s3api://{key}: CreateMultipartUpload answered no UploadId"
            ))
        })
}

/// Parts S3 holds for `upload_id` (number → ETag, SHA-256); `None` when
/// the upload no longer exists.
async fn list_parts(
    api: &Api,
    key: &str,
    upload_id: &str,
) -> Result<Option<BTreeMap<u64, (String, String)>>, CpError> {
    let mut held = BTreeMap::new();
    let mut marker = String::from("0");
    loop {
        let reply = api
            .send(
                "GET",
                key,
                &[("uploadId", upload_id), ("part-number-marker", &marker)],
                &[],
                Bytes::new(),
            )
            .await?;
        if reply.status == 404 {
            return Ok(None);
        }
        check(&reply, "GET ?uploadId (ListParts)", key)?;
        let field = |name| xml::texts(&reply.body, name).map_err(CpError::Answer);
        let numbers = field("PartNumber")?;
        let etags = field("ETag")?;
        let checksums = field("ChecksumSHA256")?;
        for ((number, etag), checksum) in numbers.iter().zip(etags).zip(checksums) {
            if let Ok(number) = number.parse::<u64>() {
                held.insert(number, (etag, checksum));
            }
        }
        let truncated = field("IsTruncated")?.first().is_some_and(|t| t == "true");
        match field("NextPartNumberMarker")?.pop() {
            Some(next) if truncated && next != marker => marker = next,
            _ => return Ok(Some(held)),
        }
    }
}

async fn complete(
    api: &Api,
    key: &str,
    upload_id: &str,
    parts: &BTreeMap<u64, (String, String)>,
) -> Result<(), CpError> {
    let parts: String = parts
        .iter()
        .map(|(number, (etag, checksum))| {
            format!(
                "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag><ChecksumSHA256>{checksum}</ChecksumSHA256></Part>",
                xml::escape(etag)
            )
        })
        .collect();
    let body = format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>");
    let reply = api
        .send(
            "POST",
            key,
            &[("uploadId", upload_id)],
            &[("content-type", "application/xml")],
            Bytes::from(body),
        )
        .await?;
    check(&reply, "POST ?uploadId (complete)", key)?;
    // S3 can answer 200 and still fail the complete, in the body.
    if let Some(code) = xml::texts(&reply.body, "Code")
        .map_err(CpError::Answer)?
        .first()
    {
        return Err(CpError::Answer(format!(
            "completing s3api://{key} failed: {code}; run the same command again to resume"
        )));
    }
    Ok(())
}

fn state_path(dir: &Path, api: &Api, key: &str) -> PathBuf {
    let id = super::sha256_hex(api.url(key, &[]).as_bytes());
    dir.join(format!("{id}.json"))
}

fn read_state(path: &Path) -> Option<UploadState> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn write_state(path: &Path, state: &UploadState) -> Result<(), CpError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| CpError::io(dir, source))?;
    }
    let text = serde_json::to_vec(state).map_err(|err| CpError::Answer(err.to_string()))?;
    std::fs::write(path, text).map_err(|source| CpError::io(path, source))
}
