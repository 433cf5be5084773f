//! Portable limits, identical for every provider (`spec/` states each one).

use std::time::Duration;

/// Maximum blob key length in bytes.
pub const MAX_BLOB_KEY_BYTES: usize = 1024;
/// Maximum total size of blob user metadata (keys + values) in bytes.
pub const MAX_BLOB_METADATA_BYTES: usize = 2048;
/// Maximum number of results in one blob list page.
pub const MAX_LIST_PAGE: usize = 1000;
/// Minimum multipart part size, except for the last part.
pub const MIN_MULTIPART_PART_BYTES: usize = 5 * 1024 * 1024;
/// Maximum multipart part number (parts are numbered from 1).
pub const MAX_MULTIPART_PARTS: u32 = 10_000;
/// Part size used when a stream is uploaded through multipart.
pub const STREAM_PART_BYTES: usize = 8 * 1024 * 1024;

/// Maximum KV partition and sort key length in bytes.
pub const MAX_KV_KEY_BYTES: usize = 512;
/// Maximum KV value size in bytes (256 KiB).
pub const MAX_KV_VALUE_BYTES: usize = 256 * 1024;
/// Maximum operations in one KV batch.
pub const MAX_KV_BATCH: usize = 25;
/// Maximum items in one KV query page.
pub const MAX_KV_QUERY_LIMIT: usize = 1000;

/// Maximum queue message size in bytes, body plus attribute names and values (256 KiB).
pub const MAX_QUEUE_MESSAGE_BYTES: usize = 256 * 1024;
/// Maximum attributes on one queue message.
pub const MAX_QUEUE_ATTRIBUTES: usize = 10;
/// Maximum messages in one send batch or one receive.
pub const MAX_QUEUE_BATCH: usize = 10;
/// Maximum delay of a sent or nacked message.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(15 * 60);
/// Maximum long-poll wait of one receive.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(20);
/// Maximum visibility timeout.
pub const MAX_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);

/// Maximum compute payload and result size in bytes (256 KiB).
pub const MAX_COMPUTE_PAYLOAD_BYTES: usize = 256 * 1024;
/// Maximum resource (queue, table, bucket) and function name length.
pub const MAX_RESOURCE_NAME_CHARS: usize = 40;
