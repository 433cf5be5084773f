use std::collections::BTreeMap;
use std::time::Duration;

use stratus::ErrorKind;
use stratus::kv::{Key, KvService};
use stratus::queue::{OutgoingMessage, ReceiveOptions};

use super::*;

fn service(dir: &tempfile::TempDir, max_attempts: u32) -> LocalQueueService {
    let settings = QueueSettings {
        visibility_timeout: Duration::from_secs(30),
        max_attempts,
    };
    LocalQueueService::new(QueueOptions {
        path: dir.path().join("q.redb"),
        settings,
    })
    .unwrap()
}

fn now() -> ReceiveOptions {
    ReceiveOptions {
        max_messages: 10,
        ..Default::default()
    }
}

fn waiting(secs: u64) -> ReceiveOptions {
    ReceiveOptions {
        max_messages: 10,
        wait: Duration::from_secs(secs),
        visibility_timeout: None,
    }
}

#[tokio::test]
async fn messages_round_trip_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let q = service(&dir, 5).open("jobs").await.unwrap();
    let mut m = OutgoingMessage::new(vec![0u8, 255, 10]);
    m.attributes = BTreeMap::from([
        ("k".to_owned(), "v".to_owned()),
        ("e".to_owned(), String::new()),
    ]);
    let ids = q
        .send(vec![m.clone(), OutgoingMessage::new("second")])
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    let got = q.receive(now()).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].id.as_str(), got[0].body.as_ref(), got[0].attempt),
        (ids[0].as_str(), &[0u8, 255, 10][..], 1)
    );
    assert_eq!(got[0].attributes, m.attributes);
    assert_eq!(got[1].body.as_ref(), b"second");
    assert!(
        q.receive(now()).await.unwrap().is_empty(),
        "in flight messages are invisible"
    );
    for d in &got {
        q.ack(&d.receipt).await.unwrap();
    }
}

#[tokio::test]
async fn receipts_go_stale() {
    let dir = tempfile::tempdir().unwrap();
    let q = service(&dir, 0).open("jobs").await.unwrap();
    q.send(vec![OutgoingMessage::new("a")]).await.unwrap();

    let first = q.receive(now()).await.unwrap().remove(0);
    q.nack(&first.receipt, Duration::ZERO).await.unwrap();
    let stale = q.ack(&first.receipt).await;
    assert_eq!(
        stale.unwrap_err().kind(),
        ErrorKind::PreconditionFailed,
        "after nack"
    );

    let second = q.receive(now()).await.unwrap().remove(0);
    assert_eq!((second.id.as_str(), second.attempt), (first.id.as_str(), 2));
    assert_ne!(second.receipt, first.receipt);
    let stale = q.extend(&first.receipt, Duration::from_secs(5)).await;
    assert_eq!(
        stale.unwrap_err().kind(),
        ErrorKind::PreconditionFailed,
        "after redelivery"
    );

    q.extend(&second.receipt, Duration::from_secs(60))
        .await
        .unwrap();
    q.ack(&second.receipt).await.unwrap();
    let stale = q.ack(&second.receipt).await;
    assert_eq!(
        stale.unwrap_err().kind(),
        ErrorKind::PreconditionFailed,
        "after ack"
    );

    let other = service(&dir, 0).open("other").await.unwrap();
    other.send(vec![OutgoingMessage::new("b")]).await.unwrap();
    let foreign = other.receive(now()).await.unwrap().remove(0);
    let stale = q.ack(&foreign.receipt).await;
    assert_eq!(
        stale.unwrap_err().kind(),
        ErrorKind::PreconditionFailed,
        "another queue's receipt"
    );

    for bad in ["nodot", "x.y", ".y", "1."] {
        assert_eq!(
            q.ack(bad).await.unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn messages_past_max_attempts_move_to_the_dead_letter_queue() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(&dir, 2);
    let q = service.open("jobs").await.unwrap();
    let dlq = service.open_dead_letter("jobs").await.unwrap();
    let mut m = OutgoingMessage::new("poison");
    m.attributes.insert("a".into(), "1".into());
    let id = q.send(vec![m.clone()]).await.unwrap().remove(0);
    for attempt in 1..=2 {
        let d = q.receive(now()).await.unwrap().remove(0);
        assert_eq!(d.attempt, attempt);
        q.nack(&d.receipt, Duration::ZERO).await.unwrap();
    }
    assert!(q.receive(now()).await.unwrap().is_empty());
    let dead = dlq.receive(now()).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].id.as_str(), dead[0].body.as_ref(), dead[0].attempt),
        (id.as_str(), &b"poison"[..], 1)
    );
    assert_eq!(dead[0].attributes, m.attributes);
    // The dead-letter queue has no dead-letter queue of its own.
    dlq.nack(&dead[0].receipt, Duration::ZERO).await.unwrap();
    for _ in 0..3 {
        let d = dlq.receive(now()).await.unwrap().remove(0);
        dlq.nack(&d.receipt, Duration::ZERO).await.unwrap();
    }
    let d = dlq.receive(now()).await.unwrap().remove(0);
    assert_eq!(d.attempt, 5);
    dlq.ack(&d.receipt).await.unwrap();
    assert!(dlq.receive(now()).await.unwrap().is_empty());
    assert!(q.receive(now()).await.unwrap().is_empty());
}

