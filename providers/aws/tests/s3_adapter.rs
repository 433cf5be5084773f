//! Adapter-specific behaviour of the `s3` provider against an S3 emulator (moto):
//! provisioning, store prefixes, metadata encoding, upload ids bound to keys and
//! presigned URLs. Needs `STRATUS_AWS_ENDPOINT` (start the emulators with
//! `conformance/emulators/emulators up aws`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use stratus::blob::{BlobStore, ListOptions, PresignMethod, PutOptions};
use stratus::config::{Config, ServiceKind};
use stratus::{BuildContext, ErrorKind, Provider, Registry, Stratus};
use stratus_aws::S3Provider;

fn endpoint() -> String {
    std::env::var("STRATUS_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "STRATUS_AWS_ENDPOINT is not set: start moto with \
             `conformance/emulators/emulators up aws` and export its `env` output"
        )
    })
}

fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{what}-{:x}-{nanos:x}", std::process::id())
}

/// A config with one `s3` blob section on a fresh bucket, and that bucket provisioned.
async fn setup() -> (Config, String) {
    let bucket = unique("stratus-s3-test");
    let yaml = format!(
        "profiles:\n  t:\n    blob:\n      provider: s3\n      endpoint: {}\n      region: us-east-1\n      bucket: {bucket}\n      path_style: true\n",
        endpoint()
    );
    let config = Config::parse(
        "t.yaml",
        &yaml,
        std::path::Path::new("."),
        Arc::new(|name| std::env::var(name).ok()),
    )
    .unwrap();
    let profile = config.profile("t").unwrap();
    let section = &profile.service(ServiceKind::Blob).unwrap().options;
    for _ in 0..2 {
        // Provisioning is idempotent.
        let lines = S3Provider
            .provision(ServiceKind::Blob, section)
            .await
            .unwrap();
        assert_eq!(lines, vec![format!("s3 bucket {bucket}")]);
    }
    (config, bucket)
}

async fn open(config: &Config) -> Stratus {
    let mut registry = Registry::new();
    registry.register(Arc::new(S3Provider));
    Stratus::open(config, Some("t"), &registry, BuildContext::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn stores_are_prefixes_and_keys_come_back_without_them() {
    let (config, _) = setup().await;
    let stratus = open(&config).await;
    let a = stratus.blob("alpha").await.unwrap();
    let b = stratus.blob("beta").await.unwrap();
    a.put("x/1", Bytes::from_static(b"a"), PutOptions::default())
        .await
        .unwrap();
    b.put("x/1", Bytes::from_static(b"b"), PutOptions::default())
        .await
        .unwrap();
    let page = a
        .list(ListOptions {
            delimiter: Some("/".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.common_prefixes, vec!["x/".to_owned()]);
    let page = a.list(ListOptions::default()).await.unwrap();
    assert_eq!(page.objects.len(), 1);
    assert_eq!(page.objects[0].key, "x/1");
    assert_eq!(
        b.get("x/1", Default::default())
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        "b"
    );
}

#[tokio::test]
async fn non_ascii_and_padded_metadata_round_trip() {
    let (config, _) = setup().await;
    let store = open(&config).await.blob("meta").await.unwrap();
    let metadata: BTreeMap<String, String> = [
        ("name", "Zoë 日本語"),
        ("padded", "  spaced  "),
        ("word", "=?UTF-8?B?not-really?="),
        ("empty", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let opts = PutOptions {
        metadata: metadata.clone(),
        ..Default::default()
    };
    store
        .put("k", Bytes::from_static(b"v"), opts)
        .await
        .unwrap();
    assert_eq!(store.head("k").await.unwrap().metadata, metadata);
}

#[tokio::test]
async fn upload_ids_are_bound_to_their_key() {
    let (config, _) = setup().await;
    let store = open(&config).await.blob("mp").await.unwrap();
    let id = store
        .multipart_start("a", PutOptions::default())
        .await
        .unwrap();
    let r = store
        .multipart_put_part("b", &id, 1, Bytes::from_static(b"x"))
        .await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        store.multipart_abort("b", &id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    store.multipart_abort("a", &id).await.unwrap();
    assert_eq!(
        store.multipart_abort("a", &id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn presigned_urls_allow_get_and_put_without_credentials() {
    let (config, _) = setup().await;
    let store: Arc<dyn BlobStore> = open(&config).await.blob("pre").await.unwrap();
    let put = store
        .presign("k", PresignMethod::Put, Duration::from_secs(60))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let status = client
        .put(&put)
        .body("uploaded")
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "presigned PUT answered {status}");
    let get = store
        .presign("k", PresignMethod::Get, Duration::from_secs(60))
        .await
        .unwrap();
    let body = client.get(&get).send().await.unwrap().text().await.unwrap();
    assert_eq!(body, "uploaded");
}
