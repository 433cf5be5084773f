//! Option ranges: long-poll wait, delay and visibility timeout limits.

use std::time::{Duration, Instant};

use stratus::ErrorKind;
use stratus::limits::{MAX_QUEUE_DELAY, MAX_QUEUE_WAIT, MAX_VISIBILITY_TIMEOUT};
use stratus::queue::ReceiveOptions;

use super::{case, expect_empty, msg, opts, receive_one};
use crate::case::{Case, ensure, ensure_eq, expect_kind};

/// Option range cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("wait_over_limit_is_invalid", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            q.send(vec![msg("waiting")]).await?;
            let over = ReceiveOptions {
                wait: MAX_QUEUE_WAIT + Duration::from_millis(1),
                ..opts(1, 0, Some(30))
            };
            expect_kind(
                "receive with wait 20 s + 1 ms",
                q.receive(over).await,
                ErrorKind::InvalidArgument,
            )?;
            // Exactly 20 s is allowed; a message is already there, so it returns at once.
            let started = Instant::now();
            let got = q
                .receive(ReceiveOptions {
                    wait: MAX_QUEUE_WAIT,
                    ..opts(1, 0, Some(30))
                })
                .await?;
            ensure_eq("messages with wait 20 s", got.len(), 1)?;
            let took = started.elapsed();
            ensure(
                took < Duration::from_secs(5),
                format!("receive with a message waiting took {took:?}"),
            )
        }),
        case("delay_over_limit_is_invalid", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let mut m = msg("late");
            m.delay = Some(MAX_QUEUE_DELAY + Duration::from_secs(1));
            expect_kind(
                "send with delay 15 min + 1 s",
                q.send(vec![m]).await,
                ErrorKind::InvalidArgument,
            )?;
            expect_empty(&*q, "queue after the refused send").await?;
            q.send(vec![msg("now")]).await?;
            let d = receive_one(&*q, "receive", 5000, Some(30)).await?;
            let r = q
                .nack(&d.receipt, MAX_QUEUE_DELAY + Duration::from_secs(1))
                .await;
            expect_kind(
                "nack with retry_after 15 min + 1 s",
                r,
                ErrorKind::InvalidArgument,
            )?;
            // The refused nack changed nothing: the receipt is still current.
            q.ack(&d.receipt).await.map_err(|e| {
                crate::Failure(format!("ack after a refused nack: expected Ok, got {e}"))
            })
        }),
        case(
            "visibility_timeout_over_limit_is_invalid",
            None,
            |cx| async move {
                let (_, q) = cx.new_queue().await?;
                q.send(vec![msg("m")]).await?;
                let over = ReceiveOptions {
                    visibility_timeout: Some(MAX_VISIBILITY_TIMEOUT + Duration::from_secs(1)),
                    ..opts(1, 0, None)
                };
                expect_kind(
                    "receive with visibility 12 h + 1 s",
                    q.receive(over).await,
                    ErrorKind::InvalidArgument,
                )?;
                let d =
                    receive_one(&*q, "message after the refused receive", 5000, Some(30)).await?;
                ensure_eq(
                    "attempt (the refused receive delivered nothing)",
                    d.attempt,
                    1,
                )
            },
        ),
    ]
}
