//! The `azure-table` provider: Azure Table Storage over the SharedKey (Table) REST API.
//!
//! - Table `n` is [`table_name`]`(table_prefix, n)`: Azure wants 3..=63 alphanumeric
//!   characters starting with a letter, so names are escaped injectively (`x` -> `x0`,
//!   `-` -> `x1`) behind a `n` marker, or replaced by `h` + a SHA-256 digest when too long.
//! - PartitionKey and RowKey encode each UTF-8 byte `b` as the character `U+0100 + b`
//!   ([`encode_key`]): order preserving, free of the characters Azure forbids in keys, and
//!   one UTF-16 unit per byte so 512-byte keys fit Azure's key limit (hex would not). A
//!   prefix `p` is the RowKey range `[enc(p), enc(p) + U+0200)`.
//! - The version is the entity's ETag (a new timestamp on every write).
//! - Values are split into Edm.Binary properties `v0..` of at most 64 KiB (`n` = count);
//!   the TTL is an Edm.Int64 property `x` (Unix milliseconds) filtered on every read and
//!   treated as absent by every condition (conditional writes read first, then write with
//!   `If-Match` on the ETag seen).
//! - Queries use `$filter` on PartitionKey and the RowKey window, `$top` and the
//!   `NextPartitionKey`/`NextRowKey` continuation; the stratus cursor stays the last sort
//!   key. The service only returns ascending order, so a descending query reads the whole
//!   remaining window ascending and reverses it (cost proportional to the window, per page).
//! - Batches are entity group transactions (`$batch`), after reading every key of the batch
//!   to check conditions in order (expired items count as absent); a batch that loses a race
//!   is retried from the reads.
//! - `increment` is an ETag compare-and-swap loop (`native_increment` false).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use reqwest::Method;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use stratus::capabilities::KvCapabilities;
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::kv::{
    BatchOp, BatchResult, DeleteCondition, Item, Key, KvService, KvStore, Order, PutCondition,
    PutItemOptions, QueryOptions, QueryPage, SortWindow, checked_add, is_expired, page_of,
    parse_counter,
};
use stratus::{BuildContext, Declared, Error, ErrorKind, Provider, Result, async_trait};

use crate::options::AzureOptions;
use crate::rest::{Client, Reply, Request};
use crate::shared_key::Flavour;

/// What every Azure table declares.
pub const CAPABILITIES: KvCapabilities = KvCapabilities {
    ttl: true,
    atomic_batch: true,
    native_increment: false,
};

/// Bytes per Edm.Binary value chunk (Azure's property limit is 64 KiB).
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Default table prefix.
pub const DEFAULT_TABLE_PREFIX: &str = "stratus";

const ACCEPT: &str = "application/json;odata=minimalmetadata";
const PAGE: usize = 1000;

/// Options of the `azure-table` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// Account, key, table endpoint.
    pub azure: AzureOptions,
    /// Prefix of every table name (alphanumeric, starts with a letter).
    pub table_prefix: String,
}

impl TableOptions {
    /// Parses the section (no side effects).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let azure = AzureOptions::parse(section)?;
        let table_prefix = section
            .string("table_prefix")?
            .unwrap_or_else(|| DEFAULT_TABLE_PREFIX.to_owned());
        let ok = table_prefix.len() <= 20
            && table_prefix.starts_with(|c: char| c.is_ascii_alphabetic())
            && table_prefix.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(section.key_error(
                "table_prefix",
                "must be 1..=20 letters and digits, starting with a letter",
            ));
        }
        section.finish()?;
        Ok(Self {
            azure,
            table_prefix,
        })
    }
}

/// The Azure table name of logical table `name`: injective for names that fit, a digest
/// for names that do not.
pub fn table_name(prefix: &str, name: &str) -> String {
    let mut direct = format!("{prefix}n");
    for c in name.chars() {
        match c {
            'x' => direct.push_str("x0"),
            '-' => direct.push_str("x1"),
            c if c.is_ascii_alphanumeric() => direct.push(c),
            c => direct.push_str(&format!("x2{:x}", c as u32)),
        }
    }
    if direct.len() <= 63 {
        direct
    } else {
        let digest = hex::encode(Sha256::digest(name.as_bytes()));
        format!("{prefix}h{}", &digest[..40])
    }
}

