//! Streamed put cases, including the large (multipart-sized) round trip.

use stratus::blob::{ByteRange, GetOptions, PutOptions};
use stratus::limits::STREAM_PART_BYTES;
use stratus::{ErrorKind, ServiceKind};

use super::util::*;
use crate::case::{Case, ensure, ensure_eq, expect_kind};

/// 20 MiB and a bit: more than two stream parts, not a multiple of the chunk or part size.
const LARGE: u64 = 20 * 1024 * 1024 + 12_345;
/// An odd chunk size, so chunks straddle part boundaries.
const CHUNK: usize = 1_000_003;

/// The streamed put cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            ServiceKind::Blob,
            "put_stream_large_round_trip",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("large");
                let opts = with_meta(Some("application/x-large"), &[("kind", "large")]);
                let meta = store
                    .put_stream(&key, pattern_stream(42, LARGE, CHUNK), opts)
                    .await?;
                ensure_eq("size returned by put_stream", meta.size, LARGE)?;
                let head = store.head(&key).await?;
                ensure_eq("head size", head.size, LARGE)?;
                ensure_eq(
                    "content type",
                    head.content_type.as_deref(),
                    Some("application/x-large"),
                )?;
                ensure_eq("metadata", head.metadata, meta_map(&[("kind", "large")]))?;
                let got = store.get(&key, GetOptions::default()).await?;
                ensure_eq("served range", got.range.clone(), 0..LARGE)?;
                ensure_pattern("20 MiB streamed object read back", got.body, 42, 0, LARGE).await?;
                // A range across the first part boundary.
                let boundary = STREAM_PART_BYTES as u64;
                let range = ByteRange::Bounded {
                    start: boundary - 10,
                    end: boundary + 10,
                };
                let (served, _, bytes) = read_range(&store, &key, range).await?;
                ensure_eq(
                    "range across a part boundary",
                    served,
                    boundary - 10..boundary + 10,
                )?;
                ensure_body(
                    "bytes across a part boundary",
                    &bytes,
                    &pattern(42, boundary - 10, 20),
                )?;
                let (served, _, bytes) = read_range(&store, &key, ByteRange::Suffix(100)).await?;
                ensure_eq(
                    "suffix range of the large object",
                    served,
                    LARGE - 100..LARGE,
                )?;
                ensure_body("last 100 bytes", &bytes, &pattern(42, LARGE - 100, 100))
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_stream_large_overwrite",
            None,
            |cx| async move {
                // One multipart-sized streamed write replaced by another.
                let store = cx.blob().await?;
                let key = cx.key("large");
                let size = STREAM_PART_BYTES as u64 * 2 + 1;
                let first = store
                    .put_stream(&key, pattern_stream(1, size, CHUNK), PutOptions::default())
                    .await?;
                let second = store
                    .put_stream(&key, pattern_stream(2, size, CHUNK), PutOptions::default())
                    .await?;
                ensure(
                    first.etag != second.etag,
                    "two streamed writes returned the same ETag",
                )?;
                let got = store.get(&key, GetOptions::default()).await?;
                ensure_pattern(
                    "large object after a streamed overwrite",
                    got.body,
                    2,
                    0,
                    size,
                )
                .await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_stream_small",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("small");
                let meta = store
                    .put_stream(
                        &key,
                        pattern_stream(7, 300_001, 65_536),
                        PutOptions::default(),
                    )
                    .await?;
                ensure_eq("size returned by put_stream", meta.size, 300_001)?;
                let got = store.get(&key, GetOptions::default()).await?;
                ensure_pattern("small streamed object read back", got.body, 7, 0, 300_001).await?;
                ensure_eq(
                    "content type of a streamed put without one",
                    store.head(&key).await?.content_type.as_deref(),
                    Some("application/octet-stream"),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_stream_empty",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("empty");
                let body = futures::StreamExt::boxed(futures::stream::empty());
                let meta = store.put_stream(&key, body, PutOptions::default()).await?;
                ensure_eq("size of an empty stream", meta.size, 0)?;
                ensure_holds(&store, &key, b"", "after an empty stream").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_stream_failing_body_writes_nothing",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let (small, large) = (cx.key("small"), cx.key("large"));
                let r = store
                    .put_stream(&small, failing_stream(9, 1000, 100), PutOptions::default())
                    .await;
                ensure(
                    r.is_err(),
                    format!(
                        "put_stream of a failing body succeeded with {:?}",
                        r.as_ref().ok()
                    ),
                )?;
                ensure_absent(&store, &small, "after a small streamed put failed").await?;
                // Fails after more than one part has been uploaded.
                let good = STREAM_PART_BYTES as u64 + 1_000_000;
                let r = store
                    .put_stream(
                        &large,
                        failing_stream(9, good, CHUNK),
                        PutOptions::default(),
                    )
                    .await;
                ensure(
                    r.is_err(),
                    format!(
                        "put_stream of a failing body succeeded with {:?}",
                        r.as_ref().ok()
                    ),
                )?;
                ensure_absent(&store, &large, "after a large streamed put failed").await?;
                put(&store, &large, &b"existing"[..]).await?;
                let r = store
                    .put_stream(
                        &large,
                        failing_stream(9, good, CHUNK),
                        PutOptions::default(),
                    )
                    .await;
                expect_kind(
                    "put_stream of a failing body over an existing object",
                    r,
                    ErrorKind::Unavailable,
                )?;
                ensure_holds(
                    &store,
                    &large,
                    b"existing",
                    "after a failed streamed overwrite",
                )
                .await
            },
        ),
    ]
}
