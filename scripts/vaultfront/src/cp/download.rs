//! A key to a file: parallel GETs written in place (by part for a multipart
//! object, by range otherwise), then the object's SHA-256 checked.
//!
//! The size comes from the first piece's `Content-Range`, not from HEAD:
//! a HEAD through API Gateway has no body, and its `Content-Length` may be
//! that of the empty answer (LocalStack's is 0).

use super::api::Api;
use super::progress::Progress;
use super::{check, CpError, Settings};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// How the object is read: by S3's parts (`?partNumber=`), or by ranges.
#[derive(Debug, Clone, Copy)]
enum Pieces {
    Parts,
    Ranges(u64),
}

/// One piece: where it starts, the object's size, its bytes.
struct Piece {
    start: u64,
    size: u64,
    body: Bytes,
}

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
    let etag = head.header("etag").map(str::to_owned);
    let checksum = head.header("x-amz-checksum-sha256").map(str::to_owned);
    // A multipart object's checksum is of its parts' checksums, "<b64>-<n>":
    // read it part by part, hashing each part as it arrives.
    let composite = checksum
        .as_deref()
        .and_then(|c| c.split_once('-'))
        .and_then(|(b64, n)| Some((b64.to_owned(), n.parse::<u64>().ok()?)));
    let how = match composite {
        Some(_) => Pieces::Parts,
        None => Pieces::Ranges(settings.part_size),
    };

    let first = fetch(api, key, 0, how, etag.as_deref()).await?;
    let size = first.as_ref().map_or(0, |p| p.size);
    let pieces = match (&composite, how) {
        (Some((_, parts)), _) => *parts,
        (None, Pieces::Ranges(part_size)) => size.div_ceil(part_size),
        (None, Pieces::Parts) => 1,
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
    let mut digests = BTreeMap::new();
    let mut received = 0;
    if let Some(first) = first {
        received += first.body.len() as u64;
        digests.insert(0, place(&out, &partial, &first, size, key)?);
        progress.advance(&format!("piece 1/{pieces}"), first.body.len() as u64);
    }

    let limit = Arc::new(tokio::sync::Semaphore::new(settings.parallel));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 1..pieces {
        let (api, key, out, progress, limit) = (
            api.clone(),
            key.to_owned(),
            out.clone(),
            progress.clone(),
            limit.clone(),
        );
        let (etag, partial) = (etag.clone(), partial.clone());
        tasks.spawn(async move {
            // Memory: pieces in flight x piece size.
            let _permit = limit
                .acquire_owned()
                .await
                .map_err(|_| CpError::Transport("cancelled".into()))?;
            let piece = fetch(&api, &key, index, how, etag.as_deref())
                .await?
                .ok_or_else(|| {
                    CpError::Answer(format!("s3api://{key}: piece {} is empty", index + 1))
                })?;
            let digest = place(&out, &partial, &piece, size, &key)?;
            progress.advance(
                &format!("piece {}/{pieces}", index + 1),
                piece.body.len() as u64,
            );
            Ok::<_, CpError>((index, piece.body.len() as u64, digest))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (index, length, digest) = joined
            .map_err(|err| CpError::Transport(format!("a download task stopped: {err}")))??;
        received += length;
        digests.insert(index, digest);
    }
    progress.finish();
    if received != size {
        return Err(CpError::Answer(format!(
            "s3api://{key}: got {received} of {size} bytes"
        )));
    }
    match (checksum.as_deref(), composite) {
        (Some(_), Some((expected, parts))) => {
            use sha2::Digest;
            let mut outer = sha2::Sha256::new();
            for digest in digests.values() {
                outer.update(digest);
            }
            let got = format!("{}-{parts}", super::base64(&outer.finalize()));
            let expected = format!("{expected}-{parts}");
            if got != expected {
                return Err(CpError::Checksum {
                    key: key.to_owned(),
                    expected,
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

/// Piece `index` (from 0), or `None` for an empty object.
async fn fetch(
    api: &Api,
    key: &str,
    index: u64,
    how: Pieces,
    etag: Option<&str>,
) -> Result<Option<Piece>, CpError> {
    let number = (index + 1).to_string();
    let mut headers = Vec::new();
    let range;
    let query: Vec<(&str, &str)> = match how {
        Pieces::Parts => vec![("partNumber", number.as_str())],
        Pieces::Ranges(part_size) => {
            range = format!(
                "bytes={}-{}",
                index * part_size,
                (index + 1) * part_size - 1
            );
            headers.push(("range", range.as_str()));
            Vec::new()
        }
    };
    // The object must not change under a download made of pieces.
    if let Some(etag) = etag {
        headers.push(("if-match", etag));
    }
    let reply = api.send("GET", key, &query, &headers, Bytes::new()).await?;
    match reply.status {
        412 => {
            return Err(CpError::Answer(format!(
            "s3api://{key} changed during the download (its ETag no longer matches); run it again"
        )))
        }
        // A range of an empty object.
        416 if index == 0 => return Ok(None),
        _ => check(&reply, "GET", key)?,
    }
    let (start, size) = content_range(reply.header("content-range")).ok_or_else(|| {
        CpError::Answer(format!(
            "s3api://{key}: piece {number} came without a Content-Range"
        ))
    })?;
    Ok(Some(Piece {
        start,
        size,
        body: reply.body,
    }))
}

/// Write `piece` where it belongs; its SHA-256.
fn place(
    out: &std::fs::File,
    partial: &Path,
    piece: &Piece,
    size: u64,
    key: &str,
) -> Result<Vec<u8>, CpError> {
    use sha2::Digest;
    use std::os::unix::fs::FileExt;
    if piece.size != size || piece.start + piece.body.len() as u64 > size {
        return Err(CpError::Answer(format!(
            "s3api://{key}: a piece does not fit the object's {size} bytes; it changed during the download"
        )));
    }
    out.write_all_at(&piece.body, piece.start)
        .map_err(|source| CpError::io(partial, source))?;
    Ok(sha2::Sha256::digest(&piece.body).to_vec())
}

/// `bytes <first>-<last>/<size>`: the first byte and the size.
fn content_range(header: Option<&str>) -> Option<(u64, u64)> {
    let (range, size) = header?.strip_prefix("bytes ")?.split_once('/')?;
    let first = range.split_once('-')?.0.parse().ok()?;
    Some((first, size.parse().ok()?))
}

/// SHA-256 of the file, read a MiB at a time.
fn whole_sha256(file: &Path, size: u64) -> Result<String, CpError> {
    use sha2::Digest;
    use std::os::unix::fs::FileExt;
    let mut hasher = sha2::Sha256::new();
    let handle = std::fs::File::open(file).map_err(|source| CpError::io(file, source))?;
    let mut buffer = vec![0; 1 << 20];
    let mut done = 0;
    while done < size {
        let want = (size - done).min(buffer.len() as u64) as usize;
        handle
            .read_exact_at(&mut buffer[..want], done)
            .map_err(|source| CpError::io(file, source))?;
        hasher.update(&buffer[..want]);
        done += want as u64;
    }
    Ok(super::base64(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_is_placed_by_its_content_range() {
        assert_eq!(
            content_range(Some("bytes 8388608-16777215/26214440")),
            Some((8_388_608, 26_214_440))
        );
        assert_eq!(content_range(Some("bytes 0-0/1")), Some((0, 1)));
        assert_eq!(content_range(Some("bytes */100")), None);
        assert_eq!(content_range(None), None);
    }
}
