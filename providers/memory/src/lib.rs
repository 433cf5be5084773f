//! The in-process `memory` provider: every service held in this process, exact and fast.
//!
//! - Blob: objects and multipart uploads in a `BTreeMap` per store.
//! - KV: items in a `BTreeMap` per partition, versions from a table-wide counter.
//! - Queue: messages in send order, with per-queue dead-letter queues.
//! - Compute: the in-process [`stratus::compute::Handlers`] of the [`BuildContext`].
//!
//! Nothing survives the process; opening the same name twice on one opened service gives
//! the same data.

mod blob;
mod compute;
mod kv;
mod queue;

use std::sync::Arc;

use stratus::blob::BlobService;
use stratus::compute::Compute;
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::kv::KvService;
use stratus::queue::QueueService;
use stratus::{BuildContext, Declared, Provider, Result, async_trait};

pub use blob::{MemoryBlobService, MemoryBlobStore};
pub use compute::{ComputeOptions, MemoryCompute};
pub use kv::{MemoryKvService, MemoryKvStore};
pub use queue::{MemoryQueue, MemoryQueueService, QueueOptions};

/// The `memory` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryProvider;

/// What every `memory` store declares (identical to each store's `capabilities()`).
pub fn declared() -> Declared {
    Declared {
        blob: Some(blob::CAPABILITIES),
        kv: Some(kv::CAPABILITIES),
        queue: Some(queue::CAPABILITIES),
        compute: Some(compute::CAPABILITIES),
    }
}

/// Blob and KV take no options: the section must hold nothing but `provider`.
fn parse_empty(section: &Section) -> Result<(), ConfigError> {
    section.finish()
}

#[async_trait]
impl Provider for MemoryProvider {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn description(&self) -> &'static str {
        "in-process: all four services in memory, exact and fast, nothing persisted"
    }

    fn declared(&self) -> Declared {
        declared()
    }

    fn check(&self, service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        match service {
            ServiceKind::Blob | ServiceKind::Kv => parse_empty(options),
            ServiceKind::Queue => QueueOptions::parse(options).map(drop),
            ServiceKind::Compute => ComputeOptions::parse(options).map(drop),
        }
    }

    async fn blob(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn BlobService>> {
        parse_empty(options)?;
        Ok(Arc::new(MemoryBlobService::new()))
    }

    async fn kv(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn KvService>> {
        parse_empty(options)?;
        Ok(Arc::new(MemoryKvService::new()))
    }

    async fn queue(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn QueueService>> {
        Ok(Arc::new(MemoryQueueService::new(QueueOptions::parse(
            options,
        )?)))
    }

    async fn compute(&self, options: &Section, ctx: &BuildContext) -> Result<Arc<dyn Compute>> {
        Ok(Arc::new(MemoryCompute::new(
            ComputeOptions::parse(options)?,
            ctx.handlers.clone(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn profile(yaml: &str) -> stratus::config::Profile {
        let config =
            stratus::Config::parse("test.yaml", yaml, Path::new("."), Arc::new(|_| None)).unwrap();
        config.profile("m").unwrap()
    }

    #[test]
    fn check_accepts_known_options_and_rejects_unknown_ones() {
        let good = profile(
            "profiles:\n  m:\n    blob:\n      provider: memory\n    kv:\n      provider: memory\n    queue:\n      provider: memory\n      visibility_timeout: 5s\n      max_attempts: 0\n    compute:\n      provider: memory\n      default_timeout: 2s\n",
        );
        for service in &good.services {
            MemoryProvider
                .check(service.kind, &service.options)
                .unwrap();
        }
        for (kind, extra) in [
            ("blob", "root: /x"),
            ("kv", "path: x"),
            ("queue", "path: x"),
            ("compute", "functions: {}"),
        ] {
            let p = profile(&format!(
                "profiles:\n  m:\n    {kind}:\n      provider: memory\n      {extra}\n"
            ));
            let service = &p.services[0];
            let err = MemoryProvider
                .check(service.kind, &service.options)
                .unwrap_err();
            assert!(err.message.contains("unknown key"), "{kind}: {err}");
        }
    }

    #[test]
    fn declared_matches_every_store() {
        let d = MemoryProvider.declared();
        assert!(!d.declares(stratus::Capability::BlobPresign));
        for cap in stratus::Capability::ALL {
            assert_eq!(
                d.declares(cap),
                cap != stratus::Capability::BlobPresign,
                "{cap}"
            );
        }
    }
}
