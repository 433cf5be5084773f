//! The validation layer: portable checks applied identically in front of every provider.
//!
//! Keys, names, sizes and option ranges are checked here, and any option whose capability
//! the store does not declare is refused with `Unsupported` before it reaches the
//! provider. Errors leaving the layer carry the provider and operation.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::blob::*;
use crate::capabilities::*;
use crate::compute::*;
use crate::error::{Error, Result};
use crate::kv::*;
use crate::limits::*;
use crate::names::*;
use crate::queue::*;

fn require(declared: bool, cap: Capability) -> Result<()> {
    if declared {
        Ok(())
    } else {
        Err(Error::unsupported(format!(
            "this store does not declare capability {cap}"
        )))
    }
}

fn check_attributes<'a>(
    what: &str,
    attrs: impl Iterator<Item = (&'a String, &'a String)>,
) -> Result<()> {
    for (name, value) in attrs {
        validate_attribute_name(what, name)?;
        validate_attribute_value(what, name, value)?;
    }
    Ok(())
}

/// Runs `op` after `checks`, labelling any error with provider and operation.
async fn guarded<T>(
    provider: &str,
    operation: &str,
    checks: Result<()>,
    op: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let label = |e: Error| e.with_provider(provider).with_operation(operation);
    checks.map_err(label)?;
    op.await.map_err(label)
}

/// A [`BlobStore`] behind the portable checks.
pub struct CheckedBlob {
    inner: Arc<dyn BlobStore>,
    provider: String,
}

impl CheckedBlob {
    /// Wraps `inner`, labelling errors with `provider`.
    pub fn new(inner: Arc<dyn BlobStore>, provider: &str) -> Self {
        Self {
            inner,
            provider: provider.to_owned(),
        }
    }

    fn check_put(&self, key: &str, opts: &PutOptions) -> Result<()> {
        validate_blob_key(key)?;
        check_attributes("metadata", opts.metadata.iter())?;
        let meta_bytes: usize = opts.metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
        if meta_bytes > MAX_BLOB_METADATA_BYTES {
            return Err(Error::invalid(format!(
                "metadata is {meta_bytes} bytes; the limit is {MAX_BLOB_METADATA_BYTES}"
            )));
        }
        if let Some(ct) = &opts.content_type
            && (ct.is_empty() || ct.chars().any(|c| c.is_control()))
        {
            return Err(Error::invalid(format!(
                "content type {ct:?} is empty or not printable"
            )));
        }
        if opts.mode != PutMode::Overwrite {
            require(
                self.inner.capabilities().conditional_write,
                Capability::BlobConditionalWrite,
            )?;
        }
        Ok(())
    }

    fn check_multipart(&self, key: &str) -> Result<()> {
        validate_blob_key(key)?;
        require(
            self.inner.capabilities().multipart,
            Capability::BlobMultipart,
        )
    }
}

#[async_trait]
impl BlobStore for CheckedBlob {
    fn capabilities(&self) -> BlobCapabilities {
        self.inner.capabilities()
    }

    async fn put(&self, key: &str, body: Bytes, opts: PutOptions) -> Result<ObjectMeta> {
        let max = self.inner.capabilities().max_object_bytes;
        let checks = self.check_put(key, &opts).and_then(|_| {
            if body.len() as u64 > max {
                Err(Error::invalid(format!(
                    "object is {} bytes; this store's limit is {max}",
                    body.len()
                )))
            } else {
                Ok(())
            }
        });
        guarded(
            &self.provider,
            "blob.put",
            checks,
            self.inner.put(key, body, opts),
        )
        .await
    }

    async fn put_stream(
        &self,
        key: &str,
        body: ByteStream,
        opts: PutOptions,
    ) -> Result<ObjectMeta> {
        let checks = self.check_put(key, &opts);
        guarded(
            &self.provider,
            "blob.put_stream",
            checks,
            self.inner.put_stream(key, body, opts),
        )
        .await
    }

