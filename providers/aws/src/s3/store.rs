//! One blob store: the key prefix `name/` inside the bucket.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3;
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::multipart::MultipartStore;
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{
    Attribute, Attributes, CopyMode, GetRange, ObjectStore, ObjectStoreExt, PutMultipartOptions,
    PutPayload, UpdateVersion,
};
use stratus::blob::{
    BlobStore, ByteRange, ByteStream, CopyOptions, DEFAULT_CONTENT_TYPE, GetOptions, GetResult,
    ListOptions, ListPage, ObjectMeta, PartReceipt, PresignMethod, PutMode, PutOptions,
    put_stream_via_multipart,
};
use stratus::capabilities::BlobCapabilities;
use stratus::limits::MIN_MULTIPART_PART_BYTES;
use stratus::{Error, ErrorKind, Result, async_trait};
use stratus_objectstore::Prefixed;

use super::CAPABILITIES;
use super::errors::store_error;
use super::raw::{self, Condition};

/// One store: objects under `prefix` in the client's bucket.
pub struct S3BlobStore {
    client: Arc<AmazonS3>,
    paths: Prefixed,
    storage_class: Option<String>,
}

impl S3BlobStore {
    /// A store of the keys under `prefix` (ends with `/`).
    pub fn new(client: Arc<AmazonS3>, prefix: String, storage_class: Option<String>) -> Self {
        Self {
            client,
            paths: Prefixed::new(prefix),
            storage_class,
        }
    }

    fn path(&self, key: &str) -> Result<Path> {
        self.paths.path(key, "S3")
    }

    /// The caller's key of a bucket path (the store prefix removed).
    fn key_of<'a>(&self, path: &'a str) -> &'a str {
        self.paths.key_of(path)
    }

    fn attributes(&self, opts: &PutOptions) -> Attributes {
        let mut attributes = Attributes::new();
        let content_type = opts
            .content_type
            .clone()
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
        attributes.insert(Attribute::ContentType, content_type.into());
        for (name, value) in &opts.metadata {
            attributes.insert(
                Attribute::Metadata(name.clone().into()),
                encode_header_value(value).into(),
            );
        }
        if let Some(class) = &self.storage_class {
            attributes.insert(Attribute::StorageClass, class.clone().into());
        }
        attributes
    }

    fn meta(
        &self,
        key: &str,
        meta: &object_store::ObjectMeta,
        attributes: Option<&Attributes>,
    ) -> ObjectMeta {
        let mut content_type = None;
        let mut metadata = BTreeMap::new();
        if let Some(attributes) = attributes {
            for (attribute, value) in attributes {
                match attribute {
                    Attribute::ContentType => content_type = Some(value.to_string()),
                    Attribute::Metadata(name) => {
                        metadata.insert(name.to_string(), decode_header_value(value));
                    }
                    _ => {}
                }
            }
        }
        ObjectMeta {
            key: key.to_owned(),
            size: meta.size,
            etag: meta.e_tag.clone().unwrap_or_default(),
            last_modified: SystemTime::from(meta.last_modified),
            content_type,
            metadata,
        }
    }

    /// Head with an optional `If-Match`.
    async fn head_if(&self, key: &str, if_match: Option<String>) -> Result<ObjectMeta> {
        let path = self.path(key)?;
        let opts = object_store::GetOptions {
            head: true,
            if_match,
            ..Default::default()
        };
        let result = self
            .client
            .get_opts(&path, opts)
            .await
            .map_err(|e| store_error(&format!("head {key}"), e))?;
        Ok(self.meta(key, &result.meta, Some(&result.attributes)))
    }

    /// The meta of the write that returned `etag`, built from the write itself: S3's
    /// PUT answers with the ETag, and size, content type and metadata are what was sent.
    /// `last_modified` is this machine's clock at completion (S3 reports it only on
    /// reads; `BLOB-TIME-1` allows a write's own answer to estimate it). Only a response
    /// without an ETag costs a HEAD, pinned to nothing, to learn it.
    async fn written(
        &self,
        key: &str,
        etag: Option<String>,
        opts: &PutOptions,
        size: u64,
    ) -> Result<ObjectMeta> {
        match etag {
            Some(etag) => Ok(ObjectMeta {
                key: key.to_owned(),
                size,
                etag,
                last_modified: SystemTime::now(),
                content_type: Some(
                    opts.content_type
                        .clone()
                        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
                ),
                metadata: opts.metadata.clone(),
            }),
            None => self.head_if(key, None).await,
        }
    }

    /// The result of a ranged get the store refused as unsatisfiable: an empty object
    /// read with a suffix range is `0..0`; anything else is `InvalidArgument`.
    async fn unsatisfiable(&self, key: &str, range: ByteRange, err: Error) -> Result<GetResult> {
        let meta = self.head_if(key, None).await?;
        match range.resolve(meta.size) {
            Ok(served) if served.is_empty() => Ok(GetResult {
                meta,
                range: served,
                body: futures::stream::empty().boxed(),
            }),
            Ok(_) => Err(err),
            Err(invalid) => Err(invalid),
        }
    }
}

