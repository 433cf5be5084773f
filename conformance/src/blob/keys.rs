//! Key cases: unusual valid keys round trip exactly; invalid keys are refused by every
//! operation with `InvalidArgument`.

use bytes::Bytes;
use stratus::blob::{CopyOptions, GetOptions};
use stratus::{ErrorKind, ServiceKind};

use super::util::*;
use crate::case::{Case, CaseResult, Ctx, ensure_eq, expect_kind};

/// Writes each key with a body naming it, then reads, heads and lists each one back.
async fn round_trip(cx: &Ctx, keys: &[String]) -> CaseResult {
    let store = cx.blob().await?;
    for key in keys {
        let meta = put(&store, key, key.clone().into_bytes()).await?;
        ensure_eq("key returned by put", meta.key.as_str(), key.as_str())?;
    }
    for key in keys {
        ensure_holds(
            &store,
            key,
            key.as_bytes(),
            "written with its own key as body",
        )
        .await?;
        ensure_eq(
            &format!("head key of {key:?}"),
            store.head(key).await?.key,
            key.clone(),
        )?;
    }
    let (listed, _, _) = list_all(&store, under(&cx.key(""))).await?;
    ensure_eq("keys listed under the case prefix", listed, sorted(keys))
}

/// `prefix` padded with `fill` (then `x`) to exactly `len` bytes.
fn padded(prefix: &str, fill: &str, len: usize) -> String {
    let mut key = prefix.to_owned();
    while key.len() + fill.len() <= len {
        key.push_str(fill);
    }
    while key.len() < len {
        key.push('x');
    }
    key
}

/// Keys the layer must refuse, built around the case prefix where that matters.
fn invalid_keys(cx: &Ctx) -> Vec<(String, &'static str)> {
    let base = cx.key("k");
    vec![
        (String::new(), "empty key"),
        (format!("/{base}"), "leading '/'"),
        (format!("{base}/"), "trailing '/'"),
        (format!("{base}//x"), "'//'"),
        (".".into(), "'.'"),
        ("..".into(), "'..'"),
        (format!("{base}/./x"), "'.' segment"),
        (format!("{base}/../x"), "'..' segment"),
        (format!("{base}\u{0}x"), "NUL"),
        (format!("{base}\nx"), "newline"),
        (format!("{base}\tx"), "tab"),
        (format!("{base}\u{7f}"), "DEL"),
        (format!("{base}\u{85}"), "C1 control"),
        (format!("{base}\\x"), "backslash"),
        (padded(&base, "x", 1025), "1025 bytes"),
    ]
}

