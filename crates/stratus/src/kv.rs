//! Partitioned, ordered, versioned items: the [`KvStore`] trait. Normative: `spec/kv.md`.

use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;

use crate::capabilities::KvCapabilities;
use crate::error::{Error, Result};

/// The key of an item: a partition and a sort key within it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Items of one partition are queried together and batched together.
    pub partition: String,
    /// Orders items within the partition (by UTF-8 bytes).
    pub sort: String,
}

impl Key {
    /// Builds a key.
    pub fn new(partition: impl Into<String>, sort: impl Into<String>) -> Self {
        Self {
            partition: partition.into(),
            sort: sort.into(),
        }
    }
}

/// A stored item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its key.
    pub key: Key,
    /// Its value (at most 256 KiB).
    pub value: Bytes,
    /// Opaque version token; changes on every write, never reused for the same key.
    pub version: String,
    /// When the item expires, if it has a TTL.
    pub expires_at: Option<SystemTime>,
}

/// The condition of a put.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PutCondition {
    /// Write whatever is there.
    #[default]
    Always,
    /// Only if no live item has the key; otherwise `AlreadyExists`.
    IfAbsent,
    /// Only if the live item has this version; otherwise `PreconditionFailed`.
    IfVersion(String),
}

/// The condition of a delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DeleteCondition {
    /// Delete whatever is there (absent keys succeed).
    #[default]
    Always,
    /// Only if the live item has this version; otherwise `PreconditionFailed`.
    IfVersion(String),
}

/// Options of a put.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutItemOptions {
    /// The write condition.
    pub condition: PutCondition,
    /// Time to live, at least one second (needs `kv.ttl`).
    pub ttl: Option<Duration>,
}

/// Which sort keys a query covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortRange {
    /// The whole partition.
    All,
    /// Sort keys starting with this.
    Prefix(String),
    /// Sort keys between two bounds.
    Between(Bound<String>, Bound<String>),
}

/// Order of query results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Ascending sort keys.
    #[default]
    Ascending,
    /// Descending sort keys.
    Descending,
}

/// Options of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryOptions {
    /// Sort keys to cover.
    pub range: SortRange,
    /// Result order.
    pub order: Order,
    /// Items per page, 1..=1000 (default 1000).
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self {
            range: SortRange::All,
            order: Order::Ascending,
            limit: None,
            cursor: None,
        }
    }
}

/// One page of query results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryPage {
    /// Live items in the requested order.
    pub items: Vec<Item>,
    /// Pass as `cursor` to continue; `None` when there is nothing more.
    pub next_cursor: Option<String>,
}

/// One operation of a batch; all operations of a batch share one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    /// Put `value` at `sort`.
    Put {
        /// Sort key.
        sort: String,
        /// Value.
        value: Bytes,
        /// Options (condition and TTL).
        opts: PutItemOptions,
    },
    /// Delete `sort`.
    Delete {
        /// Sort key.
        sort: String,
        /// Condition.
        condition: DeleteCondition,
    },
}

impl BatchOp {
    /// The sort key this operation touches.
    pub fn sort(&self) -> &str {
        match self {
            BatchOp::Put { sort, .. } | BatchOp::Delete { sort, .. } => sort,
        }
    }
}

/// The outcome of one batch operation: the new version of a put, `None` for a delete.
pub type BatchResult = Option<String>;

/// Partitioned, ordered, versioned items. Keys and sizes are validated by the layer.
#[async_trait]
pub trait KvStore: Send + Sync + 'static {
    /// What this store declares.
    fn capabilities(&self) -> KvCapabilities;

    /// Reads the live item at `key`; expired items are `None`.
    async fn get(&self, key: &Key) -> Result<Option<Item>>;

    /// Writes `value`; returns the new version.
    async fn put(&self, key: &Key, value: Bytes, opts: PutItemOptions) -> Result<String>;

    /// Deletes `key`.
    async fn delete(&self, key: &Key, condition: DeleteCondition) -> Result<()>;

    /// Reads live items of `partition` in sort-key order, one page at a time.
    async fn query(&self, partition: &str, opts: QueryOptions) -> Result<QueryPage>;

    /// Applies up to 25 operations on distinct sort keys of one partition, all or none
    /// (needs `kv.atomic_batch`). If any condition fails, nothing is written and the error
    /// is that operation's (`AlreadyExists` or `PreconditionFailed`).
    async fn batch(&self, partition: &str, ops: Vec<BatchOp>) -> Result<Vec<BatchResult>> {
        let _ = (partition, ops);
        Err(Error::unsupported(
            "atomic batches are not declared by this store",
        ))
    }

    /// Adds `delta` to the decimal integer stored at `key` (absent counts as 0) and returns
    /// the new value. A value that is not a decimal i64 is `InvalidArgument`.
    async fn increment(&self, key: &Key, delta: i64) -> Result<i64>;
}

