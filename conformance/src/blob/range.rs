//! Range-read cases, against one 100-byte object per case.

use std::ops::Range;

use bytes::Bytes;
use stratus::blob::{ByteRange, GetOptions};
use stratus::{ErrorKind, ServiceKind};

use super::util::*;
use crate::case::{Case, CaseResult, Ctx, ensure_eq, expect_kind};

const SIZE: u64 = 100;

/// Writes the 100-byte object `b"00010203..."`-like pattern and returns the store and key.
async fn setup(cx: &Ctx) -> Result<(Store, String, Bytes), crate::case::Failure> {
    let store = cx.blob().await?;
    let key = cx.key("ranged");
    let body = pattern(3, 0, SIZE as usize);
    put(&store, &key, body.clone()).await?;
    Ok((store, key, body))
}

/// Reads `range` and checks the served range, whole-object size and bytes.
async fn check(cx: Ctx, range: ByteRange, served: Range<u64>) -> CaseResult {
    let (store, key, body) = setup(&cx).await?;
    let (got_range, meta, bytes) = read_range(&store, &key, range).await?;
    ensure_eq(
        &format!("served range of {range:?}"),
        got_range,
        served.clone(),
    )?;
    ensure_eq(
        &format!("meta.size (whole object) of {range:?}"),
        meta.size,
        SIZE,
    )?;
    ensure_body(
        &format!("bytes of {range:?}"),
        &bytes,
        &body[served.start as usize..served.end as usize],
    )
}

/// The range cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(ServiceKind::Blob, "range_bounded", None, |cx| async move {
            check(
                cx.clone(),
                ByteRange::Bounded { start: 10, end: 20 },
                10..20,
            )
            .await?;
            check(cx.clone(), ByteRange::Bounded { start: 0, end: 1 }, 0..1).await?;
            check(
                cx,
                ByteRange::Bounded {
                    start: 99,
                    end: 100,
                },
                99..100,
            )
            .await
        }),
        Case::new(
            ServiceKind::Blob,
            "range_open_ended",
            None,
            |cx| async move {
                check(cx.clone(), ByteRange::From(90), 90..100).await?;
                check(cx.clone(), ByteRange::From(0), 0..100).await?;
                check(cx, ByteRange::From(99), 99..100).await
            },
        ),
        Case::new(ServiceKind::Blob, "range_suffix", None, |cx| async move {
            check(cx.clone(), ByteRange::Suffix(7), 93..100).await?;
            check(cx, ByteRange::Suffix(100), 0..100).await
        }),
        Case::new(
            ServiceKind::Blob,
            "range_suffix_longer_than_object",
            None,
            |cx| async move {
                check(cx.clone(), ByteRange::Suffix(101), 0..100).await?;
                check(cx, ByteRange::Suffix(1 << 40), 0..100).await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "range_end_clamped",
            None,
            |cx| async move {
                check(
                    cx.clone(),
                    ByteRange::Bounded {
                        start: 95,
                        end: 500,
                    },
                    95..100,
                )
                .await?;
                check(
                    cx,
                    ByteRange::Bounded {
                        start: 0,
                        end: u64::MAX,
                    },
                    0..100,
                )
                .await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "range_start_out_of_range",
            None,
            |cx| async move {
                let (store, key, _) = setup(&cx).await?;
                for range in [
                    ByteRange::From(SIZE),
                    ByteRange::From(SIZE + 1000),
                    ByteRange::Bounded {
                        start: SIZE,
                        end: SIZE + 10,
                    },
                    ByteRange::Bounded {
                        start: 5000,
                        end: 6000,
                    },
                ] {
                    let r = store
                        .get(
                            &key,
                            GetOptions {
                                range: Some(range),
                                ..Default::default()
                            },
                        )
                        .await;
                    expect_kind(
                        &format!("get of {range:?} of a {SIZE}-byte object"),
                        r.map(|g| g.range),
                        ErrorKind::InvalidArgument,
                    )?;
                }
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "range_empty_bounded_rejected",
            None,
            |cx| async move {
                let (store, key, _) = setup(&cx).await?;
                for range in [
                    ByteRange::Bounded { start: 5, end: 5 },
                    ByteRange::Bounded { start: 6, end: 5 },
                ] {
                    let r = store
                        .get(
                            &key,
                            GetOptions {
                                range: Some(range),
                                ..Default::default()
                            },
                        )
                        .await;
                    expect_kind(
                        &format!("get of the empty range {range:?}"),
                        r.map(|g| g.range),
                        ErrorKind::InvalidArgument,
                    )?;
                }
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "range_of_missing_object_not_found",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let opts = GetOptions {
                    range: Some(ByteRange::From(1000)),
                    ..Default::default()
                };
                let r = store.get(&cx.key("missing"), opts).await;
                expect_kind(
                    "ranged get of a missing key (NotFound comes before range checks)",
                    r.map(|g| g.range),
                    ErrorKind::NotFound,
                )?;
                Ok(())
            },
        ),
    ]
}
