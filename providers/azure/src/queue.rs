//! The `azure-queue` provider: Azure Storage Queues over the SharedKey REST API.
//!
//! - Queue `n` is `{queue_prefix}q-{n}`; its dead-letter queue is `{queue_prefix}d-{n}`.
//!   Azure queue names allow only `[a-z0-9-]`, so no suffix could keep a DLQ name apart
//!   from every logical name (`x-poison` is a valid logical name); distinct markers after
//!   the prefix do. Both are created on open (idempotent).
//! - Message text is base64 of a JSON envelope `{"b": base64 body, "a": attributes}`.
//!   When the text would exceed [`MAX_TEXT`] (Azure allows 64 KiB), the envelope goes to a
//!   blob in `overflow_container` (created on open) and the text only names that blob; it
//!   is fetched transparently on receive and deleted on ack.
//! - attempt = Azure's `DequeueCount`. A message dequeued with a count above
//!   `max_attempts` is copied to the poison queue and deleted (never returned).
//! - Receipts are `{message id}.{hex pop receipt}[-{overflow blob}]`. Azure gives a NEW pop
//!   receipt on every Update Message (nack, extend), so each queue handle keeps a map from
//!   the receipt the caller holds to the current pop receipt after an `extend`; a receipt
//!   that was never extended works from any handle or process. A stale pop receipt answers
//!   404 (or 400 `PopReceiptMismatch`) and becomes `queue::stale_receipt`.
//! - Long polling is not native: receive polls with a backoff of 100 ms doubling to
//!   500 ms until `wait` passes.
//! - A send of several messages is one Put Message call per message, in order (not atomic).
//! - Durations are whole seconds on the wire (rounded up); a receive's visibility timeout
//!   is at least 1 s (Azure's minimum).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use stratus::capabilities::QueueCapabilities;
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::queue::{
    Delivery, OutgoingMessage, Queue, QueueService, QueueSettings, ReceiveOptions, decode_receipt,
    encode_receipt, stale_receipt,
};
use stratus::{BuildContext, Declared, Error, Provider, Result, async_trait};

use crate::options::{AzureOptions, parse_endpoint, sibling_blob_endpoint};
use crate::rest::{Client, Request, ensure_container, parse_http_date};
use crate::shared_key::Flavour;
use crate::xml;

/// What every Azure queue declares.
pub const CAPABILITIES: QueueCapabilities = QueueCapabilities {
    delay: true,
    dead_letter: true,
    extend_visibility: true,
};

/// Largest message text sent inline; longer envelopes go to the overflow container.
/// Azure's limit is 64 KiB of text; this leaves room for the XML around it.
pub const MAX_TEXT: usize = 60 * 1024;

/// Default overflow container.
pub const DEFAULT_OVERFLOW_CONTAINER: &str = "stratus-queue-overflow";

const POLL_FIRST: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_millis(500);

/// Options of the `azure-queue` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// Account, key, queue endpoint.
    pub azure: AzureOptions,
    /// Blob endpoint for overflow bodies (default: derived from the queue endpoint).
    pub blob_endpoint: Option<String>,
    /// Prefix of every queue name.
    pub queue_prefix: String,
    /// Container of bodies too large for a message.
    pub overflow_container: String,
    /// Visibility timeout and dead-letter threshold.
    pub settings: QueueSettings,
}

impl QueueOptions {
    /// Parses the section (no side effects).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let azure = AzureOptions::parse(section)?;
        let blob_endpoint = parse_endpoint(section, "blob_endpoint")?;
        let queue_prefix = section.string("queue_prefix")?.unwrap_or_default();
        if !queue_prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(section.key_error("queue_prefix", "may contain only a-z, 0-9 and '-'"));
        }
        let overflow_container = section
            .string("overflow_container")?
            .unwrap_or_else(|| DEFAULT_OVERFLOW_CONTAINER.to_owned());
        let settings = QueueSettings::from_section(section)?;
        section.finish()?;
        Ok(Self {
            azure,
            blob_endpoint,
            queue_prefix,
            overflow_container,
            settings,
        })
    }

    fn blob_endpoint(&self) -> String {
        self.blob_endpoint
            .clone()
            .unwrap_or_else(|| sibling_blob_endpoint(&self.azure.endpoint_for("queue")))
    }
}

