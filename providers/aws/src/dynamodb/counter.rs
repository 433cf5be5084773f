//! `increment`: one native `UpdateItem ADD` on the numeric `cnt` attribute when the item is
//! absent or already a counter (with an overflow guard in the condition, since DynamoDB
//! numbers are wider than `i64`); otherwise a read followed by a conditional write:
//! restart an expired item from zero, convert decimal text written by put into a counter
//! (compare-and-swap on the version), or report the overflow / non-integer value.

use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use stratus::kv::{Key, checked_add, parse_counter};
use stratus::{Error, ErrorKind, Result};

use super::DynamoDbTable;
use super::item::{self, CNT, Cond, Names, PK, VAL, VER};
use crate::common::sdk_error;

/// Give up after this many lost races (each one means another writer made progress).
const MAX_ATTEMPTS: usize = 1000;

/// What a conditional write did.
enum Outcome {
    /// Written; the new counter value.
    Done(i64),
    /// The condition did not hold (the item changed meanwhile).
    Lost,
}

/// Adds `delta` to the counter at `key`.
pub async fn increment(table: &DynamoDbTable, key: &Key, delta: i64) -> Result<i64> {
    for _ in 0..MAX_ATTEMPTS {
        if let Outcome::Done(n) = native_add(table, key, delta).await? {
            return Ok(n);
        }
        let now = item::now_ms();
        let raw = table.read(key).await?;
        let outcome = match raw {
            Some(raw) if item::is_live(&raw, now)? => match item::counter(&raw)? {
                // A live counter the guard refused: overflow, unless it changed meanwhile.
                Some(current) => {
                    checked_add(current, delta)?;
                    Outcome::Lost
                }
                None => {
                    let current = parse_counter(&item::value(&raw)?)?;
                    let next = checked_add(current, delta)?;
                    convert(table, key, item::version(&raw)?, next, now).await?
                }
            },
            _ => restart(table, key, delta, now).await?,
        };
        if let Outcome::Done(n) = outcome {
            return Ok(n);
        }
    }
    Err(Error::new(
        ErrorKind::Unavailable,
        format!("increment of {key:?} lost {MAX_ATTEMPTS} races in a row"),
    )
    .with_retryable(true))
}

fn is_condition_failure<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// `ADD cnt :d` when the item is absent, or a live counter that will not overflow.
async fn native_add(table: &DynamoDbTable, key: &Key, delta: i64) -> Result<Outcome> {
    let now = item::now_ms();
    let mut names = Names::default();
    let pk = names.name(PK);
    let cnt = names.name(CNT);
    let ver = names.name(VER);
    let live = Cond::live(&mut names);
    let (guard, bound) = if delta >= 0 {
        ("<=", i64::MAX - delta)
    } else {
        (">=", i64::MIN - delta)
    };
    let condition = format!(
        "attribute_not_exists({pk}) OR (attribute_exists({cnt}) AND {live} AND {cnt} {guard} :bound)"
    );
    let values = HashMap::from([
        item::now_value(now),
        (":bound".to_owned(), number(bound)),
        (":d".to_owned(), number(delta)),
        (":ver".to_owned(), AttributeValue::S(item::new_version())),
    ]);
    let sent = table
        .client
        .update_item()
        .table_name(&table.name)
        .set_key(Some(item::key_attrs(key)))
        .update_expression(format!("SET {ver} = :ver ADD {cnt} :d"))
        .condition_expression(condition)
        .set_expression_attribute_names(Some(names.into_map()))
        .set_expression_attribute_values(Some(values))
        .return_values(ReturnValue::AllNew)
        .send()
        .await;
    match sent {
        Ok(out) => {
            let attrs = out.attributes.unwrap_or_default();
            match item::counter(&attrs)? {
                Some(n) => Ok(Outcome::Done(n)),
                None => Err(Error::internal(
                    "DynamoDB UpdateItem returned no counter value",
                )),
            }
        }
        Err(e) if is_condition_failure(&e) => Ok(Outcome::Lost),
        Err(e) => Err(sdk_error("DynamoDB UpdateItem (increment)", e)),
    }
}

/// Replaces an absent or expired item by a new counter `delta` without TTL.
async fn restart(table: &DynamoDbTable, key: &Key, delta: i64, now: i64) -> Result<Outcome> {
    let mut names = Names::default();
    let absent = Cond::absent(&mut names);
    let mut attrs = item::key_attrs(key);
    attrs.insert(CNT.to_owned(), number(delta));
    attrs.insert(VER.to_owned(), AttributeValue::S(item::new_version()));
    let sent = table
        .client
        .put_item()
        .table_name(&table.name)
        .set_item(Some(attrs))
        .condition_expression(absent)
        .set_expression_attribute_names(Some(names.into_map()))
        .set_expression_attribute_values(Some(HashMap::from([item::now_value(now)])))
        .send()
        .await;
    match sent {
        Ok(_) => Ok(Outcome::Done(delta)),
        Err(e) if is_condition_failure(&e) => Ok(Outcome::Lost),
        Err(e) => Err(sdk_error("DynamoDB PutItem (increment)", e)),
    }
}

/// Turns a live decimal-text value with version `version` into counter `next`, keeping
/// its expiry.
async fn convert(
    table: &DynamoDbTable,
    key: &Key,
    version: &str,
    next: i64,
    now: i64,
) -> Result<Outcome> {
    let mut names = Names::default();
    let cond = Cond::if_version(version, &mut names, now);
    let cnt = names.name(CNT);
    let val = names.name(VAL);
    let ver = names.name(VER);
    let mut values = cond.values;
    values.insert(":n".to_owned(), number(next));
    values.insert(":new".to_owned(), AttributeValue::S(item::new_version()));
    let sent = table
        .client
        .update_item()
        .table_name(&table.name)
        .set_key(Some(item::key_attrs(key)))
        .update_expression(format!("SET {cnt} = :n, {ver} = :new REMOVE {val}"))
        .condition_expression(cond.expression)
        .set_expression_attribute_names(Some(names.into_map()))
        .set_expression_attribute_values(Some(values))
        .send()
        .await;
    match sent {
        Ok(_) => Ok(Outcome::Done(next)),
        Err(e) if is_condition_failure(&e) => Ok(Outcome::Lost),
        Err(e) => Err(sdk_error("DynamoDB UpdateItem (increment)", e)),
    }
}
