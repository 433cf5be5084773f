//! One `redb::Database` per file per process, shared by the KV and queue services (redb
//! allows a file to be open only once).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use redb::Database;
use stratus::{Error, ErrorKind, Result};

static OPEN: OnceLock<Mutex<HashMap<PathBuf, Weak<Database>>>> = OnceLock::new();

/// Opens (creating folders and the file as needed) or reuses the database at `path`.
pub fn open_shared(path: &Path) -> Result<Arc<Database>> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::from(e).with_operation("open"))?;
    }
    let canonical = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.canonicalize())
        .transpose()?
        .map(|dir| dir.join(path.file_name().unwrap_or_default()))
        .unwrap_or_else(|| path.to_owned());
    let mut open = OPEN
        .get_or_init(Default::default)
        .lock()
        .expect("db registry poisoned");
    if let Some(db) = open.get(&canonical).and_then(Weak::upgrade) {
        return Ok(db);
    }
    let db = Arc::new(Database::create(&canonical).map_err(|e| {
        Error::new(
            ErrorKind::Unavailable,
            format!("cannot open redb database {}", canonical.display()),
        )
        .with_source(e)
    })?);
    open.insert(canonical, Arc::downgrade(&db));
    Ok(db)
}

/// Maps a redb error to a stratus error of kind `Internal` (storage failures) with context.
pub fn redb_error(context: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(ErrorKind::Internal, format!("redb: {context}")).with_source(e)
}

/// Maps any redb error to a stratus error labelled with what was being done.
pub trait Db<T> {
    /// Labels the error with `context`.
    fn db(self, context: &str) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Db<T> for std::result::Result<T, E> {
    fn db(self, context: &str) -> Result<T> {
        self.map_err(|e| redb_error(context, e))
    }
}