/// First character of the key alphabet: byte `b` is the character `U+0100 + b`.
const KEY_BASE: u32 = 0x100;

/// Upper bound of every encoded key that starts with an encoded prefix.
pub const PREFIX_END: char = '\u{200}';

/// The key encoding: every UTF-8 byte `b` becomes the character `U+0100 + b` (Latin
/// Extended-A/B). It keeps byte order under Azure's ordinal comparison (UTF-16 code units,
/// all in the BMP), uses none of the characters Azure forbids in keys (`/ \ # ?`, control
/// characters), and stays one UTF-16 unit per byte, so a 512-byte key fits Azure's 1 KiB
/// (512-character) key limit. (Hex would need 1024 characters.)
pub fn encode_key(key: &str) -> String {
    key.bytes()
        .map(|b| char::from_u32(KEY_BASE + u32::from(b)).expect("U+0100..U+01FF are chars"))
        .collect()
}

/// Decodes [`encode_key`].
pub fn decode_key(encoded: &str) -> Result<String> {
    let bytes: Option<Vec<u8>> = encoded
        .chars()
        .map(|c| {
            u32::from(c)
                .checked_sub(KEY_BASE)
                .and_then(|b| u8::try_from(b).ok())
        })
        .collect();
    bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| Error::internal(format!("table key {encoded:?} is not a stratus key")))
}

/// Splits `value` into Edm.Binary properties `v0..` plus the count `n`.
pub fn chunk_value(value: &[u8], entity: &mut Map<String, Value>) {
    let chunks: Vec<&[u8]> = value.chunks(CHUNK_BYTES).collect();
    entity.insert("n".into(), json!(chunks.len()));
    for (i, chunk) in chunks.iter().enumerate() {
        entity.insert(format!("v{i}"), json!(STANDARD.encode(chunk)));
        entity.insert(format!("v{i}@odata.type"), json!("Edm.Binary"));
    }
}

/// Joins the chunks written by [`chunk_value`].
pub fn join_value(entity: &Map<String, Value>) -> Result<Bytes> {
    let n = entity.get("n").and_then(Value::as_u64).unwrap_or(0);
    let mut out = BytesMut::new();
    for i in 0..n {
        let chunk = entity
            .get(&format!("v{i}"))
            .and_then(Value::as_str)
            .ok_or_else(|| Error::internal(format!("entity misses value chunk v{i}")))?;
        let bytes = STANDARD
            .decode(chunk)
            .map_err(|e| Error::internal("value chunk is not base64").with_source(e))?;
        out.extend_from_slice(&bytes);
    }
    Ok(out.freeze())
}

/// The `azure-table` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct AzureTableProvider;

#[async_trait]
impl Provider for AzureTableProvider {
    fn name(&self) -> &'static str {
        "azure-table"
    }

    fn description(&self) -> &'static str {
        "Azure Table Storage (SharedKey REST; ETag versions, entity group transactions)"
    }

    fn declared(&self) -> Declared {
        Declared {
            kv: Some(CAPABILITIES),
            ..Declared::default()
        }
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        TableOptions::parse(options).map(drop)
    }

    async fn kv(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn KvService>> {
        let options = TableOptions::parse(options)?;
        let client = options
            .azure
            .client(&options.azure.endpoint_for("table"), Flavour::Table)?;
        Ok(Arc::new(AzureTableService {
            prefix: options.table_prefix,
            client,
        }))
    }
}

/// Opens Azure tables, creating them on first use.
pub struct AzureTableService {
    prefix: String,
    client: Client,
}