/// The `azure-queue` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct AzureQueueProvider;

#[async_trait]
impl Provider for AzureQueueProvider {
    fn name(&self) -> &'static str {
        "azure-queue"
    }

    fn description(&self) -> &'static str {
        "Azure Storage Queues (SharedKey REST; large bodies overflow to a blob container)"
    }

    fn declared(&self) -> Declared {
        Declared {
            queue: Some(CAPABILITIES),
            ..Declared::default()
        }
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        QueueOptions::parse(options).map(drop)
    }

    async fn provision(&self, _service: ServiceKind, options: &Section) -> Result<Vec<String>> {
        let options = QueueOptions::parse(options)?;
        let blob = options
            .azure
            .client(&options.blob_endpoint(), Flavour::BlobQueue)?;
        ensure_container(&blob, &options.overflow_container).await?;
        Ok(vec![format!(
            "azure blob container {} (queue overflow)",
            options.overflow_container
        )])
    }

    async fn queue(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn QueueService>> {
        let options = QueueOptions::parse(options)?;
        Ok(Arc::new(AzureQueueService::new(options)?))
    }
}

/// Opens Azure queues; the same name gives the same handle (and receipt map).
pub struct AzureQueueService {
    options: QueueOptions,
    queues: Client,
    blobs: Client,
    open: tokio::sync::Mutex<HashMap<String, Arc<AzureQueue>>>,
    overflow_ready: tokio::sync::OnceCell<()>,
}

impl AzureQueueService {
    /// A service for `options` (no network until a queue is opened).
    pub fn new(options: QueueOptions) -> Result<Self> {
        let queues = options
            .azure
            .client(&options.azure.endpoint_for("queue"), Flavour::BlobQueue)?;
        let blobs = options
            .azure
            .client(&options.blob_endpoint(), Flavour::BlobQueue)?;
        Ok(Self {
            options,
            queues,
            blobs,
            open: tokio::sync::Mutex::default(),
            overflow_ready: tokio::sync::OnceCell::new(),
        })
    }

    async fn handle(
        &self,
        name: String,
        dead_letter: Option<Arc<AzureQueue>>,
    ) -> Result<Arc<AzureQueue>> {
        let mut open = self.open.lock().await;
        if let Some(q) = open.get(&name) {
            return Ok(q.clone());
        }
        create_queue(&self.queues, &name).await?;
        let settings = match dead_letter {
            Some(_) => self.options.settings,
            None => QueueSettings {
                max_attempts: 0,
                ..self.options.settings
            },
        };
        let q = Arc::new(AzureQueue {
            name: name.clone(),
            queues: self.queues.clone(),
            blobs: self.blobs.clone(),
            container: self.options.overflow_container.clone(),
            settings,
            dead_letter,
            extended: Mutex::default(),
        });
        open.insert(name, q.clone());
        Ok(q)
    }

    async fn open_pair(&self, name: &str) -> Result<Arc<AzureQueue>> {
        self.overflow_ready
            .get_or_try_init(|| ensure_container(&self.blobs, &self.options.overflow_container))
            .await?;
        let prefix = &self.options.queue_prefix;
        let dlq = self.handle(format!("{prefix}d-{name}"), None).await?;
        self.handle(format!("{prefix}q-{name}"), Some(dlq)).await
    }
}

#[async_trait]
impl QueueService for AzureQueueService {
    async fn open(&self, name: &str) -> Result<Arc<dyn Queue>> {
        Ok(self.open_pair(name).await?)
    }

    async fn open_dead_letter(&self, name: &str) -> Result<Arc<dyn Queue>> {
        let q = self.open_pair(name).await?;
        Ok(q.dead_letter
            .clone()
            .expect("named queues have a poison queue"))
    }
}

async fn create_queue(client: &Client, name: &str) -> Result<()> {
    let reply = client
        .send(Request::new(Method::PUT, name.to_owned()), "create queue")
        .await?;
    if reply.is_success() || reply.status == 409 {
        Ok(())
    } else {
        Err(reply.error(&format!("create queue {name:?}")))
    }
}

/// The JSON envelope a message text carries (base64 encoded).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Envelope {
    /// Body, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<String>,
    /// Attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub a: BTreeMap<String, String>,
    /// Name of the overflow blob holding the full envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o: Option<String>,
}

