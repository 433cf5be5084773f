//! In-process object storage: one `BTreeMap` of objects and a table of multipart
//! uploads per store, behind one mutex so conditional checks and writes are atomic.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use stratus::blob::{
    BlobService, BlobStore, ByteStream, CopyOptions, DEFAULT_CONTENT_TYPE, GetOptions, GetResult,
    ListOptions, ListPage, ObjectMeta, PartReceipt, PutMode, PutOptions, paginate,
};
use stratus::capabilities::BlobCapabilities;
use stratus::limits::MIN_MULTIPART_PART_BYTES;
use stratus::{Error, ErrorKind, Result, async_trait};

/// What every memory blob store declares.
pub const CAPABILITIES: BlobCapabilities = BlobCapabilities {
    conditional_write: true,
    multipart: true,
    presign: false,
    max_object_bytes: 5 * 1024 * 1024 * 1024,
};

/// Opens named in-process blob stores; the same name always gives the same store.
#[derive(Default)]
pub struct MemoryBlobService {
    stores: Mutex<HashMap<String, Arc<MemoryBlobStore>>>,
}

impl MemoryBlobService {
    /// A service with no stores yet.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl BlobService for MemoryBlobService {
    async fn open(&self, name: &str) -> Result<Arc<dyn BlobStore>> {
        let mut stores = self.stores.lock().expect("blob service poisoned");
        let store = stores.entry(name.to_owned()).or_default();
        Ok(store.clone())
    }
}

struct Object {
    meta: ObjectMeta,
    body: Bytes,
}

struct Part {
    etag: String,
    data: Bytes,
}

struct Upload {
    key: String,
    opts: PutOptions,
    parts: BTreeMap<u32, Part>,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Object>,
    uploads: HashMap<String, Upload>,
    /// Source of ETags, part ETags and upload ids; never goes back.
    counter: u64,
}

impl State {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// Checks `mode` against the current object (call under the same lock as the write).
    fn check_mode(&self, key: &str, mode: &PutMode) -> Result<()> {
        let current = self.objects.get(key);
        match mode {
            PutMode::Overwrite => Ok(()),
            PutMode::Create => match current {
                Some(_) => Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("object {key:?} already exists"),
                )),
                None => Ok(()),
            },
            PutMode::Update { etag } => match current {
                Some(o) if &o.meta.etag == etag => Ok(()),
                Some(o) => Err(Error::precondition(format!(
                    "object {key:?} has ETag {:?}, not {etag:?}",
                    o.meta.etag
                ))),
                None => Err(Error::precondition(format!(
                    "object {key:?} does not exist (expected ETag {etag:?})"
                ))),
            },
        }
    }

    /// Stores `body` with a fresh ETag and returns its metadata.
    fn write(
        &mut self,
        key: &str,
        body: Bytes,
        content_type: Option<String>,
        metadata: BTreeMap<String, String>,
    ) -> ObjectMeta {
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: body.len() as u64,
            etag: format!("\"m{:x}\"", self.next()),
            last_modified: SystemTime::now(),
            content_type: Some(content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned())),
            metadata,
        };
        self.objects.insert(
            key.to_owned(),
            Object {
                meta: meta.clone(),
                body,
            },
        );
        meta
    }

    fn upload(&mut self, key: &str, upload_id: &str) -> Result<&mut Upload> {
        self.uploads
            .get_mut(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(|| {
                Error::not_found(format!("no multipart upload {upload_id:?} for key {key:?}"))
            })
    }
}

/// One in-process blob store.
#[derive(Default)]
pub struct MemoryBlobStore {
    state: Mutex<State>,
}

impl MemoryBlobStore {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("blob store poisoned")
    }
}

fn not_found(key: &str) -> Error {
    Error::not_found(format!("no object {key:?}"))
}

