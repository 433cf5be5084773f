//! How stratus messages become SQS messages and back.
//!
//! SQS bodies must be non-empty XML-safe text. A body that is valid UTF-8 made only of
//! characters SQS accepts is sent as it is; any other body is sent base64-encoded with
//! the attribute `stratus.body = base64` (an empty body as `-` with `stratus.body =
//! empty`). User attributes are sent as native String attributes when SQS can carry
//! them exactly (valid names outside the reserved `stratus.` prefix, non-empty values,
//! at most 10 attributes in all); otherwise all of them travel as one JSON object in
//! `stratus.attrs`. Attributes starting with `stratus.` are never shown to callers.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_sqs::types::MessageAttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use stratus::{Error, Result};

/// The reserved attribute prefix.
pub const RESERVED: &str = "stratus.";
/// Marker attribute naming the body encoding.
const BODY: &str = "stratus.body";
/// Attribute holding packed user attributes (JSON object).
const ATTRS: &str = "stratus.attrs";
/// SQS's limit of message attributes per message.
const MAX_SQS_ATTRIBUTES: usize = 10;

/// A message as SQS carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    /// The text body.
    pub body: String,
    /// String message attributes.
    pub attributes: BTreeMap<String, String>,
}

/// Whether SQS accepts `c` in a body or attribute value (XML 1.0 characters).
fn sqs_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Whether SQS accepts `name` as a message attribute name.
fn sqs_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.")
        && !name.starts_with(RESERVED)
}

/// Encodes a body and user attributes for SQS.
pub fn encode(body: &Bytes, attributes: &BTreeMap<String, String>) -> Wire {
    let mut wire = BTreeMap::new();
    let text = match std::str::from_utf8(body) {
        Ok("") => {
            wire.insert(BODY.to_owned(), "empty".to_owned());
            "-".to_owned()
        }
        Ok(text) if text.chars().all(sqs_char) => text.to_owned(),
        _ => {
            wire.insert(BODY.to_owned(), "base64".to_owned());
            STANDARD.encode(body)
        }
    };
    let native = attributes.len() + wire.len() <= MAX_SQS_ATTRIBUTES
        && attributes
            .iter()
            .all(|(k, v)| sqs_name(k) && !v.is_empty() && v.chars().all(sqs_char));
    if native {
        wire.extend(attributes.clone());
    } else if !attributes.is_empty() {
        let packed = serde_json::to_string(attributes).expect("string maps serialize");
        wire.insert(ATTRS.to_owned(), packed);
    }
    Wire {
        body: text,
        attributes: wire,
    }
}

/// Decodes an SQS body and its String attributes back into the sent body and attributes.
pub fn decode(
    body: &str,
    attributes: &HashMap<String, MessageAttributeValue>,
) -> Result<(Bytes, BTreeMap<String, String>)> {
    let value = |name: &str| attributes.get(name).and_then(|v| v.string_value());
    let body = match value(BODY) {
        Some("empty") => Bytes::new(),
        Some("base64") => Bytes::from(
            STANDARD
                .decode(body)
                .map_err(|e| Error::internal(format!("message body is not valid base64: {e}")))?,
        ),
        _ => Bytes::from(body.to_owned()),
    };
    let mut user: BTreeMap<String, String> = match value(ATTRS) {
        Some(packed) => serde_json::from_str(packed)
            .map_err(|e| Error::internal(format!("packed attributes are not valid: {e}")))?,
        None => BTreeMap::new(),
    };
    for (name, v) in attributes {
        if !name.starts_with(RESERVED)
            && let Some(s) = v.string_value()
        {
            user.insert(name.clone(), s.to_owned());
        }
    }
    Ok((body, user))
}

/// The SQS form of a String attribute.
pub fn string_attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data type is set")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(body: &[u8], attributes: &[(&str, &str)]) {
        let body = Bytes::copy_from_slice(body);
        let attributes: BTreeMap<String, String> = attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let wire = encode(&body, &attributes);
        assert!(!wire.body.is_empty());
        assert!(wire.attributes.len() <= MAX_SQS_ATTRIBUTES);
        let sqs: HashMap<String, MessageAttributeValue> = wire
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), string_attribute(v)))
            .collect();
        assert_eq!(decode(&wire.body, &sqs).unwrap(), (body, attributes));
    }

    #[test]
    fn bodies_and_attributes_round_trip() {
        round_trip(b"plain text", &[("a", "1")]);
        round_trip(b"", &[]);
        round_trip(&[0, 159, 146, 150, 255], &[("x", "")]);
        round_trip(b"ctl\x01char", &[(".lead", "v"), ("a..b", "w")]);
        round_trip(b"reserved", &[("stratus.body", "base64")]);
        let ten: Vec<(String, String)> = (0..10).map(|i| (format!("k{i}"), "v".into())).collect();
        let ten: Vec<(&str, &str)> = ten.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        round_trip(&[0xff], &ten);
        round_trip(b"text", &ten);
    }
}
