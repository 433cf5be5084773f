//! Object storage: the [`BlobStore`] trait and its types. Normative text: `spec/blob.md`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::stream::{BoxStream, StreamExt};

use crate::capabilities::BlobCapabilities;
use crate::error::{Error, Result};
use crate::limits::{MAX_LIST_PAGE, STREAM_PART_BYTES};

/// The content type a store records when a put names none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// A stream of body chunks.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// How a put treats an existing object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PutMode {
    /// Replace whatever is there.
    #[default]
    Overwrite,
    /// Only create: fail with `AlreadyExists` if the key exists.
    Create,
    /// Only replace the object whose current ETag is this one; otherwise
    /// `PreconditionFailed` (also when the object does not exist).
    Update {
        /// The ETag read earlier.
        etag: String,
    },
}

/// Options of a put, multipart start or copy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// Overwrite, create-only or compare-and-swap.
    pub mode: PutMode,
    /// The MIME type stored with the object.
    pub content_type: Option<String>,
    /// User metadata: lowercase names, printable values, 2 KiB in all.
    pub metadata: BTreeMap<String, String>,
}

/// A byte range of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// Bytes `start..end` (end exclusive, clamped to the object size).
    Bounded {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
    /// Everything from `start` to the end.
    From(u64),
    /// The last `n` bytes (the whole object if it is shorter).
    Suffix(u64),
}

impl ByteRange {
    /// Resolves the range against an object of `size` bytes. A start at or beyond the end
    /// of the object is `InvalidArgument` (so on an empty object only a suffix range is
    /// satisfiable, and it is empty), as is an empty bounded range.
    pub fn resolve(self, size: u64) -> Result<Range<u64>> {
        let range = match self {
            ByteRange::Bounded { start, end } => {
                if end <= start {
                    return Err(Error::invalid(format!("empty byte range {start}..{end}")));
                }
                start..end.min(size)
            }
            ByteRange::From(start) => start..size,
            ByteRange::Suffix(n) => size.saturating_sub(n)..size,
        };
        if range.start >= size && !(size == 0 && matches!(self, ByteRange::Suffix(_))) {
            return Err(Error::invalid(format!(
                "range starts at byte {} but the object has {size} bytes",
                range.start
            )));
        }
        Ok(range)
    }
}

/// Options of a read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// Read only part of the object.
    pub range: Option<ByteRange>,
    /// Fail with `PreconditionFailed` unless the current ETag equals this.
    pub if_match: Option<String>,
    /// Fail with `PreconditionFailed` ("not modified") if the current ETag equals this.
    pub if_none_match: Option<String>,
}

impl GetOptions {
    /// Applies the read conditions to an object of ETag `etag` and `size` bytes and
    /// resolves the range: `PreconditionFailed` when `if_match` differs or `if_none_match`
    /// equals (not modified), else the byte range to serve. Providers that evaluate
    /// conditions themselves share this so they fail identically.
    pub fn evaluate(&self, key: &str, etag: &str, size: u64) -> Result<Range<u64>> {
        if let Some(want) = &self.if_match
            && want != etag
        {
            return Err(Error::precondition(format!(
                "object {key:?} has ETag {etag:?}, not {want:?}"
            )));
        }
        if self.if_none_match.as_deref() == Some(etag) {
            return Err(Error::precondition(format!(
                "object {key:?} not modified (ETag {etag:?})"
            )));
        }
        match self.range {
            Some(r) => r.resolve(size),
            None => Ok(0..size),
        }
    }
}

/// What is known about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The object's key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Opaque version token; changes on every write.
    pub etag: String,
    /// When the object was last written.
    pub last_modified: SystemTime,
    /// MIME type, if one was stored.
    pub content_type: Option<String>,
    /// User metadata as stored.
    pub metadata: BTreeMap<String, String>,
}

/// The answer to a get: metadata, the byte range served and the body.
pub struct GetResult {
    /// Metadata of the whole object.
    pub meta: ObjectMeta,
    /// The bytes of the object this body holds.
    pub range: Range<u64>,
    /// The body.
    pub body: ByteStream,
}

impl GetResult {
    /// Reads the whole body into memory (one allocation of the served range's size).
    pub async fn bytes(self) -> Result<Bytes> {
        let size = usize::try_from(self.range.end - self.range.start).unwrap_or(0);
        collect_into(self.body, BytesMut::with_capacity(size)).await
    }
}

/// Options of a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Only keys starting with this.
    pub prefix: String,
    /// Roll up keys that contain this after the prefix into common prefixes.
    pub delimiter: Option<String>,
    /// Only keys (and common prefixes) strictly greater than this.
    pub start_after: Option<String>,
    /// Results per page: 1..=1000 (default 1000).
    pub page_size: Option<usize>,
    /// The `next_page_token` of the previous page.
    pub page_token: Option<String>,
}