    async fn get(&self, key: &str, opts: GetOptions) -> Result<GetResult> {
        guarded(
            &self.provider,
            "blob.get",
            validate_blob_key(key),
            self.inner.get(key, opts),
        )
        .await
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta> {
        guarded(
            &self.provider,
            "blob.head",
            validate_blob_key(key),
            self.inner.head(key),
        )
        .await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        guarded(
            &self.provider,
            "blob.delete",
            validate_blob_key(key),
            self.inner.delete(key),
        )
        .await
    }

    async fn list(&self, opts: ListOptions) -> Result<ListPage> {
        let checks = validate_blob_prefix(&opts.prefix).and_then(|_| {
            if opts.page_size.is_some_and(|n| n == 0 || n > MAX_LIST_PAGE) {
                return Err(Error::invalid(format!(
                    "page_size must be 1..={MAX_LIST_PAGE}"
                )));
            }
            if opts.delimiter.as_deref() == Some("") {
                return Err(Error::invalid("delimiter must not be empty"));
            }
            Ok(())
        });
        guarded(&self.provider, "blob.list", checks, self.inner.list(opts)).await
    }

    async fn copy(&self, from: &str, to: &str, opts: CopyOptions) -> Result<ObjectMeta> {
        let checks = validate_blob_key(from)
            .and(validate_blob_key(to))
            .and_then(|_| {
                if opts.create_only {
                    require(
                        self.inner.capabilities().conditional_write,
                        Capability::BlobConditionalWrite,
                    )?;
                }
                Ok(())
            });
        guarded(
            &self.provider,
            "blob.copy",
            checks,
            self.inner.copy(from, to, opts),
        )
        .await
    }

    async fn multipart_start(&self, key: &str, opts: PutOptions) -> Result<String> {
        let checks = self.check_multipart(key).and(self.check_put(key, &opts));
        guarded(
            &self.provider,
            "blob.multipart_start",
            checks,
            self.inner.multipart_start(key, opts),
        )
        .await
    }

    async fn multipart_put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<PartReceipt> {
        let checks = self.check_multipart(key).and_then(|_| {
            if part_number == 0 || part_number > MAX_MULTIPART_PARTS {
                return Err(Error::invalid(format!(
                    "part number must be 1..={MAX_MULTIPART_PARTS}"
                )));
            }
            Ok(())
        });
        let op = self
            .inner
            .multipart_put_part(key, upload_id, part_number, data);
        guarded(&self.provider, "blob.multipart_put_part", checks, op).await
    }

    async fn multipart_complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<PartReceipt>,
    ) -> Result<ObjectMeta> {
        let checks = self.check_multipart(key).and_then(|_| {
            if parts.is_empty() {
                return Err(Error::invalid("a multipart upload needs at least one part"));
            }
            if parts
                .windows(2)
                .any(|w| w[0].part_number >= w[1].part_number)
            {
                return Err(Error::invalid(
                    "parts must be listed in ascending part-number order",
                ));
            }
            Ok(())
        });
        let op = self.inner.multipart_complete(key, upload_id, parts);
        guarded(&self.provider, "blob.multipart_complete", checks, op).await
    }

    async fn multipart_abort(&self, key: &str, upload_id: &str) -> Result<()> {
        let op = self.inner.multipart_abort(key, upload_id);
        guarded(
            &self.provider,
            "blob.multipart_abort",
            self.check_multipart(key),
            op,
        )
        .await
    }

    async fn presign(
        &self,
        key: &str,
        method: PresignMethod,
        expires_in: Duration,
    ) -> Result<String> {
        let checks = validate_blob_key(key)
            .and(require(
                self.inner.capabilities().presign,
                Capability::BlobPresign,
            ))
            .and_then(|_| {
                if expires_in < Duration::from_secs(1)
                    || expires_in > Duration::from_secs(7 * 24 * 3600)
                {
                    return Err(Error::invalid("presigned URLs expire after 1 s to 7 days"));
                }
                Ok(())
            });
        guarded(
            &self.provider,
            "blob.presign",
            checks,
            self.inner.presign(key, method, expires_in),
        )
        .await
    }
}

/// A [`KvStore`] behind the portable checks.
pub struct CheckedKv {
    inner: Arc<dyn KvStore>,
    provider: String,
}

impl CheckedKv {
    /// Wraps `inner`, labelling errors with `provider`.
    pub fn new(inner: Arc<dyn KvStore>, provider: &str) -> Self {
        Self {
            inner,
            provider: provider.to_owned(),
        }
    }

    fn check_put(&self, sort: &str, value: &[u8], opts: &PutItemOptions) -> Result<()> {
        validate_kv_key_part("sort", sort)?;
        if value.len() > MAX_KV_VALUE_BYTES {
            return Err(Error::invalid(format!(
                "value is {} bytes; the limit is {MAX_KV_VALUE_BYTES}",
                value.len()
            )));
        }
        if let Some(ttl) = opts.ttl {
            require(self.inner.capabilities().ttl, Capability::KvTtl)?;
            if ttl < Duration::from_secs(1) {
                return Err(Error::invalid("ttl must be at least 1 second"));
            }
        }
        Ok(())
    }
}

fn check_key(key: &Key) -> Result<()> {
    validate_kv_key_part("partition", &key.partition)?;
    validate_kv_key_part("sort", &key.sort)
}

