//! Data written through `local` is readable by a NEW process: the test re-runs its own
//! binary as the writer, then reads everything back in this process.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use stratus::blob::{GetOptions, PutOptions};
use stratus::kv::{DeleteCondition, Key};
use stratus::queue::{OutgoingMessage, ReceiveOptions};
use stratus::{Config, Registry, Stratus};

/// Set in the child: the folder to write into.
const WRITER_DIR: &str = "STRATUS_LOCAL_RESTART_WRITER_DIR";
const TEST_NAME: &str = "data_survives_a_new_process";

fn profile_yaml(dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "profiles:\n  restart:\n    blob: {{ provider: local, root: \"{dir}/blobs\" }}\n    kv: {{ provider: local, path: \"{dir}/state.redb\" }}\n    queue: {{ provider: local, path: \"{dir}/state.redb\" }}\n"
    )
}

async fn open(dir: &Path) -> Stratus {
    let mut registry = Registry::new();
    registry.register(Arc::new(stratus_local::LocalProvider));
    let config = Config::parse("restart.yaml", &profile_yaml(dir), dir, Arc::new(|_| None))
        .expect("restart profile parses");
    Stratus::open(&config, Some("restart"), &registry, Default::default())
        .await
        .expect("restart profile opens")
}

async fn write(dir: &Path) {
    let stratus = open(dir).await;
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
    let blob = stratus.blob("files").await.unwrap();
    blob.put("dir/a.txt", "blob body".into(), PutOptions::default())
        .await
        .unwrap();
}

async fn read(dir: &Path) {
    let stratus = open(dir).await;
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

    let blob = stratus.blob("files").await.unwrap();
    let body = blob
        .get("dir/a.txt", GetOptions::default())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.as_ref(), b"blob body");
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
