//! In-process KV tables: a `BTreeMap` of partitions, each a `BTreeMap` of sort keys, behind
//! one mutex per table. Versions come from a table-wide counter, so a version is never
//! reused for a key, not even after delete and re-create. Expired items are invisible at
//! once and removed lazily.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use bytes::Bytes;
use stratus::capabilities::KvCapabilities;
use stratus::kv::{
    BatchOp, BatchResult, DeleteCondition, Item, Key, KvService, KvStore, Order, PutCondition,
    PutItemOptions, QueryOptions, QueryPage, SortWindow, checked_add, is_expired, page_of,
    parse_counter,
};
use stratus::{Error, ErrorKind, Result, async_trait};

/// What every memory KV table declares.
pub const CAPABILITIES: KvCapabilities = KvCapabilities {
    ttl: true,
    atomic_batch: true,
    native_increment: true,
};

/// The wall clock a table reads; replaceable in tests.
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Opens named in-process KV tables; the same name always gives the same table.
#[derive(Default)]
pub struct MemoryKvService {
    tables: Mutex<HashMap<String, Arc<MemoryKvStore>>>,
}

impl MemoryKvService {
    /// A service with no tables yet.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl KvService for MemoryKvService {
    async fn open(&self, name: &str) -> Result<Arc<dyn KvStore>> {
        let mut tables = self.tables.lock().expect("kv service poisoned");
        let table = tables.entry(name.to_owned()).or_default();
        Ok(table.clone())
    }
}

#[derive(Clone)]
struct Entry {
    value: Bytes,
    version: String,
    expires_at: Option<SystemTime>,
}

#[derive(Default)]
struct State {
    partitions: BTreeMap<String, BTreeMap<String, Entry>>,
    /// Source of versions; never goes back.
    counter: u64,
}

impl State {
    /// The live entry at `partition`/`sort`; an expired one is removed and reads as absent.
    fn live(&mut self, partition: &str, sort: &str, now: SystemTime) -> Option<&Entry> {
        let items = self.partitions.get_mut(partition)?;
        if items
            .get(sort)
            .is_some_and(|e| is_expired(e.expires_at, now))
        {
            items.remove(sort);
            if items.is_empty() {
                self.partitions.remove(partition);
            }
            return None;
        }
        self.partitions.get(partition)?.get(sort)
    }

    fn check_put(
        &mut self,
        partition: &str,
        sort: &str,
        condition: &PutCondition,
        now: SystemTime,
    ) -> Result<()> {
        let current = self.live(partition, sort, now);
        match condition {
            PutCondition::Always => Ok(()),
            PutCondition::IfAbsent => match current {
                Some(_) => Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("item {partition:?}/{sort:?} already exists"),
                )),
                None => Ok(()),
            },
            PutCondition::IfVersion(v) => check_version(partition, sort, current, v),
        }
    }

    fn check_delete(
        &mut self,
        partition: &str,
        sort: &str,
        condition: &DeleteCondition,
        now: SystemTime,
    ) -> Result<()> {
        match condition {
            DeleteCondition::Always => Ok(()),
            DeleteCondition::IfVersion(v) => {
                let current = self.live(partition, sort, now);
                check_version(partition, sort, current, v)
            }
        }
    }

    /// Writes an entry with a fresh version and returns the version.
    fn write(
        &mut self,
        partition: &str,
        sort: &str,
        value: Bytes,
        expires_at: Option<SystemTime>,
    ) -> String {
        self.counter += 1;
        let version = format!("v{:x}", self.counter);
        let entry = Entry {
            value,
            version: version.clone(),
            expires_at,
        };
        self.partitions
            .entry(partition.to_owned())
            .or_default()
            .insert(sort.to_owned(), entry);
        version
    }

    fn remove(&mut self, partition: &str, sort: &str) {
        if let Some(items) = self.partitions.get_mut(partition) {
            items.remove(sort);
            if items.is_empty() {
                self.partitions.remove(partition);
            }
        }
    }
}

fn check_version(
    partition: &str,
    sort: &str,
    current: Option<&Entry>,
    expected: &str,
) -> Result<()> {
    match current {
        Some(e) if e.version == expected => Ok(()),
        Some(e) => Err(Error::precondition(format!(
            "item {partition:?}/{sort:?} has version {:?}, not {expected:?}",
            e.version
        ))),
        None => Err(Error::precondition(format!(
            "item {partition:?}/{sort:?} does not exist (expected version {expected:?})"
        ))),
    }
}

