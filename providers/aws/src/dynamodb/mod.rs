//! The `dynamodb` provider: KV tables on Amazon DynamoDB.
//!
//! Options: `region`, `endpoint` (see [`AwsOptions`]) and `table_prefix` (default empty).
//! Logical table `n` is the DynamoDB table `{table_prefix}{n}` (padded with `_` to the
//! 3-character minimum DynamoDB imposes; logical names never contain `_`, so the mapping
//! stays injective). Opening a table creates it when missing (`pk` S hash key, `sk` S
//! range key, on-demand billing), waits until it is `ACTIVE` and enables DynamoDB's TTL
//! sweeper on the epoch-seconds attribute `ttl_s`.
//!
//! Item layout (see [`item`]): `pk`, `sk`, the value in `val` (B) or, for counters written
//! by `increment`, in `cnt` (N); the version in `ver` (a random 128-bit hex token, never
//! reused); the expiry in `exp_ms` (N, milliseconds since the epoch) plus `ttl_s`. Every
//! condition is a `ConditionExpression` that treats an item whose `exp_ms <= now` as
//! absent, and reads filter such items, because DynamoDB deletes expired items lazily
//! (within days). Batches are `TransactWriteItems`; increments are a native
//! `UpdateItem ADD` on counters, with a compare-and-swap fallback for decimal text
//! written by put.

mod batch;
mod counter;
mod item;
mod query;
mod table;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use bytes::Bytes;
use stratus::capabilities::KvCapabilities;
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::kv::{
    BatchOp, BatchResult, DeleteCondition, Item, Key, KvService, KvStore, PutCondition,
    PutItemOptions, QueryOptions, QueryPage,
};
use stratus::{BuildContext, Declared, Error, ErrorKind, Provider, Result, async_trait};

use crate::common::{AwsOptions, sdk_error};
use item::{Cond, Names};

/// What every DynamoDB table declares.
pub const CAPABILITIES: KvCapabilities = KvCapabilities {
    ttl: true,
    atomic_batch: true,
    native_increment: true,
};

/// Options of a `dynamodb` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DynamoDbOptions {
    /// Region and endpoint.
    pub aws: AwsOptions,
    /// Prepended to every logical table name.
    pub table_prefix: String,
}

impl DynamoDbOptions {
    /// Parses the section (no side effects).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let aws = AwsOptions::parse(section)?;
        let table_prefix = section.string("table_prefix")?.unwrap_or_default();
        if let Some(c) = table_prefix
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            return Err(section.key_error(
                "table_prefix",
                format!("DynamoDB table names allow a-z A-Z 0-9 _ - . only, found {c:?}"),
            ));
        }
        if table_prefix.len() + stratus::limits::MAX_RESOURCE_NAME_CHARS > 255 {
            return Err(section.key_error("table_prefix", "too long for a DynamoDB table name"));
        }
        section.finish()?;
        Ok(Self { aws, table_prefix })
    }
}

/// The `dynamodb` provider (KV on Amazon DynamoDB).
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamoDbProvider;

#[async_trait]
impl Provider for DynamoDbProvider {
    fn name(&self) -> &'static str {
        "dynamodb"
    }

    fn description(&self) -> &'static str {
        "Amazon DynamoDB: KV tables created on first use, TTL, transactions, native counters"
    }

    fn declared(&self) -> Declared {
        Declared {
            kv: Some(CAPABILITIES),
            ..Declared::default()
        }
    }

    fn check(&self, service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        match service {
            ServiceKind::Kv => DynamoDbOptions::parse(options).map(drop),
            _ => options.finish(),
        }
    }

    async fn kv(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn KvService>> {
        let options = DynamoDbOptions::parse(options)?;
        Ok(Arc::new(DynamoDbKvService::connect(options).await))
    }
}

/// Opens DynamoDB tables by logical name, creating them on first use.
pub struct DynamoDbKvService {
    client: Client,
    prefix: String,
    tables: Mutex<HashMap<String, Arc<DynamoDbTable>>>,
}

impl DynamoDbKvService {
    /// A service using the SDK configuration of `options`.
    pub async fn connect(options: DynamoDbOptions) -> Self {
        let config = options.aws.sdk_config().await;
        Self {
            client: Client::new(&config),
            prefix: options.table_prefix,
            tables: Mutex::default(),
        }
    }

