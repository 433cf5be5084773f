//! Reading objects: header lookups and chunked body streams.

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::Path;

use bytes::BytesMut;
use futures::stream::{self, StreamExt};
use stratus::blob::{ByteStream, GetOptions, GetResult};
use stratus::{Error, Result};
use tokio::io::AsyncReadExt;

use super::files::fs_error;
use super::header::Header;

/// Size of the chunks a get streams.
const CHUNK_BYTES: u64 = 256 * 1024;

/// Opens the object file at `path` for `key`; `NotFound` if there is none. The returned
/// file is positioned at the data and keeps reading this version even if it is replaced.
pub fn open_object(path: &Path, key: &str) -> Result<(File, Header, u64)> {
    let not_found = || Error::not_found(format!("object {key:?} does not exist"));
    match Header::open(path) {
        Ok((_, header, _)) if header.key != key => Err(not_found()),
        Ok(found) => Ok(found),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(not_found()),
        Err(e) => Err(fs_error(format!("cannot read {}", path.display()), e)),
    }
}

/// Opens `key` for a get: checks the conditions, resolves the range and positions the file
/// at its first byte. Returns the file, the header and the served range.
pub fn open_for_get(
    path: &Path,
    key: &str,
    opts: &GetOptions,
) -> Result<(File, Header, std::ops::Range<u64>)> {
    let (mut file, header, offset) = open_object(path, key)?;
    let range = opts.evaluate(key, &header.etag, header.size)?;
    file.seek(SeekFrom::Start(offset + range.start))
        .map_err(|e| fs_error(format!("cannot read {}", path.display()), e))?;
    Ok((file, header, range))
}

/// Streams `len` bytes from the current position of `file` in chunks.
pub fn body_stream(file: File, len: u64) -> ByteStream {
    let file = tokio::fs::File::from_std(file);
    stream::try_unfold((file, len), |(mut file, remaining)| async move {
        if remaining == 0 {
            return Ok(None);
        }
        let n = remaining.min(CHUNK_BYTES) as usize;
        let mut buf = BytesMut::zeroed(n);
        file.read_exact(&mut buf).await.map_err(|e| {
            fs_error(
                "object file is shorter than its header says or unreadable",
                e,
            )
        })?;
        Ok::<_, Error>(Some((buf.freeze(), (file, remaining - n as u64))))
    })
    .boxed()
}

/// Builds the answer of a get.
pub fn get_result(file: File, header: &Header, range: std::ops::Range<u64>) -> GetResult {
    let body = body_stream(file, range.end - range.start);
    GetResult {
        meta: header.meta(),
        range,
        body,
    }
}
