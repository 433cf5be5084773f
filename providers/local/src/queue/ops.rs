//! The blocking redb transactions behind each queue operation.
//!
//! `queue#messages` maps (queue, id) to a [`Message`]; `queue#visible` holds exactly one
//! (queue, visible_at, id) entry per message, so a range scan up to `now` yields the
//! visible messages oldest-visible first. Ids come from a counter in `queue#meta`.

use std::collections::HashSet;
use std::ops::Bound;
use std::time::Duration;

use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction};
use stratus::queue::{Delivery, OutgoingMessage, encode_receipt, stale_receipt};
use stratus::{Bytes, Result};

use super::record::Message;
use crate::clock::{after, now_ms};
use crate::db::Db;

const MESSAGES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("queue#messages");
const VISIBLE: TableDefinition<(&str, u64, u64), ()> = TableDefinition::new("queue#visible");
const META: TableDefinition<&str, u64> = TableDefinition::new("queue#meta");
const NEXT_ID: &str = "next_id";
/// Index entries examined per scan step of a receive.
const SCAN_CHUNK: usize = 32;

type Messages<'t> = Table<'t, (&'static str, u64), &'static [u8]>;
type Visible<'t> = Table<'t, (&'static str, u64, u64), ()>;

/// Creates the queue tables if missing.
pub fn create_tables(db: &Database) -> Result<()> {
    let txn = db.begin_write().db("begin write")?;
    txn.open_table(MESSAGES).db("open messages table")?;
    txn.open_table(VISIBLE).db("open index table")?;
    txn.open_table(META).db("open meta table")?;
    txn.commit().db("commit")
}

fn next_id(txn: &WriteTransaction) -> Result<u64> {
    let mut meta = txn.open_table(META).db("open meta table")?;
    let id = meta
        .get(NEXT_ID)
        .db("read id counter")?
        .map_or(0, |v| v.value())
        + 1;
    meta.insert(NEXT_ID, id).db("write id counter")?;
    Ok(id)
}

fn load(messages: &Messages<'_>, queue: &str, id: u64) -> Result<Option<Message>> {
    match messages.get((queue, id)).db("read message")? {
        Some(guard) => Message::decode(guard.value()).map(Some),
        None => Ok(None),
    }
}

/// Writes `message` under (queue, id) with its index entry.
fn store(
    messages: &mut Messages<'_>,
    visible: &mut Visible<'_>,
    queue: &str,
    id: u64,
    message: &Message,
) -> Result<()> {
    messages
        .insert((queue, id), message.encode().as_slice())
        .db("write message")?;
    visible
        .insert((queue, message.visible_at, id), ())
        .db("write index")?;
    Ok(())
}

/// Appends `batch` to `queue`; returns the new ids in order.
pub fn send(db: &Database, queue: &str, batch: Vec<OutgoingMessage>) -> Result<Vec<u64>> {
    let txn = db.begin_write().db("begin write")?;
    let mut ids = Vec::with_capacity(batch.len());
    {
        let mut messages = txn.open_table(MESSAGES).db("open messages table")?;
        let mut visible = txn.open_table(VISIBLE).db("open index table")?;
        let now = now_ms();
        for m in batch {
            let id = next_id(&txn)?;
            let message = Message {
                attempt: 0,
                visible_at: after(now, m.delay.unwrap_or_default()),
                sent_at: now,
                token: String::new(),
                attributes: m.attributes,
                body: m.body.to_vec(),
            };
            store(&mut messages, &mut visible, queue, id, &message)?;
            ids.push(id);
        }
    }
    txn.commit().db("commit")?;
    Ok(ids)
}

/// Whether `queue` has a message visible at `now` (read-only, takes no write lock).
pub fn has_visible(db: &Database, queue: &str, now: u64) -> Result<bool> {
    let txn = db.begin_read().db("begin read")?;
    let visible = txn.open_table(VISIBLE).db("open index table")?;
    let mut range = visible
        .range((queue, 0, 0)..=(queue, now, u64::MAX))
        .db("scan index")?;
    Ok(range.next().transpose().db("scan index")?.is_some())
}

/// What one receive transaction did.
pub struct Received {
    /// The deliveries made.
    pub deliveries: Vec<Delivery>,
    /// Whether messages were moved to the dead-letter queue.
    pub dead_lettered: bool,
}

/// How a receive treats the messages it takes.
pub struct ReceivePlan<'a> {
    /// The queue.
    pub queue: &'a str,
    /// Where messages past `max_attempts` go (`None`: never dead-letter).
    pub dead_letter: Option<&'a str>,
    /// Deliveries allowed before dead-lettering (0: unlimited).
    pub max_attempts: u32,
    /// At most this many deliveries.
    pub max: usize,
    /// Invisibility after delivery.
    pub visibility: Duration,
}

/// Takes up to `plan.max` visible messages in one write transaction.
pub fn receive(db: &Database, plan: &ReceivePlan<'_>) -> Result<Received> {
    let queue = plan.queue;
    let now = now_ms();
    if !has_visible(db, queue, now)? {
        return Ok(Received {
            deliveries: Vec::new(),
            dead_lettered: false,
        });
    }
    let txn = db.begin_write().db("begin write")?;
    let mut out = Received {
        deliveries: Vec::new(),
        dead_lettered: false,
    };
    let mut changed = false;
    {
        let mut messages = txn.open_table(MESSAGES).db("open messages table")?;
        let mut visible = txn.open_table(VISIBLE).db("open index table")?;
        let mut seen = HashSet::new();
        let mut lower = Bound::Included((queue, 0, 0));
        'scan: loop {
            let chunk: Vec<(u64, u64)> = visible
                .range((lower, Bound::Included((queue, now, u64::MAX))))
                .db("scan index")?
                .take(SCAN_CHUNK)
                .map(|e| e.map(|(k, _)| (k.value().1, k.value().2)))
                .collect::<std::result::Result<_, _>>()
                .db("scan index")?;
            let Some(&(last_at, last_id)) = chunk.last() else {
                break;
            };
            lower = Bound::Excluded((queue, last_at, last_id));
            for (visible_at, id) in chunk {
                // A zero visibility timeout re-indexes a message at `now`; take it once.
                if !seen.insert(id) {
                    continue;
                }
                visible.remove((queue, visible_at, id)).db("update index")?;
                changed = true;
                let Some(mut message) = load(&messages, queue, id)? else {
                    continue;
                };
                if let Some(dlq) = plan.dead_letter.filter(|_| plan.max_attempts > 0)
                    && message.attempt >= plan.max_attempts
                {
                    messages.remove((queue, id)).db("remove message")?;
                    let moved = Message {
                        attempt: 0,
                        visible_at: now,
                        token: String::new(),
                        ..message
                    };
                    store(&mut messages, &mut visible, dlq, id, &moved)?;
                    out.dead_lettered = true;
                    continue;
                }
                message.attempt += 1;
                message.visible_at = after(now, plan.visibility);
                message.token = uuid::Uuid::new_v4().simple().to_string();
                store(&mut messages, &mut visible, queue, id, &message)?;
                out.deliveries.push(Delivery {
                    id: id.to_string(),
                    receipt: encode_receipt(&id.to_string(), &message.token),
                    attempt: message.attempt,
                    sent_at: message.sent_at_time(),
                    attributes: message.attributes,
                    body: Bytes::from(message.body),
                });
                if out.deliveries.len() >= plan.max {
                    break 'scan;
                }
            }
        }
    }
    if changed {
        txn.commit().db("commit")?;
    } else {
        // Another receiver took everything since the read-only check: nothing to write.
        txn.abort().db("abort")?;
    }
    Ok(out)
}

