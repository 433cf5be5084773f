use std::time::Duration;

use stratus::ErrorKind;
use stratus::kv::{
    BatchOp, DeleteCondition, KvService, KvStore, Order, PutCondition, PutItemOptions,
    QueryOptions, SortRange,
};

use super::*;

async fn table(dir: &tempfile::TempDir) -> Arc<dyn KvStore> {
    let service = LocalKvService::new(KvOptions {
        path: dir.path().join("kv.redb"),
    })
    .unwrap();
    service.open("things").await.unwrap()
}

fn key(sort: &str) -> stratus::kv::Key {
    stratus::kv::Key::new("p", sort)
}

fn with(condition: PutCondition) -> PutItemOptions {
    PutItemOptions {
        condition,
        ttl: None,
    }
}

fn ttl(d: Duration) -> PutItemOptions {
    PutItemOptions {
        condition: PutCondition::Always,
        ttl: Some(d),
    }
}

#[tokio::test]
async fn version_is_never_reused_after_delete_and_recreate() {
    let dir = tempfile::tempdir().unwrap();
    let kv = table(&dir).await;
    let v1 = kv
        .put(&key("a"), "x".into(), Default::default())
        .await
        .unwrap();
    kv.delete(&key("a"), DeleteCondition::Always).await.unwrap();
    let v2 = kv
        .put(&key("a"), "x".into(), Default::default())
        .await
        .unwrap();
    assert_ne!(v1, v2);
    let stale = kv
        .put(&key("a"), "y".into(), with(PutCondition::IfVersion(v1)))
        .await;
    assert_eq!(stale.unwrap_err().kind(), ErrorKind::PreconditionFailed);
    let v3 = kv
        .put(
            &key("a"),
            "y".into(),
            with(PutCondition::IfVersion(v2.clone())),
        )
        .await
        .unwrap();
    assert_ne!(v3, v2);
    assert_eq!(kv.get(&key("a")).await.unwrap().unwrap().version, v3);
}

#[tokio::test]
async fn versions_survive_reopening_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = table(&dir)
        .await
        .put(&key("a"), "x".into(), Default::default())
        .await
        .unwrap();
    let kv = table(&dir).await;
    kv.delete(&key("a"), DeleteCondition::Always).await.unwrap();
    let v2 = kv
        .put(&key("a"), "x".into(), Default::default())
        .await
        .unwrap();
    assert_ne!(v1, v2);
}

