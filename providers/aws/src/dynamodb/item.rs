//! The item layout in DynamoDB and the condition expressions over it.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use stratus::kv::{Item, Key, PutCondition};
use stratus::{Error, Result};

/// Partition key attribute (S).
pub const PK: &str = "pk";
/// Sort key attribute (S).
pub const SK: &str = "sk";
/// Value written by put (B).
pub const VAL: &str = "val";
/// Counter written by increment (N), instead of `val`.
pub const CNT: &str = "cnt";
/// Version token (S).
pub const VER: &str = "ver";
/// Expiry in milliseconds since the epoch (N); absent without TTL.
pub const EXP: &str = "exp_ms";
/// Expiry in whole seconds since the epoch (N), for DynamoDB's own TTL sweeper.
pub const TTL: &str = "ttl_s";

/// A raw DynamoDB item.
pub type Raw = HashMap<String, AttributeValue>;

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A fresh version token: 128 random bits in hex, never reused in practice.
pub fn new_version() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The primary key attributes of `key`.
pub fn key_attrs(key: &Key) -> Raw {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.partition.clone())),
        (SK.to_owned(), AttributeValue::S(key.sort.clone())),
    ])
}

/// The full item a put writes (replacing every attribute, so a missing TTL clears it).
pub fn encode(key: &Key, value: Bytes, version: &str, ttl: Option<Duration>, now: i64) -> Raw {
    let mut attrs = key_attrs(key);
    attrs.insert(VAL.to_owned(), AttributeValue::B(Blob::new(value.to_vec())));
    attrs.insert(VER.to_owned(), AttributeValue::S(version.to_owned()));
    if let Some(ttl) = ttl {
        let exp = now.saturating_add(ttl.as_millis().min(i64::MAX as u128) as i64);
        attrs.insert(EXP.to_owned(), AttributeValue::N(exp.to_string()));
        // Round up: the sweeper must never delete an item before it expired.
        let secs = exp.div_euclid(1000) + i64::from(exp.rem_euclid(1000) != 0);
        attrs.insert(TTL.to_owned(), AttributeValue::N(secs.to_string()));
    }
    attrs
}

fn string<'a>(raw: &'a Raw, name: &str) -> Result<&'a str> {
    match raw.get(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        other => Err(Error::internal(format!(
            "DynamoDB item attribute {name:?} is not a string: {other:?}"
        ))),
    }
}

fn number(raw: &Raw, name: &str) -> Result<Option<i64>> {
    match raw.get(name) {
        None => Ok(None),
        Some(AttributeValue::N(n)) => n.parse().map(Some).map_err(|_| {
            Error::internal(format!(
                "DynamoDB item attribute {name:?} is not a 64-bit integer: {n:?}"
            ))
        }),
        Some(other) => Err(Error::internal(format!(
            "DynamoDB item attribute {name:?} is not a number: {other:?}"
        ))),
    }
}

/// The expiry of a raw item in milliseconds, if it has one.
pub fn expiry(raw: &Raw) -> Result<Option<i64>> {
    number(raw, EXP)
}

/// Whether a raw item is live at `now` (not expired).
pub fn is_live(raw: &Raw, now: i64) -> Result<bool> {
    Ok(expiry(raw)?.is_none_or(|exp| exp > now))
}

/// The sort key of a raw item.
pub fn sort_key(raw: &Raw) -> Result<&str> {
    string(raw, SK)
}

/// The version of a raw item.
pub fn version(raw: &Raw) -> Result<&str> {
    string(raw, VER)
}

/// The counter of a raw item, when `increment` wrote it.
pub fn counter(raw: &Raw) -> Result<Option<i64>> {
    number(raw, CNT)
}