#[async_trait]
impl KvStore for CheckedKv {
    fn capabilities(&self) -> KvCapabilities {
        self.inner.capabilities()
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>> {
        guarded(
            &self.provider,
            "kv.get",
            check_key(key),
            self.inner.get(key),
        )
        .await
    }

    async fn put(&self, key: &Key, value: Bytes, opts: PutItemOptions) -> Result<String> {
        let checks = check_key(key).and(self.check_put(&key.sort, &value, &opts));
        guarded(
            &self.provider,
            "kv.put",
            checks,
            self.inner.put(key, value, opts),
        )
        .await
    }

    async fn delete(&self, key: &Key, condition: DeleteCondition) -> Result<()> {
        guarded(
            &self.provider,
            "kv.delete",
            check_key(key),
            self.inner.delete(key, condition),
        )
        .await
    }

    async fn query(&self, partition: &str, opts: QueryOptions) -> Result<QueryPage> {
        let checks = validate_kv_key_part("partition", partition).and_then(|_| {
            if opts.limit.is_some_and(|n| n == 0 || n > MAX_KV_QUERY_LIMIT) {
                return Err(Error::invalid(format!(
                    "limit must be 1..={MAX_KV_QUERY_LIMIT}"
                )));
            }
            if opts.cursor.as_deref() == Some("") {
                return Err(Error::invalid("cursor must not be empty"));
            }
            Ok(())
        });
        guarded(
            &self.provider,
            "kv.query",
            checks,
            self.inner.query(partition, opts),
        )
        .await
    }

    async fn batch(&self, partition: &str, ops: Vec<BatchOp>) -> Result<Vec<BatchResult>> {
        let checks = validate_kv_key_part("partition", partition)
            .and(require(
                self.inner.capabilities().atomic_batch,
                Capability::KvAtomicBatch,
            ))
            .and_then(|_| {
                if ops.is_empty() || ops.len() > MAX_KV_BATCH {
                    return Err(Error::invalid(format!(
                        "a batch holds 1..={MAX_KV_BATCH} operations"
                    )));
                }
                let mut seen = std::collections::HashSet::new();
                for op in &ops {
                    if !seen.insert(op.sort()) {
                        return Err(Error::invalid(format!(
                            "sort key {:?} appears twice in the batch",
                            op.sort()
                        )));
                    }
                    match op {
                        BatchOp::Put { sort, value, opts } => self.check_put(sort, value, opts)?,
                        BatchOp::Delete { sort, .. } => validate_kv_key_part("sort", sort)?,
                    }
                }
                Ok(())
            });
        guarded(
            &self.provider,
            "kv.batch",
            checks,
            self.inner.batch(partition, ops),
        )
        .await
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        guarded(
            &self.provider,
            "kv.increment",
            check_key(key),
            self.inner.increment(key, delta),
        )
        .await
    }
}

/// A [`Queue`] behind the portable checks.
pub struct CheckedQueue {
    inner: Arc<dyn Queue>,
    provider: String,
}

impl CheckedQueue {
    /// Wraps `inner`, labelling errors with `provider`.
    pub fn new(inner: Arc<dyn Queue>, provider: &str) -> Self {
        Self {
            inner,
            provider: provider.to_owned(),
        }
    }

    fn check_delay(&self, delay: Duration) -> Result<()> {
        if delay > MAX_QUEUE_DELAY {
            return Err(Error::invalid(format!(
                "delay {delay:?} is over the limit of {MAX_QUEUE_DELAY:?}"
            )));
        }
        if !delay.is_zero() {
            require(self.inner.capabilities().delay, Capability::QueueDelay)?;
        }
        Ok(())
    }

    fn check_message(&self, message: &OutgoingMessage) -> Result<()> {
        if message.attributes.len() > MAX_QUEUE_ATTRIBUTES {
            return Err(Error::invalid(format!(
                "a message holds at most {MAX_QUEUE_ATTRIBUTES} attributes"
            )));
        }
        check_attributes("attribute", message.attributes.iter())?;
        if message.size() > MAX_QUEUE_MESSAGE_BYTES {
            return Err(Error::invalid(format!(
                "message is {} bytes (body and attributes); the limit is {MAX_QUEUE_MESSAGE_BYTES}",
                message.size()
            )));
        }
        self.check_delay(message.delay.unwrap_or_default())
    }
}

fn check_receipt(receipt: &str) -> Result<()> {
    if receipt.is_empty() {
        return Err(Error::invalid("receipt must not be empty"));
    }
    Ok(())
}

fn check_visibility(visibility: Duration) -> Result<()> {
    if visibility > MAX_VISIBILITY_TIMEOUT {
        return Err(Error::invalid(format!(
            "visibility timeout is over the limit of {MAX_VISIBILITY_TIMEOUT:?}"
        )));
    }
    Ok(())
}

#[async_trait]
impl Queue for CheckedQueue {
    fn capabilities(&self) -> QueueCapabilities {
        self.inner.capabilities()
    }

