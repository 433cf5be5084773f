//! Sending, receiving and acknowledging.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use stratus::ErrorKind;
use stratus::queue::OutgoingMessage;

use super::{case, expect_empty, msg, opts, receive_n, receive_one};
use crate::case::{Case, ensure, ensure_eq, expect_kind};

/// Basic cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("send_receive_ack", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let mut m = msg("hello");
            m.attributes.insert("kind".into(), "greeting".into());
            let before = SystemTime::now() - Duration::from_secs(2);
            let ids = q.send(vec![m.clone()]).await?;
            let after = SystemTime::now() + Duration::from_secs(2);
            ensure_eq("number of ids from send", ids.len(), 1)?;
            let d = receive_one(&*q, "receive after send", 5000, Some(30)).await?;
            ensure_eq("delivery id vs send id", &d.id, &ids[0])?;
            ensure_eq("body", &d.body[..], b"hello")?;
            ensure_eq("attributes", &d.attributes, &m.attributes)?;
            ensure_eq("attempt of the first delivery", d.attempt, 1)?;
            ensure(!d.receipt.is_empty(), "receipt is empty")?;
            ensure(
                d.sent_at >= before && d.sent_at <= after,
                format!(
                    "sent_at {:?} is not around the send (between {before:?} and {after:?})",
                    d.sent_at
                ),
            )?;
            q.ack(&d.receipt).await?;
            expect_empty(&*q, "queue after ack").await
        }),
        case("acked_message_is_not_redelivered", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            q.send(vec![msg("once")]).await?;
            let d = receive_one(&*q, "first receive", 5000, Some(1)).await?;
            q.ack(&d.receipt).await?;
            // Well past the 1 s visibility timeout the acked message must not come back.
            let got = q.receive(opts(10, 2500, Some(30))).await?;
            ensure_eq(
                "messages received after ack and the visibility timeout",
                got.len(),
                0,
            )
        }),
        case(
            "receive_empty_wait_zero_is_immediate",
            None,
            |cx| async move {
                let (_, q) = cx.new_queue().await?;
                let started = Instant::now();
                let got = q.receive(opts(10, 0, None)).await?;
                let took = started.elapsed();
                ensure_eq("messages in a new queue", got.len(), 0)?;
                ensure(
                    took < Duration::from_secs(2),
                    format!(
                        "receive with wait 0 on an empty queue took {took:?}; expected an immediate return"
                    ),
                )
            },
        ),
        case(
            "long_poll_returns_when_message_arrives",
            None,
            |cx| async move {
                let (_, q) = cx.new_queue().await?;
                let sender = Arc::clone(&q);
                let send = tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    sender.send(vec![msg("late")]).await
                });
                let started = Instant::now();
                let got = q.receive(opts(1, 10_000, Some(30))).await?;
                let took = started.elapsed();
                send.await
                    .map_err(|e| crate::Failure(format!("sender task panicked: {e}")))??;
                ensure_eq("messages returned by the long poll", got.len(), 1)?;
                ensure_eq("body", &got[0].body[..], b"late")?;
                ensure(
                    took < Duration::from_secs(5),
                    format!(
                        "long poll with wait 10 s returned after {took:?}; a message was sent after 300 ms, so it must return early"
                    ),
                )
            },
        ),
        case("send_batch_of_ten", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let batch: Vec<OutgoingMessage> = (0..10).map(|i| msg(&format!("m{i}"))).collect();
            let ids = q.send(batch).await?;
            ensure_eq("ids returned for 10 messages", ids.len(), 10)?;
            let unique: HashSet<_> = ids.iter().collect();
            ensure_eq("distinct ids", unique.len(), 10)?;
            let got = receive_n(&*q, 10, 30).await?;
            for d in &got {
                let i = ids.iter().position(|id| *id == d.id).ok_or_else(|| {
                    crate::Failure(format!("received id {:?} was not returned by send", d.id))
                })?;
                ensure_eq(
                    &format!("body of the message with id #{i} (ids are in send order)"),
                    String::from_utf8_lossy(&d.body).into_owned(),
                    format!("m{i}"),
                )?;
                q.ack(&d.receipt).await?;
            }
            let bodies: HashSet<_> = got.iter().map(|d| d.body.clone()).collect();
            ensure_eq("distinct bodies received", bodies.len(), 10)
        }),
        case("send_batch_bounds", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            expect_kind(
                "send of 0 messages",
                q.send(Vec::new()).await,
                ErrorKind::InvalidArgument,
            )?;
            let eleven: Vec<OutgoingMessage> = (0..11).map(|i| msg(&format!("m{i}"))).collect();
            expect_kind(
                "send of 11 messages",
                q.send(eleven).await,
                ErrorKind::InvalidArgument,
            )?;
            expect_empty(&*q, "queue after refused sends").await
        }),
        case("receive_max_messages_bounds", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            q.send((0..5).map(|i| msg(&format!("m{i}"))).collect())
                .await?;
            expect_kind(
                "receive with max_messages 0",
                q.receive(opts(0, 0, None)).await,
                ErrorKind::InvalidArgument,
            )?;
            expect_kind(
                "receive with max_messages 11",
                q.receive(opts(11, 0, None)).await,
                ErrorKind::InvalidArgument,
            )?;
            let first = q.receive(opts(3, 5000, Some(30))).await?;
            ensure(
                (1..=3).contains(&first.len()),
                format!(
                    "receive with max_messages 3 over 5 messages: got {}, expected 1..=3",
                    first.len()
                ),
            )?;
            let rest = receive_n(&*q, 5 - first.len(), 30).await?;
            let ids: HashSet<_> = first.iter().chain(&rest).map(|d| d.id.clone()).collect();
            ensure_eq("distinct messages over all receives", ids.len(), 5)
        }),
        case("message_ids_unique", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let mut ids = HashSet::new();
            for round in 0..3 {
                // Identical bodies: ids must still differ.
                for id in q.send(vec![msg("same"); 10]).await? {
                    ensure(!id.is_empty(), "send returned an empty id")?;
                    ensure(
                        ids.insert(id.clone()),
                        format!("id {id:?} returned twice (batch {round})"),
                    )?;
                }
            }
            ensure_eq("distinct ids over 30 sends", ids.len(), 30)
        }),
        case("queues_are_isolated", None, |cx| async move {
            let (_, a) = cx.new_queue().await?;
            let (_, b) = cx.new_queue().await?;
            a.send(vec![msg("for-a")]).await?;
            expect_empty(&*b, "another queue after a send to the first").await?;
            let d = receive_one(&*a, "receive from the queue sent to", 5000, Some(30)).await?;
            ensure_eq("body", &d.body[..], b"for-a")
        }),
    ]
}
