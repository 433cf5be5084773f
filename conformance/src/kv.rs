//! kv cases: conditional writes, queries and paging, TTL, counters, batches and limits.
//! Normative text: `spec/kv.md`.

mod batch;
mod conditions;
mod counters;
mod limits;
mod query;
mod ttl;

use std::future::Future;

use bytes::Bytes;
use stratus::kv::{Item, Key, KvStore, PutCondition, PutItemOptions, QueryOptions};
use stratus::{Capability, ServiceKind};

use crate::case::{Case, CaseResult, Ctx, Failure};

/// Every kv case.
pub fn cases() -> Vec<Case> {
    let mut cases = conditions::cases();
    cases.extend(query::cases());
    cases.extend(ttl::cases());
    cases.extend(counters::cases());
    cases.extend(batch::cases());
    cases.extend(limits::cases());
    cases
}

/// A KV case named `name` needing `requires`.
fn case<F, Fut>(name: &'static str, requires: Option<Capability>, body: F) -> Case
where
    F: Fn(Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = CaseResult> + Send + 'static,
{
    Case::new(ServiceKind::Kv, name, requires, body)
}

/// Put options with just a condition.
fn when(condition: PutCondition) -> PutItemOptions {
    PutItemOptions {
        condition,
        ttl: None,
    }
}

/// An unconditional put of `value`; returns the new version.
async fn put(kv: &dyn KvStore, key: &Key, value: &[u8]) -> Result<String, Failure> {
    Ok(kv
        .put(
            key,
            Bytes::copy_from_slice(value),
            PutItemOptions::default(),
        )
        .await?)
}

/// The live item at `key`, failing when there is none.
async fn get_some(kv: &dyn KvStore, key: &Key) -> Result<Item, Failure> {
    kv.get(key)
        .await?
        .ok_or_else(|| Failure(format!("get {key:?}: expected an item, got None")))
}

/// The sort keys of `items`, in order.
fn sorts(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.key.sort.clone()).collect()
}

/// Reads every page of a query (at most 200 pages), checking each page respects the limit.
async fn query_all(
    kv: &dyn KvStore,
    partition: &str,
    mut opts: QueryOptions,
) -> Result<Vec<Item>, Failure> {
    let mut items = Vec::new();
    for _ in 0..200 {
        let page = kv.query(partition, opts.clone()).await?;
        if let Some(limit) = opts.limit
            && page.items.len() > limit
        {
            return Err(Failure(format!(
                "query page holds {} items, more than the limit {limit}",
                page.items.len()
            )));
        }
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) => opts.cursor = Some(cursor),
            None => return Ok(items),
        }
    }
    Err(Failure("query paging did not end within 200 pages".into()))
}

/// Owned copies of `keys`, for comparing with [`sorts`].
fn names(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}
