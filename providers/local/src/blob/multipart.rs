//! Multipart uploads: `root/<store>/.uploads/<upload id>/` holds `manifest.json` (key,
//! content type, metadata, put mode) and one `<n>.part` file per part (object-file format,
//! the header carrying the part's ETag). Every function here is blocking.
//!
//! Completing and aborting take the upload folder away under the store lock (renaming it
//! into the temp folder before removing it), so they exclude each other and a finished
//! upload id is `NotFound` from then on.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use stratus::blob::{PartReceipt, PutMode, PutOptions};
use stratus::limits::MIN_MULTIPART_PART_BYTES;
use stratus::{Error, Result};

use super::files::{fs_error, remove_any, sync_dir, write_object_file};
use super::header::Header;
use super::layout::{Layout, new_upload_id, valid_upload_id};
use super::publish::publish;

const MANIFEST: &str = "manifest.json";

/// What `start` recorded about an upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Target key.
    pub key: String,
    /// Content type from the start call.
    pub content_type: Option<String>,
    /// Metadata from the start call.
    pub metadata: BTreeMap<String, String>,
    /// Put mode, checked when the upload completes.
    pub mode: Mode,
}

/// A serialisable [`PutMode`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Mode {
    /// See [`PutMode::Overwrite`].
    Overwrite,
    /// See [`PutMode::Create`].
    Create,
    /// See [`PutMode::Update`].
    Update {
        /// The expected current ETag.
        etag: String,
    },
}

impl From<PutMode> for Mode {
    fn from(mode: PutMode) -> Self {
        match mode {
            PutMode::Overwrite => Mode::Overwrite,
            PutMode::Create => Mode::Create,
            PutMode::Update { etag } => Mode::Update { etag },
        }
    }
}

impl From<Mode> for PutMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Overwrite => PutMode::Overwrite,
            Mode::Create => PutMode::Create,
            Mode::Update { etag } => PutMode::Update { etag },
        }
    }
}

fn unknown_upload(id: &str) -> Error {
    Error::not_found(format!("no multipart upload with id {id:?} for this key"))
}

fn part_path(dir: &Path, part_number: u32) -> PathBuf {
    dir.join(format!("{part_number:05}.part"))
}

/// Creates the upload folder (built in the temp folder, then renamed into place).
pub fn start(layout: &Layout, key: &str, opts: PutOptions) -> Result<String> {
    let manifest = Manifest {
        key: key.to_owned(),
        content_type: opts.content_type,
        metadata: opts.metadata,
        mode: opts.mode.into(),
    };
    let staging = layout.temp_path();
    let id = new_upload_id();
    let result = (|| {
        fs::create_dir(&staging)?;
        let mut file = File::create(staging.join(MANIFEST))?;
        file.write_all(&serde_json::to_vec(&manifest).map_err(io::Error::other)?)?;
        file.sync_all()?;
        fs::rename(&staging, layout.upload_dir(&id))?;
        sync_dir(&layout.uploads_dir());
        Ok(())
    })();
    result.map_err(|e: io::Error| {
        let _ = remove_any(&staging);
        fs_error("cannot start a multipart upload", e)
    })?;
    Ok(id)
}

/// Reads the manifest of upload `id`, which must belong to `key`.
pub fn load(layout: &Layout, key: &str, id: &str) -> Result<Manifest> {
    if !valid_upload_id(id) {
        return Err(unknown_upload(id));
    }
    let path = layout.upload_dir(id).join(MANIFEST);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(unknown_upload(id)),
        Err(e) => return Err(fs_error(format!("cannot read {}", path.display()), e)),
    };
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| Error::internal(format!("corrupt upload manifest {}: {e}", path.display())))?;
    if manifest.key != key {
        return Err(unknown_upload(id));
    }
    Ok(manifest)
}

/// Stores part `part_number`, replacing an earlier upload of the same number.
pub fn put_part(
    layout: &Layout,
    key: &str,
    id: &str,
    part_number: u32,
    data: Bytes,
) -> Result<PartReceipt> {
    load(layout, key, id)?;
    let dir = layout.upload_dir(id);
    let header = Header::new(key, data.len() as u64, None, BTreeMap::new());
    let temp = dir.join(format!("{}.tmp", uuid::Uuid::new_v4().simple()));
    write_object_file(&temp, &header, |file| file.write_all(&data))
        .map_err(|e| if !dir.exists() { unknown_upload(id) } else { e })?;
    match fs::rename(&temp, part_path(&dir, part_number)) {
        Ok(()) => Ok(PartReceipt {
            part_number,
            etag: header.etag,
        }),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            if e.kind() == io::ErrorKind::NotFound {
                Err(unknown_upload(id))
            } else {
                Err(fs_error("cannot store a multipart part", e))
            }
        }
    }
}

/// Checks `parts` against the uploaded ones and concatenates them into a new temp file
/// holding the finished object. Returns the manifest, the temp file and its header.
pub fn assemble(
    layout: &Layout,
    key: &str,
    id: &str,
    parts: &[PartReceipt],
) -> Result<(Manifest, PathBuf, Header)> {
    let manifest = load(layout, key, id)?;
    let dir = layout.upload_dir(id);
    let mut files = Vec::with_capacity(parts.len());
    let mut total = 0u64;
    for (i, receipt) in parts.iter().enumerate() {
        let n = receipt.part_number;
        let (file, header, _) = match Header::open(&part_path(&dir, n)) {
            Ok(found) => found,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !dir.exists() {
                    return Err(unknown_upload(id));
                }
                return Err(Error::invalid(format!("part {n} was not uploaded")));
            }
            Err(e) => return Err(fs_error(format!("cannot read part {n}"), e)),
        };
        if header.etag != receipt.etag {
            return Err(Error::invalid(format!(
                "part {n} has ETag {:?}, not {:?}",
                header.etag, receipt.etag
            )));
        }
        if i + 1 < parts.len() && header.size < MIN_MULTIPART_PART_BYTES as u64 {
            return Err(Error::invalid(format!(
                "part {n} is {} bytes; every part but the last must be at least {MIN_MULTIPART_PART_BYTES}",
                header.size
            )));
        }
        total += header.size;
        files.push((file, header.size));
    }
    let header = Header::new(
        key,
        total,
        manifest.content_type.clone(),
        manifest.metadata.clone(),
    );
    let temp = layout.temp_path();
    write_object_file(&temp, &header, |out| {
        for (file, size) in files {
            let copied = io::copy(&mut file.take(size), out)?;
            if copied != size {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "multipart part is truncated",
                ));
            }
        }
        Ok(())
    })?;
    Ok((manifest, temp, header))
}

/// Publishes the assembled `temp` and takes the upload folder away. Must run under the
/// store lock. Returns the folder to remove afterwards (outside the lock).
pub fn finish(layout: &Layout, id: &str, manifest: &Manifest, temp: &Path) -> Result<PathBuf> {
    let dir = layout.upload_dir(id);
    if !dir.join(MANIFEST).exists() {
        return Err(unknown_upload(id)); // aborted or completed meanwhile
    }
    publish(layout, temp, &manifest.key, &manifest.mode.clone().into())?;
    take_away(layout, id)
}

/// Renames the upload folder into the temp folder so the id is gone at once. Must run
/// under the store lock. Returns the renamed folder, to remove afterwards.
pub fn take_away(layout: &Layout, id: &str) -> Result<PathBuf> {
    let trash = layout.temp_path();
    match fs::rename(layout.upload_dir(id), &trash) {
        Ok(()) => Ok(trash),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(unknown_upload(id)),
        Err(e) => Err(fs_error("cannot remove a multipart upload", e)),
    }
}
