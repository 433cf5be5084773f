//! Publishing written temp files under the store lock, so mode checks and the rename are
//! atomic against writers in this process and in other processes.
//!
//! The lock is an in-process async mutex (so waiting tasks do not block threads) plus an
//! exclusive file lock on `root/<store>/.lock` (for other processes). It is held only
//! around check + rename, never while data is written.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use stratus::blob::PutMode;
use stratus::{Error, ErrorKind, Result};
use tokio::sync::Mutex;

use super::files::{fs_error, remove_empty_dirs, sync_dir};
use super::header::Header;
use super::layout::{Layout, uses_hashed_names};
use crate::offload::blocking;

/// The store-wide writer lock.
pub struct StoreLock {
    file: Arc<File>,
    local: Arc<Mutex<()>>,
}

impl StoreLock {
    /// Opens (creating) the lock file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| fs_error(format!("cannot open lock file {}", path.display()), e))?;
        Ok(Self {
            file: Arc::new(file),
            local: Arc::new(Mutex::new(())),
        })
    }

    /// Runs `work` on a blocking thread while holding both locks. The in-process guard moves
    /// into the blocking task, so a cancelled caller cannot let a second task in early.
    pub async fn with<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce() -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let guard = Arc::clone(&self.local).lock_owned().await;
        let file = Arc::clone(&self.file);
        blocking(move || {
            let _guard = guard;
            file.lock()
                .map_err(|e| fs_error("cannot lock the blob store", e))?;
            let result = work();
            let _ = file.unlock();
            result
        })
        .await
    }
}

/// Reads the header of the object file at `path`; `None` if there is none.
pub fn current(path: &Path) -> Result<Option<Header>> {
    match Header::open(path) {
        Ok((_, header, _)) => Ok(Some(header)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(fs_error(format!("cannot read {}", path.display()), e)),
    }
}

/// Checks `mode` against the object currently stored at `target` for `key`.
pub fn check_mode(target: &Path, key: &str, mode: &PutMode) -> Result<()> {
    let needs_header = !matches!(mode, PutMode::Overwrite) || uses_hashed_names(key);
    if !needs_header {
        return Ok(());
    }
    let existing = current(target)?;
    if let Some(h) = &existing
        && h.key != key
    {
        return Err(Error::internal(format!(
            "file name collision between keys {key:?} and {:?}",
            h.key
        )));
    }
    match (mode, existing) {
        (PutMode::Overwrite, _) | (PutMode::Create, None) => Ok(()),
        (PutMode::Create, Some(_)) => Err(Error::new(
            ErrorKind::AlreadyExists,
            format!("object {key:?} already exists"),
        )),
        (PutMode::Update { etag }, Some(h)) if h.etag == *etag => Ok(()),
        (PutMode::Update { .. }, Some(_)) => Err(Error::precondition(format!(
            "object {key:?} has changed since the given ETag"
        ))),
        (PutMode::Update { .. }, None) => Err(Error::precondition(format!(
            "object {key:?} does not exist, so its ETag cannot match"
        ))),
    }
}

/// Moves the written temp file `temp` to the object file of `key`, honouring `mode`.
/// Must run under the store lock. On error the temp file is left for the caller.
pub fn publish(layout: &Layout, temp: &Path, key: &str, mode: &PutMode) -> Result<PathBuf> {
    let target = layout.object_path(key);
    check_mode(&target, key, mode)?;
    let parent = target
        .parent()
        .expect("object files live in the store folder");
    fs::create_dir_all(parent)
        .map_err(|e| fs_error(format!("cannot create {}", parent.display()), e))?;
    match mode {
        PutMode::Create => {
            // hard_link never replaces: an object that appeared meanwhile (written by a
            // process that ignores the lock) still makes this fail.
            fs::hard_link(temp, &target).map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => Error::new(
                    ErrorKind::AlreadyExists,
                    format!("object {key:?} already exists"),
                ),
                _ => fs_error(format!("cannot publish {}", target.display()), e),
            })?;
            let _ = fs::remove_file(temp);
        }
        PutMode::Overwrite | PutMode::Update { .. } => {
            fs::rename(temp, &target)
                .map_err(|e| fs_error(format!("cannot publish {}", target.display()), e))?;
        }
    }
    Ok(parent.to_owned())
}

/// Publishes `temp` as `key` under the lock, then makes the rename durable. The temp file
/// is removed if publishing fails.
pub async fn publish_locked(
    lock: &StoreLock,
    layout: &Layout,
    temp: PathBuf,
    key: &str,
    mode: PutMode,
) -> Result<()> {
    let (layout, key) = (layout.clone(), key.to_owned());
    let cleanup = temp.clone();
    let result = lock
        .with(move || publish(&layout, &temp, &key, &mode))
        .await;
    match result {
        Ok(parent) => {
            blocking(move || {
                sync_dir(&parent);
                Ok(())
            })
            .await
        }
        Err(e) => {
            let _ = blocking(move || {
                let _ = fs::remove_file(&cleanup);
                Ok(())
            })
            .await;
            Err(e)
        }
    }
}

/// Removes the object file of `key` (absent is fine) and then its empty folders.
/// Must run under the store lock.
pub fn delete(layout: &Layout, key: &str) -> Result<()> {
    let target = layout.object_path(key);
    if uses_hashed_names(key)
        && let Some(h) = current(&target)?
        && h.key != key
    {
        return Ok(()); // the file belongs to a different key: `key` is absent
    }
    match fs::remove_file(&target) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(fs_error(format!("cannot delete {}", target.display()), e)),
    }
    if let Some(parent) = target.parent() {
        remove_empty_dirs(parent, layout.dir());
        sync_dir(parent);
    }
    Ok(())
}
