//! KV on redb: one table per logical table (`kv:<name>`), keys are `partition 0x00 sort`
//! (keys never contain control characters, so byte order is partition then sort order),
//! values are [`record::Record`]s. Versions come from a store-wide counter in `kv#meta`,
//! so a version is never reused, not even after delete + recreate.

mod ops;
mod record;
mod store;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use redb::Database;
use stratus::capabilities::KvCapabilities;
use stratus::config::{ConfigError, Section};
use stratus::kv::{KvService, KvStore};
use stratus::{Result, async_trait};

use crate::db;
use store::LocalKvStore;

/// What every `local` KV table declares.
pub const CAPABILITIES: KvCapabilities = KvCapabilities {
    ttl: true,
    atomic_batch: true,
    native_increment: true,
};

/// Options of the `local` KV service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvOptions {
    /// The redb database file (may be the queue's file too).
    pub path: PathBuf,
}

impl KvOptions {
    /// Parses `path` (required); unknown keys are errors.
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let path = section
            .path_value("path")?
            .ok_or_else(|| section.key_error("path", "missing required key `path`"))?;
        section.finish()?;
        Ok(Self { path })
    }
}

/// The `local` KV service: named tables in one redb database.
pub struct LocalKvService {
    db: Arc<Database>,
    /// Tables known to exist (created at most once per service).
    created: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for LocalKvService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKvService").finish_non_exhaustive()
    }
}

impl LocalKvService {
    /// Opens (creating as needed) the database at `options.path`.
    pub fn new(options: KvOptions) -> Result<Self> {
        Ok(Self {
            db: db::open_shared(&options.path)?,
            created: Mutex::default(),
        })
    }
}

#[async_trait]
impl KvService for LocalKvService {
    async fn open(&self, name: &str) -> Result<Arc<dyn KvStore>> {
        let table = format!("kv:{name}");
        let known = self
            .created
            .lock()
            .expect("kv service poisoned")
            .contains(&table);
        if !known {
            let (db, t) = (self.db.clone(), table.clone());
            crate::offload::blocking(move || ops::create_table(&db, &t)).await?;
            self.created
                .lock()
                .expect("kv service poisoned")
                .insert(table.clone());
        }
        Ok(Arc::new(LocalKvStore::new(self.db.clone(), table)))
    }
}
