//! Adapter-specific behaviour against Azurite: signing, error classification, queue
//! overflow, table key encoding and value chunking, blob metadata encoding, blob multipart
//! manifests. Start the
//! emulator first (`conformance/emulators/emulators up azure`, then `eval "$(... env azure)"`);
//! without the variables every test fails with a message saying so.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use stratus::blob::{BlobStore, GetOptions, ListOptions, PutOptions};
use stratus::config::Section;
use stratus::kv::{Key, PutItemOptions, QueryOptions, SortRange};
use stratus::queue::{OutgoingMessage, ReceiveOptions};
use stratus::{BuildContext, ErrorKind, Provider, ServiceKind};
use stratus_azure::rest::{Client, Request};
use stratus_azure::shared_key::{Flavour, SharedKey};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start Azurite with `conformance/emulators/emulators up azure` \
             and export the variables printed by `conformance/emulators/emulators env azure`"
        )
    })
}

fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

fn section(service: &str, extra: &str) -> Section {
    let (kind, provider, endpoint) = match service {
        "blob" => ("blob", "azure-blob", "STRATUS_AZURE_BLOB_ENDPOINT"),
        "kv" => ("kv", "azure-table", "STRATUS_AZURE_TABLE_ENDPOINT"),
        _ => ("queue", "azure-queue", "STRATUS_AZURE_QUEUE_ENDPOINT"),
    };
    let yaml = format!(
        "profiles:\n  t:\n    {kind}:\n      provider: {provider}\n      account: {}\n      access_key: \"{}\"\n      endpoint: {}\n{extra}",
        env("AZURE_STORAGE_ACCOUNT"),
        env("AZURE_STORAGE_KEY"),
        env(endpoint)
    );
    let config = stratus::Config::parse(
        "t.yaml",
        &yaml,
        std::path::Path::new("."),
        Arc::new(|_| None),
    )
    .unwrap();
    config.profile("t").unwrap().services.remove(0).options
}

fn blob_client(key: &str) -> Client {
    let key = Arc::new(SharedKey::new(&env("AZURE_STORAGE_ACCOUNT"), key).unwrap());
    Client::new(
        reqwest::Client::new(),
        key,
        &env("STRATUS_AZURE_BLOB_ENDPOINT"),
        Flavour::BlobQueue,
    )
}

#[tokio::test]
async fn shared_key_signatures_are_accepted_and_a_wrong_key_is_unauthenticated() {
    let container = format!("sig{}", run_id());
    let good = blob_client(&env("AZURE_STORAGE_KEY"));
    let request = Request::new(Method::PUT, container.clone()).query("restype", "container");
    let reply = good.send(request.clone(), "create").await.unwrap();
    assert!(
        reply.is_success(),
        "signed create failed: {:?}",
        reply.error("create")
    );
    let bad = blob_client("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let request = Request::new(Method::GET, container).query("restype", "container");
    let err = bad
        .send(request, "get")
        .await
        .unwrap()
        .ok("get")
        .unwrap_err();
    // Azure answers AuthenticationFailed (unauthenticated); Azurite AuthorizationFailure
    // (permission denied). Either way the bad signature is refused, not retried.
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Unauthenticated | ErrorKind::PermissionDenied
        ),
        "{err}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn queue_bodies_over_64_kib_overflow_to_a_blob_and_round_trip() {
    let options = section(
        "queue",
        &format!(
            "      blob_endpoint: {}\n      queue_prefix: t{}-\n",
            env("STRATUS_AZURE_BLOB_ENDPOINT"),
            run_id()
        ),
    );
    let provider = stratus_azure::AzureQueueProvider;
    let service = provider
        .queue(&options, &BuildContext::default())
        .await
        .unwrap();
    let q = service.open("big").await.unwrap();
    let body: Vec<u8> = (0..200 * 1024).map(|i| (i % 251) as u8).collect();
    let mut message = OutgoingMessage::new(body.clone());
    message.attributes.insert("k".into(), "v".into());
    q.send(vec![message, OutgoingMessage::new(&b"small"[..])])
        .await
        .unwrap();
    let got = q
        .receive(ReceiveOptions {
            max_messages: 10,
            wait: Duration::from_secs(5),
            ..Default::default()
        })
        .await
        .unwrap();
    let big = got
        .iter()
        .find(|d| d.body.len() > 1000)
        .expect("big message delivered");
    assert_eq!(big.body.as_ref(), body.as_slice());
    assert_eq!(big.attributes.get("k").map(String::as_str), Some("v"));
    for d in &got {
        q.ack(&d.receipt).await.unwrap();
    }
    assert_eq!(
        q.ack(&big.receipt).await.unwrap_err().kind(),
        ErrorKind::PreconditionFailed
    );
}

