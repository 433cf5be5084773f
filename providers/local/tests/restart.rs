//! Data written through `local` is readable by a NEW process: the test re-runs its own
//! binary as the writer, then reads everything back in this process.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use stratus::blob::{GetOptions, PutOptions};
use stratus::kv::{DeleteCondition, Key};
use stratus::queue::{OutgoingMessage, ReceiveOptions};
use stratus::{Config, ErrorKind, Registry, Stratus};

/// Set in the child: the folder to write into.
const WRITER_DIR: &str = "STRATUS_LOCAL_RESTART_WRITER_DIR";
/// Written by the child when the blob part ran (the blob module may not be ready).
const BLOB_MARKER: &str = "blob-written";
const TEST_NAME: &str = "data_survives_a_new_process";

fn profile_yaml(dir: &Path, with_blob: bool) -> String {
    let dir = dir.display();
    let blob = if with_blob {
        format!("    blob:\n      provider: local\n      root: \"{dir}/blobs\"\n")
    } else {
        String::new()
    };
    format!(
        "profile: restart\nprofiles:\n  restart:\n{blob}    kv:\n      provider: local\n      path: \"{dir}/state.redb\"\n    queue:\n      provider: local\n      path: \"{dir}/state.redb\"\n"
    )
}

/// Opens the profile with blob when the blob module works, else without it.
async fn open(dir: &Path) -> (Stratus, bool) {
    let mut registry = Registry::new();
    registry.register(Arc::new(stratus_local::LocalProvider));
    let open = |with_blob| {
        let config = Config::parse(
            "restart.yaml",
            &profile_yaml(dir, with_blob),
            dir,
            Arc::new(|_| None),
        )
        .unwrap();
        let registry = registry.clone();
        async move { Stratus::open(&config, None, &registry, Default::default()).await }
    };
    match open(true).await {
        Ok(stratus) => (stratus, true),
        Err(e) if e.kind() == ErrorKind::Unsupported => (open(false).await.unwrap(), false),
        Err(e) => panic!("opening the profile: {e}"),
    }
}

async fn write(dir: &Path) {
    let (stratus, with_blob) = open(dir).await;
    let kv = stratus.kv("items").await.unwrap();
    kv.put(&Key::new("p", "s"), "kept".into(), Default::default())
        .await
        .unwrap();
    let mut message = OutgoingMessage::new(vec![0u8, 1, 2, 255]);
    message.attributes.insert("kind".into(), "restart".into());
    stratus
        .queue("jobs")
        .await
        .unwrap()
        .send(vec![message])
        .await
        .unwrap();
    if with_blob {
        let blob = stratus.blob("files").await.unwrap();
        blob.put("dir/a.txt", "blob body".into(), PutOptions::default())
            .await
            .unwrap();
        std::fs::write(dir.join(BLOB_MARKER), b"").unwrap();
    }
}

async fn read(dir: &Path) {
    let (stratus, _) = open(dir).await;
    let kv = stratus.kv("items").await.unwrap();
    let item = kv
        .get(&Key::new("p", "s"))
        .await
        .unwrap()
        .expect("the KV item survives");
    assert_eq!(item.value.as_ref(), b"kept");
    // The version counter survives too: a recreated item never gets the old version.
    kv.delete(&Key::new("p", "s"), DeleteCondition::Always)
        .await
        .unwrap();
    let version = kv
        .put(&Key::new("p", "s"), "kept".into(), Default::default())
        .await
        .unwrap();
    assert_ne!(version, item.version);

    let queue = stratus.queue("jobs").await.unwrap();
    let got = queue.receive(ReceiveOptions::default()).await.unwrap();
    assert_eq!(got.len(), 1, "the queued message survives");
    assert_eq!(
        (got[0].body.as_ref(), got[0].attempt),
        (&[0u8, 1, 2, 255][..], 1)
    );
    assert_eq!(
        got[0].attributes.get("kind").map(String::as_str),
        Some("restart")
    );
    queue.ack(&got[0].receipt).await.unwrap();

    if dir.join(BLOB_MARKER).exists() {
        let blob = stratus.blob("files").await.unwrap();
        let body = blob
            .get("dir/a.txt", GetOptions::default())
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(body.as_ref(), b"blob body");
    } else {
        eprintln!("blob part skipped: the local blob module is not available yet");
    }
}

#[tokio::test]
async fn data_survives_a_new_process() {
    if let Some(dir) = std::env::var_os(WRITER_DIR) {
        write(Path::new(&dir)).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(WRITER_DIR, dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "the writer process failed: {status}");
    assert!(
        dir.path().join("state.redb").exists(),
        "the writer process did not run the writer"
    );
    read(dir.path()).await;
}
