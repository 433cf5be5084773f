//! The `azure-blob` provider: Azure Blob Storage through `object_store`'s Azure client.
//!
//! - One container (`container`, required) holds every store; store `n` is the key prefix
//!   `n/` (stripped from results). `provision` creates the container with a signed
//!   `PUT ?restype=container` (object_store cannot).
//! - `endpoint` (e.g. Azurite's `http://127.0.0.1:10000/devstoreaccount1`) is used as the
//!   account URL, path style; plain http is allowed for such endpoints.
//! - Conditional writes map to `If-None-Match: *` / `If-Match`. A get reads the metadata
//!   first (conditions and range are checked against it) and then the body with
//!   `If-Match` on the ETag seen, so the body always belongs to the returned meta.
//! - Lists read every key of the store under the requested prefix and page in process with
//!   `blob::paginate` (object_store lists whole path segments and only `/` delimiters):
//!   each page costs a listing of the prefix.
//! - Metadata names are escaped into C# identifiers and values that are not plain ASCII
//!   are stored as base64 behind a marker (`encode_meta_*`), both hidden from callers.
//! - Presigned URLs are Service SAS URLs from `object_store`'s `Signer`.
//! - Multipart uploads are block uploads with a manifest blob per upload under
//!   `.stratus-uploads/` in the container, sent with the signed REST client
//!   (`object_store`'s Azure multipart API picks random block ids, takes no put mode and
//!   cannot check receipts); see `multipart.rs`. Streamed puts use the default
//!   `put_stream_via_multipart`, so they run in bounded memory.

mod meta;
mod multipart;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::azure::{MicrosoftAzure, MicrosoftAzureBuilder};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{
    Attribute, AttributeValue, Attributes, GetRange, ObjectStore, ObjectStoreExt, UpdateVersion,
};
use stratus::blob::{
    BlobService, BlobStore, CopyOptions, DEFAULT_CONTENT_TYPE, GetOptions, GetResult, ListOptions,
    ListPage, ObjectMeta, PartReceipt, PresignMethod, PutMode, PutOptions, paginate,
};
use stratus::capabilities::BlobCapabilities;
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{BuildContext, Declared, Error, ErrorKind, Provider, Result, async_trait};
use stratus_objectstore::Prefixed;

use crate::options::AzureOptions;
use crate::rest::ensure_container;
use crate::shared_key::Flavour;

use meta::quoted;
pub use meta::{decode_meta_name, decode_meta_value, encode_meta_name, encode_meta_value};
use multipart::Uploads;

/// What every Azure blob store declares.
pub const CAPABILITIES: BlobCapabilities = BlobCapabilities {
    conditional_write: true,
    multipart: true,
    presign: true,
    // A single Put Blob accepts up to 5000 MiB.
    max_object_bytes: 5000 * 1024 * 1024,
};

/// Options of the `azure-blob` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobOptions {
    /// Account, key and blob endpoint.
    pub azure: AzureOptions,
    /// The container holding every store.
    pub container: String,
}

impl BlobOptions {
    /// Parses the section (no side effects).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let azure = AzureOptions::parse(section)?;
        let container = section.required_string("container")?;
        let ok = (3..=63).contains(&container.len())
            && container
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(section.key_error("container", "must be 3..=63 of a-z, 0-9 and '-'"));
        }
        section.finish()?;
        Ok(Self { azure, container })
    }

    fn build(&self) -> Result<MicrosoftAzure> {
        let endpoint = self.azure.endpoint_for("blob");
        MicrosoftAzureBuilder::new()
            .with_account(&self.azure.account)
            .with_access_key(&self.azure.access_key)
            .with_container_name(&self.container)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| os_error("configure azure blob", e))
    }
}

/// The `azure-blob` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct AzureBlobProvider;

#[async_trait]
impl Provider for AzureBlobProvider {
    fn name(&self) -> &'static str {
        "azure-blob"
    }

    fn description(&self) -> &'static str {
        "Azure Blob Storage (object_store; conditional writes, multipart, SAS presign)"
    }

    fn declared(&self) -> Declared {
        Declared {
            blob: Some(CAPABILITIES),
            ..Declared::default()
        }
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        BlobOptions::parse(options).map(drop)
    }

    async fn provision(&self, _service: ServiceKind, options: &Section) -> Result<Vec<String>> {
        let options = BlobOptions::parse(options)?;
        let client = options
            .azure
            .client(&options.azure.endpoint_for("blob"), Flavour::BlobQueue)?;
        ensure_container(&client, &options.container).await?;
        Ok(vec![format!("azure blob container {}", options.container)])
    }

    async fn blob(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn BlobService>> {
        let options = BlobOptions::parse(options)?;
        let client = options
            .azure
            .client(&options.azure.endpoint_for("blob"), Flavour::BlobQueue)?;
        Ok(Arc::new(AzureBlobService {
            store: Arc::new(options.build()?),
            uploads: Arc::new(Uploads::new(client, options.container.clone())),
        }))
    }
}

