//! One SQS queue (or dead-letter queue) behind the stratus `Queue` trait.

use std::time::{Duration, SystemTime};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use stratus::capabilities::QueueCapabilities;
use stratus::queue::{
    Delivery, OutgoingMessage, Queue, QueueSettings, ReceiveOptions, decode_receipt,
    encode_receipt, stale_receipt,
};
use stratus::{Error, Result, async_trait};

use super::CAPABILITIES;
use super::encoding::{decode, encode, string_attribute};
use crate::common::{kind_for_code, sdk_error};

/// Error codes SQS (or an emulator) gives for a receipt handle that is not current.
const STALE_CODES: [&str; 4] = [
    "ReceiptHandleIsInvalid",
    "MessageNotInflight",
    "AWS.SimpleQueueService.MessageNotInflight",
    "InvalidParameterValue",
];

/// Whole seconds, rounded up (SQS takes integer seconds; never early).
fn ceil_secs(d: Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

/// One SQS queue.
pub struct SqsQueue {
    client: Client,
    url: String,
    settings: QueueSettings,
    /// A dead-letter queue: attempts are counted from the move.
    is_dead_letter: bool,
}

impl SqsQueue {
    /// A queue at `url`.
    pub fn new(client: Client, url: String, settings: QueueSettings, is_dead_letter: bool) -> Self {
        Self {
            client,
            url,
            settings,
            is_dead_letter,
        }
    }

    /// The receipt handle inside a stratus receipt.
    fn handle(receipt: &str) -> Result<String> {
        let (_, token) = decode_receipt(receipt)?;
        URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|h| String::from_utf8(h).ok())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::invalid(format!("malformed receipt {receipt:?}")))
    }

    /// Sets the visibility of the delivery `receipt`; a handle SQS does not consider
    /// current is a stale receipt.
    async fn change_visibility(&self, what: &str, receipt: &str, secs: i32) -> Result<()> {
        let handle = Self::handle(receipt)?;
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map(drop)
            .map_err(|e| receipt_error(what, e))
    }

    /// The attempt number of a delivery from its receive count. SQS keeps counting
    /// receives after a message moves to the dead-letter queue (the move happens on the
    /// receive after `max_attempts`), so there a count above the threshold is taken from
    /// the move. A message sent straight to the dead-letter queue is counted the same
    /// way once it has been received more than `max_attempts` times.
    fn attempt(&self, receive_count: u32) -> u32 {
        let max = self.settings.max_attempts;
        if self.is_dead_letter && max > 0 && receive_count > max {
            receive_count - max
        } else {
            receive_count.max(1)
        }
    }
}

fn receipt_error<E>(what: &str, err: SdkError<E, aws_sdk_sqs::config::http::HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err.code() {
        Some(code) if STALE_CODES.contains(&code) => stale_receipt(),
        _ => sdk_error(what, err),
    }
}

#[async_trait]
impl Queue for SqsQueue {
    fn capabilities(&self) -> QueueCapabilities {
        CAPABILITIES
    }

    async fn send(&self, messages: Vec<OutgoingMessage>) -> Result<Vec<String>> {
        let mut batch = self.client.send_message_batch().queue_url(&self.url);
        for (i, message) in messages.iter().enumerate() {
            let wire = encode(&message.body, &message.attributes);
            let mut entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(wire.body);
            for (name, value) in &wire.attributes {
                entry = entry.message_attributes(name, string_attribute(value));
            }
            if let Some(delay) = message.delay.filter(|d| !d.is_zero()) {
                entry = entry.delay_seconds(ceil_secs(delay));
            }
            batch = batch.entries(
                entry
                    .build()
                    .map_err(|e| Error::internal(format!("SendMessageBatch entry: {e}")))?,
            );
        }
        let out = batch
            .send()
            .await
            .map_err(|e| sdk_error("SendMessageBatch", e))?;
        if let Some(failed) = out.failed.first() {
            let kind = kind_for_code(&failed.code, None);
            return Err(Error::new(
                kind,
                format!(
                    "SendMessageBatch: {} of {} messages failed; message {}: {}: {}",
                    out.failed.len(),
                    messages.len(),
                    failed.id,
                    failed.code,
                    failed.message.as_deref().unwrap_or("")
                ),
            ));
        }
        let mut ids = vec![None; messages.len()];
        for ok in out.successful {
            if let Some(slot) = ok.id.parse::<usize>().ok().and_then(|i| ids.get_mut(i)) {
                *slot = Some(ok.message_id);
            }
        }
        ids.into_iter()
            .map(|id| {
                id.ok_or_else(|| Error::internal("SendMessageBatch did not report every message"))
            })
            .collect()
    }

    async fn receive(&self, opts: ReceiveOptions) -> Result<Vec<Delivery>> {
        let visibility = opts
            .visibility_timeout
            .unwrap_or(self.settings.visibility_timeout);
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(i32::try_from(opts.max_messages).unwrap_or(10))
            .wait_time_seconds(ceil_secs(opts.wait).min(20))
            .visibility_timeout(ceil_secs(visibility))
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| sdk_error("ReceiveMessage", e))?;
        let mut deliveries = Vec::new();
        for message in out.messages.unwrap_or_default() {
            let id = message.message_id.unwrap_or_default();
            let handle = message.receipt_handle.unwrap_or_default();
            let system = message.attributes.unwrap_or_default();
            let count = system
                .get(&MessageSystemAttributeName::ApproximateReceiveCount)
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            let sent_at = system
                .get(&MessageSystemAttributeName::SentTimestamp)
                .and_then(|t| t.parse::<u64>().ok())
                .map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
                .unwrap_or_else(SystemTime::now);
            let (body, attributes) = decode(
                message.body.as_deref().unwrap_or(""),
                &message.message_attributes.unwrap_or_default(),
            )?;
            deliveries.push(Delivery {
                receipt: encode_receipt(&id, &URL_SAFE_NO_PAD.encode(handle)),
                id,
                body,
                attributes,
                attempt: self.attempt(count),
                sent_at,
            });
        }
        Ok(deliveries)
    }

    async fn ack(&self, receipt: &str) -> Result<()> {
        let handle = Self::handle(receipt)?;
        // DeleteMessage succeeds for a gone message; this probe does not.
        let hold = ceil_secs(self.settings.visibility_timeout).max(1);
        self.change_visibility("ack", receipt, hold).await?;
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(handle)
            .send()
            .await
            .map(drop)
            .map_err(|e| receipt_error("DeleteMessage", e))
    }

    async fn nack(&self, receipt: &str, retry_after: Duration) -> Result<()> {
        self.change_visibility("nack", receipt, ceil_secs(retry_after))
            .await
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<()> {
        self.change_visibility("extend", receipt, ceil_secs(visibility))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_up() {
        assert_eq!(ceil_secs(Duration::ZERO), 0);
        assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
        assert_eq!(ceil_secs(Duration::from_millis(1500)), 2);
        assert_eq!(ceil_secs(Duration::from_secs(20)), 20);
    }

    #[test]
    fn malformed_receipts_are_invalid() {
        for bad in ["no-dot", "id.!!!", "id."] {
            assert_eq!(
                SqsQueue::handle(bad).unwrap_err().kind(),
                stratus::ErrorKind::InvalidArgument
            );
        }
        let good = encode_receipt("id", &URL_SAFE_NO_PAD.encode("h+a/n=dle"));
        assert_eq!(SqsQueue::handle(&good).unwrap(), "h+a/n=dle");
    }
}