/// One page of a list, in lexicographic (UTF-8 byte) order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Objects on this page.
    pub objects: Vec<ObjectMeta>,
    /// Common prefixes on this page (each ends with the delimiter).
    pub common_prefixes: Vec<String>,
    /// Pass to the next call to continue; `None` on the last page.
    pub next_page_token: Option<String>,
}

impl ListOptions {
    /// Where the listing resumes: entries strictly greater than this (the later of
    /// `start_after` and `page_token`).
    pub fn resume_after(&self) -> Option<&str> {
        match (&self.start_after, &self.page_token) {
            (Some(a), Some(t)) => Some(a.max(t)),
            (a, t) => a.as_deref().or(t.as_deref()),
        }
    }
}

/// Options of a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// Fail with `AlreadyExists` if the destination exists (needs conditional writes).
    pub create_only: bool,
}

/// The receipt of one uploaded multipart part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartReceipt {
    /// Part number, from 1.
    pub part_number: u32,
    /// The part's ETag as returned by the store.
    pub etag: String,
}

/// An HTTP method a presigned URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresignMethod {
    /// Download.
    Get,
    /// Upload.
    Put,
}

/// Object storage. Keys are validated by the layer before they reach a provider.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// What this store declares.
    fn capabilities(&self) -> BlobCapabilities;

    /// Stores `body` under `key`.
    async fn put(&self, key: &str, body: Bytes, opts: PutOptions) -> Result<ObjectMeta>;

    /// Stores a stream of unknown length. The default buffers up to one part and then
    /// switches to a multipart upload (aborted on any error), so memory stays bounded.
    async fn put_stream(
        &self,
        key: &str,
        body: ByteStream,
        opts: PutOptions,
    ) -> Result<ObjectMeta> {
        put_stream_via_multipart(self, key, body, opts).await
    }

    /// Reads an object (or a range of it).
    async fn get(&self, key: &str, opts: GetOptions) -> Result<GetResult>;

    /// Reads an object's metadata; `NotFound` if absent.
    async fn head(&self, key: &str) -> Result<ObjectMeta>;

    /// Deletes an object; deleting an absent key succeeds.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Lists one page of keys.
    async fn list(&self, opts: ListOptions) -> Result<ListPage>;

    /// Copies `from` to `to` with body, content type and metadata.
    async fn copy(&self, from: &str, to: &str, opts: CopyOptions) -> Result<ObjectMeta>;

    /// Starts a multipart upload and returns its upload id.
    async fn multipart_start(&self, key: &str, opts: PutOptions) -> Result<String> {
        let _ = (key, opts);
        Err(Error::unsupported(
            "multipart uploads are not declared by this store",
        ))
    }

    /// Uploads part `part_number` (1..=10000); parts but the last are at least 5 MiB.
    async fn multipart_put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<PartReceipt> {
        let _ = (key, upload_id, part_number, data);
        Err(Error::unsupported(
            "multipart uploads are not declared by this store",
        ))
    }

    /// Completes the upload from `parts` in ascending part order.
    async fn multipart_complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<PartReceipt>,
    ) -> Result<ObjectMeta> {
        let _ = (key, upload_id, parts);
        Err(Error::unsupported(
            "multipart uploads are not declared by this store",
        ))
    }

    /// Aborts the upload and removes every uploaded part.
    async fn multipart_abort(&self, key: &str, upload_id: &str) -> Result<()> {
        let _ = (key, upload_id);
        Err(Error::unsupported(
            "multipart uploads are not declared by this store",
        ))
    }

    /// A URL that allows `method` on `key` without credentials until `expires_in` passes.
    async fn presign(
        &self,
        key: &str,
        method: PresignMethod,
        expires_in: Duration,
    ) -> Result<String> {
        let _ = (key, method, expires_in);
        Err(Error::unsupported(
            "presigned URLs are not declared by this store",
        ))
    }
}

/// Opens named blob stores of one configured provider.
#[async_trait]
pub trait BlobService: Send + Sync + 'static {
    /// The store for the logical name `name` (validated by the caller).
    async fn open(&self, name: &str) -> Result<Arc<dyn BlobStore>>;
}

/// Reads a whole stream into one buffer.
pub async fn collect_stream(body: ByteStream) -> Result<Bytes> {
    collect_into(body, BytesMut::new()).await
}

async fn collect_into(mut body: ByteStream, mut buf: BytesMut) -> Result<Bytes> {
    while let Some(chunk) = body.next().await {
        buf.extend_from_slice(&chunk?);
    }
    Ok(buf.freeze())
}

/// Reads from `body` until `buf` holds `want` bytes or the stream ends.
async fn fill(body: &mut ByteStream, buf: &mut BytesMut, want: usize) -> Result<()> {
    while buf.len() < want {
        match body.next().await {
            Some(chunk) => buf.extend_from_slice(&chunk?),
            None => break,
        }
    }
    Ok(())
}