#[async_trait]
impl KvService for AzureTableService {
    async fn open(&self, name: &str) -> Result<Arc<dyn KvStore>> {
        let table = table_name(&self.prefix, name);
        let request = Request::new(Method::POST, "Tables")
            .header("Content-Type", "application/json")
            .header("Accept", "application/json;odata=nometadata")
            .header("Prefer", "return-no-content")
            .body(json!({ "TableName": table }).to_string());
        let reply = self.client.send(request, "create table").await?;
        if !(reply.is_success() || reply.status == 409) {
            return Err(reply.error(&format!("create table {table:?}")));
        }
        Ok(Arc::new(AzureTable {
            client: self.client.clone(),
            table,
        }))
    }
}

/// An entity as read (possibly expired).
#[derive(Debug, Clone)]
struct Stored {
    sort: String,
    etag: String,
    value: Bytes,
    expires_at: Option<SystemTime>,
}

impl Stored {
    fn live(&self, now: SystemTime) -> bool {
        !is_expired(self.expires_at, now)
    }

    fn item(self, partition: &str) -> Item {
        Item {
            key: Key::new(partition, self.sort),
            value: self.value,
            version: self.etag,
            expires_at: self.expires_at,
        }
    }
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn parse_entity(entity: &Map<String, Value>, etag: Option<String>) -> Result<Stored> {
    let row = entity
        .get("RowKey")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::internal("entity without RowKey"))?;
    let etag = etag
        .or_else(|| {
            entity
                .get("odata.etag")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .ok_or_else(|| Error::internal("entity without ETag"))?;
    let expires_at = entity.get("x").and_then(|x| match x {
        Value::String(s) => s.parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    });
    Ok(Stored {
        sort: decode_key(row)?,
        etag,
        value: join_value(entity)?,
        expires_at: expires_at.map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
    })
}

/// How a write treats an existing entity.
#[derive(Debug, Clone)]
enum Write {
    /// POST: fails with 409 if it exists.
    Insert,
    /// PUT without If-Match: insert or replace.
    Upsert,
    /// PUT with If-Match: replace this ETag only.
    Replace(String),
}

/// One Azure table.
pub struct AzureTable {
    client: Client,
    table: String,
}

/// A short random pause before retrying a lost race.
async fn backoff(attempt: u32) {
    let random = uuid::Uuid::new_v4().as_u128() as u64;
    let cap = 1u64 << attempt.min(5);
    tokio::time::sleep(Duration::from_millis(random % (cap + 1))).await;
}

impl AzureTable {
    fn entity_path(&self, partition: &str, sort: &str) -> String {
        format!(
            "{}(PartitionKey='{}',RowKey='{}')",
            self.table,
            encode_key(partition),
            encode_key(sort)
        )
    }

    fn entity_body(key: &Key, value: &[u8], expires_at: Option<SystemTime>) -> String {
        let mut entity = Map::new();
        entity.insert("PartitionKey".into(), json!(encode_key(&key.partition)));
        entity.insert("RowKey".into(), json!(encode_key(&key.sort)));
        chunk_value(value, &mut entity);
        if let Some(t) = expires_at {
            entity.insert("x".into(), json!(millis(t).to_string()));
            entity.insert("x@odata.type".into(), json!("Edm.Int64"));
        }
        Value::Object(entity).to_string()
    }

    async fn read(&self, key: &Key) -> Result<Option<Stored>> {
        let request = Request::new(Method::GET, self.entity_path(&key.partition, &key.sort))
            .header("Accept", ACCEPT);
        let reply = self.client.send(request, "get entity").await?;
        if reply.status == 404 {
            return Ok(None);
        }
        let reply = reply.ok("get entity")?;
        let entity: Map<String, Value> = serde_json::from_slice(&reply.body)
            .map_err(|e| Error::internal("get entity: bad JSON").with_source(e))?;
        let etag = reply.header("etag").map(str::to_owned);
        parse_entity(&entity, etag).map(Some)
    }

    fn write_request(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<SystemTime>,
        how: &Write,
    ) -> Request {
        let body = Self::entity_body(key, value, expires_at);
        let request = match how {
            Write::Insert => Request::new(Method::POST, self.table.clone()),
            Write::Upsert => Request::new(Method::PUT, self.entity_path(&key.partition, &key.sort)),
            Write::Replace(etag) => {
                Request::new(Method::PUT, self.entity_path(&key.partition, &key.sort))
                    .header("If-Match", etag.clone())
            }
        };
        request
            .header("Content-Type", "application/json")
            .header("Accept", ACCEPT)
            .header("Prefer", "return-no-content")
            .body(body)
    }

    /// Writes; `Ok(Ok(etag))` on success, `Ok(Err(status))` on 404/409/412.
    async fn write(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<SystemTime>,
        how: Write,
    ) -> Result<std::result::Result<String, u16>> {
        let request = self.write_request(key, value, expires_at, &how);
        let reply = self.client.send(request, "write entity").await?;
        if matches!(reply.status, 404 | 409 | 412) {
            return Ok(Err(reply.status));
        }
        let reply = reply.ok("write entity")?;
        etag_of(&reply).map(Ok)
    }

    async fn remove(&self, key: &Key, if_match: &str) -> Result<std::result::Result<(), u16>> {
        let request = Request::new(Method::DELETE, self.entity_path(&key.partition, &key.sort))
            .header("If-Match", if_match.to_owned())
            .header("Accept", ACCEPT);
        let reply = self.client.send(request, "delete entity").await?;
        if matches!(reply.status, 404 | 412) {
            return Ok(Err(reply.status));
        }
        reply.ok("delete entity").map(|_| Ok(()))
    }

    fn filter(partition: &str, window: &SortWindow) -> String {
        use std::ops::Bound;
        let mut f = format!("PartitionKey eq '{}'", encode_key(partition));
        match &window.lower {
            Bound::Included(l) => f.push_str(&format!(" and RowKey ge '{}'", encode_key(l))),
            Bound::Excluded(l) => f.push_str(&format!(" and RowKey gt '{}'", encode_key(l))),
            Bound::Unbounded => {}
        }
        match &window.upper {
            Bound::Included(u) => f.push_str(&format!(" and RowKey le '{}'", encode_key(u))),
            Bound::Excluded(u) => f.push_str(&format!(" and RowKey lt '{}'", encode_key(u))),
            Bound::Unbounded => {}
        }
        if let Some(p) = &window.prefix {
            let start = encode_key(p);
            f.push_str(&format!(
                " and RowKey ge '{start}' and RowKey lt '{start}{PREFIX_END}'"
            ));
        }
        f
    }

    /// Reads live items of the window ascending until `want` are found (`None`: all).
    async fn scan(
        &self,
        partition: &str,
        window: &SortWindow,
        want: Option<usize>,
    ) -> Result<Vec<Item>> {
        let filter = Self::filter(partition, window);
        let now = SystemTime::now();
        let mut items = Vec::new();
        let mut next: Option<(String, String)> = None;
        loop {
            let top = match want {
                Some(w) => (w - items.len()).clamp(1, PAGE),
                None => PAGE,
            };
            let mut request = Request::new(Method::GET, format!("{}()", self.table))
                .query("$filter", filter.clone())
                .query("$top", top.to_string())
                .header("Accept", ACCEPT);
            if let Some((pk, rk)) = &next {
                request = request
                    .query("NextPartitionKey", pk.clone())
                    .query("NextRowKey", rk.clone());
            }
            let reply = self
                .client
                .send(request, "query entities")
                .await?
                .ok("query entities")?;
            let body: Value = serde_json::from_slice(&reply.body)
                .map_err(|e| Error::internal("query entities: bad JSON").with_source(e))?;
            for entity in body
                .get("value")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(entity) = entity.as_object() else {
                    continue;
                };
                let stored = parse_entity(entity, None)?;
                if stored.live(now) && window.contains(&stored.sort) {
                    items.push(stored.item(partition));
                }
            }
            if want.is_some_and(|w| items.len() >= w) {
                return Ok(items);
            }
            let pk = reply
                .header("x-ms-continuation-NextPartitionKey")
                .map(str::to_owned);
            let rk = reply
                .header("x-ms-continuation-NextRowKey")
                .map(str::to_owned);
            match (pk, rk) {
                (Some(pk), Some(rk)) => next = Some((pk, rk)),
                _ => return Ok(items),
            }
        }
    }

    /// One attempt at a batch: `Ok(None)` when it lost a race and should be retried.
    async fn try_batch(
        &self,
        partition: &str,
        ops: &[BatchOp],
        last_attempt: bool,
    ) -> Result<Option<Vec<BatchResult>>> {
        let now = SystemTime::now();
        let mut parts: Vec<(usize, Request)> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let key = Key::new(partition, op.sort());
            let current = self.read(&key).await?;
            let live = current.as_ref().filter(|s| s.live(now));
            match op {
                BatchOp::Put { value, opts, .. } => {
                    let how = match &opts.condition {
                        PutCondition::Always => Write::Upsert,
                        PutCondition::IfAbsent => match (&current, live) {
                            (_, Some(_)) => return Err(exists(&key)),
                            (Some(expired), None) => Write::Replace(expired.etag.clone()),
                            (None, _) => Write::Insert,
                        },
                        PutCondition::IfVersion(v) => match live {
                            Some(s) if &s.etag == v => Write::Replace(v.clone()),
                            _ => return Err(version_mismatch(&key)),
                        },
                    };
                    let expires_at = opts.ttl.map(|t| now + t);
                    parts.push((i, self.write_request(&key, value, expires_at, &how)));
                }
                BatchOp::Delete { condition, .. } => {
                    let if_match = match condition {
                        DeleteCondition::Always => match &current {
                            Some(_) => "*".to_owned(),
                            None => continue,
                        },
                        DeleteCondition::IfVersion(v) => match live {
                            Some(s) if &s.etag == v => v.clone(),
                            _ => return Err(version_mismatch(&key)),
                        },
                    };
                    let request =
                        Request::new(Method::DELETE, self.entity_path(partition, op.sort()))
                            .header("If-Match", if_match)
                            .header("Accept", ACCEPT);
                    parts.push((i, request));
                }
            }
        }
        let mut results: Vec<BatchResult> = vec![None; ops.len()];
        if parts.is_empty() {
            return Ok(Some(results));
        }
        let (content_type, body) = batch_body(&self.client, &parts);
        let request = Request::new(Method::POST, "$batch")
            .header("Content-Type", content_type)
            .header("Accept", ACCEPT)
            .header("DataServiceVersion", "3.0")
            .body(body);
        let reply = self
            .client
            .send(request, "entity group transaction")
            .await?;
        let reply = reply.ok("entity group transaction")?;
        let answers = parse_batch_response(&String::from_utf8_lossy(&reply.body));
        if answers.len() != parts.len() || answers.iter().any(|(s, _)| *s >= 300) {
            let status = answers.iter().map(|(s, _)| *s).find(|s| *s >= 300);
            if last_attempt {
                return Err(Error::new(
                    status.map_or(ErrorKind::Internal, |s| crate::rest::kind_for(s, "")),
                    format!("entity group transaction failed: {answers:?}"),
                ));
            }
            return Ok(None);
        }
        for ((i, _), (_, etag)) in parts.iter().zip(answers) {
            if matches!(ops[*i], BatchOp::Put { .. }) {
                results[*i] = Some(etag.ok_or_else(|| {
                    Error::internal("entity group transaction: no ETag for a put")
                })?);
            }
        }
        Ok(Some(results))
    }
}