#[tokio::test]
async fn queue_receipt_survives_extend_and_goes_stale_after_nack() {
    let options = section("queue", &format!("      queue_prefix: t{}-\n", run_id()));
    let service = stratus_azure::AzureQueueProvider
        .queue(&options, &BuildContext::default())
        .await
        .unwrap();
    let q = service.open("ext").await.unwrap();
    q.send(vec![OutgoingMessage::new(&b"x"[..])]).await.unwrap();
    let d = q
        .receive(ReceiveOptions::default())
        .await
        .unwrap()
        .remove(0);
    q.extend(&d.receipt, Duration::from_secs(60)).await.unwrap();
    q.extend(&d.receipt, Duration::from_secs(60)).await.unwrap();
    q.nack(&d.receipt, Duration::ZERO).await.unwrap();
    assert_eq!(
        q.ack(&d.receipt).await.unwrap_err().kind(),
        ErrorKind::PreconditionFailed
    );
    let again = q
        .receive(ReceiveOptions::default())
        .await
        .unwrap()
        .remove(0);
    assert_eq!(again.attempt, 2);
    q.ack(&again.receipt).await.unwrap();
}

#[tokio::test]
async fn table_keys_with_forbidden_characters_keep_order_and_values_chunk() {
    let options = section("kv", &format!("      table_prefix: t{}\n", run_id()));
    let service = stratus_azure::AzureTableProvider
        .kv(&options, &BuildContext::default())
        .await
        .unwrap();
    // A logical name with '-' and 'x' maps to a valid Azure table name.
    let kv = service.open("x-chunk-test").await.unwrap();
    let big: Bytes = (0..256 * 1024)
        .map(|i| (i % 253) as u8)
        .collect::<Vec<_>>()
        .into();
    let keys = ["a/b", "a#b", "a?b", "a\\b", "ab", "a"];
    for k in keys {
        kv.put(&Key::new("p/#?", k), big.clone(), PutItemOptions::default())
            .await
            .unwrap();
    }
    let item = kv.get(&Key::new("p/#?", "a/b")).await.unwrap().unwrap();
    assert_eq!(
        item.value, big,
        "256 KiB value split over binary properties"
    );
    let page = kv
        .query(
            "p/#?",
            QueryOptions {
                range: SortRange::Prefix("a".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut expected: Vec<&str> = keys.to_vec();
    expected.sort();
    let got: Vec<String> = page.items.iter().map(|i| i.key.sort.clone()).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn blob_metadata_with_any_name_and_unicode_value_round_trips() {
    let container = format!("meta{}", run_id());
    let options = section("blob", &format!("      container: {container}\n"));
    let provider = stratus_azure::AzureBlobProvider;
    provider
        .provision(ServiceKind::Blob, &options)
        .await
        .unwrap();
    let service = provider
        .blob(&options, &BuildContext::default())
        .await
        .unwrap();
    let store = service.open("s").await.unwrap();
    let mut opts = PutOptions::default();
    opts.metadata
        .insert("with-dash.dot_1".into(), "héllo wörld".into());
    opts.metadata.insert("9plain".into(), " padded ".into());
    store
        .put("k", Bytes::from_static(b"x"), opts.clone())
        .await
        .unwrap();
    let meta = store.head("k").await.unwrap();
    assert_eq!(meta.metadata, opts.metadata);
}

/// The kind of a failed result (panics on success).
fn kind<T: std::fmt::Debug>(r: stratus::Result<T>) -> ErrorKind {
    r.unwrap_err().kind()
}

/// A provisioned store `s` in a fresh container, and the container's name.
async fn blob_store(tag: &str) -> (Arc<dyn BlobStore>, String) {
    let container = format!("{tag}{}", run_id());
    let options = section("blob", &format!("      container: {container}\n"));
    let provider = stratus_azure::AzureBlobProvider;
    provider
        .provision(ServiceKind::Blob, &options)
        .await
        .unwrap();
    let service = provider
        .blob(&options, &BuildContext::default())
        .await
        .unwrap();
    (service.open("s").await.unwrap(), container)
}

/// Blob names in `container` under `prefix`, straight from List Blobs.
async fn container_names(container: &str, prefix: &str) -> Vec<String> {
    let client = blob_client(&env("AZURE_STORAGE_KEY"));
    let request = Request::new(Method::GET, container.to_owned())
        .query("restype", "container")
        .query("comp", "list")
        .query("prefix", prefix);
    let reply = client
        .send(request, "list blobs")
        .await
        .unwrap()
        .ok("list blobs")
        .unwrap();
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    text.split("<Name>")
        .skip(1)
        .filter_map(|s| s.split("</Name>").next().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn blob_multipart_manifest_is_hidden_from_list_and_removed_by_abort() {
    let (store, container) = blob_store("mpm").await;
    store
        .put("visible", Bytes::from_static(b"x"), PutOptions::default())
        .await
        .unwrap();
    let id = store
        .multipart_start("pending", PutOptions::default())
        .await
        .unwrap();
    store
        .multipart_put_part("pending", &id, 1, Bytes::from_static(b"part"))
        .await
        .unwrap();
    let manifest = format!(".stratus-uploads/{id}");
    assert_eq!(
        container_names(&container, ".stratus-uploads/").await,
        [manifest],
        "the upload is a manifest blob in the container"
    );
    let page = store.list(ListOptions::default()).await.unwrap();
    let keys: Vec<&str> = page.objects.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["visible"], "neither manifest nor parts are listed");
    assert!(page.common_prefixes.is_empty());
    store.multipart_abort("pending", &id).await.unwrap();
    assert!(
        container_names(&container, ".stratus-uploads/")
            .await
            .is_empty(),
        "abort removes the manifest"
    );
    assert_eq!(
        store.head("pending").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn blob_multipart_abort_then_complete_or_put_part_is_not_found() {
    let (store, _) = blob_store("mpa").await;
    let id = store
        .multipart_start("k", PutOptions::default())
        .await
        .unwrap();
    let p1 = store
        .multipart_put_part("k", &id, 1, Bytes::from_static(b"one"))
        .await
        .unwrap();
    // Another key cannot end the upload.
    assert_eq!(
        store
            .multipart_abort("other", &id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    store.multipart_abort("k", &id).await.unwrap();
    assert_eq!(
        kind(store.multipart_complete("k", &id, vec![p1]).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            store
                .multipart_put_part("k", &id, 2, Bytes::from_static(b"two"))
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(store.multipart_abort("k", &id).await),
        ErrorKind::NotFound
    );
    assert_eq!(kind(store.head("k").await), ErrorKind::NotFound);
}

#[tokio::test]
async fn blob_multipart_keys_and_metadata_use_the_put_encodings() {
    let (store, _) = blob_store("mpk").await;
    let key = "dir/h\u{e9}llo w\u{f6}rld+%25 (1)!.txt";
    let mut opts = PutOptions {
        content_type: Some("text/plain; charset=utf-8".into()),
        ..PutOptions::default()
    };
    opts.metadata
        .insert("with-dash.dot_1".into(), "h\u{e9}llo w\u{f6}rld".into());
    opts.metadata.insert("9plain".into(), " padded ".into());
    let id = store.multipart_start(key, opts.clone()).await.unwrap();
    let p1 = store
        .multipart_put_part(key, &id, 1, Bytes::from_static(b"body"))
        .await
        .unwrap();
    let done = store.multipart_complete(key, &id, vec![p1]).await.unwrap();
    let head = store.head(key).await.unwrap();
    assert_eq!(head.etag, done.etag);
    assert_eq!(head.metadata, opts.metadata);
    assert_eq!(head.content_type, opts.content_type);
    let body = store
        .get(key, GetOptions::default())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.as_ref(), b"body");
}
