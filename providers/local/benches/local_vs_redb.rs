//! stratus `local` (through `Stratus::open`, i.e. with the validation layer) against raw
//! redb doing the same work with the same durability, in the same run. Each group has a
//! `stratus_local` and a `raw_redb` function so the overhead ratio reads off directly.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use stratus::kv::Key;
use stratus::queue::{OutgoingMessage, ReceiveOptions};
use stratus::{Bytes, Config, Registry, Stratus};

const VALUE_BYTES: usize = 256;
const RAW_KV: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv");
const RAW_QUEUE: TableDefinition<u64, &[u8]> = TableDefinition::new("queue");

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn open_stratus(dir: &std::path::Path) -> Stratus {
    let yaml = format!(
        "profile: bench\nprofiles:\n  bench:\n    kv:\n      provider: local\n      path: \"{0}/state.redb\"\n    queue:\n      provider: local\n      path: \"{0}/state.redb\"\n",
        dir.display()
    );
    let config = Config::parse("bench.yaml", &yaml, dir, Arc::new(|_| None)).expect("profile");
    let mut registry = Registry::new();
    registry.register(Arc::new(stratus_local::LocalProvider));
    Stratus::open(&config, None, &registry, Default::default())
        .await
        .expect("open profile")
}

fn raw_db(dir: &std::path::Path) -> Database {
    let db = Database::create(dir.join("raw.redb")).expect("raw redb");
    let txn = db.begin_write().unwrap();
    txn.open_table(RAW_KV).unwrap();
    txn.open_table(RAW_QUEUE).unwrap();
    txn.commit().unwrap();
    db
}

fn raw_put(db: &Database, key: &[u8], value: &[u8]) {
    let txn = db.begin_write().unwrap();
    txn.open_table(RAW_KV).unwrap().insert(key, value).unwrap();
    txn.commit().unwrap();
}

fn kv(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let stratus = rt.block_on(open_stratus(dir.path()));
    let table = rt.block_on(stratus.kv("bench")).unwrap();
    let raw = raw_db(dir.path());
    let value = Bytes::from(vec![b'v'; VALUE_BYTES]);
    let key = Key::new("partition", "sort");
    let raw_key = b"partition\x00sort".as_slice();

    let mut group = c.benchmark_group("kv_put");
    group.bench_function("stratus_local", |b| {
        b.to_async(&rt).iter(|| async {
            table
                .put(&key, value.clone(), Default::default())
                .await
                .unwrap()
        })
    });
    group.bench_function("raw_redb", |b| b.iter(|| raw_put(&raw, raw_key, &value)));
    group.finish();

    let mut group = c.benchmark_group("kv_get");
    group.bench_function("stratus_local", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(table.get(&key).await.unwrap().unwrap()) })
    });
    group.bench_function("raw_redb", |b| {
        b.iter(|| {
            let txn = raw.begin_read().unwrap();
            let table = txn.open_table(RAW_KV).unwrap();
            black_box(table.get(raw_key).unwrap().unwrap().value().to_vec())
        })
    });
    group.finish();
}

/// Raw queue round trip: insert; take the first message and rewrite it (new delivery);
/// delete it. Three write transactions, as a send, receive and ack are.
fn raw_queue_round_trip(db: &Database, next_id: &mut u64, body: &[u8]) {
    *next_id += 1;
    let txn = db.begin_write().unwrap();
    txn.open_table(RAW_QUEUE)
        .unwrap()
        .insert(*next_id, body)
        .unwrap();
    txn.commit().unwrap();

    let txn = db.begin_write().unwrap();
    let id = {
        let mut table = txn.open_table(RAW_QUEUE).unwrap();
        let (id, mut record) = {
            let (k, v) = table.first().unwrap().unwrap();
            (k.value(), v.value().to_vec())
        };
        record.extend_from_slice(b"receipt-token");
        table.insert(id, record.as_slice()).unwrap();
        id
    };
    txn.commit().unwrap();

    let txn = db.begin_write().unwrap();
    txn.open_table(RAW_QUEUE).unwrap().remove(id).unwrap();
    txn.commit().unwrap();
}

fn queue(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let stratus = rt.block_on(open_stratus(dir.path()));
    let queue = rt.block_on(stratus.queue("bench")).unwrap();
    let raw = raw_db(dir.path());
    let body = Bytes::from(vec![b'm'; VALUE_BYTES]);

    let mut group = c.benchmark_group("queue_send_receive_ack");
    group.bench_function("stratus_local", |b| {
        b.to_async(&rt).iter(|| async {
            queue
                .send(vec![OutgoingMessage::new(body.clone())])
                .await
                .unwrap();
            let got = queue.receive(ReceiveOptions::default()).await.unwrap();
            queue.ack(&got[0].receipt).await.unwrap();
        })
    });
    let mut next_id = 0;
    group.bench_function("raw_redb", |b| {
        b.iter(|| raw_queue_round_trip(&raw, &mut next_id, &body))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = kv, queue }
criterion_main!(benches);