/// Prefix of an RFC 2047 encoded-word, as S3 uses for non-ASCII metadata.
const ENCODED_WORD: &str = "=?UTF-8?B?";

/// Metadata values travel in HTTP headers: a value that is not plain visible ASCII
/// (non-ASCII, leading or trailing blanks, or one that looks encoded) is sent as an
/// RFC 2047 encoded-word, which S3 itself uses for non-ASCII metadata.
fn encode_header_value(value: &str) -> String {
    let plain = value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && !value.starts_with("=?");
    if plain {
        value.to_owned()
    } else {
        format!(
            "{ENCODED_WORD}{}?=",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    }
}

fn decode_header_value(value: &str) -> String {
    value
        .strip_prefix(ENCODED_WORD)
        .and_then(|v| v.strip_suffix("?="))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| value.to_owned())
}

/// FNV-1a of the upload's key: binds an upload id to its key (S3 does too, but not
/// every S3-compatible store checks).
fn key_tag(path: &Path) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.as_ref().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Upload ids carry the key tag and the start mode (checked at complete):
/// `TAG:o:ID`, `TAG:c:ID` or `TAG:u:BASE64(ETAG):ID`.
fn encode_upload_id(path: &Path, mode: &PutMode, id: &str) -> String {
    let tag = key_tag(path);
    match mode {
        PutMode::Overwrite => format!("{tag}:o:{id}"),
        PutMode::Create => format!("{tag}:c:{id}"),
        PutMode::Update { etag } => format!("{tag}:u:{}:{id}", URL_SAFE_NO_PAD.encode(etag)),
    }
}

/// The mode and S3 upload id of `upload_id`; `NotFound` if it is not an id of an upload
/// of `path`.
fn decode_upload_id(path: &Path, upload_id: &str) -> Result<(PutMode, String)> {
    let unknown = || Error::not_found(format!("no multipart upload {upload_id:?} for this key"));
    let (key_tag_text, rest) = upload_id.split_once(':').ok_or_else(unknown)?;
    if key_tag_text != key_tag(path) {
        return Err(unknown());
    }
    let (tag, rest) = rest.split_once(':').ok_or_else(unknown)?;
    let (mode, id) = match tag {
        "o" => (PutMode::Overwrite, rest),
        "c" => (PutMode::Create, rest),
        "u" => {
            let (etag, id) = rest.split_once(':').ok_or_else(unknown)?;
            let etag = URL_SAFE_NO_PAD.decode(etag).map_err(|_| unknown())?;
            let etag = String::from_utf8(etag).map_err(|_| unknown())?;
            (PutMode::Update { etag }, id)
        }
        _ => return Err(unknown()),
    };
    if id.is_empty() {
        return Err(unknown());
    }
    Ok((mode, id.to_owned()))
}