impl Envelope {
    /// The envelope of a message.
    pub fn of(body: &[u8], attributes: &BTreeMap<String, String>) -> Self {
        Self {
            b: Some(STANDARD.encode(body)),
            a: attributes.clone(),
            o: None,
        }
    }

    /// The message text of this envelope.
    pub fn to_text(&self) -> String {
        STANDARD.encode(serde_json::to_vec(self).expect("envelopes serialize"))
    }

    /// Parses a message text (or an overflow blob's bytes when `base64` is false).
    pub fn parse(data: &[u8], base64: bool) -> Result<Self> {
        let json = if base64 {
            STANDARD
                .decode(data)
                .map_err(|e| Error::internal("message text is not base64").with_source(e))?
        } else {
            data.to_vec()
        };
        serde_json::from_slice(&json)
            .map_err(|e| Error::internal("message text is not a stratus envelope").with_source(e))
    }

    /// The body bytes.
    pub fn body(&self) -> Result<Bytes> {
        let b = self.b.as_deref().unwrap_or("");
        STANDARD
            .decode(b)
            .map(Bytes::from)
            .map_err(|e| Error::internal("message body is not base64").with_source(e))
    }
}

/// Whole seconds, rounded up.
fn secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// A receipt token: the pop receipt (hex) and optionally the overflow blob.
fn token(pop: &str, overflow: Option<&str>) -> String {
    let mut t = hex::encode(pop);
    if let Some(o) = overflow {
        t.push('-');
        t.push_str(o);
    }
    t
}

fn parse_token(token: &str) -> Result<(String, Option<String>)> {
    let (pop, overflow) = match token.split_once('-') {
        Some((p, o)) => (p, Some(o.to_owned())),
        None => (token, None),
    };
    let pop = hex::decode(pop)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Error::invalid(format!("malformed receipt token {token:?}")))?;
    if overflow
        .as_deref()
        .is_some_and(|o| o.is_empty() || !o.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(Error::invalid(format!("malformed receipt token {token:?}")));
    }
    Ok((pop, overflow))
}

/// One Azure queue (or poison queue).
pub struct AzureQueue {
    name: String,
    queues: Client,
    blobs: Client,
    container: String,
    settings: QueueSettings,
    /// `None` for a poison queue.
    dead_letter: Option<Arc<AzureQueue>>,
    /// Receipt (as the caller holds it) -> current pop receipt, after an `extend`.
    extended: Mutex<HashMap<String, String>>,
}

struct Raw {
    id: String,
    pop: String,
    dequeue_count: u32,
    inserted: SystemTime,
    text: String,
}

impl AzureQueue {
    fn messages_path(&self) -> String {
        format!("{}/messages", self.name)
    }

    /// Sends one message text with a delay; returns the message id.
    async fn put_text(&self, text: String, delay: Duration) -> Result<String> {
        let body = format!(
            "<QueueMessage><MessageText>{}</MessageText></QueueMessage>",
            xml::escape(&text)
        );
        let request = Request::new(Method::POST, self.messages_path())
            .query("visibilitytimeout", secs(delay).to_string())
            .query("messagettl", "-1")
            .header("Content-Type", "application/xml")
            .body(body);
        let reply = self
            .queues
            .send(request, "put message")
            .await?
            .ok("put message")?;
        let xml = String::from_utf8_lossy(&reply.body);
        xml::text(&xml, "MessageId").ok_or_else(|| Error::internal("put message: no MessageId"))
    }

    async fn encode_message(&self, message: &OutgoingMessage) -> Result<String> {
        let envelope = Envelope::of(&message.body, &message.attributes);
        let text = envelope.to_text();
        if text.len() <= MAX_TEXT {
            return Ok(text);
        }
        let blob = uuid::Uuid::new_v4().simple().to_string();
        let data = serde_json::to_vec(&envelope).expect("envelopes serialize");
        let request = Request::new(Method::PUT, format!("{}/{}", self.container, blob))
            .header("x-ms-blob-type", "BlockBlob")
            .header("Content-Type", "application/json")
            .body(data);
        self.blobs
            .send(request, "put overflow blob")
            .await?
            .ok("put overflow blob")?;
        Ok(Envelope {
            o: Some(blob),
            ..Envelope::default()
        }
        .to_text())
    }