/// The key cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(ServiceKind::Blob, "key_unicode", None, |cx| async move {
            let keys = [
                cx.key("日本語/ファイル名.txt"),
                cx.key("Zoë/ünïcødé"),
                cx.key("🦀/emoji-🎉"),
                cx.key("\u{fffd}\u{ff5e}"),
                cx.key("e\u{301}"), // decomposed é stays distinct from the composed one
                cx.key("\u{e9}"),
            ];
            round_trip(&cx, &keys).await
        }),
        Case::new(
            ServiceKind::Blob,
            "key_spaces_percent_plus",
            None,
            |cx| async move {
                let keys = [
                    cx.key("with space"),
                    cx.key(" leading and trailing "),
                    cx.key("100%"),
                    cx.key("%20%2F%25"),
                    cx.key("a+b"),
                    cx.key("a b+c%d=e&f?g#h"),
                    cx.key("~!$'()*,;:@[]{}|^`\"<>"),
                ];
                round_trip(&cx, &keys).await
            },
        ),
        Case::new(ServiceKind::Blob, "key_deep_path", None, |cx| async move {
            let deep: Vec<String> = (0..20).map(|i| format!("seg{i:02}")).collect();
            round_trip(&cx, &[cx.key(&deep.join("/"))]).await
        }),
        Case::new(ServiceKind::Blob, "key_max_length", None, |cx| async move {
            let ascii = padded(&cx.key("a"), "/0123456789", 1024);
            let multibyte = padded(&cx.key("b/"), "🦀é", 1024);
            ensure_eq(
                "test key length",
                (ascii.len(), multibyte.len()),
                (1024, 1024),
            )?;
            round_trip(&cx, &[ascii, multibyte]).await
        }),
        Case::new(
            ServiceKind::Blob,
            "key_long_segment",
            None,
            |cx| async move {
                // No per-segment limit: one 1000-byte segment is a valid key.
                let key = padded(&cx.key(""), "s", 1000 + cx.key("").len());
                round_trip(&cx, &[key]).await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "key_case_sensitive",
            None,
            |cx| async move { round_trip(&cx, &[cx.key("Name"), cx.key("name"), cx.key("NAME")]).await },
        ),
        Case::new(
            ServiceKind::Blob,
            "key_and_its_prefix_coexist",
            None,
            |cx| async move {
                // A key may also be the directory-like prefix of other keys.
                let keys = [
                    cx.key("dir"),
                    cx.key("dir/file"),
                    cx.key("dir/sub/file"),
                    cx.key("dir/sub"),
                ];
                round_trip(&cx, &keys).await?;
                let store = cx.blob().await?;
                store.delete(&cx.key("dir")).await?;
                ensure_holds(
                    &store,
                    &cx.key("dir/sub/file"),
                    cx.key("dir/sub/file").as_bytes(),
                    "after deleting key \"dir\"",
                )
                .await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "key_dot_names_that_are_valid",
            None,
            |cx| async move {
                let keys = [
                    cx.key(".hidden"),
                    cx.key("..x"),
                    cx.key("a../b.."),
                    cx.key("..."),
                    cx.key("x/.y/z"),
                ];
                round_trip(&cx, &keys).await
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "invalid_keys_rejected_by_put",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                for (key, why) in invalid_keys(&cx) {
                    let r = store
                        .put(&key, Bytes::from_static(b"x"), Default::default())
                        .await;
                    expect_kind(
                        &format!("put of a key with {why} ({key:?})"),
                        r,
                        ErrorKind::InvalidArgument,
                    )?;
                    let r = store
                        .put_stream(&key, pattern_stream(1, 10, 5), Default::default())
                        .await;
                    expect_kind(
                        &format!("put_stream of a key with {why}"),
                        r,
                        ErrorKind::InvalidArgument,
                    )?;
                }
                let (listed, _, _) = list_all(&store, under(&cx.key(""))).await?;
                ensure_eq(
                    "keys under the case prefix after rejected puts",
                    listed,
                    Vec::<String>::new(),
                )
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "invalid_keys_rejected_by_get",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                for (key, why) in invalid_keys(&cx) {
                    let r = store.get(&key, GetOptions::default()).await.map(|g| g.meta);
                    expect_kind(
                        &format!("get of a key with {why} ({key:?})"),
                        r,
                        ErrorKind::InvalidArgument,
                    )?;
                }
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "invalid_keys_rejected_by_head",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                for (key, why) in invalid_keys(&cx) {
                    expect_kind(
                        &format!("head of a key with {why} ({key:?})"),
                        store.head(&key).await,
                        ErrorKind::InvalidArgument,
                    )?;
                }
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "invalid_keys_rejected_by_delete",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                for (key, why) in invalid_keys(&cx) {
                    expect_kind(
                        &format!("delete of a key with {why} ({key:?})"),
                        store.delete(&key).await,
                        ErrorKind::InvalidArgument,
                    )?;
                }
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "invalid_keys_rejected_by_copy",
            None,
            |cx| async move {
                let store = cx.blob().await?;
                let good = cx.key("source");
                put(&store, &good, &b"src"[..]).await?;
                for (key, why) in invalid_keys(&cx) {
                    let r = store
                        .copy(&key, &cx.key("dest"), CopyOptions::default())
                        .await;
                    expect_kind(
                        &format!("copy from a key with {why} ({key:?})"),
                        r,
                        ErrorKind::InvalidArgument,
                    )?;
                    let r = store.copy(&good, &key, CopyOptions::default()).await;
                    expect_kind(
                        &format!("copy to a key with {why} ({key:?})"),
                        r,
                        ErrorKind::InvalidArgument,
                    )?;
                }
                ensure_absent(&store, &cx.key("dest"), "after copies from invalid keys").await
            },
        ),
    ]
}
