//! Table names and idempotent creation (create, wait until active, enable TTL).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use stratus::{Error, ErrorKind, Result};

use super::item::{PK, SK, TTL};
use crate::common::sdk_error;

/// DynamoDB's shortest table name.
const MIN_TABLE_NAME: usize = 3;
/// How long to wait for a new table to become active.
const ACTIVE_WAIT: Duration = Duration::from_secs(120);

/// `{prefix}{name}`, padded with `_` to DynamoDB's 3-character minimum. Logical names
/// never contain `_` nor end with it, so padding keeps the mapping injective.
pub fn physical_name(prefix: &str, name: &str) -> String {
    let mut physical = format!("{prefix}{name}");
    while physical.len() < MIN_TABLE_NAME {
        physical.push('_');
    }
    physical
}

fn build_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::internal(format!("building a DynamoDB request: {e}")).with_source(e)
}

/// Creates table `name` unless it exists, waits until it is active and enables TTL.
pub async fn ensure(client: &Client, name: &str) -> Result<()> {
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(PK)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_error)?,
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(SK)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_error)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(PK)
                .key_type(KeyType::Hash)
                .build()
                .map_err(build_error)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(SK)
                .key_type(KeyType::Range)
                .build()
                .map_err(build_error)?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(sdk_error(&format!("DynamoDB CreateTable {name}"), e)),
    }
    wait_active(client, name).await?;
    enable_ttl(client, name).await
}

async fn wait_active(client: &Client, name: &str) -> Result<()> {
    let started = tokio::time::Instant::now();
    loop {
        let out = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("DynamoDB DescribeTable {name}"), e))?;
        let status = out.table.and_then(|t| t.table_status);
        match status {
            Some(TableStatus::Active) => return Ok(()),
            Some(TableStatus::Creating) | Some(TableStatus::Updating) | None => {}
            Some(other) => {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!("DynamoDB table {name} is {}", other.as_str()),
                ));
            }
        }
        if started.elapsed() > ACTIVE_WAIT {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("DynamoDB table {name} not active after {ACTIVE_WAIT:?}"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn enable_ttl(client: &Client, name: &str) -> Result<()> {
    let current = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("DynamoDB DescribeTimeToLive {name}"), e))?;
    if let Some(d) = current.time_to_live_description() {
        let on = matches!(
            d.time_to_live_status(),
            Some(TimeToLiveStatus::Enabled) | Some(TimeToLiveStatus::Enabling)
        );
        if on && d.attribute_name() == Some(TTL) {
            return Ok(());
        }
    }
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TTL)
        .build()
        .map_err(build_error)?;
    let updated = client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(spec)
        .send()
        .await;
    match updated {
        Ok(_) => Ok(()),
        // A concurrent opener enabled it first.
        Err(e)
            if e.as_service_error()
                .and_then(|s| s.meta().message())
                .is_some_and(|m| m.contains("already enabled")) =>
        {
            Ok(())
        }
        Err(e) => Err(sdk_error(&format!("DynamoDB UpdateTimeToLive {name}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_padded() {
        assert_eq!(physical_name("", "a"), "a__");
        assert_eq!(physical_name("t-", "a"), "t-a");
        assert_eq!(physical_name("", "kv"), "kv_");
        assert_eq!(physical_name("", "orders"), "orders");
    }
}