fn item(partition: &str, sort: &str, entry: &Entry) -> Item {
    Item {
        key: Key::new(partition, sort),
        value: entry.value.clone(),
        version: entry.version.clone(),
        expires_at: entry.expires_at,
    }
}

/// One in-process KV table.
pub struct MemoryKvStore {
    state: Mutex<State>,
    clock: Clock,
}

impl Default for MemoryKvStore {
    fn default() -> Self {
        Self::with_clock(Arc::new(SystemTime::now))
    }
}

impl MemoryKvStore {
    /// A table that reads the time from `clock`.
    pub(crate) fn with_clock(clock: Clock) -> Self {
        Self {
            state: Mutex::default(),
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("kv table poisoned")
    }

    fn now(&self) -> SystemTime {
        (self.clock)()
    }
}

fn as_ref(b: &Bound<String>) -> Bound<&str> {
    match b {
        Bound::Included(s) => Bound::Included(s.as_str()),
        Bound::Excluded(s) => Bound::Excluded(s.as_str()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Live items of `items` in `window`, in `order`, at most `take` of them.
fn scan(
    items: &BTreeMap<String, Entry>,
    window: &SortWindow,
    order: Order,
    now: SystemTime,
    take: usize,
) -> Vec<(String, Entry)> {
    // One-sided ranges never panic, even when a cursor makes the window empty; the far
    // bound and the prefix are applied by `window.contains`.
    let keep = |(k, e): &(&String, &Entry)| window.contains(k) && !is_expired(e.expires_at, now);
    let own = |(k, e): (&String, &Entry)| (k.clone(), e.clone());
    match order {
        Order::Ascending => {
            let upper = as_ref(&window.upper);
            let prefix = window.prefix.as_deref();
            items
                .range::<str, _>((as_ref(&window.lower), Bound::Unbounded))
                .take_while(|(k, _)| {
                    within_upper(k, upper)
                        && prefix.is_none_or(|p| k.as_str() < p || k.starts_with(p))
                })
                .filter(keep)
                .take(take)
                .map(own)
                .collect()
        }
        Order::Descending => {
            let lower = as_ref(&window.lower);
            items
                .range::<str, _>((Bound::Unbounded, as_ref(&window.upper)))
                .rev()
                .take_while(|(k, _)| within_lower(k, lower))
                .filter(keep)
                .take(take)
                .map(own)
                .collect()
        }
    }
}

fn within_upper(key: &str, upper: Bound<&str>) -> bool {
    match upper {
        Bound::Included(u) => key <= u,
        Bound::Excluded(u) => key < u,
        Bound::Unbounded => true,
    }
}

fn within_lower(key: &str, lower: Bound<&str>) -> bool {
    match lower {
        Bound::Included(l) => key >= l,
        Bound::Excluded(l) => key > l,
        Bound::Unbounded => true,
    }
}

#[async_trait]
impl KvStore for MemoryKvStore {
    fn capabilities(&self) -> KvCapabilities {
        CAPABILITIES
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>> {
        let now = self.now();
        let mut state = self.lock();
        Ok(state
            .live(&key.partition, &key.sort, now)
            .map(|e| item(&key.partition, &key.sort, e)))
    }

    async fn put(&self, key: &Key, value: Bytes, opts: PutItemOptions) -> Result<String> {
        let now = self.now();
        let mut state = self.lock();
        state.check_put(&key.partition, &key.sort, &opts.condition, now)?;
        Ok(state.write(&key.partition, &key.sort, value, opts.ttl.map(|t| now + t)))
    }

    async fn delete(&self, key: &Key, condition: DeleteCondition) -> Result<()> {
        let now = self.now();
        let mut state = self.lock();
        state.check_delete(&key.partition, &key.sort, &condition, now)?;
        state.remove(&key.partition, &key.sort);
        Ok(())
    }

    async fn query(&self, partition: &str, opts: QueryOptions) -> Result<QueryPage> {
        let now = self.now();
        let window = SortWindow::for_query(&opts);
        let take = opts
            .limit
            .unwrap_or(stratus::limits::MAX_KV_QUERY_LIMIT)
            .saturating_add(1);
        let found = {
            let state = self.lock();
            match state.partitions.get(partition) {
                Some(items) => scan(items, &window, opts.order, now, take),
                None => Vec::new(),
            }
        };
        let items = found
            .iter()
            .map(|(sort, e)| item(partition, sort, e))
            .collect();
        Ok(page_of(items, &opts))
    }

    async fn batch(&self, partition: &str, ops: Vec<BatchOp>) -> Result<Vec<BatchResult>> {
        let now = self.now();
        let mut state = self.lock();
        for op in &ops {
            match op {
                BatchOp::Put { sort, opts, .. } => {
                    state.check_put(partition, sort, &opts.condition, now)?
                }
                BatchOp::Delete { sort, condition } => {
                    state.check_delete(partition, sort, condition, now)?
                }
            }
        }
        let results = ops
            .into_iter()
            .map(|op| match op {
                BatchOp::Put { sort, value, opts } => {
                    Some(state.write(partition, &sort, value, opts.ttl.map(|t| now + t)))
                }
                BatchOp::Delete { sort, .. } => {
                    state.remove(partition, &sort);
                    None
                }
            })
            .collect();
        Ok(results)
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        let now = self.now();
        let mut state = self.lock();
        let (current, expires_at) = match state.live(&key.partition, &key.sort, now) {
            Some(e) => (parse_counter(&e.value)?, e.expires_at),
            None => (0, None),
        };
        let next = checked_add(current, delta)?;
        state.write(
            &key.partition,
            &key.sort,
            Bytes::from(next.to_string()),
            expires_at,
        );
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use stratus::kv::SortRange;

    use super::*;

    /// A table whose clock only moves when the test says so.
    fn manual() -> (Arc<MemoryKvStore>, Arc<Mutex<SystemTime>>) {
        let time = Arc::new(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        ));
        let t = time.clone();
        let store = MemoryKvStore::with_clock(Arc::new(move || *t.lock().unwrap()));
        (Arc::new(store), time)
    }

    fn advance(time: &Mutex<SystemTime>, by: Duration) {
        *time.lock().unwrap() += by;
    }

    fn kind<T>(r: Result<T>) -> ErrorKind {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.kind(),
        }
    }

    fn ttl(secs: u64) -> PutItemOptions {
        PutItemOptions {
            ttl: Some(Duration::from_secs(secs)),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn expired_items_are_invisible_and_count_as_absent() {
        let (s, time) = manual();
        let k = Key::new("p", "a");
        s.put(&k, "x".into(), ttl(5)).await.unwrap();
        s.put(&Key::new("p", "b"), "y".into(), ttl(10))
            .await
            .unwrap();
        assert!(s.get(&k).await.unwrap().is_some());
        advance(&time, Duration::from_secs(5)); // expires_at <= now: expired
        assert!(s.get(&k).await.unwrap().is_none());
        let page = s.query("p", QueryOptions::default()).await.unwrap();
        assert_eq!(
            page.items
                .iter()
                .map(|i| i.key.sort.as_str())
                .collect::<Vec<_>>(),
            vec!["b"]
        );
        let if_absent = PutItemOptions {
            condition: PutCondition::IfAbsent,
            ..Default::default()
        };
        s.put(&k, "new".into(), if_absent).await.unwrap();
        assert_eq!(s.get(&k).await.unwrap().unwrap().expires_at, None);
    }

    #[tokio::test]
    async fn a_put_without_ttl_clears_the_ttl() {
        let (s, time) = manual();
        let k = Key::new("p", "a");
        s.put(&k, "x".into(), ttl(5)).await.unwrap();
        s.put(&k, "y".into(), PutItemOptions::default())
            .await
            .unwrap();
        advance(&time, Duration::from_secs(60));
        assert_eq!(s.get(&k).await.unwrap().unwrap().value, Bytes::from("y"));
    }

    #[tokio::test]
    async fn versions_are_never_reused() {
        let s = MemoryKvStore::default();
        let k = Key::new("p", "a");
        let v1 = s
            .put(&k, "x".into(), PutItemOptions::default())
            .await
            .unwrap();
        s.delete(&k, DeleteCondition::Always).await.unwrap();
        let v2 = s
            .put(&k, "x".into(), PutItemOptions::default())
            .await
            .unwrap();
        assert_ne!(v1, v2);
        let stale = PutItemOptions {
            condition: PutCondition::IfVersion(v1.clone()),
            ..Default::default()
        };
        assert_eq!(
            kind(s.put(&k, "z".into(), stale).await),
            ErrorKind::PreconditionFailed
        );
        assert_eq!(
            kind(s.delete(&k, DeleteCondition::IfVersion(v1)).await),
            ErrorKind::PreconditionFailed
        );
        let absent = DeleteCondition::IfVersion(v2.clone());
        assert_eq!(
            kind(s.delete(&Key::new("p", "none"), absent).await),
            ErrorKind::PreconditionFailed
        );
        s.delete(&k, DeleteCondition::IfVersion(v2)).await.unwrap();
        s.delete(&k, DeleteCondition::Always).await.unwrap();
    }

    #[tokio::test]
    async fn increment_keeps_ttl_and_rejects_non_integers() {
        let (s, time) = manual();
        let k = Key::new("p", "n");
        assert_eq!(s.increment(&k, 5).await.unwrap(), 5);
        assert_eq!(s.get(&k).await.unwrap().unwrap().expires_at, None);
        s.put(&k, "40".into(), ttl(10)).await.unwrap();
        let before = s.get(&k).await.unwrap().unwrap();
        assert_eq!(s.increment(&k, 2).await.unwrap(), 42);
        let after = s.get(&k).await.unwrap().unwrap();
        assert_eq!(
            (after.value, after.expires_at),
            (Bytes::from("42"), before.expires_at)
        );
        assert_ne!(after.version, before.version);
        advance(&time, Duration::from_secs(10));
        assert_eq!(s.increment(&k, 1).await.unwrap(), 1); // expired counts as 0, no TTL
        assert_eq!(s.get(&k).await.unwrap().unwrap().expires_at, None);
        s.put(&k, "nope".into(), PutItemOptions::default())
            .await
            .unwrap();
        assert_eq!(kind(s.increment(&k, 1).await), ErrorKind::InvalidArgument);
        s.put(&k, i64::MAX.to_string().into(), PutItemOptions::default())
            .await
            .unwrap();
        assert_eq!(kind(s.increment(&k, 1).await), ErrorKind::InvalidArgument);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn increment_is_atomic() {
        let s = Arc::new(MemoryKvStore::default());
        let k = Key::new("p", "c");
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (s, k) = (s.clone(), k.clone());
                tokio::spawn(async move {
                    for _ in 0..100 {
                        s.increment(&k, 1).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(s.get(&k).await.unwrap().unwrap().value, Bytes::from("1000"));
    }

    #[tokio::test]
    async fn batch_is_all_or_nothing() {
        let s = MemoryKvStore::default();
        s.put(&Key::new("p", "b"), "old".into(), PutItemOptions::default())
            .await
            .unwrap();
        let put = |sort: &str, condition| BatchOp::Put {
            sort: sort.into(),
            value: "new".into(),
            opts: PutItemOptions {
                condition,
                ttl: None,
            },
        };
        let ops = vec![
            put("a", PutCondition::Always),
            put("b", PutCondition::IfAbsent),
        ];
        assert_eq!(kind(s.batch("p", ops).await), ErrorKind::AlreadyExists);
        assert!(s.get(&Key::new("p", "a")).await.unwrap().is_none());
        let ops = vec![
            put("a", PutCondition::IfAbsent),
            BatchOp::Delete {
                sort: "b".into(),
                condition: DeleteCondition::Always,
            },
        ];
        let results = s.batch("p", ops).await.unwrap();
        assert!(results[0].is_some() && results[1].is_none());
        assert!(s.get(&Key::new("p", "b")).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn query_pages_in_both_orders_and_survives_odd_cursors() {
        let s = MemoryKvStore::default();
        for sort in ["a", "m1", "m2", "m3", "z"] {
            s.put(&Key::new("p", sort), "x".into(), PutItemOptions::default())
                .await
                .unwrap();
        }
        let sorts = |page: &QueryPage| {
            page.items
                .iter()
                .map(|i| i.key.sort.clone())
                .collect::<Vec<_>>()
        };
        let mut opts = QueryOptions {
            range: SortRange::Prefix("m".into()),
            limit: Some(2),
            ..Default::default()
        };
        let page = s.query("p", opts.clone()).await.unwrap();
        assert_eq!(
            (sorts(&page), page.next_cursor.clone()),
            (vec!["m1".into(), "m2".into()], Some("m2".into()))
        );
        opts.cursor = page.next_cursor;
        let page = s.query("p", opts.clone()).await.unwrap();
        assert_eq!(
            (sorts(&page), page.next_cursor),
            (vec!["m3".to_owned()], None)
        );
        opts.order = Order::Descending;
        opts.cursor = None;
        let page = s.query("p", opts.clone()).await.unwrap();
        assert_eq!(sorts(&page), vec!["m3".to_owned(), "m2".to_owned()]);
        // A cursor outside the range gives an empty page, never a panic.
        let between = SortRange::Between(Bound::Excluded("b".into()), Bound::Excluded("c".into()));
        let odd = QueryOptions {
            range: between,
            cursor: Some("zz".into()),
            ..Default::default()
        };
        assert!(s.query("p", odd).await.unwrap().items.is_empty());
        assert!(
            s.query("none", QueryOptions::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
}