    async fn read_overflow(&self, blob: &str) -> Result<Envelope> {
        let request = Request::new(Method::GET, format!("{}/{}", self.container, blob));
        let reply = self
            .blobs
            .send(request, "get overflow blob")
            .await?
            .ok("get overflow blob")?;
        Envelope::parse(&reply.body, false)
    }

    async fn delete_overflow(&self, blob: &str) -> Result<()> {
        let request = Request::new(Method::DELETE, format!("{}/{}", self.container, blob));
        let reply = self.blobs.send(request, "delete overflow blob").await?;
        if reply.is_success() || reply.status == 404 {
            Ok(())
        } else {
            Err(reply.error("delete overflow blob"))
        }
    }

    async fn get_messages(&self, max: usize, visibility: Duration) -> Result<Vec<Raw>> {
        let request = Request::new(Method::GET, self.messages_path())
            .query("numofmessages", max.to_string())
            .query("visibilitytimeout", secs(visibility).max(1).to_string());
        let reply = self
            .queues
            .send(request, "get messages")
            .await?
            .ok("get messages")?;
        let xml = String::from_utf8_lossy(&reply.body).into_owned();
        xml::elements(&xml, "QueueMessage")
            .into_iter()
            .map(|m| {
                let field = |tag| {
                    xml::text(m, tag)
                        .ok_or_else(|| Error::internal(format!("get messages: no {tag}")))
                };
                Ok(Raw {
                    id: field("MessageId")?,
                    pop: field("PopReceipt")?,
                    dequeue_count: field("DequeueCount")?.parse().unwrap_or(1),
                    inserted: parse_http_date(&field("InsertionTime")?)
                        .unwrap_or_else(SystemTime::now),
                    text: field("MessageText")?,
                })
            })
            .collect()
    }

    async fn delete_message(&self, id: &str, pop: &str) -> Result<()> {
        let request = Request::new(Method::DELETE, format!("{}/{}", self.messages_path(), id))
            .query("popreceipt", pop);
        let reply = self.queues.send(request, "delete message").await?;
        receipt_result(reply, "delete message").map(drop)
    }

    /// Update Message (visibility only); returns the new pop receipt.
    async fn update_visibility(&self, id: &str, pop: &str, visibility: Duration) -> Result<String> {
        let request = Request::new(Method::PUT, format!("{}/{}", self.messages_path(), id))
            .query("popreceipt", pop)
            .query("visibilitytimeout", secs(visibility).to_string());
        let reply = self.queues.send(request, "update message").await?;
        let reply = receipt_result(reply, "update message")?;
        reply
            .header("x-ms-popreceipt")
            .map(str::to_owned)
            .ok_or_else(|| Error::internal("update message: no x-ms-popreceipt"))
    }

    /// One receive attempt: dequeues, dead-letters over-delivered messages, decodes the rest.
    async fn receive_once(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>> {
        let raws = self.get_messages(max, visibility).await?;
        let mut deliveries = Vec::new();
        for raw in raws {
            let limit = self.settings.max_attempts;
            if let Some(dlq) = &self.dead_letter
                && limit > 0
                && raw.dequeue_count > limit
            {
                // Copy first, then delete: never lost (a crash in between duplicates).
                dlq.put_text(raw.text.clone(), Duration::ZERO).await?;
                match self.delete_message(&raw.id, &raw.pop).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == stratus::ErrorKind::PreconditionFailed => {}
                    Err(e) => return Err(e),
                }
                continue;
            }
            let mut envelope = Envelope::parse(raw.text.as_bytes(), true)?;
            let overflow = envelope.o.clone();
            if let Some(blob) = &overflow {
                envelope = self.read_overflow(blob).await?;
            }
            let receipt = encode_receipt(&raw.id, &token(&raw.pop, overflow.as_deref()));
            deliveries.push(Delivery {
                id: raw.id,
                body: envelope.body()?,
                attributes: envelope.a,
                attempt: raw.dequeue_count,
                receipt,
                sent_at: raw.inserted,
            });
        }
        Ok(deliveries)
    }

