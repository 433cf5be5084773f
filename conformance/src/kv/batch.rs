//! All-or-nothing batches within one partition (`kv.atomic_batch`).

use bytes::Bytes;
use stratus::kv::{BatchOp, DeleteCondition, Key, PutCondition, QueryOptions};
use stratus::{Capability, ErrorKind};

use super::{case, get_some, names, put, sorts, when};
use crate::case::{Case, Failure, ensure, ensure_eq, expect_kind};

const BATCH: Option<Capability> = Some(Capability::KvAtomicBatch);

fn put_op(sort: &str, value: &'static [u8], condition: PutCondition) -> BatchOp {
    BatchOp::Put {
        sort: sort.into(),
        value: Bytes::from_static(value),
        opts: when(condition),
    }
}

fn delete_op(sort: &str, condition: DeleteCondition) -> BatchOp {
    BatchOp::Delete {
        sort: sort.into(),
        condition,
    }
}

/// Batch cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("batch_puts_and_deletes_applied", BATCH, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            put(&*kv, &Key::new(&p, "old1"), b"x").await?;
            put(&*kv, &Key::new(&p, "old2"), b"x").await?;
            let ops = vec![
                put_op("new1", b"one", PutCondition::Always),
                delete_op("old1", DeleteCondition::Always),
                put_op("new2", b"two", PutCondition::IfAbsent),
                delete_op("never", DeleteCondition::Always),
            ];
            let results = kv.batch(&p, ops).await?;
            ensure_eq("number of batch results", results.len(), 4)?;
            ensure_eq("result of a delete", &results[1], &None)?;
            ensure_eq("result of a delete of an absent key", &results[3], &None)?;
            for (i, sort, value) in [(0, "new1", b"one"), (2, "new2", b"two")] {
                let version = results[i].clone().ok_or_else(|| {
                    Failure(format!(
                        "result {i} of a put: expected Some(version), got None"
                    ))
                })?;
                let item = get_some(&*kv, &Key::new(&p, sort)).await?;
                ensure_eq(&format!("value of {sort}"), &item.value[..], &value[..])?;
                ensure_eq(
                    &format!("version of {sort} vs batch result"),
                    item.version,
                    version,
                )?;
            }
            let page = kv.query(&p, QueryOptions::default()).await?;
            ensure_eq(
                "partition after the batch",
                sorts(&page.items),
                names(&["new1", "new2", "old2"]),
            )
        }),
        case("batch_conditions_that_hold_apply", BATCH, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let va = put(&*kv, &Key::new(&p, "a"), b"a0").await?;
            let vb = put(&*kv, &Key::new(&p, "b"), b"b0").await?;
            let ops = vec![
                BatchOp::Put {
                    sort: "a".into(),
                    value: Bytes::from_static(b"a1"),
                    opts: when(PutCondition::IfVersion(va.clone())),
                },
                delete_op("b", DeleteCondition::IfVersion(vb)),
            ];
            let results = kv.batch(&p, ops).await?;
            let new_a = results[0]
                .clone()
                .ok_or_else(|| Failure("put result is None".into()))?;
            ensure(new_a != va, "the batch put kept the old version")?;
            let item = get_some(&*kv, &Key::new(&p, "a")).await?;
            ensure_eq("value of a", &item.value[..], b"a1")?;
            ensure_eq(
                "b after its IfVersion delete",
                kv.get(&Key::new(&p, "b")).await?,
                None,
            )
        }),
        case(
            "batch_failing_condition_applies_nothing",
            BATCH,
            |cx| async move {
                let kv = cx.kv().await?;
                let p = cx.partition();
                let v_exists = put(&*kv, &Key::new(&p, "exists"), b"keep").await?;
                let v_stale = put(&*kv, &Key::new(&p, "versioned"), b"v1").await?;
                let v_current = put(&*kv, &Key::new(&p, "versioned"), b"v2").await?;
                // IfAbsent on a live item: AlreadyExists, nothing written.
                let ops = vec![
                    put_op("fresh", b"x", PutCondition::Always),
                    delete_op("versioned", DeleteCondition::Always),
                    put_op("exists", b"overwritten", PutCondition::IfAbsent),
                ];
                expect_kind(
                    "batch with a failing IfAbsent",
                    kv.batch(&p, ops).await,
                    ErrorKind::AlreadyExists,
                )?;
                // A stale IfVersion: PreconditionFailed, nothing written.
                let ops = vec![
                    put_op("fresh", b"x", PutCondition::Always),
                    delete_op("exists", DeleteCondition::Always),
                    put_op("versioned", b"v3", PutCondition::IfVersion(v_stale.clone())),
                ];
                expect_kind(
                    "batch with a stale IfVersion put",
                    kv.batch(&p, ops).await,
                    ErrorKind::PreconditionFailed,
                )?;
                let ops = vec![
                    put_op("fresh", b"x", PutCondition::Always),
                    delete_op("versioned", DeleteCondition::IfVersion(v_stale)),
                ];
                expect_kind(
                    "batch with a stale IfVersion delete",
                    kv.batch(&p, ops).await,
                    ErrorKind::PreconditionFailed,
                )?;
                ensure_eq(
                    "fresh after refused batches",
                    kv.get(&Key::new(&p, "fresh")).await?,
                    None,
                )?;
                let exists = get_some(&*kv, &Key::new(&p, "exists")).await?;
                ensure_eq(
                    "exists after refused batches",
                    (&exists.value[..], exists.version),
                    (&b"keep"[..], v_exists),
                )?;
                let versioned = get_some(&*kv, &Key::new(&p, "versioned")).await?;
                ensure_eq(
                    "versioned after refused batches",
                    (&versioned.value[..], versioned.version),
                    (&b"v2"[..], v_current),
                )
            },
        ),
        case("batch_size_bounds", BATCH, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let ops = |n: usize| -> Vec<BatchOp> {
                (0..n)
                    .map(|i| put_op(&format!("k{i:02}"), b"x", PutCondition::Always))
                    .collect()
            };
            expect_kind(
                "batch of 26 operations",
                kv.batch(&p, ops(26)).await,
                ErrorKind::InvalidArgument,
            )?;
            ensure_eq(
                "items after the refused batch",
                kv.query(&p, QueryOptions::default()).await?.items.len(),
                0,
            )?;
            expect_kind(
                "empty batch",
                kv.batch(&p, Vec::new()).await,
                ErrorKind::InvalidArgument,
            )?;
            let results = kv.batch(&p, ops(25)).await?;
            ensure_eq("results of a batch of 25", results.len(), 25)?;
            ensure_eq(
                "items after a batch of 25",
                kv.query(&p, QueryOptions::default()).await?.items.len(),
                25,
            )
        }),
        case(
            "batch_duplicate_sort_keys_are_invalid",
            BATCH,
            |cx| async move {
                let kv = cx.kv().await?;
                let p = cx.partition();
                let ops = vec![
                    put_op("a", b"1", PutCondition::Always),
                    put_op("b", b"2", PutCondition::Always),
                    delete_op("a", DeleteCondition::Always),
                ];
                expect_kind(
                    "batch touching sort key a twice",
                    kv.batch(&p, ops).await,
                    ErrorKind::InvalidArgument,
                )?;
                ensure_eq(
                    "b after the refused batch",
                    kv.get(&Key::new(&p, "b")).await?,
                    None,
                )
            },
        ),
    ]
}
