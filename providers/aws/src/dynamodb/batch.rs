//! Atomic batches as one `TransactWriteItems` call. A cancelled transaction is mapped to
//! the first operation whose condition failed (`CancellationReasons`); when the endpoint
//! gives no reasons, the conditions are re-evaluated against a consistent read.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use stratus::kv::{BatchOp, BatchResult, DeleteCondition, Key, PutCondition};
use stratus::{Error, ErrorKind, Result};

use super::item::{self, Cond, Names};
use super::{DynamoDbTable, delete_condition_failed, put_condition_failed};
use crate::common::sdk_error;

fn build_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::internal(format!("building a DynamoDB transaction: {e}")).with_source(e)
}

/// One transaction item for `op`, and the version a put writes.
fn transact_item(
    table: &str,
    partition: &str,
    op: &BatchOp,
    now: i64,
) -> Result<(TransactWriteItem, Option<String>)> {
    let key = Key::new(partition, op.sort());
    let mut names = Names::default();
    match op {
        BatchOp::Put { value, opts, .. } => {
            let version = item::new_version();
            let attrs = item::encode(&key, value.clone(), &version, opts.ttl, now);
            let mut put = Put::builder().table_name(table).set_item(Some(attrs));
            if let Some(cond) = Cond::for_put(&opts.condition, &mut names, now) {
                put = put
                    .condition_expression(cond.expression)
                    .set_expression_attribute_names(Some(names.into_map()))
                    .set_expression_attribute_values(Some(cond.values));
            }
            let put = put.build().map_err(build_error)?;
            Ok((TransactWriteItem::builder().put(put).build(), Some(version)))
        }
        BatchOp::Delete { condition, .. } => {
            let mut delete = Delete::builder()
                .table_name(table)
                .set_key(Some(item::key_attrs(&key)));
            if let DeleteCondition::IfVersion(v) = condition {
                let cond = Cond::if_version(v, &mut names, now);
                delete = delete
                    .condition_expression(cond.expression)
                    .set_expression_attribute_names(Some(names.into_map()))
                    .set_expression_attribute_values(Some(cond.values));
            }
            let delete = delete.build().map_err(build_error)?;
            Ok((TransactWriteItem::builder().delete(delete).build(), None))
        }
    }
}

/// The error of `op` whose condition failed.
fn condition_failed(partition: &str, op: &BatchOp) -> Error {
    let key = Key::new(partition, op.sort());
    match op {
        BatchOp::Put { opts, .. } => put_condition_failed(&key, &opts.condition),
        BatchOp::Delete { condition, .. } => match condition {
            DeleteCondition::IfVersion(v) => delete_condition_failed(&key, v),
            DeleteCondition::Always => {
                Error::internal("an unconditional delete failed its condition")
            }
        },
    }
}

/// Applies `ops` in one transaction.
pub async fn run(
    table: &DynamoDbTable,
    partition: &str,
    ops: Vec<BatchOp>,
) -> Result<Vec<BatchResult>> {
    let now = item::now_ms();
    let mut items = Vec::with_capacity(ops.len());
    let mut results = Vec::with_capacity(ops.len());
    for op in &ops {
        let (item, version) = transact_item(&table.name, partition, op, now)?;
        items.push(item);
        results.push(version);
    }
    let sent = table
        .client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await;
    let err = match sent {
        Ok(_) => return Ok(results),
        Err(e) => e,
    };
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        err.as_service_error()
    else {
        return Err(sdk_error("DynamoDB TransactWriteItems", err));
    };
    let reasons: Vec<Option<&str>> = cancelled
        .cancellation_reasons()
        .iter()
        .map(|r| r.code())
        .collect();
    if let Some(i) = reasons
        .iter()
        .position(|c| *c == Some("ConditionalCheckFailed"))
        && let Some(op) = ops.get(i)
    {
        return Err(condition_failed(partition, op));
    }
    if reasons
        .iter()
        .any(|c| matches!(c, Some("TransactionConflict")))
    {
        return Err(Error::new(
            ErrorKind::Unavailable,
            "DynamoDB TransactWriteItems: cancelled by a conflicting transaction",
        )
        .with_retryable(true)
        .with_source(err));
    }
    if reasons.is_empty() {
        // No reasons given: find the first condition that does not hold now.
        for op in &ops {
            if !holds(table, partition, op).await? {
                return Err(condition_failed(partition, op));
            }
        }
    }
    Err(sdk_error("DynamoDB TransactWriteItems", err))
}

/// Whether the condition of `op` holds against the current item.
async fn holds(table: &DynamoDbTable, partition: &str, op: &BatchOp) -> Result<bool> {
    let expected = match op {
        BatchOp::Put { opts, .. } => match &opts.condition {
            PutCondition::Always => return Ok(true),
            PutCondition::IfAbsent => None,
            PutCondition::IfVersion(v) => Some(v),
        },
        BatchOp::Delete { condition, .. } => match condition {
            DeleteCondition::Always => return Ok(true),
            DeleteCondition::IfVersion(v) => Some(v),
        },
    };
    let now = item::now_ms();
    let raw = table.read(&Key::new(partition, op.sort())).await?;
    let live = match &raw {
        Some(raw) if item::is_live(raw, now)? => Some(raw),
        _ => None,
    };
    Ok(match (expected, live) {
        (None, live) => live.is_none(),
        (Some(v), Some(raw)) => item::version(raw)? == v,
        (Some(_), None) => false,
    })
}
