//! Small blocking filesystem helpers: error mapping, durable temp files, cleanup.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use stratus::{Error, ErrorKind, Result};

use super::header::Header;

/// A stratus error for an unexpected filesystem failure while doing `context`.
pub fn fs_error(context: impl Into<String>, e: io::Error) -> Error {
    let kind = match e.kind() {
        io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    Error::new(kind, context).with_source(e)
}

/// Creates `path` (which must not exist), writes `header` and lets `body` write the data,
/// then flushes it to disk. On any failure the file is removed.
pub fn write_object_file(
    path: &Path,
    header: &Header,
    body: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<()> {
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
        {
            let mut buffered = io::BufWriter::new(&mut file);
            header.write_to(&mut buffered)?;
            buffered.flush()?;
        }
        body(&mut file)?;
        file.sync_all()
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(path);
        fs_error(format!("cannot write {}", path.display()), e)
    })
}

/// Flushes a folder's entries to disk (after a rename); best effort.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes `dir` and its parents while they are empty, stopping at `stop` (kept).
pub fn remove_empty_dirs(mut dir: &Path, stop: &Path) {
    while dir != stop && dir.starts_with(stop) {
        if fs::remove_dir(dir).is_err() {
            return;
        }
        match dir.parent() {
            Some(parent) => dir = parent,
            None => return,
        }
    }
}

/// Removes a file or folder tree; absent is fine.
pub fn remove_any(path: &Path) -> io::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes entries of `tmp_dir` not modified for `max_age` (left by crashed writers).
pub fn remove_stale(tmp_dir: &Path, max_age: Duration) {
    let Ok(entries) = fs::read_dir(tmp_dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age >= max_age);
        if stale {
            let _ = remove_any(&entry.path());
        }
    }
}