/// The S3 key to start listing after so that everything `after` covers is skipped: with a
/// delimiter, an `after` inside a common prefix skips that whole prefix.
fn list_offset(full_prefix: &str, opts: &ListOptions, after: &str) -> String {
    let rest = &after[opts.prefix.len().min(after.len())..];
    let rolled = opts
        .delimiter
        .as_deref()
        .filter(|_| after.starts_with(&opts.prefix))
        .and_then(|d| {
            rest.find(d)
                .map(|i| &after[..opts.prefix.len() + i + d.len()])
        });
    match rolled {
        // Above every key under the prefix (U+10FFFF is the largest code point).
        Some(common) => format!("{full_prefix}{common}\u{10FFFF}"),
        None => format!("{full_prefix}{after}"),
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    fn capabilities(&self) -> BlobCapabilities {
        CAPABILITIES
    }

    async fn put(&self, key: &str, body: Bytes, opts: PutOptions) -> Result<ObjectMeta> {
        let path = self.path(key)?;
        let size = body.len() as u64;
        let mode = match &opts.mode {
            PutMode::Overwrite => object_store::PutMode::Overwrite,
            PutMode::Create => object_store::PutMode::Create,
            PutMode::Update { etag } => object_store::PutMode::Update(UpdateVersion {
                e_tag: Some(etag.clone()),
                version: None,
            }),
        };
        let put = object_store::PutOptions {
            mode,
            attributes: self.attributes(&opts),
            ..Default::default()
        };
        let result = self
            .client
            .put_opts(&path, PutPayload::from_bytes(body), put)
            .await
            .map_err(|e| store_error(&format!("put {key}"), e))?;
        self.written(key, result.e_tag, &opts, size).await
    }

    async fn put_stream(
        &self,
        key: &str,
        body: ByteStream,
        opts: PutOptions,
    ) -> Result<ObjectMeta> {
        put_stream_via_multipart(self, key, body, opts).await
    }

    async fn get(&self, key: &str, opts: GetOptions) -> Result<GetResult> {
        let path = self.path(key)?;
        let range = match opts.range {
            None => None,
            Some(r @ ByteRange::Bounded { start, end }) => {
                // Only the empty-range check needs no size; it is always an error.
                r.resolve(u64::MAX)?;
                Some(GetRange::Bounded(start..end))
            }
            Some(ByteRange::From(start)) => Some(GetRange::Offset(start)),
            Some(ByteRange::Suffix(n)) => Some(GetRange::Suffix(n)),
        };
        let get = object_store::GetOptions {
            if_match: opts.if_match.clone(),
            if_none_match: opts.if_none_match.clone(),
            range,
            ..Default::default()
        };
        let result = match self.client.get_opts(&path, get).await {
            Ok(result) => result,
            Err(e) => {
                let err = store_error(&format!("get {key}"), e);
                return match (err.kind(), opts.range) {
                    (ErrorKind::InvalidArgument, Some(range)) => {
                        self.unsatisfiable(key, range, err).await
                    }
                    _ => Err(err),
                };
            }
        };
        let meta = self.meta(key, &result.meta, Some(&result.attributes));
        let served = match opts.range {
            Some(range) => range.resolve(meta.size)?,
            None => 0..meta.size,
        };
        let what = format!("get {key}");
        let body = result
            .into_stream()
            .map_err(move |e| store_error(&what, e))
            .boxed();
        Ok(GetResult {
            meta,
            range: served,
            body,
        })
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta> {
        self.head_if(key, None).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match self.client.delete(&path).await {
            Ok(()) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(&format!("delete {key}"), e)),
        }
    }

    async fn list(&self, opts: ListOptions) -> Result<ListPage> {
        let page_size = opts.page_size.unwrap_or(stratus::limits::MAX_LIST_PAGE);
        let mut after = opts.resume_after().map(str::to_owned);
        let full_prefix = format!("{}{}", self.paths.prefix(), opts.prefix);
        loop {
            let request = PaginatedListOptions {
                offset: after
                    .as_deref()
                    .map(|a| list_offset(self.paths.prefix(), &opts, a)),
                delimiter: opts.delimiter.clone().map(Into::into),
                max_keys: Some(page_size),
                ..Default::default()
            };
            let listed = self
                .client
                .list_paginated(Some(&full_prefix), request)
                .await
                .map_err(|e| store_error(&format!("list {full_prefix}"), e))?;
            let mut entries: Vec<(String, Option<ObjectMeta>)> = Vec::new();
            for meta in &listed.result.objects {
                let key = self.key_of(meta.location.as_ref()).to_owned();
                let meta = self.meta(&key, meta, None);
                entries.push((key, Some(meta)));
            }
            for common in &listed.result.common_prefixes {
                let mut text = self.key_of(common.as_ref()).to_owned();
                // object_store's path parsing drops a trailing '/'.
                if let Some(d) = &opts.delimiter
                    && !text.ends_with(d.as_str())
                    && d.ends_with('/')
                {
                    text.push('/');
                }
                entries.push((text, None));
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.retain(|(k, _)| after.as_ref().is_none_or(|a| k > a));
            let truncated = listed.page_token.is_some();
            let last = entries.last().map(|(k, _)| k.clone());
            let mut page = ListPage::default();
            for (key, meta) in entries {
                match meta {
                    Some(meta) => page.objects.push(meta),
                    None => page.common_prefixes.push(key),
                }
            }
            match (truncated, last) {
                (false, _) => return Ok(page),
                (true, Some(last)) => {
                    page.next_page_token = Some(last);
                    return Ok(page);
                }
                // Everything S3 returned was covered by `after`: look further.
                (true, None) => {
                    let skipped = listed
                        .result
                        .objects
                        .last()
                        .map(|m| self.key_of(m.location.as_ref()).to_owned());
                    match skipped {
                        Some(k) if after.as_ref().is_none_or(|a| &k > a) => after = Some(k),
                        _ => return Ok(page),
                    }
                }
            }
        }
    }

    async fn copy(&self, from: &str, to: &str, opts: CopyOptions) -> Result<ObjectMeta> {
        if opts.create_only {
            // S3 has no create-only CopyObject: stream the source into a create-only put
            // (one PutObject, or a multipart upload completed with If-None-Match).
            let source = self.get(from, GetOptions::default()).await?;
            let put = PutOptions {
                mode: PutMode::Create,
                content_type: source.meta.content_type.clone(),
                metadata: source.meta.metadata.clone(),
            };
            return put_stream_via_multipart(self, to, source.body, put).await;
        }
        let (src, dst) = (self.path(from)?, self.path(to)?);
        let copy = object_store::CopyOptions {
            mode: CopyMode::Overwrite,
            ..Default::default()
        };
        self.client
            .copy_opts(&src, &dst, copy)
            .await
            .map_err(|e| store_error(&format!("copy {from} to {to}"), e))?;
        self.head_if(to, None).await
    }

    async fn multipart_start(&self, key: &str, opts: PutOptions) -> Result<String> {
        let path = self.path(key)?;
        let start = PutMultipartOptions {
            attributes: self.attributes(&opts),
            ..Default::default()
        };
        let id = self
            .client
            .create_multipart_opts(&path, start)
            .await
            .map_err(|e| store_error(&format!("multipart start {key}"), e))?;
        Ok(encode_upload_id(&path, &opts.mode, &id))
    }

    async fn multipart_put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<PartReceipt> {
        let path = self.path(key)?;
        let (_, id) = decode_upload_id(&path, upload_id)?;
        // object_store numbers parts from index 0 (part number = index + 1).
        let index = part_number as usize - 1;
        let part = self
            .client
            .put_part(&path, &id, index, PutPayload::from_bytes(data))
            .await
            .map_err(|e| store_error(&format!("multipart part {part_number} of {key}"), e))?;
        Ok(PartReceipt {
            part_number,
            etag: part.content_id,
        })
    }

    async fn multipart_complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<PartReceipt>,
    ) -> Result<ObjectMeta> {
        let path = self.path(key)?;
        let (mode, id) = decode_upload_id(&path, upload_id)?;
        // ListParts first: NotFound for an unknown or finished upload (S3 may answer a
        // repeated complete with success), and clear InvalidArgument for part problems.
        let uploaded = raw::list_parts(&self.client, &path, &id).await?;
        for (i, receipt) in parts.iter().enumerate() {
            let n = receipt.part_number;
            let part = uploaded
                .iter()
                .find(|p| p.number == n)
                .ok_or_else(|| Error::invalid(format!("part {n} was not uploaded")))?;
            if part.etag.trim_matches('"') != receipt.etag.trim_matches('"') {
                return Err(Error::invalid(format!(
                    "part {n} has ETag {:?}, not {:?}",
                    part.etag, receipt.etag
                )));
            }
            if i + 1 < parts.len() && part.size < MIN_MULTIPART_PART_BYTES as u64 {
                return Err(Error::invalid(format!(
                    "part {n} is {} bytes; every part but the last must be at least {MIN_MULTIPART_PART_BYTES}",
                    part.size
                )));
            }
        }
        let total: u64 = parts
            .iter()
            .filter_map(|r| uploaded.iter().find(|p| p.number == r.part_number))
            .map(|p| p.size)
            .sum();
        if total > CAPABILITIES.max_object_bytes {
            return Err(Error::invalid(format!(
                "object would be {total} bytes; this store's limit is {}",
                CAPABILITIES.max_object_bytes
            )));
        }
        let condition = match &mode {
            PutMode::Overwrite => Condition::None,
            PutMode::Create => Condition::Absent,
            PutMode::Update { etag } => {
                // The If-Match header makes this atomic on S3; emulators that ignore the
                // header on CompleteMultipartUpload still get this check.
                let current = match self.head_if(key, None).await {
                    Ok(meta) => Some(meta.etag),
                    Err(e) if e.kind() == ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                };
                if current.as_deref() != Some(etag.as_str()) {
                    return Err(Error::precondition(format!(
                        "object {key:?} has ETag {current:?}, not {etag:?}"
                    )));
                }
                Condition::Matches(etag.clone())
            }
        };
        match raw::complete_multipart(&self.client, &path, &id, &parts, &condition).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::PreconditionFailed && mode == PutMode::Create => {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("object {key:?} already exists"),
                ));
            }
            Err(e) => return Err(e),
        }
        self.head_if(key, None).await
    }

    async fn multipart_abort(&self, key: &str, upload_id: &str) -> Result<()> {
        let path = self.path(key)?;
        let (_, id) = decode_upload_id(&path, upload_id)?;
        // ListParts is key-checked on S3: an id used with another key is NotFound, and an
        // unknown or finished upload too (DELETE of a gone upload may succeed).
        raw::list_parts(&self.client, &path, &id).await?;
        self.client
            .abort_multipart(&path, &id)
            .await
            .map_err(|e| store_error(&format!("multipart abort {key}"), e))
    }

    async fn presign(
        &self,
        key: &str,
        method: PresignMethod,
        expires_in: Duration,
    ) -> Result<String> {
        let path = self.path(key)?;
        let method = match method {
            PresignMethod::Get => http::Method::GET,
            PresignMethod::Put => http::Method::PUT,
        };
        let url = self
            .client
            .signed_url(method, &path, expires_in)
            .await
            .map_err(|e| store_error(&format!("presign {key}"), e))?;
        Ok(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_carry_the_mode() {
        for mode in [
            PutMode::Overwrite,
            PutMode::Create,
            PutMode::Update {
                etag: "\"abc:1\"".into(),
            },
        ] {
            let path = Path::from("s/a");
            let id = encode_upload_id(&path, &mode, "x.y:z");
            assert_eq!(
                decode_upload_id(&path, &id).unwrap(),
                (mode, "x.y:z".to_owned())
            );
            let other = Path::from("s/b");
            assert_eq!(
                decode_upload_id(&other, &id).unwrap_err().kind(),
                ErrorKind::NotFound
            );
        }
        assert_eq!(
            decode_upload_id(&Path::from("s/a"), "nope")
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn metadata_values_survive_headers() {
        for v in ["plain", "", " padded ", "Grüße", "=?UTF-8?B?x?=", "日本"] {
            assert_eq!(decode_header_value(&encode_header_value(v)), v);
        }
        assert_eq!(encode_header_value("plain"), "plain");
    }

    #[test]
    fn offsets_skip_a_whole_common_prefix() {
        let opts = ListOptions {
            prefix: "p/".into(),
            delimiter: Some("/".into()),
            ..Default::default()
        };
        assert_eq!(list_offset("s/", &opts, "p/a/"), "s/p/a/\u{10FFFF}");
        assert_eq!(list_offset("s/", &opts, "p/b"), "s/p/b");
        let flat = ListOptions::default();
        assert_eq!(list_offset("s/", &flat, "a/b"), "s/a/b");
    }
}