#[tokio::test]
async fn expired_items_are_invisible_to_get_query_and_if_absent() {
    let dir = tempfile::tempdir().unwrap();
    let kv = table(&dir).await;
    kv.put(&key("gone"), "x".into(), ttl(Duration::from_millis(20)))
        .await
        .unwrap();
    kv.put(&key("kept"), "y".into(), ttl(Duration::from_secs(3600)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(kv.get(&key("gone")).await.unwrap().is_none());
    let page = kv.query("p", QueryOptions::default()).await.unwrap();
    let sorts: Vec<_> = page.items.iter().map(|i| i.key.sort.as_str()).collect();
    assert_eq!(sorts, ["kept"]);
    assert!(page.items[0].expires_at.is_some());
    let stale = kv
        .delete(&key("gone"), DeleteCondition::IfVersion("1".into()))
        .await;
    assert_eq!(stale.unwrap_err().kind(), ErrorKind::PreconditionFailed);
    kv.put(&key("gone"), "z".into(), with(PutCondition::IfAbsent))
        .await
        .unwrap();
    let item = kv.get(&key("gone")).await.unwrap().unwrap();
    assert_eq!((item.value.as_ref(), item.expires_at), (&b"z"[..], None));
    let dup = kv
        .put(&key("gone"), "w".into(), with(PutCondition::IfAbsent))
        .await;
    assert_eq!(dup.unwrap_err().kind(), ErrorKind::AlreadyExists);
}

#[tokio::test]
async fn put_without_ttl_clears_the_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let kv = table(&dir).await;
    kv.put(&key("a"), "x".into(), ttl(Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(
        kv.get(&key("a"))
            .await
            .unwrap()
            .unwrap()
            .expires_at
            .is_some()
    );
    kv.put(&key("a"), "x".into(), Default::default())
        .await
        .unwrap();
    assert!(
        kv.get(&key("a"))
            .await
            .unwrap()
            .unwrap()
            .expires_at
            .is_none()
    );
}

async fn sorts(kv: &Arc<dyn KvStore>, partition: &str, mut opts: QueryOptions) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    loop {
        let page = kv.query(partition, opts.clone()).await.unwrap();
        pages.push(page.items.iter().map(|i| i.key.sort.clone()).collect());
        match page.next_cursor {
            Some(c) => opts.cursor = Some(c),
            None => return pages,
        }
    }
}

#[tokio::test]
async fn query_pages_in_both_orders_within_one_partition() {
    let dir = tempfile::tempdir().unwrap();
    let kv = table(&dir).await;
    for sort in ["a1", "a2", "a3", "b1", "b2"] {
        kv.put(&key(sort), "v".into(), Default::default())
            .await
            .unwrap();
    }
    // Neighbouring partitions must not leak into `p`.
    kv.put(
        &stratus::kv::Key::new("p2", "a0"),
        "v".into(),
        Default::default(),
    )
    .await
    .unwrap();
    kv.put(
        &stratus::kv::Key::new("o", "zz"),
        "v".into(),
        Default::default(),
    )
    .await
    .unwrap();
    let all = QueryOptions {
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(
        sorts(&kv, "p", all.clone()).await,
        [vec!["a1", "a2"], vec!["a3", "b1"], vec!["b2"]]
    );
    let desc = QueryOptions {
        order: Order::Descending,
        ..all.clone()
    };
    assert_eq!(
        sorts(&kv, "p", desc).await,
        [vec!["b2", "b1"], vec!["a3", "a2"], vec!["a1"]]
    );
    let prefix = QueryOptions {
        range: SortRange::Prefix("a".into()),
        order: Order::Descending,
        ..all.clone()
    };
    assert_eq!(
        sorts(&kv, "p", prefix).await,
        [vec!["a3", "a2"], vec!["a1"]]
    );
    let exact = QueryOptions {
        limit: Some(3),
        range: SortRange::Prefix("a".into()),
        ..Default::default()
    };
    assert_eq!(sorts(&kv, "p", exact).await, [vec!["a1", "a2", "a3"]]);
    use std::ops::Bound::*;
    let between = QueryOptions {
        range: SortRange::Between(Excluded("a1".into()), Included("b1".into())),
        ..all
    };
    assert_eq!(
        sorts(&kv, "p", between).await,
        [vec!["a2", "a3"], vec!["b1"]]
    );
    let empty = QueryOptions {
        range: SortRange::Between(Included("b".into()), Included("a".into())),
        ..Default::default()
    };
    assert_eq!(sorts(&kv, "p", empty).await, [Vec::<String>::new()]);
    let point = QueryOptions {
        range: SortRange::Between(Included("a2".into()), Included("a2".into())),
        ..Default::default()
    };
    assert_eq!(sorts(&kv, "p", point).await, [vec!["a2"]]);
    for (l, u) in [
        (Excluded("a2"), Excluded("a2")),
        (Included("a2"), Excluded("a2")),
        (Excluded("a2"), Included("a2")),
    ] {
        let range = SortRange::Between(l.map(str::to_owned), u.map(str::to_owned));
        let none = QueryOptions {
            range,
            ..Default::default()
        };
        assert_eq!(sorts(&kv, "p", none).await, [Vec::<String>::new()]);
    }
}

#[tokio::test]
async fn batch_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let kv = table(&dir).await;
    let v = kv
        .put(&key("a"), "old".into(), Default::default())
        .await
        .unwrap();
    let put = |sort: &str, condition| BatchOp::Put {
        sort: sort.into(),
        value: "new".into(),
        opts: with(condition),
    };
    let failing = vec![
        put("b", PutCondition::Always),
        put("a", PutCondition::IfAbsent),
    ];
    assert_eq!(
        kv.batch("p", failing).await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert!(kv.get(&key("b")).await.unwrap().is_none());
    let ok = vec![
        put("b", PutCondition::IfAbsent),
        BatchOp::Delete {
            sort: "a".into(),
            condition: DeleteCondition::IfVersion(v),
        },
    ];
    let results = kv.batch("p", ok).await.unwrap();
    assert!(results[0].is_some() && results[1].is_none());
    assert!(kv.get(&key("a")).await.unwrap().is_none());
    assert_eq!(
        kv.get(&key("b")).await.unwrap().unwrap().version,
        results[0].clone().unwrap()
    );
}

#[tokio::test]
async fn increment_is_atomic_and_keeps_the_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let kv = table(&dir).await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let kv = kv.clone();
            tokio::spawn(async move {
                for _ in 0..100 {
                    kv.increment(&key("n"), 1).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        kv.get(&key("n")).await.unwrap().unwrap().value.as_ref(),
        b"1000"
    );

    kv.put(&key("t"), "5".into(), ttl(Duration::from_secs(60)))
        .await
        .unwrap();
    let before = kv.get(&key("t")).await.unwrap().unwrap();
    assert_eq!(kv.increment(&key("t"), -7).await.unwrap(), -2);
    let after = kv.get(&key("t")).await.unwrap().unwrap();
    assert_eq!(after.expires_at, before.expires_at);
    assert_ne!(after.version, before.version);

    kv.put(&key("s"), "x".into(), Default::default())
        .await
        .unwrap();
    assert_eq!(
        kv.increment(&key("s"), 1).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    kv.put(&key("m"), i64::MAX.to_string().into(), Default::default())
        .await
        .unwrap();
    assert_eq!(
        kv.increment(&key("m"), 1).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn increment_treats_an_expired_counter_as_zero_without_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let kv = table(&dir).await;
    kv.put(&key("n"), "41".into(), ttl(Duration::from_millis(20)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(kv.increment(&key("n"), 2).await.unwrap(), 2);
    assert!(
        kv.get(&key("n"))
            .await
            .unwrap()
            .unwrap()
            .expires_at
            .is_none()
    );
}

#[tokio::test]
async fn tables_are_separate() {
    let dir = tempfile::tempdir().unwrap();
    let service = LocalKvService::new(KvOptions {
        path: dir.path().join("kv.redb"),
    })
    .unwrap();
    let (a, b) = (
        service.open("a").await.unwrap(),
        service.open("b").await.unwrap(),
    );
    a.put(&key("k"), "x".into(), Default::default())
        .await
        .unwrap();
    assert!(b.get(&key("k")).await.unwrap().is_none());
    let missing = a.delete(&key("zz"), DeleteCondition::Always).await;
    assert!(missing.is_ok());
}

#[test]
fn options_need_a_path_and_reject_unknown_keys() {
    let parse = |yaml: &str| {
        let config =
            stratus::Config::parse("t.yaml", yaml, "/base".as_ref(), Arc::new(|_| None)).unwrap();
        let profile = config.profile("p").unwrap();
        let service = profile.service(stratus::ServiceKind::Kv).unwrap();
        KvOptions::parse(&service.options)
    };
    let ok =
        parse("profiles:\n  p:\n    kv:\n      provider: local\n      path: kv.redb\n").unwrap();
    assert_eq!(ok.path, std::path::Path::new("/base/kv.redb"));
    assert!(parse("profiles:\n  p:\n    kv:\n      provider: local\n").is_err());
    assert!(
        parse("profiles:\n  p:\n    kv:\n      provider: local\n      path: x\n      nope: 1\n")
            .is_err()
    );
}
