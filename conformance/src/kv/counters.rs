//! Counters: `increment` semantics, atomicity, and a compare-and-swap race.

use std::sync::Arc;

use bytes::Bytes;
use stratus::ErrorKind;
use stratus::kv::{Key, KvStore, PutCondition, parse_counter};

use super::{case, get_some, put, when};
use crate::case::{Case, Failure, ensure, ensure_eq, expect_kind};

/// Adds one through get + `IfVersion` put, retrying lost races; returns the value written.
async fn cas_increment(kv: &dyn KvStore, key: &Key) -> Result<i64, Failure> {
    for _ in 0..10_000 {
        let item = get_some(kv, key).await?;
        let next = parse_counter(&item.value)? + 1;
        let value = Bytes::from(next.to_string());
        match kv
            .put(key, value, when(PutCondition::IfVersion(item.version)))
            .await
        {
            Ok(_) => return Ok(next),
            Err(e) if e.kind() == ErrorKind::PreconditionFailed => continue,
            Err(e) => {
                return Err(Failure(format!(
                    "IfVersion put in a CAS loop: expected Ok or PreconditionFailed, got {e}"
                )));
            }
        }
    }
    Err(Failure("CAS increment lost 10000 races in a row".into()))
}

/// Counter cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("increment_from_absent", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "counter");
            ensure_eq(
                "increment of an absent key by 5",
                kv.increment(&key, 5).await?,
                5,
            )?;
            ensure_eq("second increment by 2", kv.increment(&key, 2).await?, 7)?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("stored counter (decimal text)", &item.value[..], b"7")?;
            ensure_eq("expires_at of a new counter", item.expires_at, None)
        }),
        case("increment_negative_delta", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "counter");
            ensure_eq("increment by 5", kv.increment(&key, 5).await?, 5)?;
            ensure_eq("increment by -8", kv.increment(&key, -8).await?, -3)?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("stored negative counter", &item.value[..], b"-3")?;
            let other = Key::new(cx.partition(), "fresh");
            ensure_eq(
                "increment of an absent key by -4",
                kv.increment(&other, -4).await?,
                -4,
            )
        }),
        case("increment_existing_decimal_value", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "counter");
            let v1 = put(&*kv, &key, b"41").await?;
            ensure_eq(
                "increment of a put \"41\"",
                kv.increment(&key, 1).await?,
                42,
            )?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("stored counter", &item.value[..], b"42")?;
            ensure(item.version != v1, "increment kept the previous version")?;
            put(&*kv, &key, b"-9000000000").await?;
            ensure_eq(
                "increment of a large negative value",
                kv.increment(&key, 1).await?,
                -8_999_999_999,
            )
        }),
        case("increment_non_integer_is_invalid", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let bad: [&[u8]; 6] = [b"abc", b"1.5", b" 7", b"7x", b"", &[0xff, 0x00]];
            for (i, value) in bad.into_iter().enumerate() {
                let key = Key::new(&p, format!("bad{i}"));
                let v = put(&*kv, &key, value).await?;
                let r = kv.increment(&key, 1).await;
                expect_kind(
                    &format!("increment of value {:?}", String::from_utf8_lossy(value)),
                    r,
                    ErrorKind::InvalidArgument,
                )?;
                let item = get_some(&*kv, &key).await?;
                ensure_eq("value after the refused increment", &item.value[..], value)?;
                ensure_eq("version after the refused increment", item.version, v)?;
            }
            Ok(())
        }),
        case("increment_overflow_is_invalid", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "counter");
            put(&*kv, &key, i64::MAX.to_string().as_bytes()).await?;
            expect_kind(
                "increment of i64::MAX by 1",
                kv.increment(&key, 1).await,
                ErrorKind::InvalidArgument,
            )?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq(
                "value after the refused increment",
                &item.value[..],
                i64::MAX.to_string().as_bytes(),
            )?;
            let low = Key::new(cx.partition(), "low");
            ensure_eq(
                "increment to i64::MIN",
                kv.increment(&low, i64::MIN).await?,
                i64::MIN,
            )?;
            expect_kind(
                "increment of i64::MIN by -1",
                kv.increment(&low, -1).await,
                ErrorKind::InvalidArgument,
            )?;
            Ok(())
        }),
        case("increment_concurrent_is_atomic", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "counter");
            let mut tasks = Vec::new();
            for _ in 0..10 {
                let (kv, key) = (Arc::clone(&kv), key.clone());
                tasks.push(tokio::spawn(async move {
                    let mut seen = Vec::with_capacity(100);
                    for _ in 0..100 {
                        seen.push(kv.increment(&key, 1).await?);
                    }
                    Ok::<_, stratus::Error>(seen)
                }));
            }
            let mut returned = Vec::new();
            for task in tasks {
                let seen = task
                    .await
                    .map_err(|e| Failure(format!("increment task panicked: {e}")))??;
                returned.extend(seen);
            }
            let item = get_some(&*kv, &key).await?;
            ensure_eq(
                "counter after 10 tasks x 100 increments",
                &item.value[..],
                b"1000",
            )?;
            returned.sort_unstable();
            ensure(
                returned == (1..=1000).collect::<Vec<i64>>(),
                "the 1000 increments did not return each of 1..=1000 exactly once (a lost or duplicated update)",
            )
        }),
        case("if_version_cas_race", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "counter");
            put(&*kv, &key, b"0").await?;
            let mut tasks = Vec::new();
            for _ in 0..5 {
                let (kv, key) = (Arc::clone(&kv), key.clone());
                tasks.push(tokio::spawn(async move {
                    let mut written = Vec::new();
                    for _ in 0..10 {
                        written.push(cas_increment(&*kv, &key).await?);
                    }
                    Ok::<_, Failure>(written)
                }));
            }
            let mut written = Vec::new();
            for task in tasks {
                written.extend(
                    task.await
                        .map_err(|e| Failure(format!("CAS task panicked: {e}")))??,
                );
            }
            let item = get_some(&*kv, &key).await?;
            ensure_eq(
                "counter after 5 writers x 10 CAS increments",
                &item.value[..],
                b"50",
            )?;
            written.sort_unstable();
            ensure(
                written == (1..=50).collect::<Vec<i64>>(),
                format!("two IfVersion puts won with the same version: values written {written:?}"),
            )
        }),
    ]
}
