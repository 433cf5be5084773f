//! Providers register under a name (`memory`, `local`, `s3`, ...); profiles pick them.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use crate::blob::BlobService;
use crate::capabilities::*;
use crate::compute::{Compute, Handlers};
use crate::config::{ConfigError, Section, ServiceKind};
use crate::error::{Error, Result};
use crate::kv::KvService;
use crate::queue::QueueService;

/// What a provider offers for each service it implements (`None`: not implemented).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Declared {
    /// Blob capabilities.
    pub blob: Option<BlobCapabilities>,
    /// KV capabilities.
    pub kv: Option<KvCapabilities>,
    /// Queue capabilities.
    pub queue: Option<QueueCapabilities>,
    /// Compute capabilities.
    pub compute: Option<ComputeCapabilities>,
}

impl Declared {
    /// Whether the provider implements `service`.
    pub fn offers(&self, service: ServiceKind) -> bool {
        match service {
            ServiceKind::Blob => self.blob.is_some(),
            ServiceKind::Kv => self.kv.is_some(),
            ServiceKind::Queue => self.queue.is_some(),
            ServiceKind::Compute => self.compute.is_some(),
        }
    }

    /// Whether `cap` is declared.
    pub fn declares(&self, cap: Capability) -> bool {
        self.blob.as_ref().is_some_and(|c| c.declares(cap))
            || self.kv.as_ref().is_some_and(|c| c.declares(cap))
            || self.queue.as_ref().is_some_and(|c| c.declares(cap))
            || self.compute.as_ref().is_some_and(|c| c.declares(cap))
    }
}

/// What an application hands to providers when a profile is opened.
#[derive(Debug, Clone, Default)]
pub struct BuildContext {
    /// In-process compute functions.
    pub handlers: Handlers,
}

fn not_offered(provider: &str, service: ServiceKind) -> Error {
    Error::unsupported(format!(
        "provider {provider:?} does not offer a {service} service"
    ))
}

/// A provider family: parses its options and opens services.
///
/// `check` must validate options without side effects (no files created, no network),
/// because `stratus config check` calls it; it ends with [`Section::finish`].
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The name profiles use (`provider: local`).
    fn name(&self) -> &'static str;

    /// One line for `stratus providers`.
    fn description(&self) -> &'static str;

    /// The services this provider offers and their capabilities.
    fn declared(&self) -> Declared;

    /// Validates the options of `service` without side effects.
    fn check(&self, service: ServiceKind, options: &Section) -> Result<(), ConfigError>;

    /// Creates what the options of `service` name and the provider cannot create on first
    /// use (an S3 bucket, an Azure container), if missing. Idempotent. Returns one line per
    /// resource ensured, for `stratus provision`.
    async fn provision(&self, service: ServiceKind, options: &Section) -> Result<Vec<String>> {
        let _ = (service, options);
        Ok(Vec::new())
    }

    /// Opens the blob service.
    async fn blob(&self, options: &Section, ctx: &BuildContext) -> Result<Arc<dyn BlobService>> {
        let _ = (options, ctx);
        Err(not_offered(self.name(), ServiceKind::Blob))
    }

    /// Opens the KV service.
    async fn kv(&self, options: &Section, ctx: &BuildContext) -> Result<Arc<dyn KvService>> {
        let _ = (options, ctx);
        Err(not_offered(self.name(), ServiceKind::Kv))
    }

    /// Opens the queue service.
    async fn queue(&self, options: &Section, ctx: &BuildContext) -> Result<Arc<dyn QueueService>> {
        let _ = (options, ctx);
        Err(not_offered(self.name(), ServiceKind::Queue))
    }

    /// Opens the compute service.
    async fn compute(&self, options: &Section, ctx: &BuildContext) -> Result<Arc<dyn Compute>> {
        let _ = (options, ctx);
        Err(not_offered(self.name(), ServiceKind::Compute))
    }
}

/// The providers an application links, by name.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<&'static str, Arc<dyn Provider>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.providers.keys()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `provider` under its name, replacing one of the same name.
    pub fn register(&mut self, provider: Arc<dyn Provider>) -> &mut Self {
        self.providers.insert(provider.name(), provider);
        self
    }

    /// The provider called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Provider>> {
        self.providers.get(name).cloned()
    }

    /// All providers, sorted by name.
    pub fn providers(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.values()
    }

    /// The provider a service config names, or a located error listing the known ones.
    pub fn resolve(
        &self,
        service: ServiceKind,
        provider: &str,
        options: &Section,
    ) -> Result<Arc<dyn Provider>, ConfigError> {
        let found = self.get(provider).filter(|p| p.declared().offers(service));
        found.ok_or_else(|| {
            let offering: Vec<&str> = self
                .providers
                .values()
                .filter(|p| p.declared().offers(service))
                .map(|p| p.name())
                .collect();
            let what = if self.get(provider).is_some() {
                format!("provider {provider:?} does not offer a {service} service")
            } else {
                format!("unknown provider {provider:?}")
            };
            options.key_error(
                "provider",
                format!(
                    "{what} (providers linked for {service}: {})",
                    offering.join(", ")
                ),
            )
        })
    }
}
