//! Adapter-specific behaviour of the `sqs` provider against an SQS emulator (moto): queue
//! and dead-letter queue naming, body and attribute encoding, receipt decoding. Needs
//! `STRATUS_AWS_ENDPOINT` (start the emulators with `conformance/emulators/emulators up
//! aws`).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use stratus::config::Config;
use stratus::queue::{OutgoingMessage, ReceiveOptions};
use stratus::{BuildContext, ErrorKind, Registry, Stratus};
use stratus_aws::SqsProvider;

fn endpoint() -> String {
    std::env::var("STRATUS_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "STRATUS_AWS_ENDPOINT is not set: start moto with \
             `conformance/emulators/emulators up aws` and export its `env` output"
        )
    })
}

async fn open() -> (Stratus, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("t{:x}{nanos:x}-", std::process::id());
    let yaml = format!(
        "profiles:\n  t:\n    queue:\n      provider: sqs\n      endpoint: {}\n      region: us-east-1\n      queue_prefix: {prefix}\n      max_attempts: 2\n",
        endpoint()
    );
    let config = Config::parse(
        "t.yaml",
        &yaml,
        std::path::Path::new("."),
        Arc::new(|name| std::env::var(name).ok()),
    )
    .unwrap();
    let mut registry = Registry::new();
    registry.register(Arc::new(SqsProvider));
    let stratus = Stratus::open(&config, Some("t"), &registry, BuildContext::default())
        .await
        .unwrap();
    (stratus, prefix)
}

fn all() -> ReceiveOptions {
    ReceiveOptions {
        max_messages: 10,
        ..Default::default()
    }
}

#[tokio::test]
async fn queue_and_dead_letter_queue_names() {
    let (stratus, prefix) = open().await;
    stratus.queue("orders").await.unwrap();
    let sdk = stratus_aws::AwsOptions {
        region: Some("us-east-1".into()),
        endpoint: Some(endpoint()),
    }
    .sdk_config()
    .await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let listed = client
        .list_queues()
        .queue_name_prefix(&prefix)
        .send()
        .await
        .unwrap()
        .queue_urls
        .unwrap_or_default();
    let names: Vec<&str> = listed
        .iter()
        .map(|u| u.rsplit('/').next().unwrap())
        .collect();
    assert!(
        names.contains(&format!("{prefix}orders").as_str()),
        "{names:?}"
    );
    assert!(
        names.contains(&format!("{prefix}orders_dlq").as_str()),
        "{names:?}"
    );
}

#[tokio::test]
async fn binary_and_empty_bodies_and_awkward_attributes_round_trip() {
    let (stratus, _) = open().await;
    let q = stratus.queue("enc").await.unwrap();
    let mut odd = OutgoingMessage::new(Bytes::from_static(&[0, 1, 0xff, b'<']));
    odd.attributes = [(".lead", "x"), ("a..b", ""), ("stratus.body", "base64")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect::<BTreeMap<_, _>>();
    let sent = vec![odd.clone(), OutgoingMessage::new(Bytes::new())];
    q.send(sent.clone()).await.unwrap();
    let mut got = q.receive(all()).await.unwrap();
    got.extend(q.receive(all()).await.unwrap());
    assert_eq!(got.len(), 2);
    let find = |body: &Bytes| got.iter().find(|d| d.body == *body).expect("delivered");
    assert_eq!(find(&odd.body).attributes, odd.attributes);
    assert!(find(&Bytes::new()).attributes.is_empty());
}

#[tokio::test]
async fn receipts_decode_or_are_invalid() {
    let (stratus, _) = open().await;
    let q = stratus.queue("rcpt").await.unwrap();
    assert_eq!(
        q.ack("not-a-receipt").await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // Well-formed but unknown to SQS: not current.
    assert_eq!(
        q.ack("id.aGFuZGxl").await.unwrap_err().kind(),
        ErrorKind::PreconditionFailed
    );
    q.send(vec![OutgoingMessage::new("m")]).await.unwrap();
    let d = q.receive(all()).await.unwrap().remove(0);
    q.ack(&d.receipt).await.unwrap();
    assert_eq!(
        q.ack(&d.receipt).await.unwrap_err().kind(),
        ErrorKind::PreconditionFailed
    );
}
