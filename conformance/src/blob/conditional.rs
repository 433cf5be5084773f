//! Conditional cases: `Create` and `Update` put modes, conditional reads, and races.

use bytes::Bytes;
use stratus::blob::{GetOptions, PutMode};
use stratus::{Capability, ErrorKind, ServiceKind};

use super::util::*;
use crate::case::{Case, CaseResult, Failure, ensure, ensure_eq, expect_kind};

const CONDITIONAL: Option<Capability> = Some(Capability::BlobConditionalWrite);

/// Reads `key` as a decimal counter with its ETag.
async fn read_counter(store: &Store, key: &str) -> Result<(u64, String), Failure> {
    let got = store.get(key, GetOptions::default()).await?;
    let etag = got.meta.etag.clone();
    let body = got.bytes().await?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let value = text
        .parse()
        .map_err(|_| Failure(format!("counter object holds {text:?}, not a number")))?;
    Ok((value, etag))
}

/// One writer of the CAS race: `n` increments through `Update { etag }`, retrying on
/// `PreconditionFailed`.
async fn increment(store: Store, key: String, n: usize) -> CaseResult {
    for _ in 0..n {
        let mut attempts = 0;
        loop {
            attempts += 1;
            ensure(attempts <= 1000, "one increment failed 1000 times in a row")?;
            let (value, etag) = read_counter(&store, &key).await?;
            let next = Bytes::from((value + 1).to_string());
            match store.put(&key, next, update(&etag)).await {
                Ok(meta) => {
                    ensure(
                        meta.etag != etag,
                        format!("a successful update returned the old ETag {etag:?}"),
                    )?;
                    break;
                }
                Err(e) if e.kind() == ErrorKind::PreconditionFailed => continue,
                Err(e) => return Err(Failure(format!("update of the counter failed: {e}"))),
            }
        }
    }
    Ok(())
}