    /// The DynamoDB table name of logical table `name`.
    pub fn table_name(&self, name: &str) -> String {
        table::physical_name(&self.prefix, name)
    }
}

#[async_trait]
impl KvService for DynamoDbKvService {
    async fn open(&self, name: &str) -> Result<Arc<dyn KvStore>> {
        if let Some(table) = self.tables.lock().expect("table cache poisoned").get(name) {
            return Ok(table.clone());
        }
        let physical = self.table_name(name);
        table::ensure(&self.client, &physical).await?;
        let table = Arc::new(DynamoDbTable {
            client: self.client.clone(),
            name: physical,
        });
        let mut tables = self.tables.lock().expect("table cache poisoned");
        Ok(tables.entry(name.to_owned()).or_insert(table).clone())
    }
}

/// One DynamoDB table.
pub struct DynamoDbTable {
    client: Client,
    name: String,
}

/// The error of a put whose condition did not hold.
fn put_condition_failed(key: &Key, condition: &PutCondition) -> Error {
    match condition {
        PutCondition::IfAbsent => Error::new(
            ErrorKind::AlreadyExists,
            format!("item {:?}/{:?} already exists", key.partition, key.sort),
        ),
        PutCondition::IfVersion(v) => Error::precondition(format!(
            "item {:?}/{:?} is absent or does not have version {v:?}",
            key.partition, key.sort
        )),
        PutCondition::Always => Error::internal("an unconditional put failed its condition"),
    }
}

fn delete_condition_failed(key: &Key, version: &str) -> Error {
    Error::precondition(format!(
        "item {:?}/{:?} is absent or does not have version {version:?}",
        key.partition, key.sort
    ))
}

#[async_trait]
impl KvStore for DynamoDbTable {
    fn capabilities(&self) -> KvCapabilities {
        CAPABILITIES
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>> {
        let raw = self.read(key).await?;
        let now = item::now_ms();
        match raw {
            Some(raw) => item::decode(&key.partition, &raw, now),
            None => Ok(None),
        }
    }

    async fn put(&self, key: &Key, value: Bytes, opts: PutItemOptions) -> Result<String> {
        let now = item::now_ms();
        let version = item::new_version();
        let attrs = item::encode(key, value, &version, opts.ttl, now);
        let mut names = Names::default();
        let cond = Cond::for_put(&opts.condition, &mut names, now);
        let mut req = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(attrs));
        if let Some(cond) = cond {
            req = req
                .condition_expression(cond.expression)
                .set_expression_attribute_names(Some(names.into_map()))
                .set_expression_attribute_values(Some(cond.values));
        }
        match req.send().await {
            Ok(_) => Ok(version),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(put_condition_failed(key, &opts.condition))
            }
            Err(e) => Err(sdk_error("DynamoDB PutItem", e)),
        }
    }

    async fn delete(&self, key: &Key, condition: DeleteCondition) -> Result<()> {
        let now = item::now_ms();
        let mut names = Names::default();
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(item::key_attrs(key)));
        if let DeleteCondition::IfVersion(v) = &condition {
            let cond = Cond::if_version(v, &mut names, now);
            req = req
                .condition_expression(cond.expression)
                .set_expression_attribute_names(Some(names.into_map()))
                .set_expression_attribute_values(Some(cond.values));
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                let DeleteCondition::IfVersion(v) = &condition else {
                    return Err(Error::internal(
                        "an unconditional delete failed its condition",
                    ));
                };
                Err(delete_condition_failed(key, v))
            }
            Err(e) => Err(sdk_error("DynamoDB DeleteItem", e)),
        }
    }

    async fn query(&self, partition: &str, opts: QueryOptions) -> Result<QueryPage> {
        query::run(&self.client, &self.name, partition, &opts).await
    }

    async fn batch(&self, partition: &str, ops: Vec<BatchOp>) -> Result<Vec<BatchResult>> {
        batch::run(self, partition, ops).await
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        counter::increment(self, key, delta).await
    }
}

impl DynamoDbTable {
    /// The raw item at `key` (strongly consistent), expired or not.
    async fn read(&self, key: &Key) -> Result<Option<item::Raw>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(item::key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("DynamoDB GetItem", e))?;
        Ok(out.item)
    }
}