/// Opens stores (key prefixes) of one container.
pub struct AzureBlobService {
    store: Arc<MicrosoftAzure>,
    uploads: Arc<Uploads>,
}

#[async_trait]
impl BlobService for AzureBlobService {
    async fn open(&self, name: &str) -> Result<Arc<dyn BlobStore>> {
        Ok(Arc::new(AzureBlobStore {
            store: self.store.clone(),
            uploads: self.uploads.clone(),
            paths: Prefixed::new(format!("{name}/")),
        }))
    }
}

/// One logical store: a key prefix in the container.
pub struct AzureBlobStore {
    store: Arc<MicrosoftAzure>,
    uploads: Arc<Uploads>,
    paths: Prefixed,
}

/// Classifies an object_store error (the generic ones are transport or service failures).
fn os_error(what: &str, e: object_store::Error) -> Error {
    let kind = stratus_objectstore::typed_kind(&e).unwrap_or(ErrorKind::Unavailable);
    Error::new(kind, what.to_owned()).with_source(e)
}

impl AzureBlobStore {
    /// One consistent read; `None` when the object changed between meta and body.
    async fn get_once(&self, key: &str, opts: &GetOptions) -> Result<Option<GetResult>> {
        let meta = self.full_head(key).await?;
        let range = opts.evaluate(key, &meta.etag, meta.size)?;
        if range.is_empty() {
            let body = futures::stream::empty().boxed();
            return Ok(Some(GetResult { meta, range, body }));
        }
        let options = object_store::GetOptions {
            if_match: Some(meta.etag.clone()),
            range: (range != (0..meta.size)).then(|| GetRange::Bounded(range.clone())),
            ..Default::default()
        };
        let path = self.path(key)?;
        let result = match self.store.get_opts(&path, options).await {
            Ok(result) => result,
            Err(
                object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. },
            ) => {
                return Ok(None);
            }
            Err(e) => return Err(os_error(&format!("get {key:?}"), e)),
        };
        let what = format!("read body of {key:?}");
        let body = result
            .into_stream()
            .map_err(move |e| os_error(&what, e))
            .boxed();
        Ok(Some(GetResult { meta, range, body }))
    }

    /// The blob name of `key` in the container.
    fn blob_name(&self, key: &str) -> String {
        format!("{}{key}", self.paths.prefix())
    }

    fn path(&self, key: &str) -> Result<Path> {
        self.paths.path(key, "Azure blob")
    }

    fn meta(&self, m: &object_store::ObjectMeta, attributes: Option<&Attributes>) -> ObjectMeta {
        let full = m.location.as_ref();
        let key = self.paths.key_of(full).to_owned();
        let mut content_type = None;
        let mut metadata = BTreeMap::new();
        if let Some(attributes) = attributes {
            for (attribute, value) in attributes {
                match attribute {
                    Attribute::ContentType => content_type = Some(value.to_string()),
                    Attribute::Metadata(name) => {
                        metadata.insert(decode_meta_name(name), decode_meta_value(value));
                    }
                    _ => {}
                }
            }
        }
        ObjectMeta {
            key,
            size: m.size,
            etag: quoted(m.e_tag.as_deref().unwrap_or_default()),
            last_modified: SystemTime::from(m.last_modified),
            content_type,
            metadata,
        }
    }

    /// Metadata with content type and user metadata (a GET with `head`).
    async fn full_head(&self, key: &str) -> Result<ObjectMeta> {
        let path = self.path(key)?;
        let options = object_store::GetOptions {
            head: true,
            ..Default::default()
        };
        let r = self
            .store
            .get_opts(&path, options)
            .await
            .map_err(|e| os_error(&format!("head {key:?}"), e))?;
        Ok(self.meta(&r.meta, Some(&r.attributes)))
    }
}

fn attributes(opts: &PutOptions) -> Attributes {
    let mut attributes = Attributes::new();
    let content_type = opts
        .content_type
        .clone()
        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
    attributes.insert(Attribute::ContentType, AttributeValue::from(content_type));
    for (name, value) in &opts.metadata {
        attributes.insert(
            Attribute::Metadata(encode_meta_name(name).into()),
            AttributeValue::from(encode_meta_value(value)),
        );
    }
    attributes
}

#[async_trait]
impl BlobStore for AzureBlobStore {
    fn capabilities(&self) -> BlobCapabilities {
        CAPABILITIES
    }