/// The parts of `upload` named by `parts`, checked: each uploaded with that ETag, and every
/// part but the last at least [`MIN_MULTIPART_PART_BYTES`].
fn assemble(upload: &Upload, parts: &[PartReceipt]) -> Result<Bytes> {
    let mut body = BytesMut::new();
    for (i, receipt) in parts.iter().enumerate() {
        let n = receipt.part_number;
        let part = upload
            .parts
            .get(&n)
            .ok_or_else(|| Error::invalid(format!("part {n} was not uploaded")))?;
        if part.etag != receipt.etag {
            return Err(Error::invalid(format!(
                "part {n} has ETag {:?}, not {:?}",
                part.etag, receipt.etag
            )));
        }
        if i + 1 < parts.len() && part.data.len() < MIN_MULTIPART_PART_BYTES {
            return Err(Error::invalid(format!(
                "part {n} is {} bytes; every part but the last must be at least {MIN_MULTIPART_PART_BYTES}",
                part.data.len()
            )));
        }
        body.extend_from_slice(&part.data);
    }
    if body.len() as u64 > CAPABILITIES.max_object_bytes {
        return Err(Error::invalid(format!(
            "object is {} bytes; this store's limit is {}",
            body.len(),
            CAPABILITIES.max_object_bytes
        )));
    }
    Ok(body.freeze())
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    fn capabilities(&self) -> BlobCapabilities {
        CAPABILITIES
    }

    async fn put(&self, key: &str, body: Bytes, opts: PutOptions) -> Result<ObjectMeta> {
        let mut state = self.lock();
        state.check_mode(key, &opts.mode)?;
        Ok(state.write(key, body, opts.content_type, opts.metadata))
    }

    /// Collects the stream (bounded by the object size limit) and stores it in one write.
    async fn put_stream(
        &self,
        key: &str,
        mut body: ByteStream,
        opts: PutOptions,
    ) -> Result<ObjectMeta> {
        let mut buf = BytesMut::new();
        while let Some(chunk) = body.next().await {
            buf.extend_from_slice(&chunk?);
            if buf.len() as u64 > CAPABILITIES.max_object_bytes {
                return Err(Error::invalid(format!(
                    "stream is over this store's limit of {} bytes",
                    CAPABILITIES.max_object_bytes
                )));
            }
        }
        self.put(key, buf.freeze(), opts).await
    }

    async fn get(&self, key: &str, opts: GetOptions) -> Result<GetResult> {
        let (meta, body) = {
            let state = self.lock();
            let object = state.objects.get(key).ok_or_else(|| not_found(key))?;
            (object.meta.clone(), object.body.clone())
        };
        let range = opts.evaluate(key, &meta.etag, meta.size)?;
        let chunk = body.slice(range.start as usize..range.end as usize);
        let body: ByteStream = futures::stream::once(async move { Ok(chunk) }).boxed();
        Ok(GetResult { meta, range, body })
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta> {
        let state = self.lock();
        state
            .objects
            .get(key)
            .map(|o| o.meta.clone())
            .ok_or_else(|| not_found(key))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.lock().objects.remove(key);
        Ok(())
    }

    async fn list(&self, opts: ListOptions) -> Result<ListPage> {
        let state = self.lock();
        // Keys at or before the later of start_after and the page token are never
        // returned (neither are their common prefixes, which sort before them), so the
        // scan may start after it; paginate applies every rule itself.
        let after = [&opts.start_after, &opts.page_token]
            .into_iter()
            .flatten()
            .max();
        let lower = match after {
            Some(a) if a.as_str() >= opts.prefix.as_str() => Bound::Excluded(a.as_str()),
            _ => Bound::Included(opts.prefix.as_str()),
        };
        let prefix = opts.prefix.as_str();
        let metas = state
            .objects
            .range::<str, _>((lower, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, o)| ObjectMeta {
                content_type: None,
                metadata: BTreeMap::new(),
                ..o.meta.clone()
            });
        Ok(paginate(metas, &opts))
    }

    async fn copy(&self, from: &str, to: &str, opts: CopyOptions) -> Result<ObjectMeta> {
        let mut state = self.lock();
        let source = state.objects.get(from).ok_or_else(|| not_found(from))?;
        let (body, content_type, metadata) = (
            source.body.clone(),
            source.meta.content_type.clone(),
            source.meta.metadata.clone(),
        );
        if opts.create_only {
            state.check_mode(to, &PutMode::Create)?;
        }
        Ok(state.write(to, body, content_type, metadata))
    }

    async fn multipart_start(&self, key: &str, opts: PutOptions) -> Result<String> {
        let mut state = self.lock();
        let upload_id = format!("upload-{:x}", state.next());
        let upload = Upload {
            key: key.to_owned(),
            opts,
            parts: BTreeMap::new(),
        };
        state.uploads.insert(upload_id.clone(), upload);
        Ok(upload_id)
    }

    async fn multipart_put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<PartReceipt> {
        let mut state = self.lock();
        let etag = format!("\"p{:x}\"", state.next());
        let part = Part {
            etag: etag.clone(),
            data,
        };
        state
            .upload(key, upload_id)?
            .parts
            .insert(part_number, part);
        Ok(PartReceipt { part_number, etag })
    }

    async fn multipart_complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<PartReceipt>,
    ) -> Result<ObjectMeta> {
        let mut state = self.lock();
        let upload = state.upload(key, upload_id)?;
        let body = assemble(upload, &parts)?;
        let opts = upload.opts.clone();
        state.check_mode(key, &opts.mode)?;
        state.uploads.remove(upload_id);
        Ok(state.write(key, body, opts.content_type, opts.metadata))
    }

    async fn multipart_abort(&self, key: &str, upload_id: &str) -> Result<()> {
        let mut state = self.lock();
        state.upload(key, upload_id)?;
        state.uploads.remove(upload_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use stratus::blob::ByteRange;

    use super::*;

    fn store() -> MemoryBlobStore {
        MemoryBlobStore::default()
    }

    fn kind<T>(r: Result<T>) -> ErrorKind {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.kind(),
        }
    }

    #[tokio::test]
    async fn etag_changes_on_every_write_and_default_content_type_is_recorded() {
        let s = store();
        let a = s
            .put("k", Bytes::from_static(b"x"), PutOptions::default())
            .await
            .unwrap();
        let b = s
            .put("k", Bytes::from_static(b"x"), PutOptions::default())
            .await
            .unwrap();
        assert_ne!(a.etag, b.etag);
        assert_eq!(
            s.head("k").await.unwrap().content_type.as_deref(),
            Some(DEFAULT_CONTENT_TYPE)
        );
    }

    #[tokio::test]
    async fn put_modes() {
        let s = store();
        let create = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        let meta = s
            .put("k", Bytes::from_static(b"1"), create.clone())
            .await
            .unwrap();
        assert_eq!(
            kind(s.put("k", Bytes::new(), create).await),
            ErrorKind::AlreadyExists
        );
        let stale = PutOptions {
            mode: PutMode::Update {
                etag: "nope".into(),
            },
            ..Default::default()
        };
        assert_eq!(
            kind(s.put("k", Bytes::new(), stale.clone()).await),
            ErrorKind::PreconditionFailed
        );
        assert_eq!(
            kind(s.put("absent", Bytes::new(), stale).await),
            ErrorKind::PreconditionFailed
        );
        let update = PutOptions {
            mode: PutMode::Update { etag: meta.etag },
            ..Default::default()
        };
        s.put("k", Bytes::from_static(b"2"), update).await.unwrap();
    }

    #[tokio::test]
    async fn get_conditions_and_ranges() {
        let s = store();
        assert_eq!(
            kind(s.get("k", GetOptions::default()).await),
            ErrorKind::NotFound
        );
        let meta = s
            .put(
                "k",
                Bytes::from_static(b"0123456789"),
                PutOptions::default(),
            )
            .await
            .unwrap();
        let opts = GetOptions {
            if_none_match: Some(meta.etag.clone()),
            ..Default::default()
        };
        assert_eq!(kind(s.get("k", opts).await), ErrorKind::PreconditionFailed);
        let opts = GetOptions {
            if_match: Some("other".into()),
            ..Default::default()
        };
        assert_eq!(kind(s.get("k", opts).await), ErrorKind::PreconditionFailed);
        let opts = GetOptions {
            range: Some(ByteRange::Bounded { start: 8, end: 50 }),
            ..Default::default()
        };
        let got = s.get("k", opts).await.unwrap();
        assert_eq!((got.range.clone(), got.meta.size), (8..10, 10));
        assert_eq!(got.bytes().await.unwrap(), Bytes::from_static(b"89"));
        let opts = GetOptions {
            range: Some(ByteRange::From(10)),
            ..Default::default()
        };
        assert_eq!(kind(s.get("k", opts).await), ErrorKind::InvalidArgument);
    }

    #[tokio::test]
    async fn list_strips_content_type_and_metadata_and_pages() {
        let s = store();
        let mut opts = PutOptions {
            content_type: Some("text/plain".into()),
            ..Default::default()
        };
        opts.metadata.insert("a".into(), "b".into());
        for key in ["a/1", "a/2", "b", "c/x/y", "d"] {
            s.put(key, Bytes::from_static(b"x"), opts.clone())
                .await
                .unwrap();
        }
        let page = s
            .list(ListOptions {
                delimiter: Some("/".into()),
                page_size: Some(2),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.common_prefixes, vec!["a/".to_owned()]);
        assert_eq!(page.objects.len(), 1);
        assert!(page.objects[0].content_type.is_none() && page.objects[0].metadata.is_empty());
        let next = s
            .list(ListOptions {
                delimiter: Some("/".into()),
                page_token: page.next_page_token,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(next.common_prefixes, vec!["c/".to_owned()]);
        assert_eq!(
            next.objects
                .iter()
                .map(|o| o.key.as_str())
                .collect::<Vec<_>>(),
            vec!["d"]
        );
        let prefixed = s
            .list(ListOptions {
                prefix: "a/".into(),
                start_after: Some("a/1".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            prefixed
                .objects
                .iter()
                .map(|o| o.key.as_str())
                .collect::<Vec<_>>(),
            vec!["a/2"]
        );
    }

    #[tokio::test]
    async fn copy_keeps_attributes_and_honours_create_only() {
        let s = store();
        assert_eq!(
            kind(s.copy("a", "b", CopyOptions::default()).await),
            ErrorKind::NotFound
        );
        let mut opts = PutOptions {
            content_type: Some("text/plain".into()),
            ..Default::default()
        };
        opts.metadata.insert("m".into(), "v".into());
        let src = s.put("a", Bytes::from_static(b"body"), opts).await.unwrap();
        let copy = s.copy("a", "b", CopyOptions::default()).await.unwrap();
        assert_ne!(copy.etag, src.etag);
        assert_eq!(
            (copy.content_type, copy.metadata),
            (src.content_type, src.metadata)
        );
        let create_only = CopyOptions { create_only: true };
        assert_eq!(
            kind(s.copy("a", "b", create_only).await),
            ErrorKind::AlreadyExists
        );
    }

    #[tokio::test]
    async fn multipart_part_size_rule_applies_to_all_but_the_last_part() {
        let s = store();
        let id = s.multipart_start("k", PutOptions::default()).await.unwrap();
        let small = s
            .multipart_put_part("k", &id, 1, Bytes::from_static(b"tiny"))
            .await
            .unwrap();
        let last = s
            .multipart_put_part("k", &id, 2, Bytes::from_static(b"end"))
            .await
            .unwrap();
        let err = s
            .multipart_complete("k", &id, vec![small, last.clone()])
            .await;
        assert_eq!(kind(err), ErrorKind::InvalidArgument);
        // Re-uploading part 1 replaces it; the old receipt no longer matches.
        let big = Bytes::from(vec![7u8; MIN_MULTIPART_PART_BYTES]);
        let first = s.multipart_put_part("k", &id, 1, big).await.unwrap();
        let meta = s
            .multipart_complete("k", &id, vec![first, last])
            .await
            .unwrap();
        assert_eq!(meta.size as usize, MIN_MULTIPART_PART_BYTES + 3);
        assert_eq!(meta.content_type.as_deref(), Some(DEFAULT_CONTENT_TYPE));
        // Completed uploads are gone.
        assert_eq!(
            kind(s.multipart_complete("k", &id, vec![]).await),
            ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn a_single_small_part_is_fine_and_wrong_etags_are_invalid() {
        let s = store();
        let id = s.multipart_start("k", PutOptions::default()).await.unwrap();
        let part = s
            .multipart_put_part("k", &id, 1, Bytes::from_static(b"x"))
            .await
            .unwrap();
        let wrong = PartReceipt {
            etag: "other".into(),
            ..part.clone()
        };
        assert_eq!(
            kind(s.multipart_complete("k", &id, vec![wrong]).await),
            ErrorKind::InvalidArgument
        );
        let missing = PartReceipt {
            part_number: 2,
            ..part.clone()
        };
        assert_eq!(
            kind(s.multipart_complete("k", &id, vec![missing]).await),
            ErrorKind::InvalidArgument
        );
        s.multipart_complete("k", &id, vec![part]).await.unwrap();
        assert_eq!(
            s.get("k", GetOptions::default())
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
            "x"
        );
    }

    #[tokio::test]
    async fn multipart_mode_is_checked_at_complete() {
        let s = store();
        let create = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        let id = s.multipart_start("k", create).await.unwrap();
        let part = s
            .multipart_put_part("k", &id, 1, Bytes::from_static(b"x"))
            .await
            .unwrap();
        s.put("k", Bytes::from_static(b"first"), PutOptions::default())
            .await
            .unwrap();
        assert_eq!(
            kind(s.multipart_complete("k", &id, vec![part]).await),
            ErrorKind::AlreadyExists
        );
        s.multipart_abort("k", &id).await.unwrap();
    }

    #[tokio::test]
    async fn abort_removes_everything() {
        let s = store();
        let id = s.multipart_start("k", PutOptions::default()).await.unwrap();
        let part = s
            .multipart_put_part("k", &id, 1, Bytes::from_static(b"x"))
            .await
            .unwrap();
        assert_eq!(
            kind(s.multipart_abort("other", &id).await),
            ErrorKind::NotFound
        );
        s.multipart_abort("k", &id).await.unwrap();
        assert!(s.lock().uploads.is_empty());
        assert_eq!(
            kind(s.multipart_complete("k", &id, vec![part]).await),
            ErrorKind::NotFound
        );
        assert_eq!(kind(s.multipart_abort("k", &id).await), ErrorKind::NotFound);
        assert_eq!(kind(s.head("k").await), ErrorKind::NotFound);
        let put = s
            .multipart_put_part("k", &id, 1, Bytes::from_static(b"x"))
            .await;
        assert_eq!(kind(put), ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn same_name_opens_same_store() {
        let service = MemoryBlobService::new();
        let a = service.open("s").await.unwrap();
        a.put("k", Bytes::from_static(b"x"), PutOptions::default())
            .await
            .unwrap();
        let b = service.open("s").await.unwrap();
        b.head("k").await.unwrap();
        let other = service.open("t").await.unwrap();
        assert_eq!(kind(other.head("k").await), ErrorKind::NotFound);
    }
}
