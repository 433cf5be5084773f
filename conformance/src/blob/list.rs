//! List cases: order, prefix, delimiter, start_after, pagination (also while keys change)
//! and what list entries carry.

use bytes::Bytes;
use stratus::blob::{ListOptions, ObjectMeta};
use stratus::{ErrorKind, ServiceKind};

use super::util::*;
use crate::case::{Case, CaseResult, Ctx, Failure, ensure, ensure_eq, expect_kind};

/// Writes `suffixes` under the case prefix (in the order given) and returns the full keys.
async fn write_all(cx: &Ctx, store: &Store, suffixes: &[&str]) -> Result<Vec<String>, Failure> {
    let mut keys = Vec::new();
    for s in suffixes {
        let key = cx.key(s);
        put(store, &key, Bytes::copy_from_slice(s.as_bytes())).await?;
        keys.push(key);
    }
    Ok(keys)
}

/// Lists `opts` (with its prefix under the case prefix) and compares keys and prefixes.
async fn expect_listing(
    cx: &Ctx,
    store: &Store,
    what: &str,
    opts: ListOptions,
    keys: &[&str],
    prefixes: &[&str],
) -> CaseResult {
    let (got_keys, got_prefixes, _) = list_all(store, opts).await?;
    let want_keys: Vec<String> = keys.iter().map(|k| cx.key(k)).collect();
    let want_prefixes: Vec<String> = prefixes.iter().map(|p| cx.key(p)).collect();
    ensure_eq(&format!("{what}: keys"), got_keys, want_keys)?;
    ensure_eq(
        &format!("{what}: common prefixes"),
        got_prefixes,
        want_prefixes,
    )
}

