//! Adapter behaviour of the `dynamodb` provider against moto: table naming and creation,
//! the item layout, expired items DynamoDB has not swept yet (written directly, so no
//! test sleeps), query paging past them, native and converted counters, and the mapping
//! of cancelled transactions. Needs `STRATUS_AWS_ENDPOINT` (and the test credentials of
//! `conformance/emulators/emulators env aws`); fails when unset.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use bytes::Bytes;
use stratus::kv::{
    BatchOp, DeleteCondition, Key, KvStore, PutCondition, PutItemOptions, QueryOptions,
};
use stratus::{BuildContext, Config, ErrorKind, Registry, Stratus};
use stratus_aws::{AwsOptions, DynamoDbProvider};

/// moto's endpoint from the environment, or a failure that says how to start it.
fn endpoint() -> String {
    std::env::var("STRATUS_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "STRATUS_AWS_ENDPOINT is not set: start moto with \
             `conformance/emulators/emulators up aws` and load its variables with \
             `eval \"$(conformance/emulators/emulators env aws)\"`"
        )
    })
}

/// A table prefix no other run uses.
fn unique_prefix() -> String {
    format!("t{}-", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

/// The KV table `name` of a `dynamodb` profile with `table_prefix: prefix`, through the
/// validation layer.
async fn open(prefix: &str, name: &str) -> Arc<dyn KvStore> {
    let yaml = format!(
        "profiles:\n  d:\n    kv:\n      provider: dynamodb\n      region: us-east-1\n      \
         endpoint: {}\n      table_prefix: \"{prefix}\"\n",
        endpoint()
    );
    let config = Config::parse("test.yaml", &yaml, Path::new("."), Arc::new(|_| None))
        .expect("test profile parses");
    let mut registry = Registry::new();
    registry.register(Arc::new(DynamoDbProvider));
    let stratus = Stratus::open(&config, Some("d"), &registry, BuildContext::default())
        .await
        .expect("open the dynamodb profile");
    stratus.kv(name).await.expect("open the table")
}

/// A plain SDK client on the same endpoint, to look under the adapter.
async fn client() -> Client {
    let options = AwsOptions {
        region: Some("us-east-1".into()),
        endpoint: Some(endpoint()),
    };
    Client::new(&options.sdk_config().await)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn raw_item(client: &Client, table: &str, key: &Key) -> HashMap<String, AttributeValue> {
    client
        .get_item()
        .table_name(table)
        .key("pk", s(&key.partition))
        .key("sk", s(&key.sort))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .unwrap_or_default()
}

/// Writes an item the way the adapter does, but already expired an hour ago (as DynamoDB
/// keeps it until its sweeper runs).
async fn put_expired(client: &Client, table: &str, key: &Key, value: &[u8]) {
    let exp = now_ms() - 3_600_000;
    client
        .put_item()
        .table_name(table)
        .item("pk", s(&key.partition))
        .item("sk", s(&key.sort))
        .item("val", AttributeValue::B(value.to_vec().into()))
        .item("ver", s("expired-version"))
        .item("exp_ms", n(exp))
        .item("ttl_s", n(exp / 1000))
        .send()
        .await
        .expect("PutItem of an expired item");
}

fn kind<T: std::fmt::Debug>(r: stratus::Result<T>) -> ErrorKind {
    r.expect_err("expected an error").kind()
}

fn when(condition: PutCondition) -> PutItemOptions {
    PutItemOptions {
        condition,
        ttl: None,
    }
}

#[tokio::test]
async fn open_creates_the_prefixed_table_with_ttl_and_is_idempotent() {
    let prefix = unique_prefix();
    let kv = open(&prefix, "orders").await;
    let key = Key::new("p", "a");
    kv.put(&key, Bytes::from_static(b"x"), PutItemOptions::default())
        .await
        .unwrap();
    // A second service (another process, say) opens the existing table.
    let again = open(&prefix, "orders").await;
    assert!(again.get(&key).await.unwrap().is_some());

    let client = client().await;
    let table = format!("{prefix}orders");
    let described = client
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("the table exists under the prefixed name");
    let schema = described.table.unwrap();
    let keys: Vec<_> = schema
        .key_schema()
        .iter()
        .map(|k| k.attribute_name().to_owned())
        .collect();
    assert_eq!(keys, ["pk", "sk"]);
    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("ttl_s"));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
}

#[tokio::test]
async fn short_names_are_padded_to_dynamodbs_minimum() {
    // With an empty prefix, logical table `a` would be an invalid DynamoDB name.
    let kv = open("", "a").await;
    let key = Key::new(uuid::Uuid::new_v4().to_string(), "s");
    kv.put(&key, Bytes::from_static(b"x"), PutItemOptions::default())
        .await
        .unwrap();
    let raw = raw_item(&client().await, "a__", &key).await;
    assert!(!raw.is_empty(), "item not found in table a__");
}

#[tokio::test]
async fn items_carry_value_version_and_both_expiry_attributes() {
    let prefix = unique_prefix();
    let kv = open(&prefix, "kv").await;
    let table = format!("{prefix}kv");
    let client = client().await;
    let key = Key::new("p", "ttl");
    let before = now_ms();
    let opts = PutItemOptions {
        condition: PutCondition::Always,
        ttl: Some(Duration::from_secs(60)),
    };
    let version = kv
        .put(&key, Bytes::from_static(b"\x00\xff"), opts)
        .await
        .unwrap();
    assert_eq!(
        version.len(),
        32,
        "version {version:?} is not 128 bits of hex"
    );
    let raw = raw_item(&client, &table, &key).await;
    assert_eq!(
        raw.get("val"),
        Some(&AttributeValue::B(vec![0, 0xff].into()))
    );
    assert_eq!(raw.get("ver"), Some(&s(&version)));
    let exp: i64 = raw["exp_ms"].as_n().unwrap().parse().unwrap();
    let ttl: i64 = raw["ttl_s"].as_n().unwrap().parse().unwrap();
    assert!(exp >= before + 60_000, "exp_ms {exp} before now + 60 s");
    assert!(
        ttl * 1000 >= exp,
        "ttl_s {ttl} lets the sweeper delete before exp_ms {exp}"
    );

    // A put without TTL removes both attributes.
    kv.put(&key, Bytes::from_static(b"y"), PutItemOptions::default())
        .await
        .unwrap();
    let raw = raw_item(&client, &table, &key).await;
    assert!(
        !raw.contains_key("exp_ms") && !raw.contains_key("ttl_s"),
        "{raw:?}"
    );
}

#[tokio::test]
async fn unswept_expired_items_are_absent_everywhere() {
    let prefix = unique_prefix();
    let kv = open(&prefix, "kv").await;
    let table = format!("{prefix}kv");
    let client = client().await;
    let k = |sort: &str| Key::new("p", sort);
    for sort in ["get", "ifabsent", "ifversion", "delete", "counter", "batch"] {
        put_expired(&client, &table, &k(sort), b"7").await;
    }
    assert_eq!(kv.get(&k("get")).await.unwrap(), None);
    let page = kv.query("p", QueryOptions::default()).await.unwrap();
    assert!(
        page.items.is_empty(),
        "query returned expired items: {page:?}"
    );
    assert_eq!(page.next_cursor, None);

    kv.put(
        &k("ifabsent"),
        Bytes::from_static(b"new"),
        when(PutCondition::IfAbsent),
    )
    .await
    .expect("IfAbsent over an expired item");
    let stale = when(PutCondition::IfVersion("expired-version".into()));
    assert_eq!(
        kind(kv.put(&k("ifversion"), Bytes::new(), stale).await),
        ErrorKind::PreconditionFailed
    );
    let cond = DeleteCondition::IfVersion("expired-version".into());
    assert_eq!(
        kind(kv.delete(&k("delete"), cond).await),
        ErrorKind::PreconditionFailed
    );
    assert_eq!(kv.increment(&k("counter"), 3).await.unwrap(), 3);
    let counter = kv.get(&k("counter")).await.unwrap().unwrap();
    assert_eq!((&counter.value[..], counter.expires_at), (&b"3"[..], None));
    let ops = vec![BatchOp::Put {
        sort: "batch".into(),
        value: Bytes::from_static(b"b"),
        opts: when(PutCondition::IfAbsent),
    }];
    kv.batch("p", ops)
        .await
        .expect("batch IfAbsent over an expired item");
}

#[tokio::test]
async fn query_pages_past_runs_of_expired_items() {
    let prefix = unique_prefix();
    let kv = open(&prefix, "kv").await;
    let table = format!("{prefix}kv");
    let client = client().await;
    // Live a, c, e with 20 expired items before, between and after them.
    for i in 0..20 {
        let sort = match i % 4 {
            0 => format!("0{i:02}"),
            1 => format!("b{i:02}"),
            2 => format!("d{i:02}"),
            _ => format!("f{i:02}"),
        };
        put_expired(&client, &table, &Key::new("p", sort), b"x").await;
    }
    for sort in ["a", "c", "e"] {
        kv.put(
            &Key::new("p", sort),
            Bytes::from_static(b"live"),
            PutItemOptions::default(),
        )
        .await
        .unwrap();
    }
    let mut opts = QueryOptions {
        limit: Some(2),
        ..Default::default()
    };
    let page = kv.query("p", opts.clone()).await.unwrap();
    let sorts: Vec<_> = page.items.iter().map(|i| i.key.sort.as_str()).collect();
    assert_eq!(
        sorts,
        ["a", "c"],
        "the page is short although live items follow"
    );
    assert!(page.next_cursor.is_some());
    opts.cursor = page.next_cursor;
    let page = kv.query("p", opts).await.unwrap();
    let sorts: Vec<_> = page.items.iter().map(|i| i.key.sort.as_str()).collect();
    assert_eq!(sorts, ["e"]);
    assert_eq!(
        page.next_cursor, None,
        "only expired items follow: no cursor"
    );
}

#[tokio::test]
async fn counters_are_native_numbers_and_put_text_is_converted() {
    let prefix = unique_prefix();
    let kv = open(&prefix, "kv").await;
    let table = format!("{prefix}kv");
    let client = client().await;

    let native = Key::new("p", "native");
    assert_eq!(kv.increment(&native, 5).await.unwrap(), 5);
    let raw = raw_item(&client, &table, &native).await;
    assert_eq!(raw.get("cnt"), Some(&n(5)), "{raw:?}");
    assert!(!raw.contains_key("val"));

    let text = Key::new("p", "text");
    let opts = PutItemOptions {
        condition: PutCondition::Always,
        ttl: Some(Duration::from_secs(3600)),
    };
    kv.put(&text, Bytes::from_static(b"41"), opts)
        .await
        .unwrap();
    let before = kv.get(&text).await.unwrap().unwrap();
    assert_eq!(kv.increment(&text, 1).await.unwrap(), 42);
    let raw = raw_item(&client, &table, &text).await;
    assert_eq!(raw.get("cnt"), Some(&n(42)), "{raw:?}");
    assert!(!raw.contains_key("val"), "{raw:?}");
    let after = kv.get(&text).await.unwrap().unwrap();
    assert_eq!(&after.value[..], b"42");
    assert_eq!(after.expires_at, before.expires_at, "the TTL is kept");
    assert_ne!(after.version, before.version);

    // DynamoDB numbers are wider than i64: the adapter must refuse the overflow itself.
    let big = Key::new("p", "big");
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("p"))
        .item("sk", s("big"))
        .item("cnt", n(i64::MAX - 1))
        .item("ver", s("v0"))
        .send()
        .await
        .unwrap();
    assert_eq!(kv.increment(&big, 1).await.unwrap(), i64::MAX);
    assert_eq!(
        kind(kv.increment(&big, 1).await),
        ErrorKind::InvalidArgument
    );
    assert_eq!(kv.increment(&big, i64::MIN).await.unwrap(), -1);
    assert_eq!(
        &kv.get(&big).await.unwrap().unwrap().value[..],
        b"-1",
        "a refused increment changed the value"
    );
}

#[tokio::test]
async fn cancelled_transactions_report_the_first_failing_operation() {
    let prefix = unique_prefix();
    let kv = open(&prefix, "kv").await;
    for sort in ["x", "y"] {
        kv.put(
            &Key::new("p", sort),
            Bytes::from_static(b"old"),
            PutItemOptions::default(),
        )
        .await
        .unwrap();
    }
    let put = |sort: &str, condition| BatchOp::Put {
        sort: sort.into(),
        value: Bytes::from_static(b"new"),
        opts: when(condition),
    };
    let version_first = vec![
        put("a", PutCondition::Always),
        put("x", PutCondition::IfVersion("nope".into())),
        put("y", PutCondition::IfAbsent),
    ];
    assert_eq!(
        kind(kv.batch("p", version_first).await),
        ErrorKind::PreconditionFailed
    );
    let absent_first = vec![
        put("y", PutCondition::IfAbsent),
        BatchOp::Delete {
            sort: "x".into(),
            condition: DeleteCondition::IfVersion("nope".into()),
        },
    ];
    assert_eq!(
        kind(kv.batch("p", absent_first).await),
        ErrorKind::AlreadyExists
    );
    assert_eq!(kv.get(&Key::new("p", "a")).await.unwrap(), None);
    let x = kv.get(&Key::new("p", "x")).await.unwrap().unwrap();
    assert_eq!(&x.value[..], b"old");
}
