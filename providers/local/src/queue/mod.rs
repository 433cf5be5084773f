//! Queues on redb: messages keyed by (queue, id) plus a (queue, visible_at, id) index, so
//! a receive is a range scan up to now inside one write transaction. The dead-letter
//! queue of `q` is the internal queue `q#dlq` (portable names never contain `#`).

mod ops;
mod record;
mod store;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use redb::Database;
use stratus::capabilities::QueueCapabilities;
use stratus::config::{ConfigError, Section};
use stratus::queue::{Queue, QueueService, QueueSettings};
use stratus::{Result, async_trait};
use tokio::sync::{Notify, OnceCell};

use store::LocalQueue;

/// What every `local` queue declares.
pub const CAPABILITIES: QueueCapabilities = QueueCapabilities {
    delay: true,
    dead_letter: true,
    extend_visibility: true,
};

/// Options of the `local` queue service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// The redb database file (may be the KV service's file too).
    pub path: PathBuf,
    /// Visibility timeout and dead-letter threshold.
    pub settings: QueueSettings,
}

impl QueueOptions {
    /// Parses `path` (required), `visibility_timeout` and `max_attempts`.
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let path = section
            .path_value("path")?
            .ok_or_else(|| section.key_error("path", "missing required key `path`"))?;
        let settings = QueueSettings::from_section(section)?;
        section.finish()?;
        Ok(Self { path, settings })
    }
}

/// The name of the dead-letter queue of `queue` (never a valid portable name).
fn dead_letter_name(queue: &str) -> String {
    format!("{queue}#dlq")
}

/// The `local` queue service: named queues in one redb database.
pub struct LocalQueueService {
    db: Arc<Database>,
    settings: QueueSettings,
    tables: OnceCell<()>,
    /// Wakes long polls of a queue when a message may have become visible.
    notifiers: Mutex<HashMap<String, Arc<Notify>>>,
}

impl std::fmt::Debug for LocalQueueService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalQueueService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl LocalQueueService {
    /// Opens (creating as needed) the database at `options.path`.
    pub fn new(options: QueueOptions) -> Result<Self> {
        Ok(Self {
            db: crate::db::open_shared(&options.path)?,
            settings: options.settings,
            tables: OnceCell::new(),
            notifiers: Mutex::default(),
        })
    }

    fn notifier(&self, queue: &str) -> Arc<Notify> {
        let mut map = self.notifiers.lock().expect("queue notifiers poisoned");
        map.entry(queue.to_owned()).or_default().clone()
    }

    async fn ensure_tables(&self) -> Result<()> {
        self.tables
            .get_or_try_init(|| {
                let db = self.db.clone();
                crate::offload::blocking(move || ops::create_tables(&db))
            })
            .await
            .map(drop)
    }

    /// `queue`, dead-lettering into `dead_letter` when given.
    async fn queue(&self, queue: String, dead_letter: Option<String>) -> Result<Arc<dyn Queue>> {
        self.ensure_tables().await?;
        let dead_letter = dead_letter.map(|dlq| (self.notifier(&dlq), dlq));
        Ok(Arc::new(LocalQueue {
            db: self.db.clone(),
            notify: self.notifier(&queue),
            name: queue,
            dead_letter,
            settings: self.settings,
        }))
    }
}

#[async_trait]
impl QueueService for LocalQueueService {
    async fn open(&self, name: &str) -> Result<Arc<dyn Queue>> {
        self.queue(name.to_owned(), Some(dead_letter_name(name)))
            .await
    }

    async fn open_dead_letter(&self, name: &str) -> Result<Arc<dyn Queue>> {
        self.queue(dead_letter_name(name), None).await
    }
}
