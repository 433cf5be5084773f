//! Helpers shared by the blob cases: option builders, reads, listing and body patterns.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use stratus::blob::{
    BlobStore, ByteRange, ByteStream, GetOptions, ListOptions, ObjectMeta, PutMode, PutOptions,
};
use stratus::{Error, ErrorKind};

use crate::case::{CaseResult, Failure, ensure_eq, expect_kind};

/// The store under test.
pub type Store = Arc<dyn BlobStore>;

/// Put options with `mode` and nothing else.
pub fn mode(mode: PutMode) -> PutOptions {
    PutOptions {
        mode,
        ..Default::default()
    }
}

/// Put options with `Update { etag }`.
pub fn update(etag: &str) -> PutOptions {
    mode(PutMode::Update {
        etag: etag.to_owned(),
    })
}

/// Put options with a content type and metadata.
pub fn with_meta(content_type: Option<&str>, metadata: &[(&str, &str)]) -> PutOptions {
    PutOptions {
        mode: PutMode::Overwrite,
        content_type: content_type.map(str::to_owned),
        metadata: meta_map(metadata),
    }
}

/// A metadata map from pairs.
pub fn meta_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Overwrites `key` with `body` and default options.
pub async fn put(store: &Store, key: &str, body: impl Into<Bytes>) -> Result<ObjectMeta, Failure> {
    Ok(store.put(key, body.into(), PutOptions::default()).await?)
}

/// Reads the whole body of `key`.
pub async fn read(store: &Store, key: &str) -> Result<Bytes, Failure> {
    Ok(store.get(key, GetOptions::default()).await?.bytes().await?)
}

/// Reads `range` of `key`: the served range, the object's metadata and the bytes.
pub async fn read_range(
    store: &Store,
    key: &str,
    range: ByteRange,
) -> Result<(Range<u64>, ObjectMeta, Bytes), Failure> {
    let got = store
        .get(
            key,
            GetOptions {
                range: Some(range),
                ..Default::default()
            },
        )
        .await?;
    let (served, meta) = (got.range.clone(), got.meta.clone());
    Ok((served, meta, got.bytes().await?))
}

/// Fails unless `got` equals `expected`, describing short bodies in full and long ones by
/// length and first difference.
pub fn ensure_body(what: &str, got: &[u8], expected: &[u8]) -> CaseResult {
    if got == expected {
        return Ok(());
    }
    if got.len() <= 64 && expected.len() <= 64 {
        return Err(Failure(format!(
            "{what}: got body {:?}, expected {:?}",
            String::from_utf8_lossy(got),
            String::from_utf8_lossy(expected)
        )));
    }
    let first = got.iter().zip(expected).position(|(a, b)| a != b);
    Err(Failure(format!(
        "{what}: got {} bytes, expected {} bytes; first difference at byte {}",
        got.len(),
        expected.len(),
        first.map_or_else(
            || "(one is a prefix of the other)".to_owned(),
            |i| i.to_string()
        )
    )))
}

/// Fails unless `key` is absent (`head` answers `NotFound`).
pub async fn ensure_absent(store: &Store, key: &str, why: &str) -> CaseResult {
    expect_kind(
        &format!("head of {key:?} {why}"),
        store.head(key).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// Fails unless `key` holds exactly `body`.
pub async fn ensure_holds(store: &Store, key: &str, body: &[u8], why: &str) -> CaseResult {
    let got = read(store, key).await?;
    ensure_body(&format!("body of {key:?} {why}"), &got, body)
}

/// Every page of a listing: object keys, common prefixes and the number of pages, in the
/// order returned. Fails if a page is larger than the requested page size, or if the
/// listing does not end within 10 000 pages.
pub async fn list_all(
    store: &Store,
    opts: ListOptions,
) -> Result<(Vec<String>, Vec<String>, usize), Failure> {
    let (mut keys, mut prefixes, mut pages) = (Vec::new(), Vec::new(), 0);
    let mut opts = opts;
    loop {
        let page = store.list(opts.clone()).await?;
        pages += 1;
        let entries = page.objects.len() + page.common_prefixes.len();
        if let Some(size) = opts.page_size
            && entries > size
        {
            return Err(Failure(format!(
                "a list page held {entries} entries with page_size {size}"
            )));
        }
        keys.extend(page.objects.into_iter().map(|m| m.key));
        prefixes.extend(page.common_prefixes);
        match page.next_page_token {
            Some(token) if pages < 10_000 => opts.page_token = Some(token),
            Some(_) => return Err(Failure("listing did not end after 10000 pages".into())),
            None => return Ok((keys, prefixes, pages)),
        }
    }
}

/// List options with a prefix.
pub fn under(prefix: &str) -> ListOptions {
    ListOptions {
        prefix: prefix.to_owned(),
        ..Default::default()
    }
}

/// `items` as owned strings, sorted by UTF-8 bytes (Rust's `str` order).
pub fn sorted(items: &[String]) -> Vec<String> {
    let mut v = items.to_vec();
    v.sort();
    v
}

fn mix(seed: u64, word: u64) -> u64 {
    let mut x = word.wrapping_add(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 32)
}

/// Bytes `offset..offset + len` of the endless pseudo-random pattern `seed`: every 8-byte
/// word depends on its position, so moved, dropped or repeated data is detected.
pub fn pattern(seed: u64, offset: u64, len: usize) -> Bytes {
    let mut out = Vec::with_capacity(len);
    let end = offset + len as u64;
    let mut pos = offset;
    while pos < end {
        let word = mix(seed, pos / 8).to_le_bytes();
        let from = (pos % 8) as usize;
        let take = (8 - from).min((end - pos) as usize);
        out.extend_from_slice(&word[from..from + take]);
        pos += take as u64;
    }
    out.into()
}

/// A stream of `total` bytes of pattern `seed` in chunks of `chunk` bytes, generated lazily.
pub fn pattern_stream(seed: u64, total: u64, chunk: usize) -> ByteStream {
    let starts = (0..total).step_by(chunk);
    futures::stream::iter(starts)
        .map(move |start| Ok(pattern(seed, start, chunk.min((total - start) as usize))))
        .boxed()
}

/// A stream that yields `good` bytes of pattern `seed` and then an error.
pub fn failing_stream(seed: u64, good: u64, chunk: usize) -> ByteStream {
    pattern_stream(seed, good, chunk)
        .chain(futures::stream::once(async {
            Err(Error::new(
                ErrorKind::Unavailable,
                "conformance: body failed",
            ))
        }))
        .boxed()
}

/// Reads `body` chunk by chunk and checks it equals bytes `offset..offset + len` of pattern
/// `seed`, holding one chunk at a time.
pub async fn ensure_pattern(
    what: &str,
    mut body: ByteStream,
    seed: u64,
    offset: u64,
    len: u64,
) -> CaseResult {
    let mut pos = offset;
    let end = offset + len;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if chunk.is_empty() {
            continue;
        }
        if pos + chunk.len() as u64 > end {
            return Err(Failure(format!(
                "{what}: body is longer than the {len} bytes expected (at least {} bytes)",
                pos - offset + chunk.len() as u64
            )));
        }
        let expected = pattern(seed, pos, chunk.len());
        if chunk != expected {
            let i = chunk
                .iter()
                .zip(expected.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return Err(Failure(format!(
                "{what}: body differs from what was written at byte {} of {len}",
                pos - offset + i as u64
            )));
        }
        pos += chunk.len() as u64;
    }
    ensure_eq(&format!("{what}: body length"), pos - offset, len)
}
