//! The stored form of a queue message.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::clock::to_time;

use stratus::{Error, Result};

/// One message: `attempt u32 | visible_at u64 | sent_at u64 | token | attributes | body`
/// (little-endian; token and attribute strings are length-prefixed, the body is the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Deliveries so far (0 before the first).
    pub attempt: u32,
    /// When the message is (next) visible, ms since the epoch.
    pub visible_at: u64,
    /// When it was sent, ms since the epoch.
    pub sent_at: u64,
    /// The token of the current delivery; empty when there is none.
    pub token: String,
    /// Attributes as sent.
    pub attributes: BTreeMap<String, String>,
    /// Body as sent.
    pub body: Vec<u8>,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u32::try_from(s.len()).expect("short string").to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(corrupt());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn string(&mut self) -> Result<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| corrupt())
    }
}

fn corrupt() -> Error {
    Error::internal("corrupt queue message in the database")
}

impl Message {
    /// Serialises the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.body.len());
        out.extend_from_slice(&self.attempt.to_le_bytes());
        out.extend_from_slice(&self.visible_at.to_le_bytes());
        out.extend_from_slice(&self.sent_at.to_le_bytes());
        put_str(&mut out, &self.token);
        out.extend_from_slice(
            &u32::try_from(self.attributes.len())
                .expect("few attributes")
                .to_le_bytes(),
        );
        for (k, v) in &self.attributes {
            put_str(&mut out, k);
            put_str(&mut out, v);
        }
        out.extend_from_slice(&self.body);
        out
    }

    /// Parses a message written by [`Message::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader(bytes);
        let attempt = r.u32()?;
        let visible_at = r.u64()?;
        let sent_at = r.u64()?;
        let token = r.string()?;
        let count = r.u32()?;
        let mut attributes = BTreeMap::new();
        for _ in 0..count {
            let k = r.string()?;
            attributes.insert(k, r.string()?);
        }
        Ok(Self {
            attempt,
            visible_at,
            sent_at,
            token,
            attributes,
            body: r.0.to_vec(),
        })
    }

    /// `sent_at` as a time.
    pub fn sent_at_time(&self) -> SystemTime {
        to_time(self.sent_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let m = Message {
            attempt: 3,
            visible_at: 10,
            sent_at: 5,
            token: "tok".into(),
            attributes: [
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), String::new()),
            ]
            .into(),
            body: vec![0, 255, 1],
        };
        assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        assert!(Message::decode(&m.encode()[..10]).is_err());
    }
}
