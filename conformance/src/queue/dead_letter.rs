//! Dead-lettering after the configured number of attempts (`queue.dead_letter`).

use stratus::Capability;
use stratus::queue::Delivery;

use super::{case, expect_empty, msg, receive_one};
use crate::case::{Case, Failure, ensure, ensure_eq};

const DLQ: Option<Capability> = Some(Capability::QueueDeadLetter);

/// Most receive rounds the dead-letter case tries; the configured maximum number of
/// attempts must be below this (the default is 5).
const MAX_ROUNDS: usize = 12;

/// Dead-letter cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("dead_letter_after_max_attempts", DLQ, |cx| async move {
            let (name, q) = cx.new_queue().await?;
            let dlq = cx.dead_letter(&name).await?;
            let mut m = msg("poison");
            m.attributes
                .insert("reason".into(), "always fails ✗".into());
            q.send(vec![m.clone()]).await?;
            let mut attempts = Vec::new();
            let mut dead: Option<Delivery> = None;
            // Receive without acking, each delivery hidden for 1 s, until the message is
            // moved to the dead-letter queue instead of being delivered again.
            for _ in 0..MAX_ROUNDS {
                if let Some(d) = q.receive(super::opts(1, 2000, Some(1))).await?.pop() {
                    ensure_eq("body of a delivery", &d.body[..], b"poison")?;
                    attempts.push(d.attempt);
                    continue;
                }
                if let Some(d) = dlq.receive(super::opts(1, 1000, Some(30))).await?.pop() {
                    dead = Some(d);
                    break;
                }
            }
            let dead = dead.ok_or_else(|| {
                Failure(format!(
                    "the message never reached the dead-letter queue within {MAX_ROUNDS} rounds; attempts seen: {attempts:?} \
                     (is max_attempts configured below {MAX_ROUNDS}?)"
                ))
            })?;
            let expected: Vec<u32> = (1..=attempts.len() as u32).collect();
            ensure(
                !attempts.is_empty(),
                "the message went to the dead-letter queue without ever being delivered",
            )?;
            ensure_eq(
                "attempts of the deliveries before dead-lettering",
                attempts,
                expected,
            )?;
            ensure_eq("body in the dead-letter queue", &dead.body[..], &m.body[..])?;
            ensure_eq(
                "attributes in the dead-letter queue",
                &dead.attributes,
                &m.attributes,
            )?;
            ensure_eq(
                "attempt of the first delivery from the dead-letter queue",
                dead.attempt,
                1,
            )?;
            dlq.ack(&dead.receipt).await?;
            expect_empty(&*q, "source queue after dead-lettering").await?;
            expect_empty(&*dlq, "dead-letter queue after ack").await
        }),
        case("dead_letter_queue_is_a_queue", DLQ, |cx| async move {
            let (name, q) = cx.new_queue().await?;
            let dlq = cx.dead_letter(&name).await?;
            q.send(vec![msg("main")]).await?;
            expect_empty(&*dlq, "dead-letter queue after a send to its source queue").await?;
            let ids = dlq.send(vec![msg("direct")]).await?;
            let d = receive_one(
                &*dlq,
                "message sent straight to the dead-letter queue",
                5000,
                Some(30),
            )
            .await?;
            ensure_eq("id", &d.id, &ids[0])?;
            ensure_eq("body", &d.body[..], b"direct")?;
            dlq.ack(&d.receipt).await?;
            let d = receive_one(&*q, "message in the source queue", 5000, Some(30)).await?;
            ensure_eq("body in the source queue", &d.body[..], b"main")
        }),
    ]
}
