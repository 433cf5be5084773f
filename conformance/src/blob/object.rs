//! Single-object cases: round trips, overwrite, ETags, head/get agreement, metadata and
//! content type.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use stratus::blob::{GetOptions, PutOptions};
use stratus::{ErrorKind, ServiceKind};

use super::util::*;
use crate::case::{Case, ensure, ensure_eq, expect_kind};

const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The object cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(ServiceKind::Blob, "put_get_empty", None, |cx| async move {
            let store = cx.blob().await?;
            let key = cx.key("empty");
            let put = put(&store, &key, Bytes::new()).await?;
            ensure_eq("size returned by put of an empty body", put.size, 0)?;
            let got = store.get(&key, GetOptions::default()).await?;
            ensure_eq("get range of an empty object", got.range.clone(), 0..0)?;
            ensure_eq("get meta size of an empty object", got.meta.size, 0)?;
            ensure_body("body of an empty object", &got.bytes().await?, b"")?;
            ensure_eq(
                "head size of an empty object",
                store.head(&key).await?.size,
                0,
            )
        }),
        Case::new(
            ServiceKind::Blob,
            "put_get_one_byte",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("one");
                ensure_eq(
                    "size returned by put",
                    put(&store, &key, &b"\x00"[..]).await?.size,
                    1,
                )?;
                ensure_holds(&store, &key, b"\x00", "after a 1-byte put").await?;
                ensure_eq("head size", store.head(&key).await?.size, 1)
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_get_every_byte_value",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("bytes");
                let body: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
                put(&store, &key, body.clone()).await?;
                ensure_holds(&store, &key, &body, "holding all 256 byte values").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_get_one_mebibyte",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("mib");
                let body = pattern(11, 0, 1024 * 1024 + 7);
                ensure_eq(
                    "size returned by put",
                    put(&store, &key, body.clone()).await?.size,
                    body.len() as u64,
                )?;
                let got = store.get(&key, GetOptions::default()).await?;
                ensure_pattern("1 MiB object read back", got.body, 11, 0, body.len() as u64).await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_meta_matches_head",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("meta");
                let put = put(&store, &key, &b"hello"[..]).await?;
                ensure_eq("key returned by put", put.key.as_str(), key.as_str())?;
                ensure_eq("size returned by put", put.size, 5)?;
                ensure(!put.etag.is_empty(), "put returned an empty ETag")?;
                let head = store.head(&key).await?;
                ensure_eq("head key", head.key.as_str(), key.as_str())?;
                ensure_eq("head ETag vs the ETag put returned", head.etag, put.etag)
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "missing_object_not_found",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("never-written");
                expect_kind(
                    "get of a missing key",
                    store.get(&key, GetOptions::default()).await.map(|r| r.meta),
                    ErrorKind::NotFound,
                )?;
                expect_kind(
                    "head of a missing key",
                    store.head(&key).await,
                    ErrorKind::NotFound,
                )?;
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "overwrite_returns_new_body",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                put(&store, &key, &b"first version, longer"[..]).await?;
                put(&store, &key, &b"second"[..]).await?;
                ensure_holds(
                    &store,
                    &key,
                    b"second",
                    "after an overwrite with a shorter body",
                )
                .await?;
                ensure_eq("head size after overwrite", store.head(&key).await?.size, 6)
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "overwrite_keeps_no_old_metadata",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let first = with_meta(Some("text/plain"), &[("colour", "red"), ("owner", "a")]);
                store.put(&key, Bytes::from_static(b"v1"), first).await?;
                let second = with_meta(None, &[("size", "big")]);
                store.put(&key, Bytes::from_static(b"v2"), second).await?;
                let head = store.head(&key).await?;
                ensure_eq(
                    "metadata after overwrite",
                    head.metadata,
                    meta_map(&[("size", "big")]),
                )?;
                ensure_eq(
                    "content type after overwrite without one",
                    head.content_type.as_deref(),
                    Some(DEFAULT_CONTENT_TYPE),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "etag_changes_when_the_body_changes",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let mut seen = Vec::new();
                for round in 0..4 {
                    let body = format!("body number {round}");
                    let etag = put(&store, &key, body).await?.etag;
                    ensure(
                        !seen.contains(&etag),
                        format!(
                            "write {round} of a new body returned ETag {etag:?}, already returned by an earlier write ({seen:?})"
                        ),
                    )?;
                    ensure_eq(
                        "head ETag after the write",
                        store.head(&key).await?.etag,
                        etag.clone(),
                    )?;
                    seen.push(etag);
                }
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "head_and_get_agree",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let opts = with_meta(Some("application/json"), &[("a", "1"), ("b-c", "two")]);
                store
                    .put(&key, Bytes::from_static(b"{\"x\":1}"), opts)
                    .await?;
                let head = store.head(&key).await?;
                let got = store.get(&key, GetOptions::default()).await?;
                ensure_eq("get meta vs head", &got.meta, &head)?;
                ensure_eq("get range", got.range.clone(), 0..head.size)?;
                let body = got.bytes().await?;
                ensure_eq("body length vs head size", body.len() as u64, head.size)
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "last_modified_is_write_time",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                // Portable precision is 1 s; allow clock skew between this host and the store.
                let slack = Duration::from_secs(60);
                let before = SystemTime::now();
                let first = put(&store, &key, &b"1"[..]).await?;
                let after = SystemTime::now();
                ensure(
                    first.last_modified + slack >= before && first.last_modified <= after + slack,
                    format!(
                        "last_modified {:?} is not within {slack:?} of the write ({before:?}..{after:?})",
                        first.last_modified
                    ),
                )?;
                let first = store.head(&key).await?.last_modified;
                ensure(
                    first + slack >= before && first <= after + slack,
                    format!(
                        "head last_modified {first:?} is not within {slack:?} of the write ({before:?}..{after:?})"
                    ),
                )?;
                put(&store, &key, &b"2"[..]).await?;
                let second = store.head(&key).await?.last_modified;
                ensure(
                    second >= first,
                    format!(
                        "last_modified went backwards on a later write: {first:?} then {second:?}"
                    ),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "default_content_type",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                store
                    .put(&key, Bytes::from_static(b"x"), PutOptions::default())
                    .await?;
                let head = store.head(&key).await?;
                ensure_eq(
                    "head content type without one given",
                    head.content_type.as_deref(),
                    Some(DEFAULT_CONTENT_TYPE),
                )?;
                let got = store.get(&key, GetOptions::default()).await?;
                ensure_eq(
                    "get content type without one given",
                    got.meta.content_type.as_deref(),
                    Some(DEFAULT_CONTENT_TYPE),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "content_type_and_metadata_round_trip",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let pairs = [
                    ("author", "Zoë Ünïcødé 日本語 🦀"),
                    ("x-trace_id.v2", "a b=c; d%20+e"),
                    ("n0", "0"),
                ];
                let opts = with_meta(Some("text/plain; charset=utf-8"), &pairs);
                let put = store.put(&key, Bytes::from_static(b"hi"), opts).await?;
                ensure_eq("metadata returned by put", &put.metadata, &meta_map(&pairs))?;
                let head = store.head(&key).await?;
                ensure_eq(
                    "head content type",
                    head.content_type.as_deref(),
                    Some("text/plain; charset=utf-8"),
                )?;
                ensure_eq("head metadata", &head.metadata, &meta_map(&pairs))?;
                let got = store.get(&key, GetOptions::default()).await?;
                ensure_eq(
                    "get content type",
                    got.meta.content_type.as_deref(),
                    Some("text/plain; charset=utf-8"),
                )?;
                ensure_eq("get metadata", &got.meta.metadata, &meta_map(&pairs))
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "metadata_invalid_names_rejected",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                for name in [
                    "",
                    "Upper",
                    "has space",
                    "ü",
                    "a:b",
                    "a/b",
                    &"n".repeat(129),
                ] {
                    let opts = with_meta(None, &[(name, "v")]);
                    let r = store.put(&key, Bytes::from_static(b"x"), opts).await;
                    expect_kind(
                        &format!("put with metadata name {name:?}"),
                        r,
                        ErrorKind::InvalidArgument,
                    )?;
                }
                let opts = with_meta(None, &[("ok", "line\nbreak")]);
                let r = store.put(&key, Bytes::from_static(b"x"), opts).await;
                expect_kind(
                    "put with a control character in a metadata value",
                    r,
                    ErrorKind::InvalidArgument,
                )?;
                ensure_absent(&store, &key, "after only rejected puts").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "metadata_size_limit",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                // Names plus values: exactly 2048 bytes is accepted, 2049 is not.
                let at_limit = [("a", "x".repeat(1023)), ("b", "y".repeat(1023))];
                let pairs: Vec<(&str, &str)> =
                    at_limit.iter().map(|(k, v)| (*k, v.as_str())).collect();
                store
                    .put(&key, Bytes::from_static(b"x"), with_meta(None, &pairs))
                    .await?;
                ensure_eq(
                    "metadata of 2048 bytes read back",
                    store.head(&key).await?.metadata,
                    meta_map(&pairs),
                )?;
                let over = [("a", "x".repeat(1023)), ("b", "y".repeat(1024))];
                let pairs: Vec<(&str, &str)> = over.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let r = store
                    .put(&key, Bytes::from_static(b"new"), with_meta(None, &pairs))
                    .await;
                expect_kind(
                    "put with 2049 bytes of metadata",
                    r,
                    ErrorKind::InvalidArgument,
                )?;
                ensure_holds(&store, &key, b"x", "after a rejected overwrite").await
            },
        ),
    ]
}
