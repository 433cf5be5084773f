//! Receipts: only the current delivery's receipt acknowledges.

use std::time::Duration;

use stratus::ErrorKind;

use super::{case, expect_empty, msg, receive_one};
use crate::case::{Case, ensure, ensure_eq, expect_kind};

/// Receipt cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("stale_receipt_after_redelivery", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            q.send(vec![msg("m")]).await?;
            let first = receive_one(&*q, "first delivery", 5000, Some(1)).await?;
            let second = receive_one(&*q, "redelivery after 1 s", 5000, Some(30)).await?;
            ensure_eq("attempt of the redelivery", second.attempt, 2)?;
            expect_kind(
                "ack with the receipt of the earlier delivery",
                q.ack(&first.receipt).await,
                ErrorKind::PreconditionFailed,
            )?;
            q.ack(&second.receipt).await.map_err(|e| {
                crate::Failure(format!(
                    "ack with the current receipt: expected Ok, got {e}"
                ))
            })?;
            expect_empty(&*q, "queue after ack").await
        }),
        case("double_ack_fails", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            q.send(vec![msg("m")]).await?;
            let d = receive_one(&*q, "delivery", 5000, Some(30)).await?;
            q.ack(&d.receipt).await?;
            expect_kind(
                "second ack of the same receipt",
                q.ack(&d.receipt).await,
                ErrorKind::PreconditionFailed,
            )?;
            Ok(())
        }),
        case("nack_after_ack_fails", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            q.send(vec![msg("m")]).await?;
            let d = receive_one(&*q, "delivery", 5000, Some(30)).await?;
            q.ack(&d.receipt).await?;
            let r = q.nack(&d.receipt, Duration::ZERO).await;
            expect_kind("nack after ack", r, ErrorKind::PreconditionFailed)?;
            expect_empty(
                &*q,
                "queue after the refused nack (the message stays acked)",
            )
            .await
        }),
        case("malformed_receipt_is_invalid", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            q.send(vec![msg("m")]).await?;
            let d = receive_one(&*q, "delivery", 5000, Some(30)).await?;
            for receipt in ["", "garbage", "garbage."] {
                expect_kind(
                    &format!("ack with receipt {receipt:?}"),
                    q.ack(receipt).await,
                    ErrorKind::InvalidArgument,
                )?;
                let r = q.nack(receipt, Duration::ZERO).await;
                expect_kind(
                    &format!("nack with receipt {receipt:?}"),
                    r,
                    ErrorKind::InvalidArgument,
                )?;
            }
            ensure(!d.receipt.is_empty(), "real receipt is empty")?;
            q.ack(&d.receipt).await.map_err(|e| {
                crate::Failure(format!(
                    "ack with the real receipt after refused malformed ones: expected Ok, got {e}"
                ))
            })
        }),
    ]
}
