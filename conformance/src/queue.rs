//! queue cases: send/receive/ack, content and limits, visibility and receipts, delays,
//! dead-lettering and competing consumers. Normative text: `spec/queue.md`.

mod basic;
mod concurrency;
mod content;
mod dead_letter;
mod options;
mod receipts;
mod visibility;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use stratus::queue::{Delivery, OutgoingMessage, Queue, ReceiveOptions};
use stratus::{Capability, ServiceKind};

use crate::case::{Case, CaseResult, Ctx, Failure};

/// Every queue case.
pub fn cases() -> Vec<Case> {
    let mut cases = basic::cases();
    cases.extend(content::cases());
    cases.extend(options::cases());
    cases.extend(visibility::cases());
    cases.extend(receipts::cases());
    cases.extend(dead_letter::cases());
    cases.extend(concurrency::cases());
    cases
}

/// A queue case named `name` needing `requires`.
fn case<F, Fut>(name: &'static str, requires: Option<Capability>, body: F) -> Case
where
    F: Fn(Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = CaseResult> + Send + 'static,
{
    Case::new(ServiceKind::Queue, name, requires, body)
}

/// A message with just `body`.
fn msg(body: &str) -> OutgoingMessage {
    OutgoingMessage::new(Bytes::copy_from_slice(body.as_bytes()))
}

/// Receive options: up to `max` messages, waiting `wait_ms`, hidden for `visibility_s`
/// seconds (`None`: the queue default).
fn opts(max: usize, wait_ms: u64, visibility_s: Option<u64>) -> ReceiveOptions {
    ReceiveOptions {
        max_messages: max,
        wait: Duration::from_millis(wait_ms),
        visibility_timeout: visibility_s.map(Duration::from_secs),
    }
}

/// Receives exactly one message, waiting up to `wait_ms`.
async fn receive_one(
    q: &dyn Queue,
    what: &str,
    wait_ms: u64,
    visibility_s: Option<u64>,
) -> Result<Delivery, Failure> {
    let mut got = q.receive(opts(1, wait_ms, visibility_s)).await?;
    match got.len() {
        1 => Ok(got.remove(0)),
        n => Err(Failure(format!(
            "{what}: expected 1 message within {wait_ms} ms, got {n}"
        ))),
    }
}

/// Fails unless a receive that does not wait finds nothing.
async fn expect_empty(q: &dyn Queue, what: &str) -> CaseResult {
    let got = q.receive(opts(10, 0, Some(30))).await?;
    if got.is_empty() {
        Ok(())
    } else {
        let bodies: Vec<_> = got
            .iter()
            .map(|d| String::from_utf8_lossy(&d.body).into_owned())
            .collect();
        Err(Failure(format!(
            "{what}: expected no visible message, got {bodies:?}"
        )))
    }
}

/// Receives until `n` messages arrived (or 10 rounds of 1 s waits passed).
async fn receive_n(q: &dyn Queue, n: usize, visibility_s: u64) -> Result<Vec<Delivery>, Failure> {
    let mut all = Vec::new();
    for _ in 0..10 {
        if all.len() >= n {
            break;
        }
        all.extend(q.receive(opts(10, 1000, Some(visibility_s))).await?);
    }
    if all.len() == n {
        Ok(all)
    } else {
        Err(Failure(format!(
            "expected {n} messages, received {}",
            all.len()
        )))
    }
}