/// Opens named KV tables of one configured provider.
#[async_trait]
pub trait KvService: Send + Sync + 'static {
    /// The table for the logical name `name` (validated by the caller).
    async fn open(&self, name: &str) -> Result<Arc<dyn KvStore>>;
}

/// Parses a counter value as stored by `increment`.
pub fn parse_counter(value: &[u8]) -> Result<i64> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| Error::invalid("increment on a value that is not a decimal integer"))
}

/// Adds with overflow checking, as `increment` requires.
pub fn checked_add(current: i64, delta: i64) -> Result<i64> {
    current
        .checked_add(delta)
        .ok_or_else(|| Error::invalid("increment overflows a 64-bit integer"))
}

/// Whether an item with `expires_at` is expired at `now`.
pub fn is_expired(expires_at: Option<SystemTime>, now: SystemTime) -> bool {
    expires_at.is_some_and(|t| t <= now)
}

/// The sort-key window of one query page, combining range, order and cursor. Providers
/// that query in process share this so paging behaves identically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortWindow {
    /// Lower bound on sort keys.
    pub lower: Bound<String>,
    /// Upper bound on sort keys.
    pub upper: Bound<String>,
    /// Only sort keys with this prefix.
    pub prefix: Option<String>,
}

impl SortWindow {
    /// The window for `opts`. The cursor is the last sort key returned: ascending queries
    /// continue strictly after it, descending ones strictly before it.
    pub fn for_query(opts: &QueryOptions) -> Self {
        let (mut lower, mut upper, prefix) = match &opts.range {
            SortRange::All => (Bound::Unbounded, Bound::Unbounded, None),
            SortRange::Prefix(p) => (
                Bound::Included(p.clone()),
                Bound::Unbounded,
                Some(p.clone()),
            ),
            SortRange::Between(l, u) => (l.clone(), u.clone(), None),
        };
        if let Some(cursor) = &opts.cursor {
            match opts.order {
                Order::Ascending => lower = tighter_lower(lower, cursor),
                Order::Descending => upper = tighter_upper(upper, cursor),
            }
        }
        Self {
            lower,
            upper,
            prefix,
        }
    }

    /// Whether `sort` lies in the window.
    pub fn contains(&self, sort: &str) -> bool {
        let above = match &self.lower {
            Bound::Included(l) => sort >= l.as_str(),
            Bound::Excluded(l) => sort > l.as_str(),
            Bound::Unbounded => true,
        };
        let below = match &self.upper {
            Bound::Included(u) => sort <= u.as_str(),
            Bound::Excluded(u) => sort < u.as_str(),
            Bound::Unbounded => true,
        };
        above && below && self.prefix.as_deref().is_none_or(|p| sort.starts_with(p))
    }
}

fn tighter_lower(lower: Bound<String>, cursor: &str) -> Bound<String> {
    match &lower {
        Bound::Included(l) | Bound::Excluded(l) if l.as_str() > cursor => lower,
        _ => Bound::Excluded(cursor.to_owned()),
    }
}

fn tighter_upper(upper: Bound<String>, cursor: &str) -> Bound<String> {
    match &upper {
        Bound::Included(u) | Bound::Excluded(u) if u.as_str() < cursor => upper,
        _ => Bound::Excluded(cursor.to_owned()),
    }
}

/// Cuts `items` to one page and sets the cursor when more follow. `items` must be in the
/// requested order, filtered to the window and to live items, and hold at least
/// `limit + 1` items when that many exist (so "more follow" is known, not guessed).
pub fn page_of(mut items: Vec<Item>, opts: &QueryOptions) -> QueryPage {
    let limit = opts.limit.unwrap_or(crate::limits::MAX_KV_QUERY_LIMIT);
    if items.len() > limit {
        items.truncate(limit);
        let next_cursor = items.last().map(|i| i.key.sort.clone());
        QueryPage { items, next_cursor }
    } else {
        QueryPage {
            items,
            next_cursor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_applies_cursor_in_both_orders() {
        let mut opts = QueryOptions {
            range: SortRange::Prefix("m".into()),
            ..Default::default()
        };
        opts.cursor = Some("m5".into());
        let w = SortWindow::for_query(&opts);
        assert!(!w.contains("m5") && w.contains("m6") && !w.contains("n"));
        opts.order = Order::Descending;
        let w = SortWindow::for_query(&opts);
        assert!(w.contains("m4") && !w.contains("m5") && !w.contains("l"));
    }

    #[test]
    fn counters_parse_strictly() {
        assert_eq!(parse_counter(b"-42").unwrap(), -42);
        assert!(parse_counter(b"4x").is_err());
        assert!(checked_add(i64::MAX, 1).is_err());
    }
}
