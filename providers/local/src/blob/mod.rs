//! Blob stores as files: store `name` lives in `root/<name>/`, one file per object holding
//! a header (key, size, ETag, content type, metadata, time) and the data.
//!
//! Writes go to a temp file in `.tmp/` that is flushed and then published by a single
//! rename (or hard link, for create-only writes) under the store lock, so readers see the
//! old or the new object and never a mix. See the submodules for each part.

mod files;
mod header;
mod layout;
mod list;
mod multipart;
mod publish;
mod read;

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use stratus::blob::{
    BlobService, BlobStore, CopyOptions, GetOptions, GetResult, ListOptions, ListPage, ObjectMeta,
    PartReceipt, PutMode, PutOptions,
};
use stratus::capabilities::BlobCapabilities;
use stratus::config::{ConfigError, Section};
use stratus::{Result, async_trait};

use crate::offload::blocking;
use files::{fs_error, remove_any, remove_stale, write_object_file};
use header::Header;
use layout::Layout;
use publish::{StoreLock, check_mode, publish_locked};

/// What every local blob store declares.
pub const CAPABILITIES: BlobCapabilities = BlobCapabilities {
    conditional_write: true,
    multipart: true,
    presign: false,
    max_object_bytes: 5 << 40,
};

/// Temp files older than this are left by crashed writers and removed on open.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Options of the local blob service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobOptions {
    /// The folder holding one sub-folder per store.
    pub root: PathBuf,
}

impl BlobOptions {
    /// Reads `root` (required path); unknown keys are errors. No side effects.
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let root = section
            .path_value("root")?
            .ok_or_else(|| section.key_error("root", "missing required key `root`"))?;
        section.finish()?;
        Ok(Self { root })
    }
}

/// Opens filesystem blob stores under the configured root.
pub struct LocalBlobService {
    root: PathBuf,
    open: Mutex<HashMap<String, Arc<LocalBlobStore>>>,
}

impl LocalBlobService {
    /// Creates the root folder if needed.
    pub fn new(options: BlobOptions) -> Result<Self> {
        fs::create_dir_all(&options.root).map_err(|e| {
            fs_error(
                format!("cannot create blob root {}", options.root.display()),
                e,
            )
        })?;
        Ok(Self {
            root: options.root,
            open: Mutex::default(),
        })
    }
}

#[async_trait]
impl BlobService for LocalBlobService {
    async fn open(&self, name: &str) -> Result<Arc<dyn BlobStore>> {
        if let Some(store) = self
            .open
            .lock()
            .expect("blob store table poisoned")
            .get(name)
        {
            return Ok(store.clone());
        }
        let dir = self.root.join(name);
        let store = Arc::new(blocking(move || LocalBlobStore::open(dir)).await?);
        let mut open = self.open.lock().expect("blob store table poisoned");
        Ok(open.entry(name.to_owned()).or_insert(store).clone())
    }
}

/// One store: the folder `root/<name>/`.
pub struct LocalBlobStore {
    layout: Layout,
    lock: StoreLock,
}

impl LocalBlobStore {
    /// Opens (creating) the store kept in `dir` and removes stale temp files. Blocking.
    pub fn open(dir: PathBuf) -> Result<Self> {
        let layout = Layout::new(dir);
        for d in [
            layout.dir().to_owned(),
            layout.tmp_dir(),
            layout.uploads_dir(),
        ] {
            fs::create_dir_all(&d)
                .map_err(|e| fs_error(format!("cannot create {}", d.display()), e))?;
        }
        remove_stale(&layout.tmp_dir(), STALE_TEMP_AGE);
        let lock = StoreLock::open(&layout.lock_path())?;
        Ok(Self { layout, lock })
    }

    /// Writes a new object file for `key` into the temp folder; returns it and its header.
    async fn write_temp(
        &self,
        key: &str,
        body: Bytes,
        opts: &PutOptions,
    ) -> Result<(PathBuf, Header)> {
        let layout = self.layout.clone();
        let header = Header::new(
            key,
            body.len() as u64,
            opts.content_type.clone(),
            opts.metadata.clone(),
        );
        blocking(move || {
            let temp = layout.temp_path();
            write_object_file(&temp, &header, |file| file.write_all(&body))?;
            Ok((temp, header))
        })
        .await
    }

