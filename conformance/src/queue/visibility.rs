//! Visibility timeouts, nack, extend and delayed sends. Durations are whole seconds: the
//! portable precision is one second.

use std::time::Duration;

use stratus::{Capability, ErrorKind};

use super::{case, expect_empty, msg, opts, receive_n, receive_one};
use crate::case::{Case, ensure, ensure_eq, expect_kind};

/// Visibility cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("visibility_timeout_redelivers", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            q.send(vec![msg("again")]).await?;
            let first = receive_one(&*q, "first delivery", 5000, Some(1)).await?;
            expect_empty(&*q, "queue while the delivery is invisible").await?;
            let second = receive_one(
                &*q,
                "redelivery after the 1 s visibility timeout",
                5000,
                Some(30),
            )
            .await?;
            ensure_eq("id of the redelivery", &second.id, &first.id)?;
            ensure_eq("body of the redelivery", &second.body, &first.body)?;
            ensure_eq(
                "attempt of the redelivery",
                second.attempt,
                first.attempt + 1,
            )?;
            ensure(
                second.receipt != first.receipt,
                "the redelivery reused the first receipt",
            )?;
            ensure_eq("sent_at of the redelivery", second.sent_at, first.sent_at)?;
            q.ack(&second.receipt).await?;
            Ok(())
        }),
        case("unacked_deliveries_come_back", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            q.send(vec![msg("a"), msg("b"), msg("c")]).await?;
            // A consumer takes all three, acks one, then crashes without acking the others.
            let taken = receive_n(&*q, 3, 2).await?;
            q.ack(&taken[0].receipt).await?;
            let mut expected: Vec<_> = taken[1..].iter().map(|d| d.id.clone()).collect();
            expected.sort();
            let back = receive_n(&*q, 2, 30).await?;
            let mut ids: Vec<_> = back.iter().map(|d| d.id.clone()).collect();
            ids.sort();
            ensure_eq(
                "ids redelivered after the consumer dropped them",
                ids,
                expected,
            )?;
            for d in &back {
                ensure_eq("attempt of a redelivered message", d.attempt, 2)?;
                q.ack(&d.receipt).await?;
            }
            expect_empty(&*q, "queue after acking everything").await
        }),
        case(
            "nack_zero_delay_redelivers_at_once",
            None,
            |cx| async move {
                let (_, q) = cx.new_queue().await?;
                q.send(vec![msg("retry")]).await?;
                let first = receive_one(&*q, "first delivery", 5000, Some(30)).await?;
                q.nack(&first.receipt, Duration::ZERO).await?;
                let second =
                    receive_one(&*q, "delivery after nack with zero delay", 2000, Some(30)).await?;
                ensure_eq("id", &second.id, &first.id)?;
                ensure_eq("attempt after nack", second.attempt, 2)?;
                expect_kind(
                    "ack with the receipt given up by nack",
                    q.ack(&first.receipt).await,
                    ErrorKind::PreconditionFailed,
                )?;
                q.ack(&second.receipt).await?;
                expect_empty(&*q, "queue after ack").await
            },
        ),
        case(
            "nack_with_delay",
            Some(Capability::QueueDelay),
            |cx| async move {
                let (_, q) = cx.new_queue().await?;
                q.send(vec![msg("later")]).await?;
                let first = receive_one(&*q, "first delivery", 5000, Some(30)).await?;
                q.nack(&first.receipt, Duration::from_secs(1)).await?;
                expect_empty(&*q, "queue right after nack with a 1 s delay").await?;
                let second =
                    receive_one(&*q, "delivery after the nack delay", 5000, Some(30)).await?;
                ensure_eq("id", &second.id, &first.id)?;
                ensure_eq("attempt after nack", second.attempt, 2)?;
                q.ack(&second.receipt).await?;
                Ok(())
            },
        ),
        case(
            "extend_visibility_keeps_message_hidden",
            Some(Capability::QueueExtendVisibility),
            |cx| async move {
                let (_, q) = cx.new_queue().await?;
                q.send(vec![msg("long job")]).await?;
                let d = receive_one(&*q, "first delivery", 5000, Some(1)).await?;
                q.extend(&d.receipt, Duration::from_secs(6)).await?;
                tokio::time::sleep(Duration::from_millis(2000)).await;
                expect_empty(&*q, "queue 2 s into a 1 s visibility extended to 6 s").await?;
                q.extend(&d.receipt, Duration::from_secs(30)).await.map_err(|e| {
                crate::Failure(format!("second extend with the same receipt: expected Ok (receipt stays current), got {e}"))
            })?;
                q.ack(&d.receipt).await.map_err(|e| {
                    crate::Failure(format!(
                        "ack after extend: expected Ok (receipt stays current), got {e}"
                    ))
                })?;
                expect_empty(&*q, "queue after ack").await
            },
        ),
        case(
            "extend_stale_receipt_fails",
            Some(Capability::QueueExtendVisibility),
            |cx| async move {
                let (_, q) = cx.new_queue().await?;
                q.send(vec![msg("done")]).await?;
                let d = receive_one(&*q, "delivery", 5000, Some(30)).await?;
                q.ack(&d.receipt).await?;
                let r = q.extend(&d.receipt, Duration::from_secs(30)).await;
                expect_kind("extend after ack", r, ErrorKind::PreconditionFailed)?;
                let r = q.extend("not a receipt", Duration::from_secs(30)).await;
                expect_kind(
                    "extend with a malformed receipt",
                    r,
                    ErrorKind::InvalidArgument,
                )?;
                Ok(())
            },
        ),
        case(
            "delayed_send_invisible_then_visible",
            Some(Capability::QueueDelay),
            |cx| async move {
                let (_, q) = cx.new_queue().await?;
                let mut m = msg("delayed");
                m.delay = Some(Duration::from_secs(1));
                let ids = q.send(vec![m]).await?;
                expect_empty(&*q, "queue right after a send with a 1 s delay").await?;
                let d = receive_one(&*q, "delayed message after its delay", 5000, Some(30)).await?;
                ensure_eq("id", &d.id, &ids[0])?;
                ensure_eq("attempt of a delayed message", d.attempt, 1)?;
                q.ack(&d.receipt).await?;
                Ok(())
            },
        ),
        case(
            "delayed_send_does_not_hold_back_others",
            Some(Capability::QueueDelay),
            |cx| async move {
                let (_, q) = cx.new_queue().await?;
                let mut later = msg("later");
                later.delay = Some(Duration::from_secs(600));
                q.send(vec![later, msg("now")]).await?;
                let got = q.receive(opts(10, 1000, Some(30))).await?;
                let bodies: Vec<_> = got
                    .iter()
                    .map(|d| String::from_utf8_lossy(&d.body).into_owned())
                    .collect();
                ensure_eq(
                    "bodies received (the 10 min delayed one must stay hidden)",
                    bodies,
                    vec!["now".to_owned()],
                )
            },
        ),
    ]
}