/// The value of a raw item: its bytes, or a counter as decimal text.
pub fn value(raw: &Raw) -> Result<Bytes> {
    if let Some(n) = counter(raw)? {
        return Ok(Bytes::from(n.to_string()));
    }
    match raw.get(VAL) {
        Some(AttributeValue::B(b)) => Ok(Bytes::copy_from_slice(b.as_ref())),
        other => Err(Error::internal(format!(
            "DynamoDB item has neither a value nor a counter: {other:?}"
        ))),
    }
}

/// The live item `raw` of `partition`, or `None` when it is expired at `now`.
pub fn decode(partition: &str, raw: &Raw, now: i64) -> Result<Option<Item>> {
    let exp = expiry(raw)?;
    if exp.is_some_and(|exp| exp <= now) {
        return Ok(None);
    }
    Ok(Some(Item {
        key: Key::new(partition, sort_key(raw)?),
        value: value(raw)?,
        version: version(raw)?.to_owned(),
        expires_at: exp.map(|ms| UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)),
    }))
}

/// Expression attribute names (`#pk` → `pk`, ...) used by one request.
#[derive(Debug, Default)]
pub struct Names(HashMap<String, String>);

impl Names {
    /// The placeholder of attribute `name`, registering it.
    pub fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#{name}");
        self.0.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    /// The map for `ExpressionAttributeNames`.
    pub fn into_map(self) -> HashMap<String, String> {
        self.0
    }
}

/// A condition expression and its values.
#[derive(Debug)]
pub struct Cond {
    /// The `ConditionExpression`.
    pub expression: String,
    /// Its `ExpressionAttributeValues`.
    pub values: Raw,
}

impl Cond {
    /// `live`: the item has no expiry or expires after `:now`.
    pub fn live(names: &mut Names) -> String {
        let exp = names.name(EXP);
        format!("(attribute_not_exists({exp}) OR {exp} > :now)")
    }

    /// `absent`: no item, or an expired one.
    pub fn absent(names: &mut Names) -> String {
        let pk = names.name(PK);
        let exp = names.name(EXP);
        format!("(attribute_not_exists({pk}) OR {exp} <= :now)")
    }

    /// The condition of a put (`None` for `Always`).
    pub fn for_put(condition: &PutCondition, names: &mut Names, now: i64) -> Option<Self> {
        match condition {
            PutCondition::Always => None,
            PutCondition::IfAbsent => Some(Self {
                expression: Self::absent(names),
                values: HashMap::from([now_value(now)]),
            }),
            PutCondition::IfVersion(v) => Some(Self::if_version(v, names, now)),
        }
    }

    /// A live item with version `v`.
    pub fn if_version(v: &str, names: &mut Names, now: i64) -> Self {
        let ver = names.name(VER);
        Self {
            expression: format!("{ver} = :ver AND {}", Self::live(names)),
            values: HashMap::from([
                now_value(now),
                (":ver".to_owned(), AttributeValue::S(v.to_owned())),
            ]),
        }
    }
}

/// The `:now` value.
pub fn now_value(now: i64) -> (String, AttributeValue) {
    (":now".to_owned(), AttributeValue::N(now.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_seconds_round_up() {
        let key = Key::new("p", "s");
        let raw = encode(
            &key,
            Bytes::new(),
            "v",
            Some(Duration::from_millis(1500)),
            1000,
        );
        assert_eq!(raw.get(EXP), Some(&AttributeValue::N("2500".into())));
        assert_eq!(raw.get(TTL), Some(&AttributeValue::N("3".into())));
        let item = decode("p", &raw, 2499).unwrap().unwrap();
        assert_eq!(
            item.expires_at,
            Some(UNIX_EPOCH + Duration::from_millis(2500))
        );
        assert!(decode("p", &raw, 2500).unwrap().is_none());
    }

    #[test]
    fn counters_read_as_decimal_text() {
        let mut raw = key_attrs(&Key::new("p", "s"));
        raw.insert(CNT.into(), AttributeValue::N("-42".into()));
        raw.insert(VER.into(), AttributeValue::S("v".into()));
        assert_eq!(value(&raw).unwrap(), Bytes::from_static(b"-42"));
    }
}