/// The streamed put every store gets by default: small streams become one put, larger
/// ones a multipart upload with [`STREAM_PART_BYTES`] parts, aborted on failure.
pub async fn put_stream_via_multipart<S: BlobStore + ?Sized>(
    store: &S,
    key: &str,
    mut body: ByteStream,
    opts: PutOptions,
) -> Result<ObjectMeta> {
    let mut buf = BytesMut::new();
    fill(&mut body, &mut buf, STREAM_PART_BYTES + 1).await?;
    if buf.len() <= STREAM_PART_BYTES {
        return store.put(key, buf.freeze(), opts).await;
    }
    if !store.capabilities().multipart {
        let rest = collect_stream(body).await?;
        buf.extend_from_slice(&rest);
        return store.put(key, buf.freeze(), opts).await;
    }
    let upload_id = store.multipart_start(key, opts).await?;
    let result = async {
        let mut parts = Vec::new();
        loop {
            fill(&mut body, &mut buf, STREAM_PART_BYTES).await?;
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min(STREAM_PART_BYTES);
            let part = buf.split_to(take).freeze();
            let number = parts.len() as u32 + 1;
            parts.push(
                store
                    .multipart_put_part(key, &upload_id, number, part)
                    .await?,
            );
        }
        store.multipart_complete(key, &upload_id, parts).await
    }
    .await;
    if result.is_err() {
        // Best effort: the original error is what the caller needs to see.
        let _ = store.multipart_abort(key, &upload_id).await;
    }
    result
}

/// Builds list pages from keys in ascending order, applying prefix, delimiter, start-after
/// and paging exactly as `spec/blob.md` says. Providers that list in process share this.
///
/// The page token is the last key or common prefix returned, so a listing that runs while
/// keys are inserted and deleted still returns every key that existed throughout, once,
/// in order.
pub fn paginate<I>(objects: I, opts: &ListOptions) -> ListPage
where
    I: IntoIterator<Item = ObjectMeta>,
{
    let page_size = opts.page_size.unwrap_or(MAX_LIST_PAGE);
    let after = opts.resume_after();
    let mut page = ListPage::default();
    let mut last: Option<String> = None;
    let mut count = 0;
    for meta in objects {
        if !meta.key.starts_with(&opts.prefix) {
            continue;
        }
        let rolled_up = opts.delimiter.as_deref().and_then(|d| {
            let rest = &meta.key[opts.prefix.len()..];
            rest.find(d)
                .map(|i| meta.key[..opts.prefix.len() + i + d.len()].to_owned())
        });
        let entry = rolled_up.clone().unwrap_or_else(|| meta.key.clone());
        if after.is_some_and(|a| entry.as_str() <= a) {
            continue;
        }
        if last.as_ref() == Some(&entry) {
            continue; // more keys under a common prefix already returned
        }
        if count == page_size {
            page.next_page_token = last;
            return page;
        }
        count += 1;
        match rolled_up {
            Some(p) => page.common_prefixes.push(p),
            None => page.objects.push(meta),
        }
        last = Some(entry);
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(key: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 0,
            etag: String::new(),
            last_modified: SystemTime::UNIX_EPOCH,
            content_type: None,
            metadata: BTreeMap::new(),
        }
    }

    #[test]
    fn ranges_resolve() {
        assert_eq!(
            ByteRange::Bounded { start: 2, end: 5 }.resolve(10).unwrap(),
            2..5
        );
        assert_eq!(
            ByteRange::Bounded { start: 8, end: 50 }
                .resolve(10)
                .unwrap(),
            8..10
        );
        assert_eq!(ByteRange::From(3).resolve(10).unwrap(), 3..10);
        assert_eq!(ByteRange::Suffix(4).resolve(10).unwrap(), 6..10);
        assert_eq!(ByteRange::Suffix(40).resolve(10).unwrap(), 0..10);
        assert_eq!(ByteRange::Suffix(4).resolve(0).unwrap(), 0..0);
        assert!(ByteRange::From(10).resolve(10).is_err());
        assert!(ByteRange::Bounded { start: 5, end: 5 }.resolve(10).is_err());
    }

    #[test]
    fn paginate_rolls_up_and_pages() {
        let keys = ["a/1", "a/2", "b", "c/x/1", "d"].map(meta);
        let opts = ListOptions {
            delimiter: Some("/".into()),
            page_size: Some(2),
            ..Default::default()
        };
        let p1 = paginate(keys.clone(), &opts);
        assert_eq!(p1.common_prefixes, ["a/"]);
        assert_eq!(
            p1.objects
                .iter()
                .map(|m| m.key.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        let p2 = paginate(
            keys.clone(),
            &ListOptions {
                page_token: p1.next_page_token,
                ..opts.clone()
            },
        );
        assert_eq!(p2.common_prefixes, ["c/"]);
        assert_eq!(p2.objects[0].key, "d");
        assert_eq!(p2.next_page_token, None);
    }
}
