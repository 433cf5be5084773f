//! Queries: ranges, order, paging, isolation and sort-key byte order.

use std::ops::Bound;

use stratus::ErrorKind;
use stratus::kv::{DeleteCondition, Key, KvStore, Order, QueryOptions, QueryPage, SortRange};

use super::{case, names, put, query_all, sorts};
use crate::case::{Case, Failure, ensure, ensure_eq, expect_kind};

/// Writes `sorts` (value = sort key) into `partition`, in the order given.
async fn fill(kv: &dyn KvStore, partition: &str, keys: &[&str]) -> Result<(), Failure> {
    for sort in keys {
        put(kv, &Key::new(partition, *sort), sort.as_bytes()).await?;
    }
    Ok(())
}

/// `k00`, `k01`, ... `k{n-1}`.
fn numbered(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("k{i:02}")).collect()
}

/// One ascending page of `partition` within `range`.
async fn in_range(
    kv: &dyn KvStore,
    partition: &str,
    range: SortRange,
) -> Result<QueryPage, Failure> {
    let opts = QueryOptions {
        range,
        ..Default::default()
    };
    Ok(kv.query(partition, opts).await?)
}

fn range(lower: Bound<&str>, upper: Bound<&str>) -> SortRange {
    SortRange::Between(lower.map(str::to_owned), upper.map(str::to_owned))
}

