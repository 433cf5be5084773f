//! [`LocalKvStore`]: one logical table. Writes (which fsync on commit) run on the blocking
//! pool; reads run inline, because a redb read transaction is a few page-cache lookups and
//! a hand-off to another thread would cost more than the read itself.

use std::sync::Arc;

use redb::Database;
use stratus::capabilities::KvCapabilities;
use stratus::kv::{
    BatchOp, BatchResult, DeleteCondition, Item, Key, KvStore, PutItemOptions, QueryOptions,
    QueryPage,
};
use stratus::{Bytes, Result, async_trait};

use super::ops;
use crate::offload::blocking;

/// One logical KV table in a redb database.
pub struct LocalKvStore {
    db: Arc<Database>,
    table: Arc<str>,
}

impl LocalKvStore {
    /// The store over redb table `table` (already created).
    pub fn new(db: Arc<Database>, table: String) -> Self {
        Self {
            db,
            table: table.into(),
        }
    }

    fn parts(&self) -> (Arc<Database>, Arc<str>) {
        (self.db.clone(), self.table.clone())
    }
}

#[async_trait]
impl KvStore for LocalKvStore {
    fn capabilities(&self) -> KvCapabilities {
        super::CAPABILITIES
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>> {
        ops::get(&self.db, &self.table, key)
    }

    async fn put(&self, key: &Key, value: Bytes, opts: PutItemOptions) -> Result<String> {
        let ((db, table), key) = (self.parts(), key.clone());
        blocking(move || ops::put(&db, &table, &key, value, &opts)).await
    }

    async fn delete(&self, key: &Key, condition: DeleteCondition) -> Result<()> {
        let ((db, table), key) = (self.parts(), key.clone());
        blocking(move || ops::delete(&db, &table, &key, &condition)).await
    }

    async fn query(&self, partition: &str, opts: QueryOptions) -> Result<QueryPage> {
        ops::query(&self.db, &self.table, partition, &opts)
    }

    async fn batch(&self, partition: &str, ops: Vec<BatchOp>) -> Result<Vec<BatchResult>> {
        let ((db, table), partition) = (self.parts(), partition.to_owned());
        blocking(move || ops::batch(&db, &table, &partition, ops)).await
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        let ((db, table), key) = (self.parts(), key.clone());
        blocking(move || ops::increment(&db, &table, &key, delta)).await
    }
}
