//! Bodies and attributes: round trips and size and name limits.

use std::collections::BTreeMap;

use bytes::Bytes;
use stratus::ErrorKind;
use stratus::limits::{MAX_QUEUE_ATTRIBUTES, MAX_QUEUE_MESSAGE_BYTES};
use stratus::queue::OutgoingMessage;

use super::{case, expect_empty, msg, receive_one};
use crate::case::{Case, ensure, ensure_eq, expect_kind};

fn with_attribute(name: &str, value: &str) -> OutgoingMessage {
    let mut m = msg("body");
    m.attributes.insert(name.into(), value.into());
    m
}

/// Content cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("binary_body_round_trip", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let all: Vec<u8> = (0..=255u8).collect();
            let invalid_utf8 = vec![0xc3, 0x28, 0x00, 0xff, 0xfe];
            q.send(vec![OutgoingMessage::new(Bytes::from(all.clone()))])
                .await?;
            let d = receive_one(&*q, "binary message", 5000, Some(30)).await?;
            ensure_eq("body of all 256 byte values", &d.body[..], &all[..])?;
            q.ack(&d.receipt).await?;
            q.send(vec![OutgoingMessage::new(Bytes::from(
                invalid_utf8.clone(),
            ))])
            .await?;
            let d = receive_one(&*q, "invalid UTF-8 message", 5000, Some(30)).await?;
            ensure_eq("body that is not UTF-8", &d.body[..], &invalid_utf8[..])
        }),
        case("attributes_round_trip", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let mut m = msg("with attributes");
            let pairs = [
                ("lang", "日本語"),
                ("emoji", "😀 ✓"),
                ("accent", "e\u{301} é"),
                ("spaces", "  leading and trailing  "),
                ("json", "{\"a\":[1,2]}"),
                ("with-dash", "x"),
                ("with_underscore", "y"),
                ("with.dot", "z"),
                ("n0", "0"),
                ("long", &"v".repeat(1000)),
            ];
            for (k, v) in pairs {
                m.attributes.insert(k.into(), v.into());
            }
            ensure_eq(
                "attributes prepared",
                m.attributes.len(),
                MAX_QUEUE_ATTRIBUTES,
            )?;
            q.send(vec![m.clone()]).await?;
            let d = receive_one(&*q, "message with attributes", 5000, Some(30)).await?;
            ensure_eq("attributes read back", &d.attributes, &m.attributes)?;
            ensure_eq("body", &d.body[..], b"with attributes")?;
            q.ack(&d.receipt).await?;
            q.send(vec![msg("bare")]).await?;
            let d = receive_one(&*q, "message without attributes", 5000, Some(30)).await?;
            ensure_eq(
                "attributes of a message sent without any",
                d.attributes,
                BTreeMap::new(),
            )
        }),
        case("message_size_limit", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let value = "a".repeat(100);
            let body_len = MAX_QUEUE_MESSAGE_BYTES - "size".len() - value.len();
            let body: Vec<u8> = (0..body_len).map(|i| (i % 253) as u8).collect();
            let mut m = OutgoingMessage::new(Bytes::from(body.clone()));
            m.attributes.insert("size".into(), value);
            ensure_eq("prepared message size", m.size(), MAX_QUEUE_MESSAGE_BYTES)?;
            q.send(vec![m.clone()]).await?;
            let d = receive_one(&*q, "message of exactly 256 KiB", 5000, Some(30)).await?;
            ensure(
                d.body[..] == body[..],
                format!(
                    "body of {body_len} bytes read back as {} different bytes",
                    d.body.len()
                ),
            )?;
            ensure_eq("attributes", &d.attributes, &m.attributes)?;
            q.ack(&d.receipt).await?;
            m.attributes.insert("size".into(), "a".repeat(101));
            expect_kind(
                "send of 256 KiB + 1 byte (body and attributes)",
                q.send(vec![m]).await,
                ErrorKind::InvalidArgument,
            )?;
            let over = OutgoingMessage::new(Bytes::from(vec![1u8; MAX_QUEUE_MESSAGE_BYTES + 1]));
            expect_kind(
                "send of a 256 KiB + 1 byte body",
                q.send(vec![over]).await,
                ErrorKind::InvalidArgument,
            )?;
            expect_empty(&*q, "queue after refused sends").await
        }),
        case("too_many_attributes_are_invalid", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let mut m = msg("body");
            for i in 0..=MAX_QUEUE_ATTRIBUTES {
                m.attributes.insert(format!("a{i}"), "v".into());
            }
            expect_kind(
                "send with 11 attributes",
                q.send(vec![m]).await,
                ErrorKind::InvalidArgument,
            )?;
            // One bad message refuses the whole batch.
            let mut bad = msg("bad");
            for i in 0..=MAX_QUEUE_ATTRIBUTES {
                bad.attributes.insert(format!("a{i}"), "v".into());
            }
            expect_kind(
                "batch with one invalid message",
                q.send(vec![msg("good"), bad]).await,
                ErrorKind::InvalidArgument,
            )?;
            expect_empty(&*q, "queue after refused sends").await
        }),
        case("bad_attribute_names_are_invalid", None, |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let too_long = "n".repeat(129);
            for name in [
                "",
                "Upper",
                "with space",
                "ü",
                "a/b",
                "a:b",
                too_long.as_str(),
            ] {
                let r = q.send(vec![with_attribute(name, "v")]).await;
                expect_kind(
                    &format!("attribute name {name:?}"),
                    r,
                    ErrorKind::InvalidArgument,
                )?;
            }
            let r = q.send(vec![with_attribute("ctl", "line\nbreak")]).await;
            expect_kind(
                "attribute value with a control character",
                r,
                ErrorKind::InvalidArgument,
            )?;
            expect_empty(&*q, "queue after refused sends").await?;
            let longest = "n".repeat(128);
            q.send(vec![with_attribute(&longest, "v")]).await?;
            let d = receive_one(
                &*q,
                "message with a 128-character attribute name",
                5000,
                Some(30),
            )
            .await?;
            ensure(
                d.attributes.contains_key(&longest),
                "the 128-character attribute name was not kept",
            )
        }),
    ]
}
