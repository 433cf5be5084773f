//! In-process work queues: messages in send order behind one mutex per queue, each queue
//! with its own dead-letter queue. Time is `tokio::time::Instant`, so visibility and delays
//! follow the runtime clock (and tests can pause it).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use stratus::capabilities::QueueCapabilities;
use stratus::config::{ConfigError, Section};
use stratus::queue::{
    Delivery, OutgoingMessage, Queue, QueueService, QueueSettings, ReceiveOptions, decode_receipt,
    encode_receipt, long_poll, stale_receipt,
};
use stratus::{Result, async_trait};
use tokio::sync::Notify;
use tokio::time::Instant;

/// What every memory queue declares.
pub const CAPABILITIES: QueueCapabilities = QueueCapabilities {
    delay: true,
    dead_letter: true,
    extend_visibility: true,
};

/// How often a waiting receive looks again for delayed or timed-out messages.
const RECHECK: Duration = Duration::from_millis(50);

/// Options of the memory queue service: `visibility_timeout` and `max_attempts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    /// Default visibility timeout and dead-letter threshold.
    pub settings: QueueSettings,
}

impl QueueOptions {
    /// Parses the `queue:` section of a profile (no side effects).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let settings = QueueSettings::from_section(section)?;
        section.finish()?;
        Ok(Self { settings })
    }
}

/// Opens named in-process queues; the same name always gives the same queue.
pub struct MemoryQueueService {
    settings: QueueSettings,
    queues: Mutex<HashMap<String, Arc<MemoryQueue>>>,
}

impl MemoryQueueService {
    /// A service with no queues yet.
    pub fn new(options: QueueOptions) -> Self {
        Self {
            settings: options.settings,
            queues: Mutex::default(),
        }
    }

    fn queue(&self, name: &str) -> Arc<MemoryQueue> {
        let mut queues = self.queues.lock().expect("queue service poisoned");
        queues
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(MemoryQueue::with_dead_letter(self.settings)))
            .clone()
    }
}

#[async_trait]
impl QueueService for MemoryQueueService {
    async fn open(&self, name: &str) -> Result<Arc<dyn Queue>> {
        Ok(self.queue(name))
    }

    async fn open_dead_letter(&self, name: &str) -> Result<Arc<dyn Queue>> {
        let dead_letter = self
            .queue(name)
            .dead_letter
            .clone()
            .expect("named queues have a dead-letter queue");
        Ok(dead_letter)
    }
}

/// Ids and receipt tokens, unique in the process so receipts never match another queue.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

struct Message {
    id: String,
    body: Bytes,
    attributes: BTreeMap<String, String>,
    sent_at: SystemTime,
    /// Invisible before this instant (delay, visibility timeout or nack retry).
    visible_at: Instant,
    /// Deliveries so far.
    attempt: u32,
    /// The token of the current delivery; `None` when not in flight.
    token: Option<String>,
}

impl Message {
    fn new(message: OutgoingMessage, now: Instant) -> Self {
        Self {
            id: format!("msg-{:x}", next_id()),
            body: message.body,
            attributes: message.attributes,
            sent_at: SystemTime::now(),
            visible_at: now + message.delay.unwrap_or_default(),
            attempt: 0,
            token: None,
        }
    }
}

#[derive(Default)]
struct State {
    /// Messages by send sequence (oldest first).
    messages: BTreeMap<u64, Message>,
    /// Message id -> send sequence.
    index: HashMap<String, u64>,
}

impl State {
    fn push(&mut self, message: Message) {
        let seq = next_id();
        self.index.insert(message.id.clone(), seq);
        self.messages.insert(seq, message);
    }

    fn remove(&mut self, seq: u64) -> Option<Message> {
        let message = self.messages.remove(&seq)?;
        self.index.remove(&message.id);
        Some(message)
    }

    /// The in-flight message whose current delivery `receipt` is (else a stale receipt).
    fn current(&mut self, receipt: &str, now: Instant) -> Result<u64> {
        let (id, token) = decode_receipt(receipt)?;
        let seq = *self.index.get(id).ok_or_else(stale_receipt)?;
        let message = &self.messages[&seq];
        if message.token.as_deref() == Some(token) && message.visible_at > now {
            Ok(seq)
        } else {
            Err(stale_receipt())
        }
    }
}

/// One in-process queue (or dead-letter queue).
pub struct MemoryQueue {
    state: Mutex<State>,
    notify: Notify,
    settings: QueueSettings,
    /// Where messages go after `max_attempts` deliveries; `None` for a dead-letter queue.
    dead_letter: Option<Arc<MemoryQueue>>,
}

impl MemoryQueue {
    /// A queue with `settings` and its own dead-letter queue.
    fn with_dead_letter(settings: QueueSettings) -> Self {
        let dead_letter_settings = QueueSettings {
            max_attempts: 0,
            ..settings
        };
        let dead_letter = Arc::new(Self::without_dead_letter(dead_letter_settings));
        Self {
            dead_letter: Some(dead_letter),
            ..Self::without_dead_letter(settings)
        }
    }