#[tokio::test]
async fn visibility_timeout_redelivers_and_stales_the_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let q = service(&dir, 5).open("jobs").await.unwrap();
    q.send(vec![OutgoingMessage::new("a")]).await.unwrap();
    let opts = ReceiveOptions {
        visibility_timeout: Some(Duration::from_secs(1)),
        ..now()
    };
    let first = q.receive(opts).await.unwrap().remove(0);
    let again = q.receive(waiting(10)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].attempt),
        (first.id.as_str(), 2)
    );
    assert_eq!(
        q.ack(&first.receipt).await.unwrap_err().kind(),
        ErrorKind::PreconditionFailed
    );
    q.ack(&again[0].receipt).await.unwrap();
}

#[tokio::test]
async fn delayed_messages_wait_and_long_polls_find_them() {
    let dir = tempfile::tempdir().unwrap();
    let q = service(&dir, 5).open("jobs").await.unwrap();
    let mut m = OutgoingMessage::new("later");
    m.delay = Some(Duration::from_secs(1));
    q.send(vec![m]).await.unwrap();
    assert!(q.receive(now()).await.unwrap().is_empty());
    let got = q.receive(waiting(10)).await.unwrap();
    assert_eq!(got[0].body.as_ref(), b"later");
}

#[tokio::test]
async fn a_send_wakes_a_long_poll() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(&dir, 5);
    let (q, sender) = (
        service.open("jobs").await.unwrap(),
        service.open("jobs").await.unwrap(),
    );
    let poll = tokio::spawn(async move { q.receive(waiting(20)).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    sender.send(vec![OutgoingMessage::new("hi")]).await.unwrap();
    let got = poll.await.unwrap().unwrap();
    assert_eq!(got[0].body.as_ref(), b"hi");
}

#[tokio::test]
async fn receive_takes_at_most_max_messages() {
    let dir = tempfile::tempdir().unwrap();
    let q = service(&dir, 5).open("jobs").await.unwrap();
    let batch = (0..10)
        .map(|i| OutgoingMessage::new(format!("m{i}")))
        .collect();
    q.send(batch).await.unwrap();
    let opts = ReceiveOptions {
        max_messages: 3,
        ..now()
    };
    let got = q.receive(opts.clone()).await.unwrap();
    let bodies: Vec<_> = got.iter().map(|d| d.body.clone()).collect();
    assert_eq!(bodies, ["m0", "m1", "m2"]);
    let zero = ReceiveOptions {
        visibility_timeout: Some(Duration::ZERO),
        ..opts
    };
    let got = q.receive(zero).await.unwrap();
    assert_eq!(
        got.len(),
        3,
        "a zero visibility timeout must not deliver a message twice"
    );
}

#[tokio::test]
async fn kv_and_queue_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let kv = crate::kv::LocalKvService::new(crate::kv::KvOptions { path: path.clone() }).unwrap();
    let settings = QueueSettings::default();
    let queues = LocalQueueService::new(QueueOptions { path, settings }).unwrap();
    let table = kv.open("t").await.unwrap();
    let q = queues.open("jobs").await.unwrap();
    table
        .put(&Key::new("p", "s"), "v".into(), Default::default())
        .await
        .unwrap();
    q.send(vec![OutgoingMessage::new("m")]).await.unwrap();
    assert_eq!(
        table
            .get(&Key::new("p", "s"))
            .await
            .unwrap()
            .unwrap()
            .value
            .as_ref(),
        b"v"
    );
    assert_eq!(q.receive(now()).await.unwrap()[0].body.as_ref(), b"m");
}

#[test]
fn options_parse_and_reject_unknown_keys() {
    let parse = |yaml: &str| {
        let config =
            stratus::Config::parse("t.yaml", yaml, "/base".as_ref(), Arc::new(|_| None)).unwrap();
        let profile = config.profile("p").unwrap();
        let service = profile.service(stratus::ServiceKind::Queue).unwrap();
        QueueOptions::parse(&service.options)
    };
    let ok = parse("profiles:\n  p:\n    queue:\n      provider: local\n      path: q.redb\n      max_attempts: 3\n")
        .unwrap();
    assert_eq!(ok.path, std::path::Path::new("/base/q.redb"));
    assert_eq!(ok.settings.max_attempts, 3);
    assert!(parse("profiles:\n  p:\n    queue:\n      provider: local\n").is_err());
    assert!(
        parse("profiles:\n  p:\n    queue:\n      provider: local\n      path: q\n      nope: 1\n")
            .is_err()
    );
}
