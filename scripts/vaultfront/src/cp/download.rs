//! A key to a file: parallel ranged GETs written in place, then the
//! object's SHA-256 checked (whole, or per part for a multipart object).

use super::api::Api;
use super::progress::Progress;
use super::{check, CpError, Settings};
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;

pub async fn download(
    api: &Api,
    key: &str,
    file: &Path,
    settings: &Settings,
) -> Result<(), CpError> {
    let head = api
        .send(
            "HEAD",
            key,
            &[],
            &[("x-amz-checksum-mode", "ENABLED")],
            Bytes::new(),
        )
        .await?;
    check(&head, "HEAD", key)?;
    let size: u64 = head
        .header("content-length")
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| {
            CpError::Answer(format!("s3api://{key}: HEAD answered no Content-Length"))
        })?;
    let etag = head.header("etag").map(str::to_owned);
    let checksum = head.header("x-amz-checksum-sha256").map(str::to_owned);
    // A multipart object's checksum is of its parts' checksums, "<b64>-<n>":
    // read it part by part, so each range is one part.
    let composite = checksum.as_deref().and_then(|c| c.split_once('-'));
    let piece = match composite {
        Some(_) => {
            let first = api
                .send("HEAD", key, &[("partNumber", "1")], &[], Bytes::new())
                .await?;
            check(&first, "HEAD ?partNumber=1", key)?;
            first
                .header("content-length")
                .and_then(|l| l.parse().ok())
                .filter(|l| *l > 0)
                .ok_or_else(|| {
                    CpError::Answer(format!("s3api://{key}: the first part's size is unknown"))
                })?
        }
        None => settings.part_size,
    };

    let partial = file.with_extension("vaultfront-partial");
    let out = std::fs::File::create(&partial).map_err(|source| CpError::io(&partial, source))?;
    out.set_len(size)
        .map_err(|source| CpError::io(&partial, source))?;
    let out = Arc::new(out);
    let progress = Arc::new(Progress::new(
        &format!("s3api://{key} -> {}", file.display()),
        size,
    ));
    let limit = Arc::new(tokio::sync::Semaphore::new(settings.parallel));
    let pieces = size.div_ceil(piece).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..pieces {
        let start = index * piece;
        let end = (start + piece).min(size).saturating_sub(1);
        let (api, key, out, progress, limit) = (
            api.clone(),
            key.to_owned(),
            out.clone(),
            progress.clone(),
            limit.clone(),
        );
        let (etag, partial) = (etag.clone(), partial.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.map_err(|_| CpError::Transport("cancelled".into()))?;
            let range = format!("bytes={start}-{end}");
            let mut headers = vec![("range", range.as_str())];
            // The object must not change under a download made of pieces.
            if let Some(etag) = &etag {
                headers.push(("if-match", etag.as_str()));
            }
            if size == 0 {
                return Ok(());
            }
            let reply = api.send("GET", &key, &[], &headers, Bytes::new()).await?;
            if reply.status == 412 {
                return Err(CpError::Answer(format!(
                    "s3api://{key} changed during the download (its ETag no longer matches); run it again"
                )));
            }
            check(&reply, "GET (range)", &key)?;
            if reply.body.len() as u64 != end - start + 1 {
                return Err(CpError::Answer(format!(
                    "s3api://{key}: asked for {range}, got {} bytes",
                    reply.body.len()
                )));
            }
            use std::os::unix::fs::FileExt;
            out.write_all_at(&reply.body, start)
                .map_err(|source| CpError::io(&partial, source))?;
            progress.advance(&format!("range {}/{pieces}", index + 1), reply.body.len() as u64);
            Ok::<_, CpError>(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|err| CpError::Transport(format!("a range task stopped: {err}")))??;
    }
    progress.finish();
    match (checksum.as_deref(), composite) {
        (Some(_), Some((expected, count))) => {
            let got = composite_sha256(&partial, size, piece)?;
            if got != format!("{expected}-{count}") {
                return Err(CpError::Checksum {
                    key: key.to_owned(),
                    expected: format!("{expected}-{count}"),
                    got,
                });
            }
        }
        (Some(expected), None) => {
            let got = whole_sha256(&partial, size)?;
            if got != expected {
                return Err(CpError::Checksum {
                    key: key.to_owned(),
                    expected: expected.to_owned(),
                    got,
                });
            }
        }
        (None, _) => eprintln!("s3api://{key}: the object has no SHA-256 checksum; not verified"),
    }
    std::fs::rename(&partial, file).map_err(|source| CpError::io(file, source))
}

/// SHA-256 of the file, read a MiB at a time.
fn whole_sha256(file: &Path, size: u64) -> Result<String, CpError> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for_each_chunk(file, 0, size, |chunk| hasher.update(chunk))?;
    Ok(super::base64(&hasher.finalize()))
}

/// S3's composite checksum: SHA-256 of the parts' SHA-256 digests, "-<n>".
fn composite_sha256(file: &Path, size: u64, part: u64) -> Result<String, CpError> {
    use sha2::Digest;
    let mut outer = sha2::Sha256::new();
    let parts = size.div_ceil(part);
    for index in 0..parts {
        let start = index * part;
        let mut inner = sha2::Sha256::new();
        for_each_chunk(file, start, part.min(size - start), |chunk| {
            inner.update(chunk)
        })?;
        outer.update(inner.finalize());
    }
    Ok(format!("{}-{parts}", super::base64(&outer.finalize())))
}

fn for_each_chunk(
    file: &Path,
    start: u64,
    length: u64,
    mut each: impl FnMut(&[u8]),
) -> Result<(), CpError> {
    use std::os::unix::fs::FileExt;
    let handle = std::fs::File::open(file).map_err(|source| CpError::io(file, source))?;
    let mut buffer = vec![0; 1 << 20];
    let mut done = 0;
    while done < length {
        let want = (length - done).min(buffer.len() as u64) as usize;
        handle
            .read_exact_at(&mut buffer[..want], start + done)
            .map_err(|source| CpError::io(file, source))?;
        each(&buffer[..want]);
        done += want as u64;
    }
    Ok(())
}