fn etag_of(reply: &Reply) -> Result<String> {
    reply
        .header("etag")
        .map(str::to_owned)
        .ok_or_else(|| Error::internal("write without an ETag"))
}

fn exists(key: &Key) -> Error {
    Error::new(
        ErrorKind::AlreadyExists,
        format!("item {:?}/{:?} already exists", key.partition, key.sort),
    )
}

fn version_mismatch(key: &Key) -> Error {
    Error::precondition(format!(
        "item {:?}/{:?} is absent or has another version",
        key.partition, key.sort
    ))
}

/// The multipart/mixed body of an entity group transaction of `parts`.
fn batch_body(client: &Client, parts: &[(usize, Request)]) -> (String, String) {
    let batch = format!("batch_{}", uuid::Uuid::new_v4().simple());
    let changeset = format!("changeset_{}", uuid::Uuid::new_v4().simple());
    let mut body =
        format!("--{batch}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n");
    for (n, (_, request)) in parts.iter().enumerate() {
        body.push_str(&format!(
            "--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        ));
        body.push_str(&format!(
            "{} {} HTTP/1.1\r\n",
            request.method,
            client.url(&request.path)
        ));
        body.push_str(&format!("Content-ID: {}\r\n", n + 1));
        body.push_str("DataServiceVersion: 3.0\r\n");
        for (name, value) in &request.headers {
            body.push_str(&format!("{name}: {value}\r\n"));
        }
        body.push_str("\r\n");
        body.push_str(&String::from_utf8_lossy(&request.body));
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{changeset}--\r\n--{batch}--\r\n"));
    (format!("multipart/mixed; boundary={batch}"), body)
}

/// Status and ETag of every sub-response of a `$batch` answer, in order.
pub fn parse_batch_response(text: &str) -> Vec<(u16, Option<String>)> {
    let mut answers = Vec::new();
    for segment in text.split("HTTP/1.1 ").skip(1) {
        let status = segment
            .get(..3)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        let etag = segment
            .lines()
            .take_while(|l| !l.trim().is_empty() || l.starts_with("HTTP"))
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("etag")
                    .then(|| value.trim().to_owned())
            });
        answers.push((status, etag));
    }
    answers
}

#[async_trait]
impl KvStore for AzureTable {
    fn capabilities(&self) -> KvCapabilities {
        CAPABILITIES
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>> {
        let now = SystemTime::now();
        Ok(self
            .read(key)
            .await?
            .filter(|s| s.live(now))
            .map(|s| s.item(&key.partition)))
    }

    async fn put(&self, key: &Key, value: Bytes, opts: PutItemOptions) -> Result<String> {
        let expires_at = opts.ttl.map(|t| SystemTime::now() + t);
        match &opts.condition {
            PutCondition::Always => match self.write(key, &value, expires_at, Write::Upsert).await?
            {
                Ok(etag) => Ok(etag),
                Err(status) => Err(Error::new(
                    crate::rest::kind_for(status, ""),
                    format!("put: HTTP {status}"),
                )),
            },
            PutCondition::IfAbsent => {
                for attempt in 0..20 {
                    let how = match self.read(key).await? {
                        Some(s) if s.live(SystemTime::now()) => return Err(exists(key)),
                        Some(expired) => Write::Replace(expired.etag),
                        None => Write::Insert,
                    };
                    match self.write(key, &value, expires_at, how).await? {
                        Ok(etag) => return Ok(etag),
                        Err(_) => backoff(attempt).await,
                    }
                }
                Err(Error::new(
                    ErrorKind::Unavailable,
                    "put if absent: too much contention",
                ))
            }
            PutCondition::IfVersion(v) => match self.read(key).await? {
                Some(s) if s.live(SystemTime::now()) && &s.etag == v => {
                    match self
                        .write(key, &value, expires_at, Write::Replace(v.clone()))
                        .await?
                    {
                        Ok(etag) => Ok(etag),
                        Err(_) => Err(version_mismatch(key)),
                    }
                }
                _ => Err(version_mismatch(key)),
            },
        }
    }

    async fn delete(&self, key: &Key, condition: DeleteCondition) -> Result<()> {
        match condition {
            DeleteCondition::Always => self.remove(key, "*").await.map(drop),
            DeleteCondition::IfVersion(v) => match self.read(key).await? {
                Some(s) if s.live(SystemTime::now()) && s.etag == v => self
                    .remove(key, &v)
                    .await?
                    .map_err(|_| version_mismatch(key)),
                _ => Err(version_mismatch(key)),
            },
        }
    }

    async fn query(&self, partition: &str, opts: QueryOptions) -> Result<QueryPage> {
        let window = SortWindow::for_query(&opts);
        let limit = opts.limit.unwrap_or(stratus::limits::MAX_KV_QUERY_LIMIT);
        let items = match opts.order {
            Order::Ascending => self.scan(partition, &window, Some(limit + 1)).await?,
            Order::Descending => {
                let mut all = self.scan(partition, &window, None).await?;
                all.reverse();
                all
            }
        };
        Ok(page_of(items, &opts))
    }

    async fn batch(&self, partition: &str, ops: Vec<BatchOp>) -> Result<Vec<BatchResult>> {
        for attempt in 0..8 {
            if let Some(results) = self.try_batch(partition, &ops, attempt == 7).await? {
                return Ok(results);
            }
            backoff(attempt).await;
        }
        Err(Error::new(
            ErrorKind::Unavailable,
            "batch: too much contention",
        ))
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        let mut attempt = 0;
        loop {
            let now = SystemTime::now();
            let (next, expires_at, how) = match self.read(key).await? {
                Some(s) if s.live(now) => (
                    checked_add(parse_counter(&s.value)?, delta)?,
                    s.expires_at,
                    Write::Replace(s.etag),
                ),
                Some(expired) => (checked_add(0, delta)?, None, Write::Replace(expired.etag)),
                None => (checked_add(0, delta)?, None, Write::Insert),
            };
            let text = next.to_string();
            match self.write(key, text.as_bytes(), expires_at, how).await? {
                Ok(_) => return Ok(next),
                Err(_) => {
                    backoff(attempt).await;
                    attempt = (attempt + 1).min(1000);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_alphanumeric_and_injective() {
        let a = table_name("stratus", "a-b");
        let b = table_name("stratus", "ax1b");
        assert_ne!(a, b);
        for n in [a, b, table_name("stratus", &"x".repeat(40))] {
            assert!(
                n.len() <= 63 && n.chars().all(|c| c.is_ascii_alphanumeric()),
                "{n}"
            );
        }
    }

    #[test]
    fn encoded_keys_keep_utf8_byte_order() {
        let mut keys = vec!["b", "a", "ab", "é", "z", "\u{7f}", "a\u{1}"];
        let mut encoded: Vec<String> = keys.iter().map(|k| encode_key(k)).collect();
        keys.sort();
        encoded.sort();
        let decoded: Vec<String> = encoded.iter().map(|e| decode_key(e).unwrap()).collect();
        assert_eq!(decoded, keys);
        let prefix = encode_key("a");
        let upper = format!("{prefix}{PREFIX_END}");
        assert!(encode_key("ab") >= prefix && encode_key("ab") < upper);
        assert!(encode_key("b") > upper);
        // One UTF-16 unit per byte, never a character Azure forbids.
        let k = encode_key(&"é".repeat(256));
        assert_eq!(k.encode_utf16().count(), 512);
        assert!(!k.chars().any(|c| c.is_control() || "/\\#?".contains(c)));
    }

    #[test]
    fn values_chunk_and_join() {
        let value: Vec<u8> = (0..(CHUNK_BYTES * 2 + 5)).map(|i| i as u8).collect();
        let mut entity = Map::new();
        chunk_value(&value, &mut entity);
        assert_eq!(entity["n"], json!(3));
        assert_eq!(join_value(&entity).unwrap().as_ref(), value.as_slice());
        let mut empty = Map::new();
        chunk_value(&[], &mut empty);
        assert_eq!(join_value(&empty).unwrap().len(), 0);
    }

    #[test]
    fn batch_responses_parse() {
        let text = "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n--changesetresponse_2\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\nETag: W/\"datetime'a'\"\r\n\r\n\r\n--changesetresponse_2\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n--changesetresponse_2--\r\n";
        assert_eq!(
            parse_batch_response(text),
            vec![(204, Some("W/\"datetime'a'\"".to_owned())), (204, None)]
        );
    }
}
