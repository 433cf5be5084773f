//! Multipart upload cases.

use bytes::Bytes;
use stratus::blob::{GetOptions, PartReceipt, PutMode, PutOptions};
use stratus::limits::MIN_MULTIPART_PART_BYTES;
use stratus::{Capability, ErrorKind, ServiceKind};

use super::util::*;
use crate::case::{Case, ensure, ensure_eq, expect_kind};

const MULTIPART: Option<Capability> = Some(Capability::BlobMultipart);
const MIN: usize = MIN_MULTIPART_PART_BYTES;

/// The multipart cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            ServiceKind::Blob,
            "multipart_parts_assembled_in_order",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let opts = with_meta(Some("video/mp4"), &[("origin", "multipart")]);
                let id = store.multipart_start(&key, opts).await?;
                ensure(
                    !id.is_empty(),
                    "multipart_start returned an empty upload id",
                )?;
                let (a, b, c) = (MIN, MIN + 3, 1234);
                // Uploaded out of order; assembled by part number.
                let p3 = store
                    .multipart_put_part(&key, &id, 3, pattern(21, (a + b) as u64, c))
                    .await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, pattern(21, 0, a))
                    .await?;
                let p2 = store
                    .multipart_put_part(&key, &id, 2, pattern(21, a as u64, b))
                    .await?;
                ensure_eq(
                    "part numbers in receipts",
                    (p1.part_number, p2.part_number, p3.part_number),
                    (1, 2, 3),
                )?;
                ensure_absent(&store, &key, "before the upload completes").await?;
                let meta = store
                    .multipart_complete(&key, &id, vec![p1, p2, p3])
                    .await?;
                let total = (a + b + c) as u64;
                ensure_eq("size returned by complete", meta.size, total)?;
                let head = store.head(&key).await?;
                ensure_eq("head size", head.size, total)?;
                ensure_eq("head ETag vs complete", &head.etag, &meta.etag)?;
                ensure_eq(
                    "content type from start",
                    head.content_type.as_deref(),
                    Some("video/mp4"),
                )?;
                ensure_eq(
                    "metadata from start",
                    head.metadata,
                    meta_map(&[("origin", "multipart")]),
                )?;
                let got = store.get(&key, GetOptions::default()).await?;
                ensure_pattern("multipart object read back", got.body, 21, 0, total).await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_single_small_part",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let id = store.multipart_start(&key, PutOptions::default()).await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"tiny"))
                    .await?;
                store.multipart_complete(&key, &id, vec![p1]).await?;
                ensure_holds(
                    &store,
                    &key,
                    b"tiny",
                    "after a one-part upload (the last part may be small)",
                )
                .await?;
                ensure_eq(
                    "content type without one given at start",
                    store.head(&key).await?.content_type.as_deref(),
                    Some("application/octet-stream"),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_reuploaded_part_replaces",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let id = store.multipart_start(&key, PutOptions::default()).await?;
                let old = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"old part"))
                    .await?;
                let new = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"new part"))
                    .await?;
                ensure_eq("part number of the re-upload", new.part_number, 1)?;
                store
                    .multipart_complete(&key, &id, vec![new.clone()])
                    .await?;
                ensure_holds(&store, &key, b"new part", "after re-uploading part 1").await?;
                ensure(
                    old.etag != new.etag,
                    "two different bodies of part 1 got the same part ETag",
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_wrong_part_listed",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let id = store.multipart_start(&key, PutOptions::default()).await?;
                let old = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"old part"))
                    .await?;
                let new = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"new part"))
                    .await?;
                let r = store.multipart_complete(&key, &id, vec![old]).await;
                expect_kind(
                    "complete listing a replaced part's ETag",
                    r,
                    ErrorKind::InvalidArgument,
                )?;
                let ghost = PartReceipt {
                    part_number: 2,
                    etag: new.etag.clone(),
                };
                let r = store
                    .multipart_complete(&key, &id, vec![new.clone(), ghost])
                    .await;
                expect_kind(
                    "complete listing a part never uploaded",
                    r,
                    ErrorKind::InvalidArgument,
                )?;
                ensure_absent(&store, &key, "after refused completes").await?;
                store.multipart_complete(&key, &id, vec![new]).await?;
                ensure_holds(
                    &store,
                    &key,
                    b"new part",
                    "after completing with the right parts",
                )
                .await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_small_part_not_last_rejected",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let id = store.multipart_start(&key, PutOptions::default()).await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, pattern(4, 0, MIN - 1))
                    .await?;
                let p2 = store
                    .multipart_put_part(&key, &id, 2, Bytes::from_static(b"last"))
                    .await?;
                let r = store.multipart_complete(&key, &id, vec![p1, p2]).await;
                expect_kind(
                    "complete with a first part of 5 MiB - 1 byte",
                    r,
                    ErrorKind::InvalidArgument,
                )?;
                ensure_absent(&store, &key, "after a refused complete").await?;
                let _ = store.multipart_abort(&key, &id).await;
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_unknown_upload_not_found",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let bogus = "conformance-no-such-upload";
                let r = store
                    .multipart_put_part(&key, bogus, 1, Bytes::from_static(b"x"))
                    .await;
                expect_kind("put_part to an unknown upload id", r, ErrorKind::NotFound)?;
                let receipt = PartReceipt {
                    part_number: 1,
                    etag: "\"x\"".into(),
                };
                let r = store.multipart_complete(&key, bogus, vec![receipt]).await;
                expect_kind("complete of an unknown upload id", r, ErrorKind::NotFound)?;
                expect_kind(
                    "abort of an unknown upload id",
                    store.multipart_abort(&key, bogus).await,
                    ErrorKind::NotFound,
                )?;
                ensure_absent(&store, &key, "after operations on an unknown upload").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_upload_id_bound_to_key",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let (key, other) = (cx.key("obj"), cx.key("other"));
                let id = store.multipart_start(&key, PutOptions::default()).await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"x"))
                    .await?;
                let r = store
                    .multipart_complete(&other, &id, vec![p1.clone()])
                    .await;
                expect_kind(
                    "complete of an upload under a different key",
                    r,
                    ErrorKind::NotFound,
                )?;
                ensure_absent(&store, &other, "after completing someone else's upload id").await?;
                store.multipart_complete(&key, &id, vec![p1]).await?;
                ensure_holds(&store, &key, b"x", "after completing under the right key").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_complete_twice_not_found",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let id = store.multipart_start(&key, PutOptions::default()).await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"once"))
                    .await?;
                let first = store
                    .multipart_complete(&key, &id, vec![p1.clone()])
                    .await?;
                let r = store.multipart_complete(&key, &id, vec![p1]).await;
                expect_kind("second complete of the same upload", r, ErrorKind::NotFound)?;
                ensure_eq(
                    "ETag after the refused second complete",
                    store.head(&key).await?.etag,
                    first.etag,
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_abort_leaves_nothing",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let id = store.multipart_start(&key, PutOptions::default()).await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, pattern(8, 0, MIN))
                    .await?;
                let p2 = store
                    .multipart_put_part(&key, &id, 2, Bytes::from_static(b"end"))
                    .await?;
                store.multipart_abort(&key, &id).await?;
                ensure_absent(&store, &key, "after abort").await?;
                let (listed, _, _) = list_all(&store, under(&cx.key(""))).await?;
                ensure_eq("keys listed after abort", listed, Vec::<String>::new())?;
                let r = store.multipart_complete(&key, &id, vec![p1, p2]).await;
                expect_kind("complete after abort", r, ErrorKind::NotFound)?;
                let r = store
                    .multipart_put_part(&key, &id, 3, Bytes::from_static(b"late"))
                    .await;
                expect_kind("put_part after abort", r, ErrorKind::NotFound)?;
                ensure_absent(&store, &key, "after complete of an aborted upload").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_abort_keeps_existing_object",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let before = put(&store, &key, &b"existing"[..]).await?;
                let id = store.multipart_start(&key, PutOptions::default()).await?;
                store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"replacement"))
                    .await?;
                store.multipart_abort(&key, &id).await?;
                ensure_holds(&store, &key, b"existing", "after aborting an upload to it").await?;
                ensure_eq(
                    "ETag after abort",
                    store.head(&key).await?.etag,
                    before.etag,
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_create_mode_existing_key",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                put(&store, &key, &b"existing"[..]).await?;
                let opts = mode(PutMode::Create);
                if !store.capabilities().conditional_write {
                    let r = store.multipart_start(&key, opts).await;
                    expect_kind(
                        "multipart Create without blob.conditional_write",
                        r,
                        ErrorKind::Unsupported,
                    )?;
                    return Ok(());
                }
                let id = store.multipart_start(&key, opts).await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"new"))
                    .await?;
                let r = store.multipart_complete(&key, &id, vec![p1]).await;
                expect_kind(
                    "complete of a Create upload onto an existing key",
                    r,
                    ErrorKind::AlreadyExists,
                )?;
                ensure_holds(
                    &store,
                    &key,
                    b"existing",
                    "after a refused multipart Create",
                )
                .await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "multipart_mode_checked_at_complete",
            MULTIPART,
            |cx| async move {
                let store = cx.blob().await?;
                if !store.capabilities().conditional_write {
                    let r = store
                        .multipart_start(&cx.key("obj"), mode(PutMode::Create))
                        .await;
                    expect_kind(
                        "multipart Create without blob.conditional_write",
                        r,
                        ErrorKind::Unsupported,
                    )?;
                    return Ok(());
                }
                // Create: the key is absent at start but written before complete.
                let key = cx.key("create");
                let id = store.multipart_start(&key, mode(PutMode::Create)).await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"late"))
                    .await?;
                put(&store, &key, &b"first"[..]).await?;
                let r = store.multipart_complete(&key, &id, vec![p1]).await;
                expect_kind(
                    "complete of a Create upload after the key appeared",
                    r,
                    ErrorKind::AlreadyExists,
                )?;
                ensure_holds(&store, &key, b"first", "after a refused multipart Create").await?;
                // Update: the ETag is current at start but changes before complete.
                let key = cx.key("update");
                let v1 = put(&store, &key, &b"v1"[..]).await?;
                let id = store.multipart_start(&key, update(&v1.etag)).await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"v3"))
                    .await?;
                put(&store, &key, &b"v2"[..]).await?;
                let r = store.multipart_complete(&key, &id, vec![p1]).await;
                expect_kind(
                    "complete of an Update upload after the ETag changed",
                    r,
                    ErrorKind::PreconditionFailed,
                )?;
                ensure_holds(&store, &key, b"v2", "after a refused multipart Update").await?;
                // Update with the current ETag succeeds.
                let v2 = store.head(&key).await?;
                let id = store.multipart_start(&key, update(&v2.etag)).await?;
                let p1 = store
                    .multipart_put_part(&key, &id, 1, Bytes::from_static(b"v3"))
                    .await?;
                let done = store.multipart_complete(&key, &id, vec![p1]).await?;
                ensure(done.etag != v2.etag, "a multipart Update kept the old ETag")?;
                ensure_holds(
                    &store,
                    &key,
                    b"v3",
                    "after a multipart Update with the current ETag",
                )
                .await
            },
        ),
    ]
}