    async fn put(&self, key: &str, body: Bytes, opts: PutOptions) -> Result<ObjectMeta> {
        let path = self.path(key)?;
        let mode = match &opts.mode {
            PutMode::Overwrite => object_store::PutMode::Overwrite,
            PutMode::Create => object_store::PutMode::Create,
            PutMode::Update { etag } => object_store::PutMode::Update(UpdateVersion {
                e_tag: Some(etag.clone()),
                version: None,
            }),
        };
        let size = body.len() as u64;
        let put = object_store::PutOptions {
            mode,
            attributes: attributes(&opts),
            ..Default::default()
        };
        let result = self
            .store
            .put_opts(&path, body.into(), put)
            .await
            .map_err(|e| os_error(&format!("put {key:?}"), e))?;
        let etag = quoted(result.e_tag.as_deref().unwrap_or_default());
        // The put answer has no Last-Modified: read it back (same ETag) or use the clock.
        let last_modified = match self.store.head(&path).await {
            Ok(m) if quoted(m.e_tag.as_deref().unwrap_or_default()) == etag => {
                m.last_modified.into()
            }
            _ => SystemTime::now(),
        };
        Ok(ObjectMeta {
            key: key.to_owned(),
            size,
            etag,
            last_modified,
            content_type: Some(
                opts.content_type
                    .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            ),
            metadata: opts.metadata,
        })
    }

    async fn get(&self, key: &str, opts: GetOptions) -> Result<GetResult> {
        // Metadata first (conditions, range), then the body pinned to that ETag; a write in
        // between makes the body read fail with 412, and the whole read starts again.
        let mut attempt = 0;
        loop {
            match self.get_once(key, &opts).await? {
                Some(result) => return Ok(result),
                None if attempt < 10 => attempt += 1,
                None => {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        format!("object {key:?} kept changing while read"),
                    ));
                }
            }
        }
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta> {
        self.full_head(key).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match self.store.delete(&path).await {
            Ok(()) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(os_error(&format!("delete {key:?}"), e)),
        }
    }

    async fn list(&self, opts: ListOptions) -> Result<ListPage> {
        let root = Path::parse(self.paths.prefix().trim_end_matches('/'))
            .map_err(|e| Error::internal(format!("store prefix: {e}")))?;
        let mut metas: Vec<ObjectMeta> = self
            .store
            .list(Some(&root))
            .map_err(|e| os_error("list", e))
            .try_filter_map(|m| {
                let meta = self.meta(&m, None);
                futures::future::ready(Ok(meta.key.starts_with(&opts.prefix).then_some(meta)))
            })
            .try_collect()
            .await?;
        metas.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(paginate(metas, &opts))
    }

    async fn copy(&self, from: &str, to: &str, opts: CopyOptions) -> Result<ObjectMeta> {
        let (source, target) = (self.path(from)?, self.path(to)?);
        // Copy Blob answers 404 for an absent source, whatever the mode.
        let mode = if opts.create_only {
            object_store::CopyMode::Create
        } else {
            object_store::CopyMode::Overwrite
        };
        let options = object_store::CopyOptions {
            mode,
            ..Default::default()
        };
        self.store
            .copy_opts(&source, &target, options)
            .await
            .map_err(|e| os_error(&format!("copy {from:?} to {to:?}"), e))?;
        self.full_head(to).await
    }

    async fn multipart_start(&self, key: &str, opts: PutOptions) -> Result<String> {
        self.uploads.start(&self.blob_name(key), key, &opts).await
    }

    async fn multipart_put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<PartReceipt> {
        let blob = self.blob_name(key);
        self.uploads
            .put_part(&blob, key, upload_id, part_number, data)
            .await
    }

    async fn multipart_complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<PartReceipt>,
    ) -> Result<ObjectMeta> {
        let blob = self.blob_name(key);
        let max = CAPABILITIES.max_object_bytes;
        self.uploads
            .complete(&blob, key, upload_id, &parts, max)
            .await
    }

    async fn multipart_abort(&self, key: &str, upload_id: &str) -> Result<()> {
        self.uploads
            .abort(&self.blob_name(key), key, upload_id)
            .await
    }

    async fn presign(
        &self,
        key: &str,
        method: PresignMethod,
        expires_in: Duration,
    ) -> Result<String> {
        let method = match method {
            PresignMethod::Get => reqwest::Method::GET,
            PresignMethod::Put => reqwest::Method::PUT,
        };
        let url = self
            .store
            .signed_url(method, &self.path(key)?, expires_in)
            .await
            .map_err(|e| os_error(&format!("presign {key:?}"), e))?;
        Ok(url.to_string())
    }
}
