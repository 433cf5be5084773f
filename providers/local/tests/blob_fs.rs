//! The local blob store on the filesystem: semantics and on-disk behaviour.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use stratus::ErrorKind;
use stratus::blob::{
    BlobService, BlobStore, ByteRange, CopyOptions, GetOptions, ListOptions, PartReceipt, PutMode,
    PutOptions,
};
use stratus::limits::MIN_MULTIPART_PART_BYTES;
use stratus_local::{BlobOptions, LocalBlobService};

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<dyn BlobStore>,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        Self { dir, store }
    }

    fn store_dir(&self) -> PathBuf {
        self.dir.path().join("files")
    }
}

async fn open(root: &Path) -> Arc<dyn BlobStore> {
    let service = LocalBlobService::new(BlobOptions {
        root: root.to_owned(),
    })
    .unwrap();
    service.open("files").await.unwrap()
}

async fn put(store: &dyn BlobStore, key: &str, body: &str) -> stratus::blob::ObjectMeta {
    store
        .put(key, Bytes::from(body.to_owned()), PutOptions::default())
        .await
        .unwrap()
}

async fn read(store: &dyn BlobStore, key: &str) -> Bytes {
    store
        .get(key, GetOptions::default())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
}

fn mode(mode: PutMode) -> PutOptions {
    PutOptions {
        mode,
        ..Default::default()
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn put_get_head_round_trip_with_metadata() {
    let f = Fixture::new().await;
    let opts = PutOptions {
        content_type: Some("text/plain".into()),
        metadata: BTreeMap::from([("owner".into(), "ana".into())]),
        ..Default::default()
    };
    let meta = f
        .store
        .put("docs/a.txt", Bytes::from_static(b"hello"), opts)
        .await
        .unwrap();
    assert_eq!(meta.size, 5);
    assert_eq!(meta.content_type.as_deref(), Some("text/plain"));
    let head = f.store.head("docs/a.txt").await.unwrap();
    assert_eq!(head, meta);
    let got = f
        .store
        .get("docs/a.txt", GetOptions::default())
        .await
        .unwrap();
    assert_eq!(got.meta, meta);
    assert_eq!(got.range, 0..5);
    assert_eq!(got.bytes().await.unwrap(), "hello");
    let age = SystemTime::now()
        .duration_since(head.last_modified)
        .unwrap();
    assert!(age < Duration::from_secs(3600));
}

#[tokio::test]
async fn default_content_type_and_empty_objects() {
    let f = Fixture::new().await;
    let meta = put(&*f.store, "empty", "").await;
    assert_eq!(
        meta.content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(meta.size, 0);
    assert_eq!(read(&*f.store, "empty").await, "");
    let suffix = GetOptions {
        range: Some(ByteRange::Suffix(3)),
        ..Default::default()
    };
    let got = f.store.get("empty", suffix).await.unwrap();
    assert_eq!(got.range, 0..0);
}

#[tokio::test]
async fn etag_changes_on_every_write() {
    let f = Fixture::new().await;
    let a = put(&*f.store, "k", "same").await;
    let b = put(&*f.store, "k", "same").await;
    assert_ne!(a.etag, b.etag);
}

#[tokio::test]
async fn put_modes() {
    let f = Fixture::new().await;
    let s = &*f.store;
    let first = s
        .put("k", Bytes::from_static(b"1"), mode(PutMode::Create))
        .await
        .unwrap();
    let e = s
        .put("k", Bytes::from_static(b"2"), mode(PutMode::Create))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    let stale = PutMode::Update {
        etag: "nope".into(),
    };
    assert_eq!(
        s.put("k", Bytes::from_static(b"2"), mode(stale.clone()))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PreconditionFailed
    );
    assert_eq!(
        s.put("absent", Bytes::from_static(b"2"), mode(stale))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PreconditionFailed
    );
    let second = s
        .put(
            "k",
            Bytes::from_static(b"2"),
            mode(PutMode::Update {
                etag: first.etag.clone(),
            }),
        )
        .await
        .unwrap();
    assert_ne!(second.etag, first.etag);
    assert_eq!(read(s, "k").await, "2");
    let e = s
        .put(
            "k",
            Bytes::from_static(b"3"),
            mode(PutMode::Update { etag: first.etag }),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PreconditionFailed);
    // Failed writes leave no temp files behind.
    assert_eq!(entries(&f.store_dir().join(".tmp")), Vec::<String>::new());
    assert!(s.head("absent").await.is_err());
}

#[tokio::test]
async fn get_conditions_and_absent_keys() {
    let f = Fixture::new().await;
    let s = &*f.store;
    assert_eq!(
        s.get("nope", GetOptions::default())
            .await
            .err()
            .unwrap()
            .kind(),
        ErrorKind::NotFound
    );
    let with_cond = GetOptions {
        if_match: Some("x".into()),
        ..Default::default()
    };
    assert_eq!(
        s.get("nope", with_cond).await.err().unwrap().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        s.head("nope").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let meta = put(s, "k", "body").await;
    let ok = GetOptions {
        if_match: Some(meta.etag.clone()),
        ..Default::default()
    };
    assert_eq!(s.get("k", ok).await.unwrap().bytes().await.unwrap(), "body");
    let bad = GetOptions {
        if_match: Some("other".into()),
        ..Default::default()
    };
    assert_eq!(
        s.get("k", bad).await.err().unwrap().kind(),
        ErrorKind::PreconditionFailed
    );
    let not_modified = GetOptions {
        if_none_match: Some(meta.etag),
        ..Default::default()
    };
    assert_eq!(
        s.get("k", not_modified).await.err().unwrap().kind(),
        ErrorKind::PreconditionFailed
    );
    let modified = GetOptions {
        if_none_match: Some("other".into()),
        ..Default::default()
    };
    assert!(s.get("k", modified).await.is_ok());
}

#[tokio::test]
async fn ranges_stream_across_chunks() {
    let f = Fixture::new().await;
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    f.store
        .put("big", Bytes::from(data.clone()), PutOptions::default())
        .await
        .unwrap();
    let whole = f.store.get("big", GetOptions::default()).await.unwrap();
    let chunks: Vec<_> = whole.body.collect().await;
    assert!(
        chunks.len() > 1,
        "a large object is streamed in several chunks"
    );
    let joined: Vec<u8> = chunks
        .into_iter()
        .flat_map(|c| c.unwrap().to_vec())
        .collect();
    assert_eq!(joined, data);
    let cases = [
        (
            ByteRange::Bounded {
                start: 262_000,
                end: 700_000,
            },
            262_000..700_000,
        ),
        (
            ByteRange::Bounded {
                start: 999_990,
                end: 2_000_000,
            },
            999_990..1_000_000,
        ),
        (ByteRange::From(5), 5..1_000_000),
        (ByteRange::Suffix(10), 999_990..1_000_000),
        (ByteRange::Suffix(5_000_000), 0..1_000_000),
    ];
    for (range, expected) in cases {
        let got = f
            .store
            .get(
                "big",
                GetOptions {
                    range: Some(range),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(got.range, expected);
        assert_eq!(got.meta.size, 1_000_000);
        let bytes = got.bytes().await.unwrap();
        assert_eq!(
            &bytes[..],
            &data[expected.start as usize..expected.end as usize]
        );
    }
    let past = GetOptions {
        range: Some(ByteRange::From(1_000_000)),
        ..Default::default()
    };
    assert_eq!(
        f.store.get("big", past).await.err().unwrap().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn a_reader_keeps_its_version_while_the_object_is_replaced() {
    let f = Fixture::new().await;
    put(&*f.store, "k", "old body").await;
    let got = f.store.get("k", GetOptions::default()).await.unwrap();
    put(&*f.store, "k", "new").await;
    f.store.delete("k").await.unwrap();
    assert_eq!(got.bytes().await.unwrap(), "old body");
}

#[tokio::test]
async fn object_and_folder_keys_coexist() {
    let f = Fixture::new().await;
    let s = &*f.store;
    put(s, "a", "object a").await;
    put(s, "a/b", "object a/b").await;
    put(s, "a/b/c", "object a/b/c").await;
    assert_eq!(read(s, "a").await, "object a");
    assert_eq!(read(s, "a/b").await, "object a/b");
    assert_eq!(read(s, "a/b/c").await, "object a/b/c");
    s.delete("a/b").await.unwrap();
    assert_eq!(read(s, "a/b/c").await, "object a/b/c");
    assert_eq!(s.head("a/b").await.unwrap_err().kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn delete_is_idempotent_and_removes_empty_folders() {
    let f = Fixture::new().await;
    let s = &*f.store;
    s.delete("never").await.unwrap();
    put(s, "x/y/z", "1").await;
    put(s, "x/keep", "2").await;
    s.delete("x/y/z").await.unwrap();
    s.delete("x/y/z").await.unwrap();
    assert_eq!(entries(&f.store_dir().join("x.d")), ["keep.o"]);
    s.delete("x/keep").await.unwrap();
    assert_eq!(entries(&f.store_dir()), [".lock", ".tmp", ".uploads"]);
}

#[tokio::test]
async fn odd_and_very_long_segments() {
    let f = Fixture::new().await;
    let s = &*f.store;
    let long = "l".repeat(400);
    let long2 = format!("{}2", "l".repeat(399));
    let keys = [
        "100%".to_owned(),
        "100%25".to_owned(),
        "%h00".to_owned(),
        ".tmp".to_owned(),
        ".uploads/x".to_owned(),
        "x.d".to_owned(),
        "x.o/y".to_owned(),
        "ünïcødé/文件".to_owned(),
        format!("dir/{long}"),
        format!("dir/{long2}"),
        format!("{long}/{}", "m".repeat(500)),
    ];
    for key in &keys {
        put(s, key, key).await;
    }
    for key in &keys {
        assert_eq!(read(s, key).await, key.as_str(), "{key}");
        assert_eq!(s.head(key).await.unwrap().key, *key);
    }
    let mut sorted = keys.to_vec();
    sorted.sort();
    let listed: Vec<_> = s
        .list(ListOptions::default())
        .await
        .unwrap()
        .objects
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(listed, sorted);
    let in_dir = s
        .list(ListOptions {
            prefix: format!("dir/{}", "l".repeat(300)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(in_dir.objects.len(), 2);
    for key in &keys {
        s.delete(key).await.unwrap();
    }
    assert!(
        s.list(ListOptions::default())
            .await
            .unwrap()
            .objects
            .is_empty()
    );
    assert_eq!(entries(&f.store_dir()), [".lock", ".tmp", ".uploads"]);
}

#[tokio::test]
async fn list_prefix_delimiter_and_pages() {
    let f = Fixture::new().await;
    let s = &*f.store;
    for key in ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "da"] {
        let opts = PutOptions {
            content_type: Some("text/plain".into()),
            metadata: BTreeMap::from([("m".into(), "v".into())]),
            ..Default::default()
        };
        s.put(key, Bytes::from_static(b"xy"), opts).await.unwrap();
    }
    let all = s.list(ListOptions::default()).await.unwrap();
    let keys: Vec<_> = all.objects.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "da"]);
    let first = &all.objects[0];
    assert_eq!(
        (first.size, first.content_type.clone(), first.metadata.len()),
        (2, None, 0)
    );
    assert_eq!(first.etag, s.head("a/1").await.unwrap().etag);

    let rolled = s
        .list(ListOptions {
            delimiter: Some("/".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rolled.common_prefixes, ["a/", "c/"]);
    assert_eq!(
        rolled
            .objects
            .iter()
            .map(|m| m.key.as_str())
            .collect::<Vec<_>>(),
        ["b", "d", "da"]
    );

    let under_c = ListOptions {
        prefix: "c/".into(),
        delimiter: Some("/".into()),
        ..Default::default()
    };
    let page = s.list(under_c).await.unwrap();
    assert_eq!(page.common_prefixes, ["c/x/"]);
    assert_eq!(page.objects[0].key, "c/y");

    let d = s
        .list(ListOptions {
            prefix: "d".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(d.objects.len(), 2);
    let none = s
        .list(ListOptions {
            prefix: "zz/".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.objects.is_empty() && none.next_page_token.is_none());

    let after = ListOptions {
        start_after: Some("c/y".into()),
        ..Default::default()
    };
    assert_eq!(s.list(after).await.unwrap().objects.len(), 2);

    let mut token = None;
    let mut seen = Vec::new();
    loop {
        let opts = ListOptions {
            page_size: Some(3),
            page_token: token,
            ..Default::default()
        };
        let page = s.list(opts).await.unwrap();
        assert!(page.objects.len() <= 3);
        seen.extend(page.objects.into_iter().map(|m| m.key));
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, keys);
}

#[tokio::test]
async fn copy_semantics() {
    let f = Fixture::new().await;
    let s = &*f.store;
    let opts = PutOptions {
        content_type: Some("image/png".into()),
        metadata: BTreeMap::from([("w".into(), "10".into())]),
        ..Default::default()
    };
    let src = s
        .put("src", Bytes::from_static(b"pixels"), opts)
        .await
        .unwrap();
    let copied = s
        .copy("src", "dst/one", CopyOptions::default())
        .await
        .unwrap();
    assert_ne!(copied.etag, src.etag);
    assert_eq!(copied.key, "dst/one");
    assert_eq!(copied.content_type.as_deref(), Some("image/png"));
    assert_eq!(copied.metadata, src.metadata);
    assert_eq!(read(s, "dst/one").await, "pixels");
    assert_eq!(s.head("dst/one").await.unwrap(), copied);
    let e = s
        .copy("src", "dst/one", CopyOptions { create_only: true })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    let e = s
        .copy("missing", "dst/two", CopyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    s.copy("src", "dst/two", CopyOptions { create_only: true })
        .await
        .unwrap();
    let again = s.copy("src", "src", CopyOptions::default()).await.unwrap();
    assert_eq!(read(s, "src").await, "pixels");
    assert_ne!(again.etag, src.etag);
}

fn part(fill: u8, len: usize) -> Bytes {
    Bytes::from(vec![fill; len])
}

#[tokio::test]
async fn multipart_complete_concatenates_in_order() {
    let f = Fixture::new().await;
    let s = &*f.store;
    let opts = PutOptions {
        content_type: Some("video/mp4".into()),
        ..Default::default()
    };
    let id = s.multipart_start("movie", opts).await.unwrap();
    let p1 = s
        .multipart_put_part("movie", &id, 1, part(1, 10))
        .await
        .unwrap();
    // Re-uploading a number replaces the part.
    let p1b = s
        .multipart_put_part("movie", &id, 1, part(1, MIN_MULTIPART_PART_BYTES))
        .await
        .unwrap();
    assert_ne!(p1.etag, p1b.etag);
    let p2 = s
        .multipart_put_part("movie", &id, 2, part(2, 7))
        .await
        .unwrap();

    let stale = s
        .multipart_complete("movie", &id, vec![p1.clone(), p2.clone()])
        .await
        .unwrap_err();
    assert_eq!(stale.kind(), ErrorKind::InvalidArgument);
    let missing = PartReceipt {
        part_number: 3,
        etag: p2.etag.clone(),
    };
    let e = s
        .multipart_complete("movie", &id, vec![p1b.clone(), missing])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let wrong_key = s
        .multipart_complete("other", &id, vec![p1b.clone(), p2.clone()])
        .await
        .unwrap_err();
    assert_eq!(wrong_key.kind(), ErrorKind::NotFound);
    assert_eq!(
        s.head("movie").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    let meta = s
        .multipart_complete("movie", &id, vec![p1b, p2.clone()])
        .await
        .unwrap();
    assert_eq!(meta.size, MIN_MULTIPART_PART_BYTES as u64 + 7);
    assert_eq!(meta.content_type.as_deref(), Some("video/mp4"));
    assert_eq!(s.head("movie").await.unwrap(), meta);
    let body = read(s, "movie").await;
    assert!(body[..MIN_MULTIPART_PART_BYTES].iter().all(|b| *b == 1));
    assert_eq!(&body[MIN_MULTIPART_PART_BYTES..], &[2u8; 7]);

    let again = s
        .multipart_complete("movie", &id, vec![p2])
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::NotFound);
    assert_eq!(
        entries(&f.store_dir().join(".uploads")),
        Vec::<String>::new()
    );
    assert_eq!(entries(&f.store_dir().join(".tmp")), Vec::<String>::new());
}

#[tokio::test]
async fn multipart_small_parts_and_unknown_ids() {
    let f = Fixture::new().await;
    let s = &*f.store;
    let id = s.multipart_start("k", PutOptions::default()).await.unwrap();
    let p1 = s
        .multipart_put_part("k", &id, 1, part(1, 100))
        .await
        .unwrap();
    let p2 = s
        .multipart_put_part("k", &id, 2, part(2, 100))
        .await
        .unwrap();
    let e = s
        .multipart_complete("k", &id, vec![p1.clone(), p2])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // A single small part is fine (it is the last one).
    let meta = s.multipart_complete("k", &id, vec![p1]).await.unwrap();
    assert_eq!(meta.size, 100);
    for bogus in ["../../etc", "00000000000000000000000000000000", ""] {
        let e = s
            .multipart_put_part("k", bogus, 1, part(0, 1))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{bogus}");
        assert_eq!(
            s.multipart_abort("k", bogus).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
}

#[tokio::test]
async fn multipart_modes_are_checked_at_complete() {
    let f = Fixture::new().await;
    let s = &*f.store;
    let id = s.multipart_start("k", mode(PutMode::Create)).await.unwrap();
    let p = s.multipart_put_part("k", &id, 1, part(1, 3)).await.unwrap();
    put(s, "k", "exists now").await;
    let e = s
        .multipart_complete("k", &id, vec![p.clone()])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    assert_eq!(read(s, "k").await, "exists now");
    s.delete("k").await.unwrap();
    s.multipart_complete("k", &id, vec![p]).await.unwrap();
    assert_eq!(read(s, "k").await, &[1u8, 1, 1][..]);

    let id = s
        .multipart_start("k", mode(PutMode::Update { etag: "old".into() }))
        .await
        .unwrap();
    let p = s.multipart_put_part("k", &id, 1, part(1, 3)).await.unwrap();
    let e = s.multipart_complete("k", &id, vec![p]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PreconditionFailed);
    s.multipart_abort("k", &id).await.unwrap();
    assert_eq!(entries(&f.store_dir().join(".tmp")), Vec::<String>::new());
}

#[tokio::test]
async fn multipart_abort_leaves_nothing_behind() {
    let f = Fixture::new().await;
    let s = &*f.store;
    let id = s
        .multipart_start("gone", PutOptions::default())
        .await
        .unwrap();
    let p1 = s
        .multipart_put_part("gone", &id, 1, part(1, MIN_MULTIPART_PART_BYTES))
        .await
        .unwrap();
    let p2 = s
        .multipart_put_part("gone", &id, 2, part(2, 10))
        .await
        .unwrap();
    assert_eq!(entries(&f.store_dir().join(".uploads")), [id.as_str()]);
    s.multipart_abort("gone", &id).await.unwrap();
    assert_eq!(
        s.multipart_abort("gone", &id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let e = s
        .multipart_complete("gone", &id, vec![p1, p2])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = s
        .multipart_put_part("gone", &id, 3, part(3, 1))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        s.head("gone").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        entries(&f.store_dir().join(".uploads")),
        Vec::<String>::new()
    );
    assert_eq!(entries(&f.store_dir().join(".tmp")), Vec::<String>::new());
    assert_eq!(entries(&f.store_dir()), [".lock", ".tmp", ".uploads"]);
}

#[tokio::test]
async fn large_streams_go_through_multipart() {
    let f = Fixture::new().await;
    let chunk = Bytes::from(vec![7u8; 1024 * 1024]);
    let body = futures::stream::iter((0..20).map(move |_| Ok(chunk.clone()))).boxed();
    let meta = f
        .store
        .put_stream("streamed", body, PutOptions::default())
        .await
        .unwrap();
    assert_eq!(meta.size, 20 * 1024 * 1024);
    let read_back = read(&*f.store, "streamed").await;
    assert_eq!(read_back.len(), 20 * 1024 * 1024);
    assert!(read_back.iter().all(|b| *b == 7));
    assert_eq!(
        entries(&f.store_dir().join(".uploads")),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn objects_survive_reopening() {
    let f = Fixture::new().await;
    let meta = put(&*f.store, "persist/me", "still here").await;
    let reopened = open(f.dir.path()).await;
    assert_eq!(reopened.head("persist/me").await.unwrap(), meta);
    assert_eq!(read(&*reopened, "persist/me").await, "still here");
}

#[tokio::test]
async fn stale_temp_files_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path()).await;
    let tmp = dir.path().join("files/.tmp");
    let old = tmp.join("old.tmp");
    std::fs::write(&old, b"left by a crash").unwrap();
    let file = std::fs::File::options().write(true).open(&old).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(2 * 3600))
        .unwrap();
    drop(file);
    std::fs::write(tmp.join("fresh.tmp"), b"being written").unwrap();
    open(dir.path()).await;
    assert_eq!(entries(&tmp), ["fresh.tmp"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn create_is_atomic_under_concurrency() {
    let f = Fixture::new().await;
    // A second service has its own in-process lock and lock-file descriptor, so only the
    // file lock (as between processes) keeps the two apart.
    let other = open(f.dir.path()).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 {
            f.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            store
                .put("once", Bytes::from(format!("{i}")), mode(PutMode::Create))
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(e.kind(), ErrorKind::AlreadyExists),
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn compare_and_swap_counter_loses_no_updates() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path()).await;
    let b = LocalBlobService::new(BlobOptions {
        root: dir.path().to_owned(),
    })
    .unwrap()
    .open("files")
    .await
    .unwrap();
    put(&*a, "counter", "0").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                loop {
                    let got = store.get("counter", GetOptions::default()).await.unwrap();
                    let etag = got.meta.etag.clone();
                    let n: u32 = std::str::from_utf8(&got.bytes().await.unwrap())
                        .unwrap()
                        .parse()
                        .unwrap();
                    let next = Bytes::from((n + 1).to_string());
                    match store
                        .put("counter", next, mode(PutMode::Update { etag }))
                        .await
                    {
                        Ok(_) => break,
                        Err(e) => assert_eq!(e.kind(), ErrorKind::PreconditionFailed),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(read(&*a, "counter").await, "80");
}
