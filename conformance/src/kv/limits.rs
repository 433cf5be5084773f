//! Portable limits: value size and key validity.

use bytes::Bytes;
use stratus::ErrorKind;
use stratus::kv::{DeleteCondition, Key, PutItemOptions, QueryOptions};
use stratus::limits::{MAX_KV_KEY_BYTES, MAX_KV_VALUE_BYTES};

use super::{case, get_some};
use crate::case::{Case, ensure, ensure_eq, expect_kind};

/// Limit cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("value_size_limit", None, |cx| async move {
            let kv = cx.kv().await?;
            let key = Key::new(cx.partition(), "big");
            let max: Vec<u8> = (0..MAX_KV_VALUE_BYTES).map(|i| (i % 251) as u8).collect();
            kv.put(&key, Bytes::from(max.clone()), PutItemOptions::default())
                .await?;
            let item = get_some(&*kv, &key).await?;
            ensure(
                item.value[..] == max[..],
                format!(
                    "value of exactly {MAX_KV_VALUE_BYTES} bytes read back as {} different bytes",
                    item.value.len()
                ),
            )?;
            let over = Key::new(cx.partition(), "over");
            let r = kv
                .put(
                    &over,
                    Bytes::from(vec![7u8; MAX_KV_VALUE_BYTES + 1]),
                    PutItemOptions::default(),
                )
                .await;
            expect_kind("put of 256 KiB + 1 byte", r, ErrorKind::InvalidArgument)?;
            ensure_eq("item after the refused put", kv.get(&over).await?, None)
        }),
        case("invalid_keys_are_rejected", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let long = "x".repeat(MAX_KV_KEY_BYTES + 1);
            // 257 characters but 514 bytes: the limit counts bytes.
            let wide = "é".repeat(MAX_KV_KEY_BYTES / 2 + 1);
            let bad = [
                ("empty partition", Key::new("", "s")),
                ("empty sort key", Key::new(&p, "")),
                (
                    "control character in partition",
                    Key::new(format!("{p}\n"), "s"),
                ),
                ("control character in sort key", Key::new(&p, "a\u{0}b")),
                ("DEL in sort key", Key::new(&p, "a\u{7f}")),
                ("513-byte partition", Key::new(long.clone(), "s")),
                ("513-byte sort key", Key::new(&p, long.clone())),
                ("514-byte (257-char) sort key", Key::new(&p, wide.clone())),
            ];
            for (what, key) in &bad {
                let r = kv
                    .put(key, Bytes::from_static(b"x"), PutItemOptions::default())
                    .await;
                expect_kind(&format!("put with {what}"), r, ErrorKind::InvalidArgument)?;
                expect_kind(
                    &format!("get with {what}"),
                    kv.get(key).await,
                    ErrorKind::InvalidArgument,
                )?;
                let r = kv.delete(key, DeleteCondition::Always).await;
                expect_kind(
                    &format!("delete with {what}"),
                    r,
                    ErrorKind::InvalidArgument,
                )?;
                expect_kind(
                    &format!("increment with {what}"),
                    kv.increment(key, 1).await,
                    ErrorKind::InvalidArgument,
                )?;
            }
            for (what, partition) in [
                ("empty", String::new()),
                ("513-byte", long),
                ("control-character", "a\tb".into()),
            ] {
                let r = kv.query(&partition, QueryOptions::default()).await;
                expect_kind(
                    &format!("query of a {what} partition"),
                    r,
                    ErrorKind::InvalidArgument,
                )?;
            }
            let page = kv.query(&p, QueryOptions::default()).await?;
            ensure_eq("items written by refused puts", page.items.len(), 0)
        }),
        case("longest_keys_are_accepted", None, |cx| async move {
            let kv = cx.kv().await?;
            let partition = format!("{}-{}", cx.partition(), "p".repeat(MAX_KV_KEY_BYTES));
            let partition = partition[..MAX_KV_KEY_BYTES].to_owned();
            // 256 two-byte characters: exactly 512 bytes.
            let sort = "é".repeat(MAX_KV_KEY_BYTES / 2);
            let key = Key::new(partition.clone(), sort.clone());
            kv.put(&key, Bytes::from_static(b"edge"), PutItemOptions::default())
                .await?;
            let item = get_some(&*kv, &key).await?;
            ensure_eq("value at 512-byte keys", &item.value[..], b"edge")?;
            let page = kv.query(&partition, QueryOptions::default()).await?;
            ensure_eq(
                "sort keys in the 512-byte partition",
                page.items
                    .iter()
                    .map(|i| i.key.sort.clone())
                    .collect::<Vec<_>>(),
                vec![sort],
            )
        }),
    ]
}
