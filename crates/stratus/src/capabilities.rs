//! What a store declares it can do. Anything not declared fails with `Unsupported`.

use serde::Serialize;

/// One optional feature of a service. The string form (`blob.presign`) is used in
/// reports, the CLI and `spec/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Capability {
    /// Blob `Create`/`Update` put modes and `Create` copy.
    BlobConditionalWrite,
    /// Blob multipart uploads (and therefore streamed puts of any size).
    BlobMultipart,
    /// Blob presigned GET/PUT URLs.
    BlobPresign,
    /// KV per-item time to live.
    KvTtl,
    /// KV `batch`: up to 25 writes in one partition applied all-or-nothing.
    KvAtomicBatch,
    /// Queue delayed send and nack with a retry delay.
    QueueDelay,
    /// Queue dead-lettering after the configured number of attempts.
    QueueDeadLetter,
    /// Queue extension of a delivery's visibility timeout.
    QueueExtendVisibility,
    /// Compute asynchronous submit / status / result.
    ComputeAsync,
}

impl Capability {
    /// Every capability, in report order.
    pub const ALL: [Capability; 9] = [
        Self::BlobConditionalWrite,
        Self::BlobMultipart,
        Self::BlobPresign,
        Self::KvTtl,
        Self::KvAtomicBatch,
        Self::QueueDelay,
        Self::QueueDeadLetter,
        Self::QueueExtendVisibility,
        Self::ComputeAsync,
    ];

    /// The stable dotted name, such as `blob.presign`.
    pub fn name(self) -> &'static str {
        match self {
            Self::BlobConditionalWrite => "blob.conditional_write",
            Self::BlobMultipart => "blob.multipart",
            Self::BlobPresign => "blob.presign",
            Self::KvTtl => "kv.ttl",
            Self::KvAtomicBatch => "kv.atomic_batch",
            Self::QueueDelay => "queue.delay",
            Self::QueueDeadLetter => "queue.dead_letter",
            Self::QueueExtendVisibility => "queue.extend_visibility",
            Self::ComputeAsync => "compute.async",
        }
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a blob store declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlobCapabilities {
    /// See [`Capability::BlobConditionalWrite`].
    pub conditional_write: bool,
    /// See [`Capability::BlobMultipart`].
    pub multipart: bool,
    /// See [`Capability::BlobPresign`].
    pub presign: bool,
    /// Largest object the store accepts, in bytes.
    pub max_object_bytes: u64,
}

impl BlobCapabilities {
    /// Whether `cap` is declared (capabilities of other services are never declared).
    pub fn declares(&self, cap: Capability) -> bool {
        match cap {
            Capability::BlobConditionalWrite => self.conditional_write,
            Capability::BlobMultipart => self.multipart,
            Capability::BlobPresign => self.presign,
            _ => false,
        }
    }
}

/// What a KV store declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvCapabilities {
    /// See [`Capability::KvTtl`].
    pub ttl: bool,
    /// See [`Capability::KvAtomicBatch`].
    pub atomic_batch: bool,
    /// Whether `increment` is a single native operation (otherwise a CAS loop).
    pub native_increment: bool,
}

impl KvCapabilities {
    /// Whether `cap` is declared.
    pub fn declares(&self, cap: Capability) -> bool {
        match cap {
            Capability::KvTtl => self.ttl,
            Capability::KvAtomicBatch => self.atomic_batch,
            _ => false,
        }
    }
}

/// What a queue declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueCapabilities {
    /// See [`Capability::QueueDelay`].
    pub delay: bool,
    /// See [`Capability::QueueDeadLetter`].
    pub dead_letter: bool,
    /// See [`Capability::QueueExtendVisibility`].
    pub extend_visibility: bool,
}

impl QueueCapabilities {
    /// Whether `cap` is declared.
    pub fn declares(&self, cap: Capability) -> bool {
        match cap {
            Capability::QueueDelay => self.delay,
            Capability::QueueDeadLetter => self.dead_letter,
            Capability::QueueExtendVisibility => self.extend_visibility,
            _ => false,
        }
    }
}

/// What a compute store declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComputeCapabilities {
    /// See [`Capability::ComputeAsync`].
    pub async_submit: bool,
    /// Largest payload and result the store accepts, in bytes.
    pub max_payload_bytes: usize,
}

impl ComputeCapabilities {
    /// Whether `cap` is declared.
    pub fn declares(&self, cap: Capability) -> bool {
        match cap {
            Capability::ComputeAsync => self.async_submit,
            _ => false,
        }
    }
}