/// What to do with the current delivery of a message.
pub enum Settle {
    /// Remove the message.
    Ack,
    /// Make it visible at now + delay and end the delivery.
    Nack(Duration),
    /// Keep it invisible until now + visibility; the receipt stays current.
    Extend(Duration),
}

/// Applies `action` to message `id` of `queue` if `token` is its current delivery.
pub fn settle(db: &Database, queue: &str, id: u64, token: &str, action: Settle) -> Result<()> {
    let txn = db.begin_write().db("begin write")?;
    {
        let mut messages = txn.open_table(MESSAGES).db("open messages table")?;
        let mut visible = txn.open_table(VISIBLE).db("open index table")?;
        let now = now_ms();
        let mut message = load(&messages, queue, id)?
            .filter(|m| !m.token.is_empty() && m.token == token && m.visible_at > now)
            .ok_or_else(stale_receipt)?;
        visible
            .remove((queue, message.visible_at, id))
            .db("update index")?;
        match action {
            Settle::Ack => {
                messages.remove((queue, id)).db("remove message")?;
            }
            Settle::Nack(delay) => {
                message.visible_at = after(now, delay);
                message.token.clear();
                store(&mut messages, &mut visible, queue, id, &message)?;
            }
            Settle::Extend(visibility) => {
                message.visible_at = after(now, visibility);
                store(&mut messages, &mut visible, queue, id, &message)?;
            }
        }
    }
    txn.commit().db("commit")
}