    /// Fails early (without the lock) when `mode` already cannot hold; the decisive check
    /// is repeated under the lock.
    async fn precheck(&self, key: &str, mode: &PutMode) -> Result<()> {
        if *mode == PutMode::Overwrite {
            return Ok(());
        }
        let (target, key, mode) = (self.layout.object_path(key), key.to_owned(), mode.clone());
        blocking(move || check_mode(&target, &key, &mode)).await
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    fn capabilities(&self) -> BlobCapabilities {
        CAPABILITIES
    }

    async fn put(&self, key: &str, body: Bytes, opts: PutOptions) -> Result<ObjectMeta> {
        self.precheck(key, &opts.mode).await?;
        let (temp, header) = self.write_temp(key, body, &opts).await?;
        publish_locked(&self.lock, &self.layout, temp, key, opts.mode).await?;
        Ok(header.meta())
    }

    async fn get(&self, key: &str, opts: GetOptions) -> Result<GetResult> {
        let (path, key) = (self.layout.object_path(key), key.to_owned());
        let (file, header, range) =
            blocking(move || read::open_for_get(&path, &key, &opts)).await?;
        Ok(read::get_result(file, &header, range))
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta> {
        let (path, key) = (self.layout.object_path(key), key.to_owned());
        blocking(move || read::open_object(&path, &key).map(|(_, header, _)| header.meta())).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let (layout, key) = (self.layout.clone(), key.to_owned());
        self.lock.with(move || publish::delete(&layout, &key)).await
    }

    async fn list(&self, opts: ListOptions) -> Result<ListPage> {
        let layout = self.layout.clone();
        blocking(move || list::list(&layout, &opts)).await
    }

    async fn copy(&self, from: &str, to: &str, opts: CopyOptions) -> Result<ObjectMeta> {
        let mode = if opts.create_only {
            PutMode::Create
        } else {
            PutMode::Overwrite
        };
        self.precheck(to, &mode).await?;
        let (layout, source, from_key, to_key) = (
            self.layout.clone(),
            self.layout.object_path(from),
            from.to_owned(),
            to.to_owned(),
        );
        let (temp, header) = blocking(move || {
            let (file, src, _) = read::open_object(&source, &from_key)?;
            let header = Header::new(&to_key, src.size, Some(src.content_type), src.metadata);
            let temp = layout.temp_path();
            write_object_file(&temp, &header, |out| {
                let copied = std::io::copy(&mut std::io::Read::take(file, src.size), out)?;
                if copied == src.size {
                    Ok(())
                } else {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "source object is truncated",
                    ))
                }
            })?;
            Ok((temp, header))
        })
        .await?;
        publish_locked(&self.lock, &self.layout, temp, to, mode).await?;
        Ok(header.meta())
    }

    async fn multipart_start(&self, key: &str, opts: PutOptions) -> Result<String> {
        let (layout, key) = (self.layout.clone(), key.to_owned());
        blocking(move || multipart::start(&layout, &key, opts)).await
    }

    async fn multipart_put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<PartReceipt> {
        let (layout, key, id) = (self.layout.clone(), key.to_owned(), upload_id.to_owned());
        blocking(move || multipart::put_part(&layout, &key, &id, part_number, data)).await
    }

    async fn multipart_complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<PartReceipt>,
    ) -> Result<ObjectMeta> {
        let (layout, key_owned, id) = (self.layout.clone(), key.to_owned(), upload_id.to_owned());
        let manifest = {
            let (layout, key, id) = (layout.clone(), key_owned.clone(), id.clone());
            blocking(move || multipart::load(&layout, &key, &id)).await?
        };
        self.precheck(key, &manifest.mode.clone().into()).await?;
        let (manifest, temp, header) =
            blocking(move || multipart::assemble(&layout, &key_owned, &id, &parts)).await?;
        let (layout, id, cleanup) = (self.layout.clone(), upload_id.to_owned(), temp.clone());
        let finished = self
            .lock
            .with(move || multipart::finish(&layout, &id, &manifest, &temp))
            .await;
        let trash = match finished {
            Ok(trash) => trash,
            Err(e) => {
                let _ = blocking(move || {
                    let _ = remove_any(&cleanup);
                    Ok(())
                })
                .await;
                return Err(e);
            }
        };
        blocking(move || {
            remove_any(&trash).map_err(|e| fs_error("cannot remove finished upload", e))
        })
        .await?;
        Ok(header.meta())
    }

    async fn multipart_abort(&self, key: &str, upload_id: &str) -> Result<()> {
        let (layout, key, id) = (self.layout.clone(), key.to_owned(), upload_id.to_owned());
        let trash = self
            .lock
            .with(move || {
                multipart::load(&layout, &key, &id)?;
                multipart::take_away(&layout, &id)
            })
            .await?;
        blocking(move || {
            remove_any(&trash).map_err(|e| fs_error("cannot remove aborted upload", e))
        })
        .await
    }
}