/// The conditional cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            ServiceKind::Blob,
            "put_create_only_once",
            CONDITIONAL,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let first = store
                    .put(&key, Bytes::from_static(b"first"), mode(PutMode::Create))
                    .await?;
                let r = store
                    .put(&key, Bytes::from_static(b"second"), mode(PutMode::Create))
                    .await;
                expect_kind("second Create of the same key", r, ErrorKind::AlreadyExists)?;
                ensure_holds(&store, &key, b"first", "after a refused Create").await?;
                ensure_eq(
                    "ETag after a refused Create",
                    store.head(&key).await?.etag,
                    first.etag,
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_create_after_delete",
            CONDITIONAL,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                store
                    .put(&key, Bytes::from_static(b"one"), mode(PutMode::Create))
                    .await?;
                store.delete(&key).await?;
                store
                    .put(&key, Bytes::from_static(b"two"), mode(PutMode::Create))
                    .await?;
                ensure_holds(&store, &key, b"two", "after Create, delete, Create").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_stream_create_existing",
            CONDITIONAL,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                put(&store, &key, &b"existing"[..]).await?;
                let r = store
                    .put_stream(&key, pattern_stream(5, 1000, 100), mode(PutMode::Create))
                    .await;
                expect_kind(
                    "put_stream with Create onto an existing key",
                    r,
                    ErrorKind::AlreadyExists,
                )?;
                ensure_holds(&store, &key, b"existing", "after a refused streamed Create").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_update_current_etag",
            CONDITIONAL,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let v1 = put(&store, &key, &b"v1"[..]).await?;
                let v2 = store
                    .put(&key, Bytes::from_static(b"v2"), update(&v1.etag))
                    .await?;
                ensure(
                    v2.etag != v1.etag,
                    format!("Update returned the previous ETag {:?}", v1.etag),
                )?;
                ensure_holds(&store, &key, b"v2", "after Update with the current ETag").await?;
                ensure_eq(
                    "head ETag after Update",
                    store.head(&key).await?.etag,
                    v2.etag.clone(),
                )?;
                // A further Update with the new ETag works and changes it again.
                let v3 = store
                    .put(&key, Bytes::from_static(b"v3"), update(&v2.etag))
                    .await?;
                ensure(v3.etag != v2.etag, "Update with a new body kept the ETag")
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_update_stale_etag",
            CONDITIONAL,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let v1 = put(&store, &key, &b"v1"[..]).await?;
                let v2 = put(&store, &key, &b"v2"[..]).await?;
                let r = store
                    .put(&key, Bytes::from_static(b"v3"), update(&v1.etag))
                    .await;
                expect_kind("Update with a stale ETag", r, ErrorKind::PreconditionFailed)?;
                let r = store
                    .put(&key, Bytes::from_static(b"v3"), update("\"not-an-etag\""))
                    .await;
                expect_kind(
                    "Update with a made-up ETag",
                    r,
                    ErrorKind::PreconditionFailed,
                )?;
                ensure_holds(&store, &key, b"v2", "after refused Updates").await?;
                ensure_eq(
                    "ETag after refused Updates",
                    store.head(&key).await?.etag,
                    v2.etag,
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_update_absent",
            CONDITIONAL,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let r = store
                    .put(&key, Bytes::from_static(b"x"), update("\"whatever\""))
                    .await;
                expect_kind(
                    "Update of a key that never existed",
                    r,
                    ErrorKind::PreconditionFailed,
                )?;
                ensure_absent(&store, &key, "after a refused Update").await?;
                let old = put(&store, &key, &b"old"[..]).await?;
                store.delete(&key).await?;
                let r = store
                    .put(&key, Bytes::from_static(b"x"), update(&old.etag))
                    .await;
                expect_kind(
                    "Update with the ETag of a deleted object",
                    r,
                    ErrorKind::PreconditionFailed,
                )?;
                ensure_absent(&store, &key, "after a refused Update of a deleted object").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_update_etag_of_recreated_object",
            CONDITIONAL,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let old = put(&store, &key, &b"first life"[..]).await?;
                store.delete(&key).await?;
                let new = put(&store, &key, &b"second life"[..]).await?;
                ensure(
                    new.etag != old.etag,
                    format!("recreating the object reused ETag {:?}", old.etag),
                )?;
                let r = store
                    .put(&key, Bytes::from_static(b"x"), update(&old.etag))
                    .await;
                expect_kind(
                    "Update with the ETag from before delete and recreate",
                    r,
                    ErrorKind::PreconditionFailed,
                )?;
                ensure_holds(&store, &key, b"second life", "after the refused Update").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_create_race_one_winner",
            CONDITIONAL,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let writers: Vec<_> = (0..8)
                    .map(|i| {
                        let (store, key) = (store.clone(), key.clone());
                        tokio::spawn(async move {
                            let body = Bytes::from(format!("writer {i}"));
                            (i, store.put(&key, body, mode(PutMode::Create)).await)
                        })
                    })
                    .collect();
                let mut winners = Vec::new();
                for writer in writers {
                    let (i, result) = writer
                        .await
                        .map_err(|e| Failure(format!("writer task failed: {e}")))?;
                    match result {
                        Ok(_) => winners.push(i),
                        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                        Err(e) => {
                            return Err(Failure(format!(
                                "concurrent Create {i}: expected success or AlreadyExists, got {e}"
                            )));
                        }
                    }
                }
                ensure_eq(
                    "number of concurrent Creates that succeeded",
                    winners.len(),
                    1,
                )?;
                let body = format!("writer {}", winners[0]);
                ensure_holds(&store, &key, body.as_bytes(), "holding the winner's body").await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "put_update_cas_counter_race",
            CONDITIONAL,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("counter");
                put(&store, &key, &b"0"[..]).await?;
                let writers: Vec<_> = (0..5)
                    .map(|_| tokio::spawn(increment(store.clone(), key.clone(), 10)))
                    .collect();
                for writer in writers {
                    writer
                        .await
                        .map_err(|e| Failure(format!("writer task failed: {e}")))??;
                }
                let (value, _) = read_counter(&store, &key).await?;
                ensure_eq(
                    "counter after 5 writers x 10 compare-and-swap increments",
                    value,
                    50,
                )
            },
        ),
        Case::new(ServiceKind::Blob, "get_if_match", None, |cx| async move {
            let store = cx.blob().await?;
            let key = cx.key("obj");
            let v1 = put(&store, &key, &b"v1"[..]).await?;
            let got = store
                .get(
                    &key,
                    GetOptions {
                        if_match: Some(v1.etag.clone()),
                        ..Default::default()
                    },
                )
                .await?;
            ensure_body(
                "get with if_match = current ETag",
                &got.bytes().await?,
                b"v1",
            )?;
            put(&store, &key, &b"v2"[..]).await?;
            let r = store
                .get(
                    &key,
                    GetOptions {
                        if_match: Some(v1.etag),
                        ..Default::default()
                    },
                )
                .await;
            expect_kind(
                "get with if_match = a stale ETag",
                r.map(|g| g.meta),
                ErrorKind::PreconditionFailed,
            )?;
            Ok(())
        }),
        Case::new(
            ServiceKind::Blob,
            "get_if_none_match",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let v1 = put(&store, &key, &b"v1"[..]).await?;
                let r = store
                    .get(
                        &key,
                        GetOptions {
                            if_none_match: Some(v1.etag.clone()),
                            ..Default::default()
                        },
                    )
                    .await;
                expect_kind(
                    "get with if_none_match = current ETag (not modified)",
                    r.map(|g| g.meta),
                    ErrorKind::PreconditionFailed,
                )?;
                put(&store, &key, &b"v2"[..]).await?;
                let got = store
                    .get(
                        &key,
                        GetOptions {
                            if_none_match: Some(v1.etag),
                            ..Default::default()
                        },
                    )
                    .await?;
                ensure_body(
                    "get with if_none_match = a stale ETag",
                    &got.bytes().await?,
                    b"v2",
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "get_conditional_missing_not_found",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("missing");
                let r = store
                    .get(
                        &key,
                        GetOptions {
                            if_match: Some("\"x\"".into()),
                            ..Default::default()
                        },
                    )
                    .await;
                expect_kind(
                    "get with if_match of a missing key",
                    r.map(|g| g.meta),
                    ErrorKind::NotFound,
                )?;
                let r = store
                    .get(
                        &key,
                        GetOptions {
                            if_none_match: Some("\"x\"".into()),
                            ..Default::default()
                        },
                    )
                    .await;
                expect_kind(
                    "get with if_none_match of a missing key",
                    r.map(|g| g.meta),
                    ErrorKind::NotFound,
                )?;
                Ok(())
            },
        ),
    ]
}
