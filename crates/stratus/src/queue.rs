//! At-least-once work queues: the [`Queue`] trait. Normative text: `spec/queue.md`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;

use crate::capabilities::QueueCapabilities;
use crate::error::Result;

/// A message to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The body (binary allowed).
    pub body: Bytes,
    /// Up to 10 string attributes.
    pub attributes: BTreeMap<String, String>,
    /// Deliver no earlier than this from now (needs `queue.delay`; at most 15 minutes).
    pub delay: Option<Duration>,
}

impl OutgoingMessage {
    /// A message with just a body.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Self {
            body: body.into(),
            ..Default::default()
        }
    }

    /// The portable size of the message: body plus attribute names and values.
    pub fn size(&self) -> usize {
        self.body.len()
            + self
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

/// Options of a receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// At most this many messages (1..=10).
    pub max_messages: usize,
    /// Wait up to this long for the first message (long poll, at most 20 s).
    pub wait: Duration,
    /// How long received messages stay invisible; `None` uses the queue's default.
    pub visibility_timeout: Option<Duration>,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        Self {
            max_messages: 1,
            wait: Duration::ZERO,
            visibility_timeout: None,
        }
    }
}

/// A received message. Its `receipt` is valid until it is acked, nacked, or its
/// visibility timeout passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The message id, stable across redeliveries.
    pub id: String,
    /// The body as sent.
    pub body: Bytes,
    /// The attributes as sent.
    pub attributes: BTreeMap<String, String>,
    /// 1 for the first delivery, +1 for each redelivery.
    pub attempt: u32,
    /// Proof of this delivery, used to ack, nack or extend it.
    pub receipt: String,
    /// When the message was sent.
    pub sent_at: SystemTime,
}

/// A work queue with competing consumers and at-least-once delivery.
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// What this queue declares.
    fn capabilities(&self) -> QueueCapabilities;

    /// Sends 1..=10 messages; returns their ids in order.
    async fn send(&self, messages: Vec<OutgoingMessage>) -> Result<Vec<String>>;

    /// Receives up to `max_messages` visible messages, waiting up to `wait` for the first.
    async fn receive(&self, opts: ReceiveOptions) -> Result<Vec<Delivery>>;

    /// Removes a delivered message. A receipt that is no longer current (acked,
    /// redelivered, or timed out) is `PreconditionFailed`.
    async fn ack(&self, receipt: &str) -> Result<()>;

    /// Makes a delivered message visible again after `retry_after` (zero: at once;
    /// non-zero needs `queue.delay`).
    async fn nack(&self, receipt: &str, retry_after: Duration) -> Result<()>;

    /// Keeps a delivered message invisible for `visibility` from now
    /// (needs `queue.extend_visibility`).
    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<()>;
}

/// Opens named queues of one configured provider.
#[async_trait]
pub trait QueueService: Send + Sync + 'static {
    /// The queue for the logical name `name` (validated by the caller).
    async fn open(&self, name: &str) -> Result<Arc<dyn Queue>>;

    /// The dead-letter queue of `name`: messages that reached the configured maximum
    /// number of attempts (needs `queue.dead_letter`).
    async fn open_dead_letter(&self, name: &str) -> Result<Arc<dyn Queue>>;
}

/// Queue settings every provider reads from its config section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    /// Default visibility timeout of a receive.
    pub visibility_timeout: Duration,
    /// Deliveries before a message moves to the dead-letter queue (0: never).
    pub max_attempts: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            max_attempts: 5,
        }
    }
}

impl QueueSettings {
    /// Reads `visibility_timeout` and `max_attempts` from a provider's config section.
    pub fn from_section(
        section: &crate::config::Section,
    ) -> Result<Self, crate::config::ConfigError> {
        let defaults = Self::default();
        let visibility_timeout = section
            .duration("visibility_timeout")?
            .unwrap_or(defaults.visibility_timeout);
        if visibility_timeout > crate::limits::MAX_VISIBILITY_TIMEOUT {
            return Err(section.key_error("visibility_timeout", "must be at most 12h"));
        }
        let max_attempts = match section.u64("max_attempts")? {
            None => defaults.max_attempts,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n <= 1000)
                .ok_or_else(|| section.key_error("max_attempts", "must be 0..=1000"))?,
        };
        Ok(Self {
            visibility_timeout,
            max_attempts,
        })
    }
}

/// Builds a receipt from a message id and a per-delivery token.
pub fn encode_receipt(id: &str, token: &str) -> String {
    format!("{id}.{token}")
}

/// Splits a receipt made by [`encode_receipt`]; anything else is `InvalidArgument`.
pub fn decode_receipt(receipt: &str) -> Result<(&str, &str)> {
    receipt
        .rsplit_once('.')
        .filter(|(id, token)| !id.is_empty() && !token.is_empty())
        .ok_or_else(|| crate::Error::invalid(format!("malformed receipt {receipt:?}")))
}

/// The error for a receipt that is no longer the current delivery of its message.
pub fn stale_receipt() -> crate::Error {
    crate::Error::precondition(
        "receipt is no longer valid (the message was acked, redelivered or its visibility timed out)",
    )
}

/// Long polling shared by in-process queues: calls `attempt` until it returns messages
/// or `wait` passes, sleeping until `notify` fires (a send) or `recheck` passes (delayed
/// messages and visibility timeouts become visible without a notification).
pub async fn long_poll<F, Fut>(
    wait: Duration,
    notify: &tokio::sync::Notify,
    recheck: Duration,
    mut attempt: F,
) -> Result<Vec<Delivery>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Delivery>>>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let found = attempt().await?;
        let now = tokio::time::Instant::now();
        if !found.is_empty() || now >= deadline {
            return Ok(found);
        }
        let nap = recheck.min(deadline - now);
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(nap) => {}
        }
    }
}
