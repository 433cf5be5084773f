//! [`LocalQueue`]: one queue; every call runs its redb transaction on the blocking pool.

use std::sync::Arc;
use std::time::Duration;

use redb::Database;
use stratus::capabilities::QueueCapabilities;
use stratus::queue::{
    Delivery, OutgoingMessage, Queue, QueueSettings, ReceiveOptions, decode_receipt, long_poll,
};
use stratus::{Error, Result, async_trait};
use tokio::sync::Notify;

use super::ops::{self, ReceivePlan, Settle};
use crate::offload::blocking;

/// How often a long poll looks again without a notification (delays, timeouts, other
/// processes sharing the file).
const RECHECK: Duration = Duration::from_millis(50);

/// One queue (or dead-letter queue) in a redb database.
pub struct LocalQueue {
    pub(super) db: Arc<Database>,
    pub(super) name: String,
    /// Signalled when a message of this queue may have become visible.
    pub(super) notify: Arc<Notify>,
    /// The dead-letter queue's notifier and name; `None` for a dead-letter queue.
    pub(super) dead_letter: Option<(Arc<Notify>, String)>,
    pub(super) settings: QueueSettings,
}

impl LocalQueue {
    async fn receive_once(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>> {
        let db = self.db.clone();
        let queue = self.name.clone();
        let dead_letter = self.dead_letter.as_ref().map(|(_, name)| name.clone());
        let max_attempts = self.settings.max_attempts;
        let received = blocking(move || {
            let plan = ReceivePlan {
                queue: &queue,
                dead_letter: dead_letter.as_deref(),
                max_attempts,
                max,
                visibility,
            };
            ops::receive(&db, &plan)
        })
        .await?;
        if received.dead_lettered
            && let Some((notify, _)) = &self.dead_letter
        {
            notify.notify_waiters();
        }
        Ok(received.deliveries)
    }

    async fn settle(&self, receipt: &str, action: Settle) -> Result<()> {
        let (id, token) = decode_receipt(receipt)?;
        let id: u64 = id
            .parse()
            .map_err(|_| Error::invalid(format!("malformed receipt {receipt:?}")))?;
        let (db, queue, token) = (self.db.clone(), self.name.clone(), token.to_owned());
        blocking(move || ops::settle(&db, &queue, id, &token, action)).await
    }
}

#[async_trait]
impl Queue for LocalQueue {
    fn capabilities(&self) -> QueueCapabilities {
        super::CAPABILITIES
    }

    async fn send(&self, messages: Vec<OutgoingMessage>) -> Result<Vec<String>> {
        let (db, queue) = (self.db.clone(), self.name.clone());
        let ids = blocking(move || ops::send(&db, &queue, messages)).await?;
        self.notify.notify_waiters();
        Ok(ids.into_iter().map(|id| id.to_string()).collect())
    }

    async fn receive(&self, opts: ReceiveOptions) -> Result<Vec<Delivery>> {
        let visibility = opts
            .visibility_timeout
            .unwrap_or(self.settings.visibility_timeout);
        long_poll(opts.wait, &self.notify, RECHECK, || {
            self.receive_once(opts.max_messages, visibility)
        })
        .await
    }

    async fn ack(&self, receipt: &str) -> Result<()> {
        self.settle(receipt, Settle::Ack).await
    }

    async fn nack(&self, receipt: &str, retry_after: Duration) -> Result<()> {
        self.settle(receipt, Settle::Nack(retry_after)).await?;
        self.notify.notify_waiters();
        Ok(())
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<()> {
        self.settle(receipt, Settle::Extend(visibility)).await
    }
}
