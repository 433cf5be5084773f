//! Copy and delete cases.

use bytes::Bytes;
use stratus::blob::CopyOptions;
use stratus::{Capability, ErrorKind, ServiceKind};

use super::util::*;
use crate::case::{Case, ensure, ensure_eq, expect_kind};

/// The copy and delete cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            ServiceKind::Blob,
            "copy_copies_body_and_metadata",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let (from, to) = (cx.key("from"), cx.key("to"));
                let pairs = [("colour", "blåbær"), ("n", "1")];
                let src = store
                    .put(
                        &from,
                        Bytes::from_static(b"copied body"),
                        with_meta(Some("text/csv"), &pairs),
                    )
                    .await?;
                let copy = store.copy(&from, &to, CopyOptions::default()).await?;
                ensure_eq("key returned by copy", copy.key.as_str(), to.as_str())?;
                ensure_eq("size returned by copy", copy.size, 11)?;
                // The copy's ETag MAY equal the source's: it has the same body (BLOB-ETAG-1).
                let head = store.head(&to).await?;
                ensure_eq(
                    "copy content type",
                    head.content_type.as_deref(),
                    Some("text/csv"),
                )?;
                ensure_eq("copy metadata", &head.metadata, &meta_map(&pairs))?;
                ensure_eq(
                    "copy head ETag vs the ETag copy returned",
                    &head.etag,
                    &copy.etag,
                )?;
                ensure_holds(&store, &to, b"copied body", "(the copy)").await?;
                ensure_holds(&store, &from, b"copied body", "(the source, after copying)").await?;
                let source = store.head(&from).await?;
                ensure_eq("source ETag after copying", source.etag, src.etag)?;
                ensure_eq(
                    "source metadata after copying",
                    source.metadata,
                    meta_map(&pairs),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "copy_default_content_type",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let (from, to) = (cx.key("from"), cx.key("to"));
                put(&store, &from, &b"x"[..]).await?;
                store.copy(&from, &to, CopyOptions::default()).await?;
                let head = store.head(&to).await?;
                ensure_eq(
                    "content type of a copy of an object stored without one",
                    head.content_type.as_deref(),
                    Some("application/octet-stream"),
                )?;
                ensure(
                    head.metadata.is_empty(),
                    format!("copy of an object without metadata has {:?}", head.metadata),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "copy_overwrites_destination",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let (from, to) = (cx.key("from"), cx.key("to"));
                put(&store, &from, &b"new"[..]).await?;
                let old = store
                    .put(
                        &to,
                        Bytes::from_static(b"old body"),
                        with_meta(Some("text/html"), &[("stale", "yes")]),
                    )
                    .await?;
                let copy = store.copy(&from, &to, CopyOptions::default()).await?;
                ensure(
                    copy.etag != old.etag,
                    "copy onto an existing key kept the destination's ETag",
                )?;
                ensure_holds(&store, &to, b"new", "after copying onto it").await?;
                let head = store.head(&to).await?;
                ensure(
                    head.metadata.is_empty(),
                    format!("destination kept old metadata {:?}", head.metadata),
                )?;
                ensure_eq(
                    "destination content type",
                    head.content_type.as_deref(),
                    Some("application/octet-stream"),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "copy_missing_source_not_found",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let (from, to) = (cx.key("missing"), cx.key("to"));
                let r = store.copy(&from, &to, CopyOptions::default()).await;
                expect_kind("copy from a missing key", r, ErrorKind::NotFound)?;
                ensure_absent(&store, &to, "after a copy from a missing key").await?;
                put(&store, &to, &b"kept"[..]).await?;
                let r = store.copy(&from, &to, CopyOptions::default()).await;
                expect_kind(
                    "copy from a missing key onto an existing one",
                    r,
                    ErrorKind::NotFound,
                )?;
                ensure_holds(
                    &store,
                    &to,
                    b"kept",
                    "after a copy from a missing key onto it",
                )
                .await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "copy_create_only",
            Some(Capability::BlobConditionalWrite),
            |cx| async move {
                let store = cx.blob().await?;
                let (from, to) = (cx.key("from"), cx.key("to"));
                put(&store, &from, &b"source"[..]).await?;
                let create_only = CopyOptions { create_only: true };
                store.copy(&from, &to, create_only.clone()).await?;
                ensure_holds(
                    &store,
                    &to,
                    b"source",
                    "after a create_only copy to a new key",
                )
                .await?;
                put(&store, &from, &b"changed source"[..]).await?;
                let before = store.head(&to).await?;
                let r = store.copy(&from, &to, create_only).await;
                expect_kind(
                    "create_only copy onto an existing key",
                    r,
                    ErrorKind::AlreadyExists,
                )?;
                ensure_holds(&store, &to, b"source", "after a refused create_only copy").await?;
                ensure_eq(
                    "destination ETag after a refused copy",
                    store.head(&to).await?.etag,
                    before.etag,
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "delete_idempotent",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                put(&store, &key, &b"x"[..]).await?;
                store.delete(&key).await?;
                ensure_absent(&store, &key, "after delete").await?;
                let r = store.get(&key, Default::default()).await.map(|g| g.meta);
                expect_kind("get after delete", r, ErrorKind::NotFound)?;
                store.delete(&key).await?;
                store.delete(&cx.key("never-existed")).await?;
                let (listed, _, _) = list_all(&store, under(&cx.key(""))).await?;
                ensure_eq("keys listed after deletes", listed, Vec::<String>::new())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "delete_only_the_key",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                for k in ["a", "a/b", "ab"] {
                    put(&store, &cx.key(k), k.as_bytes().to_vec()).await?;
                }
                store.delete(&cx.key("a")).await?;
                let (listed, _, _) = list_all(&store, under(&cx.key(""))).await?;
                ensure_eq(
                    "keys left after deleting one that prefixes others",
                    listed,
                    vec![cx.key("a/b"), cx.key("ab")],
                )
            },
        ),
    ]
}
