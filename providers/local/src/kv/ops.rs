//! The blocking redb transactions behind each KV operation.

use std::ops::Bound;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use stratus::kv::{
    BatchOp, BatchResult, DeleteCondition, Item, Key, Order, PutCondition, PutItemOptions,
    QueryOptions, QueryPage, SortWindow, checked_add, page_of, parse_counter,
};
use stratus::{Bytes, Error, ErrorKind, Result};

use super::record::{self, Record, encode_key, expiry};
use crate::clock::now_ms;
use crate::db::Db;

/// Holds the store-wide version counter.
const META: TableDefinition<&str, u64> = TableDefinition::new("kv#meta");
const VERSION_KEY: &str = "version";

type Data<'a> = TableDefinition<'a, &'static [u8], &'static [u8]>;

fn data(table: &str) -> Data<'_> {
    TableDefinition::new(table)
}

/// Creates `table` (and the meta table) if missing.
pub fn create_table(db: &Database, table: &str) -> Result<()> {
    let txn = db.begin_write().db("begin write")?;
    txn.open_table(data(table)).db("open table")?;
    txn.open_table(META).db("open meta table")?;
    txn.commit().db("commit")
}

/// Takes the next store-wide version inside `txn`.
fn next_version(txn: &WriteTransaction) -> Result<u64> {
    let mut meta = txn.open_table(META).db("open meta table")?;
    let current = meta
        .get(VERSION_KEY)
        .db("read version counter")?
        .map_or(0, |v| v.value());
    let next = current + 1;
    meta.insert(VERSION_KEY, next).db("write version counter")?;
    Ok(next)
}

/// The live record at `key` of `table`, if any.
fn live(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
    now: u64,
) -> Result<Option<Record>> {
    match table.get(key).db("read item")? {
        Some(guard) => Ok(Some(Record::decode(guard.value())?).filter(|r| !r.is_expired(now))),
        None => Ok(None),
    }
}

fn check_put(current: Option<&Record>, condition: &PutCondition) -> Result<()> {
    match (condition, current) {
        (PutCondition::Always, _) => Ok(()),
        (PutCondition::IfAbsent, None) => Ok(()),
        (PutCondition::IfAbsent, Some(_)) => {
            Err(Error::new(ErrorKind::AlreadyExists, "the item exists"))
        }
        (PutCondition::IfVersion(v), Some(r)) if r.version_string() == *v => Ok(()),
        (PutCondition::IfVersion(_), _) => Err(Error::precondition(
            "the item is absent or has another version",
        )),
    }
}

fn check_delete(current: Option<&Record>, condition: &DeleteCondition) -> Result<()> {
    match (condition, current) {
        (DeleteCondition::Always, _) => Ok(()),
        (DeleteCondition::IfVersion(v), Some(r)) if r.version_string() == *v => Ok(()),
        (DeleteCondition::IfVersion(_), _) => Err(Error::precondition(
            "the item is absent or has another version",
        )),
    }
}

fn item(key: Key, r: Record) -> Item {
    Item {
        key,
        version: r.version_string(),
        expires_at: r.expires_at_time(),
        value: Bytes::from(r.value),
    }
}

/// Reads the live item at `key`.
pub fn get(db: &Database, table: &str, key: &Key) -> Result<Option<Item>> {
    let txn = db.begin_read().db("begin read")?;
    let t = txn.open_table(data(table)).db("open table")?;
    let found = live(&t, &encode_key(&key.partition, &key.sort), now_ms())?;
    Ok(found.map(|r| item(key.clone(), r)))
}

/// Writes one item under its condition; returns the new version.
pub fn put(
    db: &Database,
    table: &str,
    key: &Key,
    value: Bytes,
    opts: &PutItemOptions,
) -> Result<String> {
    let txn = db.begin_write().db("begin write")?;
    let version = {
        let mut t = txn.open_table(data(table)).db("open table")?;
        let now = now_ms();
        let k = encode_key(&key.partition, &key.sort);
        check_put(live(&t, &k, now)?.as_ref(), &opts.condition)?;
        let record = Record {
            version: next_version(&txn)?,
            expires_at: expiry(opts.ttl, now),
            value: value.to_vec(),
        };
        t.insert(k.as_slice(), record.encode().as_slice())
            .db("write item")?;
        record.version_string()
    };
    txn.commit().db("commit")?;
    Ok(version)
}

/// Deletes one item under its condition.
pub fn delete(db: &Database, table: &str, key: &Key, condition: &DeleteCondition) -> Result<()> {
    let txn = db.begin_write().db("begin write")?;
    {
        let mut t = txn.open_table(data(table)).db("open table")?;
        let k = encode_key(&key.partition, &key.sort);
        let current = live(&t, &k, now_ms())?;
        check_delete(current.as_ref(), condition)?;
        t.remove(k.as_slice()).db("delete item")?;
    }
    txn.commit().db("commit")
}