    fn without_dead_letter(settings: QueueSettings) -> Self {
        Self {
            state: Mutex::default(),
            notify: Notify::new(),
            settings,
            dead_letter: None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("queue poisoned")
    }

    fn enqueue(&self, messages: impl IntoIterator<Item = Message>) {
        let mut state = self.lock();
        for message in messages {
            state.push(message);
        }
        drop(state);
        self.notify.notify_waiters();
    }

    /// Delivers up to `max` visible messages, oldest first, dead-lettering those that
    /// would go over the attempt limit.
    fn take_visible(&self, max: usize, visibility: Duration) -> Vec<Delivery> {
        let now = Instant::now();
        let limit = self.settings.max_attempts;
        let mut state = self.lock();
        let mut deliveries = Vec::new();
        let mut dead = Vec::new();
        for (&seq, message) in state.messages.iter_mut() {
            if deliveries.len() == max {
                break;
            }
            if message.visible_at > now {
                continue;
            }
            if limit > 0 && message.attempt >= limit && self.dead_letter.is_some() {
                dead.push(seq);
                continue;
            }
            let token = format!("t{:x}", next_id());
            message.attempt += 1;
            message.visible_at = now + visibility;
            message.token = Some(token.clone());
            deliveries.push(Delivery {
                id: message.id.clone(),
                body: message.body.clone(),
                attributes: message.attributes.clone(),
                attempt: message.attempt,
                receipt: encode_receipt(&message.id, &token),
                sent_at: message.sent_at,
            });
        }
        let moved: Vec<Message> = dead
            .into_iter()
            .filter_map(|seq| state.remove(seq))
            .collect();
        drop(state);
        if let Some(dead_letter) = &self.dead_letter
            && !moved.is_empty()
        {
            // A fresh life in the dead-letter queue: visible now, attempt count from 1.
            dead_letter.enqueue(moved.into_iter().map(|m| Message {
                visible_at: now,
                attempt: 0,
                token: None,
                ..m
            }));
        }
        deliveries
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    fn capabilities(&self) -> QueueCapabilities {
        CAPABILITIES
    }

    async fn send(&self, messages: Vec<OutgoingMessage>) -> Result<Vec<String>> {
        let now = Instant::now();
        let messages: Vec<Message> = messages.into_iter().map(|m| Message::new(m, now)).collect();
        let ids = messages.iter().map(|m| m.id.clone()).collect();
        self.enqueue(messages);
        Ok(ids)
    }

    async fn receive(&self, opts: ReceiveOptions) -> Result<Vec<Delivery>> {
        let visibility = opts
            .visibility_timeout
            .unwrap_or(self.settings.visibility_timeout);
        long_poll(opts.wait, &self.notify, RECHECK, || {
            std::future::ready(Ok(self.take_visible(opts.max_messages, visibility)))
        })
        .await
    }

    async fn ack(&self, receipt: &str) -> Result<()> {
        let mut state = self.lock();
        let seq = state.current(receipt, Instant::now())?;
        state.remove(seq);
        Ok(())
    }

    async fn nack(&self, receipt: &str, retry_after: Duration) -> Result<()> {
        let now = Instant::now();
        let mut state = self.lock();
        let seq = state.current(receipt, now)?;
        let message = state
            .messages
            .get_mut(&seq)
            .expect("current message exists");
        message.visible_at = now + retry_after;
        message.token = None;
        drop(state);
        if retry_after.is_zero() {
            self.notify.notify_waiters();
        }
        Ok(())
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<()> {
        let now = Instant::now();
        let mut state = self.lock();
        let seq = state.current(receipt, now)?;
        state
            .messages
            .get_mut(&seq)
            .expect("current message exists")
            .visible_at = now + visibility;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use stratus::ErrorKind;

    use super::*;

    fn service(max_attempts: u32) -> MemoryQueueService {
        let settings = QueueSettings {
            visibility_timeout: Duration::from_secs(30),
            max_attempts,
        };
        MemoryQueueService::new(QueueOptions { settings })
    }

    fn kind<T>(r: Result<T>) -> ErrorKind {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.kind(),
        }
    }

    fn receive_all() -> ReceiveOptions {
        ReceiveOptions {
            max_messages: 10,
            ..Default::default()
        }
    }

    fn message(body: &'static str) -> OutgoingMessage {
        let mut m = OutgoingMessage::new(body);
        m.attributes.insert("k".into(), "v".into());
        m
    }

    #[tokio::test(start_paused = true)]
    async fn delivery_counts_attempts_and_dead_letters_after_max() {
        let s = service(2);
        let q = s.open("q").await.unwrap();
        let id = q.send(vec![message("a")]).await.unwrap().remove(0);
        for attempt in 1..=2 {
            let d = q.receive(receive_all()).await.unwrap();
            assert_eq!(
                (d.len(), d[0].attempt, d[0].id.as_str()),
                (1, attempt, id.as_str())
            );
            q.nack(&d[0].receipt, Duration::ZERO).await.unwrap();
        }
        assert!(q.receive(receive_all()).await.unwrap().is_empty());
        let dlq = s.open_dead_letter("q").await.unwrap();
        let d = dlq.receive(receive_all()).await.unwrap();
        assert_eq!((d[0].attempt, d[0].body.as_ref()), (1, b"a".as_ref()));
        assert_eq!(d[0].attributes.get("k").map(String::as_str), Some("v"));
        // The dead-letter queue never dead-letters.
        dlq.nack(&d[0].receipt, Duration::ZERO).await.unwrap();
        for _ in 0..5 {
            let d = dlq.receive(receive_all()).await.unwrap();
            dlq.nack(&d[0].receipt, Duration::ZERO).await.unwrap();
        }
        let d = dlq.receive(receive_all()).await.unwrap();
        assert_eq!(d[0].attempt, 7);
        dlq.ack(&d[0].receipt).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn max_attempts_zero_never_dead_letters() {
        let s = service(0);
        let q = s.open("q").await.unwrap();
        q.send(vec![message("a")]).await.unwrap();
        for _ in 0..20 {
            let d = q.receive(receive_all()).await.unwrap();
            q.nack(&d[0].receipt, Duration::ZERO).await.unwrap();
        }
        assert!(
            s.open_dead_letter("q")
                .await
                .unwrap()
                .receive(receive_all())
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn receipts_go_stale() {
        let q = service(5).open("q").await.unwrap();
        q.send(vec![message("a")]).await.unwrap();
        let first = q.receive(receive_all()).await.unwrap().remove(0);
        // Visibility timeout passes: the receipt is stale even before redelivery.
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(
            kind(q.ack(&first.receipt).await),
            ErrorKind::PreconditionFailed
        );
        let second = q.receive(receive_all()).await.unwrap().remove(0);
        assert_eq!(second.attempt, 2);
        assert_ne!(second.receipt, first.receipt);
        assert_eq!(
            kind(q.ack(&first.receipt).await),
            ErrorKind::PreconditionFailed
        );
        assert_eq!(
            kind(q.extend(&first.receipt, Duration::from_secs(5)).await),
            ErrorKind::PreconditionFailed
        );
        q.extend(&second.receipt, Duration::from_secs(60))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(45)).await;
        assert!(q.receive(receive_all()).await.unwrap().is_empty());
        q.ack(&second.receipt).await.unwrap();
        assert_eq!(
            kind(q.ack(&second.receipt).await),
            ErrorKind::PreconditionFailed
        );
        assert_eq!(kind(q.ack("no-dot").await), ErrorKind::InvalidArgument);
        assert_eq!(
            kind(q.ack("unknown.token").await),
            ErrorKind::PreconditionFailed
        );
    }

    #[tokio::test(start_paused = true)]
    async fn nack_makes_receipt_stale_and_delays_redelivery() {
        let q = service(5).open("q").await.unwrap();
        q.send(vec![message("a")]).await.unwrap();
        let d = q.receive(receive_all()).await.unwrap().remove(0);
        q.nack(&d.receipt, Duration::from_secs(10)).await.unwrap();
        assert_eq!(kind(q.ack(&d.receipt).await), ErrorKind::PreconditionFailed);
        assert!(q.receive(receive_all()).await.unwrap().is_empty());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(q.receive(receive_all()).await.unwrap()[0].attempt, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_messages_wait_and_long_poll_finds_them() {
        let q = service(5).open("q").await.unwrap();
        let mut delayed = message("late");
        delayed.delay = Some(Duration::from_secs(2));
        q.send(vec![delayed, message("now")]).await.unwrap();
        let d = q.receive(receive_all()).await.unwrap();
        assert_eq!(
            d.iter().map(|d| d.body.as_ref()).collect::<Vec<_>>(),
            vec![b"now".as_ref()]
        );
        let wait = ReceiveOptions {
            wait: Duration::from_secs(5),
            ..receive_all()
        };
        let d = q.receive(wait).await.unwrap();
        assert_eq!(d[0].body.as_ref(), b"late");
    }

    #[tokio::test(start_paused = true)]
    async fn receive_returns_oldest_first_up_to_max() {
        let s = service(5);
        let q = s.open("q").await.unwrap();
        let ids = q
            .send(vec![message("1"), message("2"), message("3")])
            .await
            .unwrap();
        let two = ReceiveOptions {
            max_messages: 2,
            ..Default::default()
        };
        let d = s.open("q").await.unwrap().receive(two).await.unwrap();
        assert_eq!(
            d.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
            ids[..2].to_vec()
        );
    }
}