/// Query cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("query_all_ascending", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            fill(&*kv, &p, &["c", "a", "d", "b"]).await?;
            let page = kv.query(&p, QueryOptions::default()).await?;
            ensure_eq(
                "sort keys of an ascending query",
                sorts(&page.items),
                names(&["a", "b", "c", "d"]),
            )?;
            ensure_eq("next_cursor of a complete result", page.next_cursor, None)?;
            for item in &page.items {
                ensure_eq(
                    "value returned by query",
                    &item.value[..],
                    item.key.sort.as_bytes(),
                )?;
                ensure_eq(
                    "partition of a queried item",
                    item.key.partition.as_str(),
                    p.as_str(),
                )?;
                let got = kv.get(&item.key).await?.map(|i| i.version);
                ensure_eq(
                    "query version vs get version",
                    Some(item.version.clone()),
                    got,
                )?;
            }
            Ok(())
        }),
        case("query_all_descending", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            fill(&*kv, &p, &["c", "a", "d", "b"]).await?;
            let opts = QueryOptions {
                order: Order::Descending,
                ..Default::default()
            };
            let page = kv.query(&p, opts).await?;
            ensure_eq(
                "sort keys of a descending query",
                sorts(&page.items),
                names(&["d", "c", "b", "a"]),
            )?;
            ensure_eq("next_cursor of a complete result", page.next_cursor, None)
        }),
        case("query_empty_partition", None, |cx| async move {
            let kv = cx.kv().await?;
            let page = kv.query(&cx.partition(), QueryOptions::default()).await?;
            ensure_eq("items of a never-written partition", page.items.len(), 0)?;
            ensure_eq("next_cursor of an empty result", page.next_cursor, None)
        }),
        case("query_prefix", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            fill(
                &*kv,
                &p,
                &[
                    "user", "user#1", "user#2", "user#10", "user$", "usea", "users", "a", "z",
                ],
            )
            .await?;
            let opts = QueryOptions {
                range: SortRange::Prefix("user#".into()),
                ..Default::default()
            };
            let asc = kv.query(&p, opts.clone()).await?;
            ensure_eq(
                "prefix user# ascending",
                sorts(&asc.items),
                names(&["user#1", "user#10", "user#2"]),
            )?;
            let desc = kv
                .query(
                    &p,
                    QueryOptions {
                        order: Order::Descending,
                        ..opts
                    },
                )
                .await?;
            ensure_eq(
                "prefix user# descending",
                sorts(&desc.items),
                names(&["user#2", "user#10", "user#1"]),
            )?;
            let opts = QueryOptions {
                range: SortRange::Prefix("user".into()),
                ..Default::default()
            };
            let all = kv.query(&p, opts).await?;
            ensure_eq(
                "prefix user (includes the key equal to the prefix)",
                sorts(&all.items),
                names(&["user", "user#1", "user#10", "user#2", "user$", "users"]),
            )?;
            let opts = QueryOptions {
                range: SortRange::Prefix("nothing".into()),
                ..Default::default()
            };
            ensure_eq(
                "prefix matching nothing",
                kv.query(&p, opts).await?.items.len(),
                0,
            )
        }),
        case("query_range_inclusive_bounds", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let keys = numbered(10);
            fill(
                &*kv,
                &p,
                &keys.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .await?;
            let r = range(Bound::Included("k03"), Bound::Included("k06"));
            let opts = QueryOptions {
                range: r,
                ..Default::default()
            };
            let asc = kv.query(&p, opts.clone()).await?;
            ensure_eq(
                "[k03, k06] ascending",
                sorts(&asc.items),
                names(&["k03", "k04", "k05", "k06"]),
            )?;
            let desc = kv
                .query(
                    &p,
                    QueryOptions {
                        order: Order::Descending,
                        ..opts
                    },
                )
                .await?;
            ensure_eq(
                "[k03, k06] descending",
                sorts(&desc.items),
                names(&["k06", "k05", "k04", "k03"]),
            )?;
            // Bounds that are not themselves keys.
            let r = range(Bound::Included("k035"), Bound::Included("k055"));
            let page = in_range(&*kv, &p, r).await?;
            ensure_eq("[k035, k055]", sorts(&page.items), names(&["k04", "k05"]))
        }),
        case("query_range_exclusive_bounds", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let keys = numbered(10);
            fill(
                &*kv,
                &p,
                &keys.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .await?;
            let r = range(Bound::Excluded("k03"), Bound::Excluded("k06"));
            let opts = QueryOptions {
                range: r,
                ..Default::default()
            };
            let asc = kv.query(&p, opts.clone()).await?;
            ensure_eq(
                "(k03, k06) ascending",
                sorts(&asc.items),
                names(&["k04", "k05"]),
            )?;
            let desc = kv
                .query(
                    &p,
                    QueryOptions {
                        order: Order::Descending,
                        ..opts
                    },
                )
                .await?;
            ensure_eq(
                "(k03, k06) descending",
                sorts(&desc.items),
                names(&["k05", "k04"]),
            )?;
            let r = range(Bound::Excluded("k03"), Bound::Included("k06"));
            let page = in_range(&*kv, &p, r).await?;
            ensure_eq(
                "(k03, k06]",
                sorts(&page.items),
                names(&["k04", "k05", "k06"]),
            )?;
            let r = range(Bound::Included("k03"), Bound::Excluded("k06"));
            let page = in_range(&*kv, &p, r).await?;
            ensure_eq(
                "[k03, k06)",
                sorts(&page.items),
                names(&["k03", "k04", "k05"]),
            )?;
            let r = range(Bound::Excluded("k04"), Bound::Excluded("k05"));
            let page = in_range(&*kv, &p, r).await?;
            ensure_eq("(k04, k05) holds nothing", sorts(&page.items), names(&[]))
        }),
        case("query_range_unbounded_sides", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let keys = numbered(6);
            fill(
                &*kv,
                &p,
                &keys.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .await?;
            let r = range(Bound::Unbounded, Bound::Excluded("k02"));
            let page = in_range(&*kv, &p, r).await?;
            ensure_eq("(.., k02)", sorts(&page.items), names(&["k00", "k01"]))?;
            let r = range(Bound::Included("k04"), Bound::Unbounded);
            let opts = QueryOptions {
                range: r,
                order: Order::Descending,
                ..Default::default()
            };
            let page = kv.query(&p, opts).await?;
            ensure_eq(
                "[k04, ..) descending",
                sorts(&page.items),
                names(&["k05", "k04"]),
            )?;
            let r = range(Bound::Unbounded, Bound::Unbounded);
            let page = in_range(&*kv, &p, r).await?;
            ensure_eq("(.., ..)", sorts(&page.items), keys)
        }),
        case("query_paging_ascending", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let keys = numbered(23);
            fill(
                &*kv,
                &p,
                &keys.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .await?;
            let mut opts = QueryOptions {
                limit: Some(5),
                ..Default::default()
            };
            let mut got = Vec::new();
            let mut pages = 0;
            loop {
                let page = kv.query(&p, opts.clone()).await?;
                pages += 1;
                ensure(
                    pages <= 5,
                    "ascending paging over 23 items with limit 5 took more than 5 pages",
                )?;
                let expected_len = if pages < 5 { 5 } else { 3 };
                ensure_eq(
                    &format!("items on page {pages}"),
                    page.items.len(),
                    expected_len,
                )?;
                got.extend(sorts(&page.items));
                match page.next_cursor {
                    Some(c) => opts.cursor = Some(c),
                    None => break,
                }
            }
            ensure_eq("pages needed", pages, 5)?;
            ensure_eq("every item once, in ascending order", got, keys)
        }),
        case("query_paging_descending", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            let keys = numbered(17);
            fill(
                &*kv,
                &p,
                &keys.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .await?;
            let opts = QueryOptions {
                order: Order::Descending,
                limit: Some(4),
                ..Default::default()
            };
            let got = sorts(&query_all(&*kv, &p, opts).await?);
            let mut expected = keys;
            expected.reverse();
            ensure_eq("every item once, in descending order", got, expected)
        }),
        case(
            "query_paging_exact_multiple_ends_without_cursor",
            None,
            |cx| async move {
                let kv = cx.kv().await?;
                let p = cx.partition();
                let keys = numbered(6);
                fill(
                    &*kv,
                    &p,
                    &keys.iter().map(String::as_str).collect::<Vec<_>>(),
                )
                .await?;
                let first = kv
                    .query(
                        &p,
                        QueryOptions {
                            limit: Some(3),
                            ..Default::default()
                        },
                    )
                    .await?;
                ensure_eq(
                    "first page",
                    sorts(&first.items),
                    names(&["k00", "k01", "k02"]),
                )?;
                let cursor = first.next_cursor.ok_or_else(|| {
                    Failure("first of two full pages: next_cursor is None, expected Some".into())
                })?;
                let opts = QueryOptions {
                    limit: Some(3),
                    cursor: Some(cursor),
                    ..Default::default()
                };
                let second = kv.query(&p, opts).await?;
                ensure_eq(
                    "second page",
                    sorts(&second.items),
                    names(&["k03", "k04", "k05"]),
                )?;
                ensure_eq(
                    "next_cursor after the last item (nothing more follows)",
                    second.next_cursor,
                    None,
                )?;
                let all = kv
                    .query(
                        &p,
                        QueryOptions {
                            limit: Some(6),
                            ..Default::default()
                        },
                    )
                    .await?;
                ensure_eq(
                    "limit equal to the item count: next_cursor",
                    all.next_cursor,
                    None,
                )
            },
        ),
        case(
            "query_paging_within_range_and_prefix",
            None,
            |cx| async move {
                let kv = cx.kv().await?;
                let p = cx.partition();
                let mut keys = numbered(12);
                keys.extend(["a0", "a1", "z0", "z1"].map(String::from));
                fill(
                    &*kv,
                    &p,
                    &keys.iter().map(String::as_str).collect::<Vec<_>>(),
                )
                .await?;
                let r = range(Bound::Included("k02"), Bound::Excluded("k09"));
                for order in [Order::Ascending, Order::Descending] {
                    let opts = QueryOptions {
                        range: r.clone(),
                        order,
                        limit: Some(2),
                        ..Default::default()
                    };
                    let got = sorts(&query_all(&*kv, &p, opts).await?);
                    let mut expected: Vec<String> = (2..9).map(|i| format!("k{i:02}")).collect();
                    if order == Order::Descending {
                        expected.reverse();
                    }
                    ensure_eq(&format!("paging [k02, k09) {order:?}"), got, expected)?;
                }
                for order in [Order::Ascending, Order::Descending] {
                    let opts = QueryOptions {
                        range: SortRange::Prefix("k".into()),
                        order,
                        limit: Some(5),
                        ..Default::default()
                    };
                    let got = sorts(&query_all(&*kv, &p, opts).await?);
                    let mut expected = numbered(12);
                    if order == Order::Descending {
                        expected.reverse();
                    }
                    ensure_eq(&format!("paging prefix k {order:?}"), got, expected)?;
                }
                Ok(())
            },
        ),
        case("query_isolates_partitions", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            // A partition whose name extends the first one must not leak into it.
            let q = format!("{p}-x");
            let r = format!("{p}#");
            fill(&*kv, &p, &["a", "b"]).await?;
            fill(&*kv, &q, &["a", "c"]).await?;
            fill(&*kv, &r, &["d"]).await?;
            let got = kv.query(&p, QueryOptions::default()).await?;
            ensure_eq(
                "sort keys of the first partition",
                sorts(&got.items),
                names(&["a", "b"]),
            )?;
            ensure(
                got.items.iter().all(|i| i.key.partition == p),
                "query returned items of another partition",
            )?;
            let got = kv.query(&q, QueryOptions::default()).await?;
            ensure_eq(
                "sort keys of the second partition",
                sorts(&got.items),
                names(&["a", "c"]),
            )?;
            let got = kv.get(&Key::new(&p, "c")).await?;
            ensure_eq(
                "get of a sort key that exists only in another partition",
                got,
                None,
            )?;
            kv.delete(&Key::new(&q, "a"), DeleteCondition::Always)
                .await?;
            ensure(
                kv.get(&Key::new(&p, "a")).await?.is_some(),
                "deleting (p-x, a) removed (p, a)",
            )
        }),
        case("query_reflects_writes_and_deletes", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            fill(&*kv, &p, &["a", "b", "c"]).await?;
            kv.delete(&Key::new(&p, "b"), DeleteCondition::Always)
                .await?;
            let v = put(&*kv, &Key::new(&p, "c"), b"changed").await?;
            let page = kv.query(&p, QueryOptions::default()).await?;
            ensure_eq(
                "sort keys after deleting b",
                sorts(&page.items),
                names(&["a", "c"]),
            )?;
            ensure_eq(
                "value of c after overwrite",
                &page.items[1].value[..],
                b"changed",
            )?;
            ensure_eq("version of c after overwrite", &page.items[1].version, &v)
        }),
        case("query_limit_bounds", None, |cx| async move {
            let kv = cx.kv().await?;
            let p = cx.partition();
            fill(&*kv, &p, &["a", "b"]).await?;
            let r = kv
                .query(
                    &p,
                    QueryOptions {
                        limit: Some(0),
                        ..Default::default()
                    },
                )
                .await;
            expect_kind("query with limit 0", r, ErrorKind::InvalidArgument)?;
            let r = kv
                .query(
                    &p,
                    QueryOptions {
                        limit: Some(1001),
                        ..Default::default()
                    },
                )
                .await;
            expect_kind("query with limit 1001", r, ErrorKind::InvalidArgument)?;
            let page = kv
                .query(
                    &p,
                    QueryOptions {
                        limit: Some(1000),
                        ..Default::default()
                    },
                )
                .await?;
            ensure_eq("items with limit 1000", page.items.len(), 2)?;
            let page = kv
                .query(
                    &p,
                    QueryOptions {
                        limit: Some(1),
                        ..Default::default()
                    },
                )
                .await?;
            ensure_eq("items with limit 1", sorts(&page.items), names(&["a"]))?;
            ensure(
                page.next_cursor.is_some(),
                "limit 1 of 2 items: next_cursor is None, expected Some",
            )
        }),
        case(
            "unicode_sort_keys_order_by_utf8_bytes",
            None,
            |cx| async move {
                let kv = cx.kv().await?;
                let p = cx.partition();
                // U+FF61 sorts before U+1F600 in UTF-8 but after it in UTF-16; upper case sorts
                // before lower case; a key sorts before its extensions.
                let keys = [
                    "😀", "b", "日本", "\u{ff61}", "a", "Z", "é", "ab", "A", "e\u{301}", "~",
                ];
                fill(&*kv, &p, &keys).await?;
                let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
                let got = sorts(&kv.query(&p, QueryOptions::default()).await?.items);
                ensure_eq(
                    "ascending order of unicode sort keys",
                    got,
                    expected.clone(),
                )?;
                let opts = QueryOptions {
                    order: Order::Descending,
                    limit: Some(3),
                    ..Default::default()
                };
                let got = sorts(&query_all(&*kv, &p, opts).await?);
                expected.reverse();
                ensure_eq("descending paging over unicode sort keys", got, expected)?;
                let opts = QueryOptions {
                    range: SortRange::Prefix("日".into()),
                    ..Default::default()
                };
                let got = sorts(&kv.query(&p, opts).await?.items);
                ensure_eq("prefix 日", got, names(&["日本"]))
            },
        ),
    ]
}
