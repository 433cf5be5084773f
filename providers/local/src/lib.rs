//! The embedded `local` provider: needs no external service and survives restarts.
//!
//! - Blob: files under `root/<store>/`, written atomically (temp file + rename), with
//!   metadata and ETag in a header beside the data.
//! - KV and Queue: `redb` databases (one file may serve both).
//! - Compute: in-process handlers and subprocess functions speaking JSON on stdin/stdout.

mod blob;
mod clock;
mod compute;
mod db;
mod kv;
mod offload;
mod queue;

use std::sync::Arc;

use stratus::blob::BlobService;
use stratus::compute::Compute;
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::kv::KvService;
use stratus::queue::QueueService;
use stratus::{BuildContext, Declared, Provider, Result, async_trait};

pub use blob::{BlobOptions, LocalBlobService};
pub use compute::{ComputeOptions, LocalCompute};
pub use kv::{KvOptions, LocalKvService};
pub use queue::{LocalQueueService, QueueOptions};

/// The `local` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalProvider;

/// What every `local` store declares.
pub fn declared() -> Declared {
    Declared {
        blob: Some(blob::CAPABILITIES),
        kv: Some(kv::CAPABILITIES),
        queue: Some(queue::CAPABILITIES),
        compute: Some(compute::CAPABILITIES),
    }
}

#[async_trait]
impl Provider for LocalProvider {
    fn name(&self) -> &'static str {
        "local"
    }

    fn description(&self) -> &'static str {
        "embedded: filesystem blobs, redb KV and queues, in-process and subprocess functions"
    }

    fn declared(&self) -> Declared {
        declared()
    }

    fn check(&self, service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        match service {
            ServiceKind::Blob => BlobOptions::parse(options).map(drop),
            ServiceKind::Kv => KvOptions::parse(options).map(drop),
            ServiceKind::Queue => QueueOptions::parse(options).map(drop),
            ServiceKind::Compute => ComputeOptions::parse(options).map(drop),
        }
    }

    async fn blob(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn BlobService>> {
        Ok(Arc::new(LocalBlobService::new(BlobOptions::parse(
            options,
        )?)?))
    }

    async fn kv(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn KvService>> {
        Ok(Arc::new(LocalKvService::new(KvOptions::parse(options)?)?))
    }

    async fn queue(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn QueueService>> {
        Ok(Arc::new(LocalQueueService::new(QueueOptions::parse(
            options,
        )?)?))
    }

    async fn compute(&self, options: &Section, ctx: &BuildContext) -> Result<Arc<dyn Compute>> {
        Ok(Arc::new(LocalCompute::new(
            ComputeOptions::parse(options)?,
            ctx.handlers.clone(),
        )))
    }
}
