//! Put and delete conditions, versions and value round trips.

use std::collections::HashSet;

use bytes::Bytes;
use stratus::ErrorKind;
use stratus::kv::{DeleteCondition, Key, PutCondition};

use super::{case, get_some, put, when};
use crate::case::{Case, ensure, ensure_eq, expect_kind};

/// Condition and version cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("get_absent_is_none", None, |cx| async move {
            let kv = cx.kv().await?;
            let got = kv.get(&Key::new(cx.partition(), "never-written")).await?;
            ensure_eq("get of a key never written", got, None)
        }),
        case("put_always_then_get", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let version = put(&*kv, &key, b"hello").await?;
            ensure(!version.is_empty(), "put returned an empty version")?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("item key", &item.key, &key)?;
            ensure_eq("item value", &item.value[..], b"hello")?;
            ensure_eq("item version (as returned by put)", &item.version, &version)?;
            ensure_eq(
                "expires_at of an item put without ttl",
                item.expires_at,
                None,
            )
        }),
        case("put_always_overwrites", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let v1 = put(&*kv, &key, b"one").await?;
            let v2 = kv
                .put(&key, Bytes::from_static(b"two"), when(PutCondition::Always))
                .await?;
            ensure(
                v1 != v2,
                format!("overwrite kept the version {v1:?}; expected a new one"),
            )?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("value after overwrite", &item.value[..], b"two")?;
            ensure_eq("version after overwrite", item.version, v2)
        }),
        case("put_if_absent_creates", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let v = kv
                .put(
                    &key,
                    Bytes::from_static(b"new"),
                    when(PutCondition::IfAbsent),
                )
                .await?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("value written by IfAbsent", &item.value[..], b"new")?;
            ensure_eq("version written by IfAbsent", item.version, v)
        }),
        case("put_if_absent_existing_fails", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let v = put(&*kv, &key, b"first").await?;
            let r = kv
                .put(
                    &key,
                    Bytes::from_static(b"second"),
                    when(PutCondition::IfAbsent),
                )
                .await;
            expect_kind("IfAbsent put over a live item", r, ErrorKind::AlreadyExists)?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq(
                "value after the refused IfAbsent put",
                &item.value[..],
                b"first",
            )?;
            ensure_eq("version after the refused IfAbsent put", item.version, v)
        }),
        case("put_if_version_matching_succeeds", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let v1 = put(&*kv, &key, b"one").await?;
            let cond = when(PutCondition::IfVersion(v1.clone()));
            let v2 = kv.put(&key, Bytes::from_static(b"two"), cond).await?;
            ensure(v1 != v2, "IfVersion put returned the old version")?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("value after IfVersion put", &item.value[..], b"two")?;
            ensure_eq("version after IfVersion put", item.version, v2)
        }),
        case("put_if_version_stale_fails", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let v1 = put(&*kv, &key, b"one").await?;
            let v2 = put(&*kv, &key, b"two").await?;
            let cond = when(PutCondition::IfVersion(v1));
            let r = kv.put(&key, Bytes::from_static(b"three"), cond).await;
            expect_kind(
                "IfVersion put with a superseded version",
                r,
                ErrorKind::PreconditionFailed,
            )?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq(
                "value after the refused IfVersion put",
                &item.value[..],
                b"two",
            )?;
            ensure_eq("version after the refused IfVersion put", item.version, v2)
        }),
        case("put_if_version_absent_fails", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            // A version taken from another key: the target key itself does not exist.
            let other = put(&*kv, &Key::new(cx.partition(), "other"), b"x").await?;
            let r = kv
                .put(
                    &key,
                    Bytes::from_static(b"v"),
                    when(PutCondition::IfVersion(other)),
                )
                .await;
            expect_kind(
                "IfVersion put on an absent key",
                r,
                ErrorKind::PreconditionFailed,
            )?;
            ensure_eq("item after the refused put", kv.get(&key).await?, None)
        }),
        case(
            "delete_always_removes_and_absent_is_ok",
            None,
            |cx| async move {
                let kv = cx.kv().await?;
                let key = Key::new(cx.partition(), "item");
                put(&*kv, &key, b"x").await?;
                kv.delete(&key, DeleteCondition::Always).await?;
                ensure_eq("get after delete", kv.get(&key).await?, None)?;
                kv.delete(&key, DeleteCondition::Always).await.map_err(|e| {
                    crate::Failure(format!(
                        "second delete of an absent key: expected Ok, got {e}"
                    ))
                })
            },
        ),
        case(
            "delete_if_version_matching_removes",
            None,
            |cx| async move {
                let kv = cx.kv().await?;
                let key = Key::new(cx.partition(), "item");
                let v = put(&*kv, &key, b"x").await?;
                kv.delete(&key, DeleteCondition::IfVersion(v)).await?;
                ensure_eq(
                    "get after a matching IfVersion delete",
                    kv.get(&key).await?,
                    None,
                )
            },
        ),
        case("delete_if_version_mismatch_fails", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let v1 = put(&*kv, &key, b"one").await?;
            let v2 = put(&*kv, &key, b"two").await?;
            let r = kv.delete(&key, DeleteCondition::IfVersion(v1)).await;
            expect_kind(
                "IfVersion delete with a superseded version",
                r,
                ErrorKind::PreconditionFailed,
            )?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("version after the refused delete", item.version, v2)
        }),
        case("delete_if_version_absent_fails", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let v = put(&*kv, &key, b"x").await?;
            kv.delete(&key, DeleteCondition::Always).await?;
            let r = kv.delete(&key, DeleteCondition::IfVersion(v)).await;
            expect_kind(
                "IfVersion delete of an absent key",
                r,
                ErrorKind::PreconditionFailed,
            )?;
            Ok(())
        }),
        case("versions_change_on_every_write", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "item");
            let mut seen = HashSet::new();
            for i in 0..5 {
                // The same value every time: the version must change anyway.
                let v = put(&*kv, &key, b"same").await?;
                ensure(
                    seen.insert(v.clone()),
                    format!("write {i} returned version {v:?} again"),
                )?;
            }
            let n = kv
                .increment(&Key::new(cx.partition(), "counter"), 1)
                .await?;
            ensure_eq("first increment", n, 1)?;
            let before = get_some(&*kv, &Key::new(cx.partition(), "counter"))
                .await?
                .version;
            kv.increment(&Key::new(cx.partition(), "counter"), 0)
                .await?;
            let after = get_some(&*kv, &Key::new(cx.partition(), "counter"))
                .await?
                .version;
            ensure(
                before != after,
                format!("increment by 0 kept version {before:?}; every write changes it"),
            )
        }),
        case(
            "versions_not_reused_after_delete_and_recreate",
            None,
            |cx| async move {
                let kv = cx.kv().await?;
                let key = Key::new(cx.partition(), "item");
                let mut seen = Vec::new();
                for round in 0..4 {
                    let v = kv
                        .put(
                            &key,
                            Bytes::from_static(b"same"),
                            when(PutCondition::IfAbsent),
                        )
                        .await?;
                    ensure(
                        !seen.contains(&v),
                        format!("recreate {round} reused version {v:?} (earlier: {seen:?})"),
                    )?;
                    seen.push(v);
                    kv.delete(&key, DeleteCondition::Always).await?;
                }
                kv.put(
                    &key,
                    Bytes::from_static(b"same"),
                    when(PutCondition::IfAbsent),
                )
                .await?;
                let old = seen[0].clone();
                let r = kv
                    .put(
                        &key,
                        Bytes::from_static(b"x"),
                        when(PutCondition::IfVersion(old)),
                    )
                    .await;
                expect_kind(
                    "IfVersion with the version of a deleted incarnation",
                    r,
                    ErrorKind::PreconditionFailed,
                )?;
                Ok(())
            },
        ),
        case("binary_values_round_trip", None, |cx| async move {
            let kv = cx.kv().await?;
            let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
            let values: [(&str, Vec<u8>); 4] = [
                ("all-bytes", all),
                ("empty", Vec::new()),
                ("nul", vec![0]),
                ("invalid-utf8", vec![0xff, 0xfe, 0xc3, 0x28]),
            ];
            for (sort, value) in values {
                let key = Key::new(cx.partition(), sort);
                put(&*kv, &key, &value).await?;
                let item = get_some(&*kv, &key).await?;
                ensure_eq(
                    &format!("value of {sort:?} read back"),
                    &item.value[..],
                    &value[..],
                )?;
            }
            Ok(())
        }),
    ]
}