/// Seconds since the epoch: the portable precision of `last_modified`.
fn secs(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn opts(cx: &Ctx, prefix: &str) -> ListOptions {
    under(&cx.key(prefix))
}

/// The list cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            ServiceKind::Blob,
            "list_byte_order",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                // Written out of order. UTF-8 byte order puts every ASCII key before 'é', 'é'
                // before '日', and U+FF5E (EF BD 9E) before U+1F980 (F0 9F A6 80), the
                // reverse of UTF-16 order.
                let suffixes = [
                    "\u{1f980}",
                    "z",
                    "\u{ff5e}",
                    "B",
                    "a",
                    "é",
                    "aa",
                    "a/b",
                    "a-b",
                    "~",
                    "Z",
                    "日本",
                    "a0",
                    "A",
                    " ",
                    "a.",
                ];
                let keys = write_all(&cx, &store, &suffixes).await?;
                let (listed, _, _) = list_all(&store, opts(&cx, "")).await?;
                ensure_eq("keys in UTF-8 byte order", listed.clone(), sorted(&keys))?;
                let pos = |s: &str| listed.iter().position(|k| *k == cx.key(s));
                ensure(
                    pos("\u{ff5e}") < pos("\u{1f980}"),
                    "U+FF5E must list before U+1F980 (UTF-8 byte order, not UTF-16)",
                )?;
                ensure(pos("~") < pos("é"), "'~' must list before 'é'")
            },
        ),
        Case::new(ServiceKind::Blob, "list_prefix", None, |cx| async move {
            let store = cx.blob().await?;
            write_all(&cx, &store, &["ab", "abc", "ab/x", "abd/y", "b", "a"]).await?;
            expect_listing(
                &cx,
                &store,
                "prefix \"ab\"",
                opts(&cx, "ab"),
                &["ab", "ab/x", "abc", "abd/y"],
                &[],
            )
            .await?;
            expect_listing(
                &cx,
                &store,
                "prefix \"ab/\"",
                opts(&cx, "ab/"),
                &["ab/x"],
                &[],
            )
            .await?;
            expect_listing(
                &cx,
                &store,
                "prefix matching one key exactly",
                opts(&cx, "abc"),
                &["abc"],
                &[],
            )
            .await?;
            let page = store.list(opts(&cx, "nothing-here")).await?;
            ensure(
                page.objects.is_empty()
                    && page.common_prefixes.is_empty()
                    && page.next_page_token.is_none(),
                format!("a prefix matching nothing returned {page:?}"),
            )
        }),
        Case::new(
            ServiceKind::Blob,
            "list_delimiter_common_prefixes",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                write_all(
                    &cx,
                    &store,
                    &["p/a", "p/b/1", "p/b/2", "p/c/d/e", "p/z", "p", "q/1"],
                )
                .await?;
                let slash = |prefix: &str| ListOptions {
                    delimiter: Some("/".into()),
                    ..opts(&cx, prefix)
                };
                expect_listing(
                    &cx,
                    &store,
                    "prefix p/ delimiter /",
                    slash("p/"),
                    &["p/a", "p/z"],
                    &["p/b/", "p/c/"],
                )
                .await?;
                expect_listing(
                    &cx,
                    &store,
                    "prefix p/b/ delimiter /",
                    slash("p/b/"),
                    &["p/b/1", "p/b/2"],
                    &[],
                )
                .await?;
                expect_listing(
                    &cx,
                    &store,
                    "prefix p/c/ delimiter /",
                    slash("p/c/"),
                    &[],
                    &["p/c/d/"],
                )
                .await?;
                expect_listing(
                    &cx,
                    &store,
                    "prefix p delimiter /",
                    slash("p"),
                    &["p"],
                    &["p/"],
                )
                .await?;
                expect_listing(
                    &cx,
                    &store,
                    "case prefix delimiter /",
                    slash(""),
                    &["p"],
                    &["p/", "q/"],
                )
                .await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "list_delimiter_other_than_slash",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                write_all(&cx, &store, &["x-1-a", "x-1-b", "x-2", "y", "x/3"]).await?;
                let dash = ListOptions {
                    delimiter: Some("-".into()),
                    ..opts(&cx, "x-")
                };
                expect_listing(
                    &cx,
                    &store,
                    "prefix x- delimiter -",
                    dash,
                    &["x-2"],
                    &["x-1-"],
                )
                .await?;
                let multi = ListOptions {
                    delimiter: Some("-1-".into()),
                    ..opts(&cx, "")
                };
                expect_listing(
                    &cx,
                    &store,
                    "delimiter of three characters",
                    multi,
                    &["x-2", "x/3", "y"],
                    &["x-1-"],
                )
                .await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "list_start_after",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                write_all(&cx, &store, &["a", "b", "c", "d", "e/1", "e/2"]).await?;
                let after = |s: &str| ListOptions {
                    start_after: Some(cx.key(s)),
                    ..opts(&cx, "")
                };
                expect_listing(
                    &cx,
                    &store,
                    "start_after an existing key (exclusive)",
                    after("b"),
                    &["c", "d", "e/1", "e/2"],
                    &[],
                )
                .await?;
                expect_listing(
                    &cx,
                    &store,
                    "start_after an absent key",
                    after("bb"),
                    &["c", "d", "e/1", "e/2"],
                    &[],
                )
                .await?;
                expect_listing(
                    &cx,
                    &store,
                    "start_after the last key",
                    after("e/2"),
                    &[],
                    &[],
                )
                .await?;
                expect_listing(
                    &cx,
                    &store,
                    "start_after past every key",
                    after("zzz"),
                    &[],
                    &[],
                )
                .await?;
                let rolled = ListOptions {
                    delimiter: Some("/".into()),
                    ..after("c")
                };
                expect_listing(
                    &cx,
                    &store,
                    "start_after with a delimiter",
                    rolled,
                    &["d"],
                    &["e/"],
                )
                .await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "list_pagination",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let suffixes: Vec<String> =
                    (0..25).map(|i| format!("k{:02}", (i * 7) % 25)).collect();
                let refs: Vec<&str> = suffixes.iter().map(String::as_str).collect();
                let keys = write_all(&cx, &store, &refs).await?;
                for size in [1, 7, 25, 1000] {
                    let (listed, _, pages) = list_all(
                        &store,
                        ListOptions {
                            page_size: Some(size),
                            ..opts(&cx, "")
                        },
                    )
                    .await?;
                    ensure_eq(
                        &format!("keys over all pages of size {size}"),
                        listed,
                        sorted(&keys),
                    )?;
                    ensure(
                        pages >= 25usize.div_ceil(size),
                        format!("25 keys in pages of {size} came in only {pages} pages"),
                    )?;
                }
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "list_pagination_with_delimiter",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let mut suffixes = Vec::new();
                for dir in ["d1", "d2", "d3"] {
                    for i in 0..5 {
                        suffixes.push(format!("{dir}/{i}"));
                    }
                }
                suffixes.extend(["a".to_owned(), "d15".into(), "e".into()]);
                let refs: Vec<&str> = suffixes.iter().map(String::as_str).collect();
                write_all(&cx, &store, &refs).await?;
                for size in [1, 2, 3] {
                    let o = ListOptions {
                        delimiter: Some("/".into()),
                        page_size: Some(size),
                        ..opts(&cx, "")
                    };
                    let (keys, prefixes, _) = list_all(&store, o).await?;
                    let want_keys: Vec<String> =
                        ["a", "d15", "e"].iter().map(|s| cx.key(s)).collect();
                    let want_prefixes: Vec<String> =
                        ["d1/", "d2/", "d3/"].iter().map(|s| cx.key(s)).collect();
                    ensure_eq(
                        &format!("keys with delimiter, pages of {size}"),
                        keys,
                        want_keys,
                    )?;
                    ensure_eq(
                        &format!("common prefixes (each once), pages of {size}"),
                        prefixes,
                        want_prefixes,
                    )?;
                }
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "list_pagination_consistent_under_writes",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                // Stable keys k00s..k19s exist throughout; between pages volatile keys kNNv are
                // deleted and new keys kNNn inserted, some behind the cursor and some ahead.
                let stable: Vec<String> = (0..20).map(|i| cx.key(&format!("k{i:02}s"))).collect();
                for key in &stable {
                    put(&store, key, &b"s"[..]).await?;
                }
                for i in 0..20 {
                    put(&store, &cx.key(&format!("k{i:02}v")), &b"v"[..]).await?;
                }
                let mut o = ListOptions {
                    page_size: Some(3),
                    ..opts(&cx, "")
                };
                let (mut listed, mut round) = (Vec::<String>::new(), 0);
                loop {
                    let page = store.list(o.clone()).await?;
                    listed.extend(page.objects.into_iter().map(|m| m.key));
                    let Some(token) = page.next_page_token else {
                        break;
                    };
                    o.page_token = Some(token);
                    round += 1;
                    ensure(round < 200, "listing did not end after 200 pages")?;
                    let (early, late) = ((round * 3) % 20, (round * 7 + 5) % 20);
                    store.delete(&cx.key(&format!("k{late:02}v"))).await?;
                    store.delete(&cx.key(&format!("k{early:02}v"))).await?;
                    put(&store, &cx.key(&format!("k{early:02}n")), &b"n"[..]).await?;
                    put(&store, &cx.key(&format!("k{late:02}n")), &b"n"[..]).await?;
                }
                ensure(
                    listed.windows(2).all(|w| w[0] < w[1]),
                    format!(
                        "keys across pages are not strictly ascending (a key repeated or out of order): {listed:?}"
                    ),
                )?;
                let kept: Vec<String> = listed
                    .iter()
                    .filter(|k| k.ends_with('s'))
                    .cloned()
                    .collect();
                ensure_eq("keys that existed throughout, across pages", kept, stable)
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "list_page_size_limits",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                for size in [0, 1001, usize::MAX] {
                    let r = store
                        .list(ListOptions {
                            page_size: Some(size),
                            ..opts(&cx, "")
                        })
                        .await;
                    expect_kind(
                        &format!("list with page_size {size}"),
                        r,
                        ErrorKind::InvalidArgument,
                    )?;
                }
                write_all(&cx, &store, &["only"]).await?;
                let page = store
                    .list(ListOptions {
                        page_size: Some(1000),
                        ..opts(&cx, "")
                    })
                    .await?;
                ensure_eq("objects listed with page_size 1000", page.objects.len(), 1)
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "list_entries_carry_size_and_etag_only",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                let o = with_meta(Some("text/plain"), &[("colour", "red")]);
                store.put(&key, Bytes::from_static(b"12345"), o).await?;
                let head = store.head(&key).await?;
                let page = store.list(opts(&cx, "")).await?;
                let [entry]: [ObjectMeta; 1] =
                    page.objects.try_into().map_err(|v: Vec<ObjectMeta>| {
                        Failure(format!("expected one listed object, got {v:?}"))
                    })?;
                ensure_eq("listed key", entry.key.as_str(), key.as_str())?;
                ensure_eq("listed size", entry.size, 5)?;
                ensure_eq(
                    "listed ETag vs head",
                    entry.etag.as_str(),
                    head.etag.as_str(),
                )?;
                ensure_eq(
                    "listed last_modified vs head, in whole seconds",
                    secs(entry.last_modified),
                    secs(head.last_modified),
                )?;
                ensure_eq(
                    "listed content type (never returned by list)",
                    entry.content_type,
                    None,
                )?;
                ensure(
                    entry.metadata.is_empty(),
                    format!("listed metadata must be empty, got {:?}", entry.metadata),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "list_reflects_writes_and_deletes",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                write_all(&cx, &store, &["a", "b", "c"]).await?;
                store.delete(&cx.key("b")).await?;
                expect_listing(
                    &cx,
                    &store,
                    "after deleting b",
                    opts(&cx, ""),
                    &["a", "c"],
                    &[],
                )
                .await?;
                write_all(&cx, &store, &["b2"]).await?;
                expect_listing(
                    &cx,
                    &store,
                    "after writing b2",
                    opts(&cx, ""),
                    &["a", "b2", "c"],
                    &[],
                )
                .await?;
                let sizes: Vec<u64> = store
                    .list(opts(&cx, ""))
                    .await?
                    .objects
                    .iter()
                    .map(|m| m.size)
                    .collect();
                ensure_eq("listed sizes", sizes, vec![1, 2, 1])
            },
        ),
    ]
}
