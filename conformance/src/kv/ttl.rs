//! Per-item time to live (`kv.ttl`). TTLs are 1 s and waits 2.5 s: the portable precision
//! is one second.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use stratus::kv::{Key, PutCondition, PutItemOptions, QueryOptions};
use stratus::{Capability, ErrorKind};

use super::{case, get_some, names, put, sorts};
use crate::case::{Case, Failure, ensure, ensure_eq, expect_kind};

const TTL: Option<Capability> = Some(Capability::KvTtl);

/// Long enough for a 1 s TTL to have passed everywhere.
const EXPIRY_WAIT: Duration = Duration::from_millis(2500);

fn with_ttl(secs: u64) -> PutItemOptions {
    PutItemOptions {
        condition: PutCondition::Always,
        ttl: Some(Duration::from_secs(secs)),
    }
}

/// Fails unless `at` lies within `slack` of `expected`.
fn near(
    what: &str,
    at: Option<SystemTime>,
    expected: SystemTime,
    slack: Duration,
) -> Result<(), Failure> {
    let at = at.ok_or_else(|| {
        Failure(format!(
            "{what}: expires_at is None, expected about {expected:?}"
        ))
    })?;
    let diff = match at.duration_since(expected) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    ensure(
        diff <= slack,
        format!("{what}: expires_at {at:?}, expected {expected:?} within {slack:?}"),
    )
}

/// TTL cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("ttl_expires_at_reported", TTL, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let before = SystemTime::now();
            kv.put(&key, Bytes::from_static(b"x"), with_ttl(3600))
                .await?;
            let expected = before + Duration::from_secs(3600);
            let item = get_some(&*kv, &key).await?;
            near(
                "get after put with ttl 1h",
                item.expires_at,
                expected,
                Duration::from_secs(5),
            )?;
            let page = kv.query(&cx.partition(), QueryOptions::default()).await?;
            ensure_eq("items in the partition", page.items.len(), 1)?;
            near(
                "query after put with ttl 1h",
                page.items[0].expires_at,
                expected,
                Duration::from_secs(5),
            )
        }),
        case("ttl_expired_items_are_invisible", TTL, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let short = Key::new(&p, "short");
            let v_short = kv
                .put(&short, Bytes::from_static(b"gone"), with_ttl(1))
                .await?;
            kv.put(
                &Key::new(&p, "short2"),
                Bytes::from_static(b"gone"),
                with_ttl(1),
            )
            .await?;
            kv.put(
                &Key::new(&p, "long"),
                Bytes::from_static(b"kept"),
                with_ttl(3600),
            )
            .await?;
            put(&*kv, &Key::new(&p, "plain"), b"kept").await?;
            tokio::time::sleep(EXPIRY_WAIT).await;
            ensure_eq("get of an expired item", kv.get(&short).await?, None)?;
            let page = kv.query(&p, QueryOptions::default()).await?;
            ensure_eq(
                "query after expiry",
                sorts(&page.items),
                names(&["long", "plain"]),
            )?;
            // Expired counts as absent for conditions.
            let r = kv.put(
                &short,
                Bytes::from_static(b"x"),
                PutItemOptions {
                    condition: PutCondition::IfVersion(v_short),
                    ttl: None,
                },
            );
            expect_kind(
                "IfVersion put on an expired item",
                r.await,
                ErrorKind::PreconditionFailed,
            )?;
            let cond = PutItemOptions {
                condition: PutCondition::IfAbsent,
                ttl: None,
            };
            let v = kv
                .put(&short, Bytes::from_static(b"again"), cond)
                .await
                .map_err(|e| {
                    Failure(format!(
                        "IfAbsent put over an expired item: expected success, got {e}"
                    ))
                })?;
            let item = get_some(&*kv, &short).await?;
            ensure_eq(
                "value recreated over an expired item",
                &item.value[..],
                b"again",
            )?;
            ensure_eq("version recreated over an expired item", item.version, v)?;
            ensure_eq(
                "expires_at of the recreated item (put without ttl)",
                item.expires_at,
                None,
            )
        }),
        case("ttl_cleared_by_put_without_ttl", TTL, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            kv.put(&key, Bytes::from_static(b"one"), with_ttl(1))
                .await?;
            put(&*kv, &key, b"two").await?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("expires_at after a put without ttl", item.expires_at, None)?;
            tokio::time::sleep(EXPIRY_WAIT).await;
            let item = kv.get(&key).await?.ok_or_else(|| {
                Failure(
                    "item expired although the last put had no ttl (the old TTL must be cleared)"
                        .into(),
                )
            })?;
            ensure_eq("value after the old TTL passed", &item.value[..], b"two")
        }),
        case(
            "ttl_expired_counter_restarts_from_zero",
            TTL,
            |cx| async move {
                let kv = cx.kv().await?;
                let key = Key::new(cx.partition(), "counter");
                kv.put(&key, Bytes::from_static(b"41"), with_ttl(1)).await?;
                ensure_eq(
                    "increment of a live counter with ttl",
                    kv.increment(&key, 1).await?,
                    42,
                )?;
                tokio::time::sleep(EXPIRY_WAIT).await;
                ensure_eq(
                    "increment of an expired counter (counts as 0)",
                    kv.increment(&key, 5).await?,
                    5,
                )?;
                let item = get_some(&*kv, &key).await?;
                ensure_eq("value of the restarted counter", &item.value[..], b"5")?;
                ensure_eq("expires_at of a new counter", item.expires_at, None)
            },
        ),
        case("ttl_kept_by_increment", TTL, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "counter");
            kv.put(&key, Bytes::from_static(b"10"), with_ttl(3600))
                .await?;
            let before = get_some(&*kv, &key).await?.expires_at;
            ensure(before.is_some(), "expires_at is None after a put with ttl")?;
            ensure_eq("increment result", kv.increment(&key, 1).await?, 11)?;
            let after = get_some(&*kv, &key).await?;
            ensure_eq(
                "expires_at after increment (kept)",
                after.expires_at,
                before,
            )?;
            ensure_eq("value after increment", &after.value[..], b"11")
        }),
        case("ttl_below_one_second_is_invalid", TTL, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let opts = PutItemOptions {
                condition: PutCondition::Always,
                ttl: Some(Duration::from_millis(500)),
            };
            let r = kv.put(&key, Bytes::from_static(b"x"), opts).await;
            expect_kind("put with ttl 500 ms", r, ErrorKind::InvalidArgument)?;
            ensure_eq("item after the refused put", kv.get(&key).await?, None)
        }),
    ]
}
