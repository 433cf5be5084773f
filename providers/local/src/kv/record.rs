//! The stored form of a KV item and of its key.

use std::time::{Duration, SystemTime};

use crate::clock::{after, to_time};

use stratus::{Error, Result};

/// Separates partition and sort key; smaller than any character a key may contain.
const SEPARATOR: u8 = 0x00;

/// `partition 0x00 sort`.
pub fn encode_key(partition: &str, sort: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(partition.len() + 1 + sort.len());
    key.extend_from_slice(partition.as_bytes());
    key.push(SEPARATOR);
    key.extend_from_slice(sort.as_bytes());
    key
}

/// The first key of `partition` (`partition 0x00`).
pub fn partition_start(partition: &str) -> Vec<u8> {
    encode_key(partition, "")
}

/// The first key after every key of `partition` (`partition 0x01`).
pub fn partition_end(partition: &str) -> Vec<u8> {
    let mut key = partition_start(partition);
    *key.last_mut().expect("non-empty") = SEPARATOR + 1;
    key
}

/// The sort key of an encoded key of `partition`.
pub fn sort_of(partition: &str, key: &[u8]) -> Result<String> {
    key.get(partition.len() + 1..)
        .and_then(|s| std::str::from_utf8(s).ok())
        .map(str::to_owned)
        .ok_or_else(|| Error::internal("corrupt KV key in the database"))
}

/// One stored item: `version u64 LE | expires_at ms u64 LE (0 = never) | value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The store-wide counter value of the write that produced it.
    pub version: u64,
    /// Expiry in ms since the epoch; 0 means no TTL.
    pub expires_at: u64,
    /// The value.
    pub value: Vec<u8>,
}

const HEADER: usize = 16;

impl Record {
    /// Serialises the record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.value.len());
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.expires_at.to_le_bytes());
        out.extend_from_slice(&self.value);
        out
    }

    /// Parses a record written by [`Record::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < HEADER {
            return Err(Error::internal("corrupt KV record in the database"));
        }
        let (version, rest) = bytes.split_at(8);
        let (expires, value) = rest.split_at(8);
        Ok(Self {
            version: u64::from_le_bytes(version.try_into().expect("8 bytes")),
            expires_at: u64::from_le_bytes(expires.try_into().expect("8 bytes")),
            value: value.to_vec(),
        })
    }

    /// Whether the record is expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at != 0 && self.expires_at <= now_ms
    }

    /// The version as the API shows it.
    pub fn version_string(&self) -> String {
        self.version.to_string()
    }

    /// The expiry as the API shows it.
    pub fn expires_at_time(&self) -> Option<SystemTime> {
        (self.expires_at != 0).then(|| to_time(self.expires_at))
    }
}

/// The expiry of a write with `ttl` made at `now_ms` (0: none).
pub fn expiry(ttl: Option<Duration>, now_ms: u64) -> u64 {
    ttl.map_or(0, |ttl| after(now_ms, ttl).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let r = Record {
            version: 7,
            expires_at: 123,
            value: b"\x00hi".to_vec(),
        };
        assert_eq!(Record::decode(&r.encode()).unwrap(), r);
        assert!(Record::decode(b"short").is_err());
    }

    #[test]
    fn keys_order_by_partition_then_sort() {
        let a = encode_key("a", "zzz");
        let ab = encode_key("ab", "");
        assert!(a < ab);
        assert!(a < partition_end("a") && partition_end("a") < ab);
        assert_eq!(sort_of("a", &a).unwrap(), "zzz");
    }
}