/// The byte-key bounds of `window` within `partition`.
fn key_bounds(partition: &str, window: &SortWindow) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let at = |sort: &str| encode_key(partition, sort);
    let lower = match &window.lower {
        Bound::Included(s) => Bound::Included(at(s)),
        Bound::Excluded(s) => Bound::Excluded(at(s)),
        Bound::Unbounded => Bound::Included(record::partition_start(partition)),
    };
    let mut upper = match &window.upper {
        Bound::Included(s) => Bound::Included(at(s)),
        Bound::Excluded(s) => Bound::Excluded(at(s)),
        Bound::Unbounded => Bound::Excluded(record::partition_end(partition)),
    };
    // A prefix ends just before its successor (last byte + 1; UTF-8 never has 0xFF).
    if let Some(prefix) = window.prefix.as_deref().filter(|p| !p.is_empty()) {
        let mut end = at(prefix);
        *end.last_mut().expect("non-empty") += 1;
        let tighter = match &upper {
            Bound::Included(u) | Bound::Excluded(u) => end <= *u,
            Bound::Unbounded => true,
        };
        if tighter {
            upper = Bound::Excluded(end);
        }
    }
    (lower, upper)
}

/// Reads one page of live items of `partition`.
pub fn query(
    db: &Database,
    table: &str,
    partition: &str,
    opts: &QueryOptions,
) -> Result<QueryPage> {
    let window = SortWindow::for_query(opts);
    let wanted = opts
        .limit
        .unwrap_or(stratus::limits::MAX_KV_QUERY_LIMIT)
        .saturating_add(1);
    let (lower, upper) = key_bounds(partition, &window);
    let empty = match (&lower, &upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Included(u) | Bound::Excluded(u)) => {
            l >= u
        }
        _ => false,
    };
    if empty {
        return Ok(QueryPage::default());
    }
    let txn = db.begin_read().db("begin read")?;
    let t = txn.open_table(data(table)).db("open table")?;
    let bounds = (
        lower.as_ref().map(Vec::as_slice),
        upper.as_ref().map(Vec::as_slice),
    );
    let range = t.range::<&[u8]>(bounds).db("scan items")?;
    let entries: Box<dyn Iterator<Item = _>> = match opts.order {
        Order::Ascending => Box::new(range),
        Order::Descending => Box::new(range.rev()),
    };
    let now = now_ms();
    let mut items = Vec::new();
    for entry in entries {
        let (k, v) = entry.db("scan items")?;
        let sort = record::sort_of(partition, k.value())?;
        if !window.contains(&sort) {
            continue;
        }
        let r = Record::decode(v.value())?;
        if r.is_expired(now) {
            continue;
        }
        items.push(item(Key::new(partition, sort), r));
        if items.len() >= wanted {
            break;
        }
    }
    Ok(page_of(items, opts))
}

/// Applies `ops` all or nothing: every condition is checked before anything is written.
pub fn batch(
    db: &Database,
    table: &str,
    partition: &str,
    ops: Vec<BatchOp>,
) -> Result<Vec<BatchResult>> {
    let txn = db.begin_write().db("begin write")?;
    let results = {
        let mut t = txn.open_table(data(table)).db("open table")?;
        let now = now_ms();
        for op in &ops {
            let current = live(&t, &encode_key(partition, op.sort()), now)?;
            match op {
                BatchOp::Put { opts, .. } => check_put(current.as_ref(), &opts.condition)?,
                BatchOp::Delete { condition, .. } => check_delete(current.as_ref(), condition)?,
            }
        }
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                BatchOp::Put { sort, value, opts } => {
                    let record = Record {
                        version: next_version(&txn)?,
                        expires_at: expiry(opts.ttl, now),
                        value: value.to_vec(),
                    };
                    t.insert(
                        encode_key(partition, &sort).as_slice(),
                        record.encode().as_slice(),
                    )
                    .db("write item")?;
                    results.push(Some(record.version_string()));
                }
                BatchOp::Delete { sort, .. } => {
                    t.remove(encode_key(partition, &sort).as_slice())
                        .db("delete item")?;
                    results.push(None);
                }
            }
        }
        results
    };
    txn.commit().db("commit")?;
    Ok(results)
}

/// Adds `delta` to the counter at `key` in one write transaction.
pub fn increment(db: &Database, table: &str, key: &Key, delta: i64) -> Result<i64> {
    let txn = db.begin_write().db("begin write")?;
    let value = {
        let mut t = txn.open_table(data(table)).db("open table")?;
        let now = now_ms();
        let k = encode_key(&key.partition, &key.sort);
        let (current, expires_at) = match live(&t, &k, now)? {
            Some(r) => (parse_counter(&r.value)?, r.expires_at),
            None => (0, 0),
        };
        let value = checked_add(current, delta)?;
        let record = Record {
            version: next_version(&txn)?,
            expires_at,
            value: value.to_string().into_bytes(),
        };
        t.insert(k.as_slice(), record.encode().as_slice())
            .db("write counter")?;
        value
    };
    txn.commit().db("commit")?;
    Ok(value)
}