    /// The message id, current pop receipt and overflow blob of `receipt`.
    fn resolve(&self, receipt: &str) -> Result<(String, String, Option<String>)> {
        let (id, token) = decode_receipt(receipt)?;
        let (pop, overflow) = parse_token(token)?;
        let current = self
            .extended
            .lock()
            .expect("receipt map poisoned")
            .get(receipt)
            .cloned();
        Ok((id.to_owned(), current.unwrap_or(pop), overflow))
    }

    fn forget(&self, receipt: &str) {
        self.extended
            .lock()
            .expect("receipt map poisoned")
            .remove(receipt);
    }
}

/// Maps the answer of a call made with a pop receipt: not found or mismatch -> stale.
fn receipt_result(reply: crate::rest::Reply, what: &str) -> Result<crate::rest::Reply> {
    if reply.is_success() {
        return Ok(reply);
    }
    let code = reply.error_code();
    if reply.status == 404
        || code == "PopReceiptMismatch"
        || code == "MessageNotFound"
        || (reply.status == 400 && code.contains("PopReceipt"))
    {
        return Err(stale_receipt());
    }
    Err(reply.error(what))
}

#[async_trait]
impl Queue for AzureQueue {
    fn capabilities(&self) -> QueueCapabilities {
        CAPABILITIES
    }

    async fn send(&self, messages: Vec<OutgoingMessage>) -> Result<Vec<String>> {
        let mut ids = Vec::with_capacity(messages.len());
        for message in &messages {
            let text = self.encode_message(message).await?;
            ids.push(
                self.put_text(text, message.delay.unwrap_or_default())
                    .await?,
            );
        }
        Ok(ids)
    }

    async fn receive(&self, opts: ReceiveOptions) -> Result<Vec<Delivery>> {
        let visibility = opts
            .visibility_timeout
            .unwrap_or(self.settings.visibility_timeout);
        let deadline = tokio::time::Instant::now() + opts.wait;
        let mut nap = POLL_FIRST;
        loop {
            let found = self.receive_once(opts.max_messages, visibility).await?;
            let now = tokio::time::Instant::now();
            if !found.is_empty() || now >= deadline {
                return Ok(found);
            }
            tokio::time::sleep(nap.min(deadline - now)).await;
            nap = (nap * 2).min(POLL_MAX);
        }
    }

    async fn ack(&self, receipt: &str) -> Result<()> {
        let (id, pop, overflow) = self.resolve(receipt)?;
        self.delete_message(&id, &pop).await?;
        self.forget(receipt);
        if let Some(blob) = overflow {
            self.delete_overflow(&blob).await?;
        }
        Ok(())
    }

    async fn nack(&self, receipt: &str, retry_after: Duration) -> Result<()> {
        let (id, pop, _) = self.resolve(receipt)?;
        self.update_visibility(&id, &pop, retry_after).await?;
        // The caller's receipt now maps to nothing: its own pop receipt is stale.
        self.forget(receipt);
        Ok(())
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<()> {
        let (id, pop, _) = self.resolve(receipt)?;
        let new_pop = self.update_visibility(&id, &pop, visibility).await?;
        self.extended
            .lock()
            .expect("receipt map poisoned")
            .insert(receipt.to_owned(), new_pop);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = token("AgAAAAMAAAAAAAAA+/=", Some("abc123"));
        assert!(!t.contains('.'));
        assert_eq!(
            parse_token(&t).unwrap(),
            ("AgAAAAMAAAAAAAAA+/=".to_owned(), Some("abc123".to_owned()))
        );
        assert_eq!(parse_token(&token("p", None)).unwrap().1, None);
        assert!(parse_token("zz").is_err());
        assert!(parse_token("").is_err());
    }

    #[test]
    fn envelopes_round_trip() {
        let mut attrs = BTreeMap::new();
        attrs.insert("k".to_owned(), "v ü".to_owned());
        let e = Envelope::of(&[0, 159, 255], &attrs);
        let back = Envelope::parse(e.to_text().as_bytes(), true).unwrap();
        assert_eq!(back.body().unwrap().as_ref(), &[0, 159, 255]);
        assert_eq!(back.a, attrs);
    }

    #[test]
    fn durations_round_up_to_seconds() {
        assert_eq!(secs(Duration::from_millis(1)), 1);
        assert_eq!(secs(Duration::from_secs(2)), 2);
        assert_eq!(secs(Duration::ZERO), 0);
    }
}