    async fn send(&self, messages: Vec<OutgoingMessage>) -> Result<Vec<String>> {
        let checks = if messages.is_empty() || messages.len() > MAX_QUEUE_BATCH {
            Err(Error::invalid(format!(
                "send takes 1..={MAX_QUEUE_BATCH} messages"
            )))
        } else {
            messages.iter().try_for_each(|m| self.check_message(m))
        };
        guarded(
            &self.provider,
            "queue.send",
            checks,
            self.inner.send(messages),
        )
        .await
    }

    async fn receive(&self, opts: ReceiveOptions) -> Result<Vec<Delivery>> {
        let checks = (|| {
            if opts.max_messages == 0 || opts.max_messages > MAX_QUEUE_BATCH {
                return Err(Error::invalid(format!(
                    "max_messages must be 1..={MAX_QUEUE_BATCH}"
                )));
            }
            if opts.wait > MAX_QUEUE_WAIT {
                return Err(Error::invalid(format!(
                    "wait is over the limit of {MAX_QUEUE_WAIT:?}"
                )));
            }
            opts.visibility_timeout.map_or(Ok(()), check_visibility)
        })();
        guarded(
            &self.provider,
            "queue.receive",
            checks,
            self.inner.receive(opts),
        )
        .await
    }

    async fn ack(&self, receipt: &str) -> Result<()> {
        guarded(
            &self.provider,
            "queue.ack",
            check_receipt(receipt),
            self.inner.ack(receipt),
        )
        .await
    }

    async fn nack(&self, receipt: &str, retry_after: Duration) -> Result<()> {
        let checks = check_receipt(receipt).and(self.check_delay(retry_after));
        guarded(
            &self.provider,
            "queue.nack",
            checks,
            self.inner.nack(receipt, retry_after),
        )
        .await
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<()> {
        let checks = check_receipt(receipt)
            .and(require(
                self.inner.capabilities().extend_visibility,
                Capability::QueueExtendVisibility,
            ))
            .and(check_visibility(visibility));
        guarded(
            &self.provider,
            "queue.extend",
            checks,
            self.inner.extend(receipt, visibility),
        )
        .await
    }
}

/// A [`Compute`] behind the portable checks.
pub struct CheckedCompute {
    inner: Arc<dyn Compute>,
    provider: String,
}

impl CheckedCompute {
    /// Wraps `inner`, labelling errors with `provider`.
    pub fn new(inner: Arc<dyn Compute>, provider: &str) -> Self {
        Self {
            inner,
            provider: provider.to_owned(),
        }
    }

    fn check_call(&self, function: &str, payload: &[u8], opts: &InvokeOptions) -> Result<()> {
        validate_resource_name("function", function)?;
        let max = self.inner.capabilities().max_payload_bytes;
        if payload.len() > max {
            return Err(Error::invalid(format!(
                "payload is {} bytes; the limit is {max}",
                payload.len()
            )));
        }
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(payload) {
            return Err(Error::invalid(format!(
                "payload is not a JSON document: {e}"
            )));
        }
        if opts
            .timeout
            .is_some_and(|t| t.is_zero() || t > Duration::from_secs(15 * 60))
        {
            return Err(Error::invalid(
                "timeout must be between 1 ms and 15 minutes",
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Compute for CheckedCompute {
    fn capabilities(&self) -> ComputeCapabilities {
        self.inner.capabilities()
    }

    async fn invoke(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<Bytes> {
        let checks = self.check_call(function, &payload, &opts);
        guarded(
            &self.provider,
            "compute.invoke",
            checks,
            self.inner.invoke(function, payload, opts),
        )
        .await
    }

    async fn submit(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<String> {
        let checks = require(
            self.inner.capabilities().async_submit,
            Capability::ComputeAsync,
        )
        .and(self.check_call(function, &payload, &opts));
        guarded(
            &self.provider,
            "compute.submit",
            checks,
            self.inner.submit(function, payload, opts),
        )
        .await
    }

    async fn execution(&self, id: &str) -> Result<ExecutionState> {
        let checks = require(
            self.inner.capabilities().async_submit,
            Capability::ComputeAsync,
        )
        .and_then(|_| {
            if id.is_empty() {
                Err(Error::invalid("execution id must not be empty"))
            } else {
                Ok(())
            }
        });
        guarded(
            &self.provider,
            "compute.execution",
            checks,
            self.inner.execution(id),
        )
        .await
    }
}
