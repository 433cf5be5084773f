//! [`Stratus`]: the services of one profile, opened through the registry, with every
//! store behind the validation layer.

use std::sync::Arc;

use crate::blob::{BlobService, BlobStore};
use crate::compute::Compute;
use crate::config::{Config, ConfigError, Profile, ServiceKind};
use crate::error::{Error, Result};
use crate::kv::{KvService, KvStore};
use crate::names::validate_resource_name;
use crate::queue::{Queue, QueueService};
use crate::registry::{BuildContext, Registry};
use crate::validate::{CheckedBlob, CheckedCompute, CheckedKv, CheckedQueue};

/// The opened services of one profile. Cheap to clone.
#[derive(Clone)]
pub struct Stratus {
    profile: String,
    blob: Option<(String, Arc<dyn BlobService>)>,
    kv: Option<(String, Arc<dyn KvService>)>,
    queue: Option<(String, Arc<dyn QueueService>)>,
    compute: Option<(String, Arc<dyn Compute>)>,
}

impl std::fmt::Debug for Stratus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stratus")
            .field("profile", &self.profile)
            .finish()
    }
}

/// Validates every service of `profile` against `registry` without opening anything:
/// unknown providers, unknown keys, wrong types and missing variables are all reported.
pub fn check_profile(profile: &Profile, registry: &Registry) -> Result<(), ConfigError> {
    for service in &profile.services {
        let provider = registry.resolve(service.kind, &service.provider, &service.options)?;
        provider.check(service.kind, &service.options)?;
    }
    Ok(())
}

impl Stratus {
    /// Checks and opens every service of the selected profile (`profile`, or the file's
    /// `profile:` key).
    pub async fn open(
        config: &Config,
        profile: Option<&str>,
        registry: &Registry,
        ctx: BuildContext,
    ) -> Result<Self> {
        let profile = config.select_profile(profile)?;
        check_profile(&profile, registry)?;
        let mut this = Self {
            profile: profile.name.clone(),
            blob: None,
            kv: None,
            queue: None,
            compute: None,
        };
        for service in &profile.services {
            let provider = registry.resolve(service.kind, &service.provider, &service.options)?;
            let name = provider.name().to_owned();
            let label = label(&name, "open");
            let options = &service.options;
            match service.kind {
                ServiceKind::Blob => {
                    this.blob = Some((
                        name.clone(),
                        provider.blob(options, &ctx).await.map_err(label)?,
                    ))
                }
                ServiceKind::Kv => {
                    this.kv = Some((
                        name.clone(),
                        provider.kv(options, &ctx).await.map_err(label)?,
                    ))
                }
                ServiceKind::Queue => {
                    this.queue = Some((
                        name.clone(),
                        provider.queue(options, &ctx).await.map_err(label)?,
                    ))
                }
                ServiceKind::Compute => {
                    this.compute = Some((
                        name.clone(),
                        provider.compute(options, &ctx).await.map_err(label)?,
                    ))
                }
            }
        }
        Ok(this)
    }

    /// The profile's name.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The provider serving `service`, if the profile configures it.
    pub fn provider(&self, service: ServiceKind) -> Option<&str> {
        match service {
            ServiceKind::Blob => self.blob.as_ref().map(|(p, _)| p.as_str()),
            ServiceKind::Kv => self.kv.as_ref().map(|(p, _)| p.as_str()),
            ServiceKind::Queue => self.queue.as_ref().map(|(p, _)| p.as_str()),
            ServiceKind::Compute => self.compute.as_ref().map(|(p, _)| p.as_str()),
        }
    }

    /// The provider name and service of `slot`, or an error naming the profile.
    fn configured<'a, S: ?Sized>(
        &self,
        slot: &'a Option<(String, Arc<S>)>,
        service: ServiceKind,
    ) -> Result<(&'a str, &'a Arc<S>)> {
        slot.as_ref()
            .map(|(provider, s)| (provider.as_str(), s))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "profile {:?} configures no {service} service",
                    self.profile
                ))
            })
    }

    /// The blob store called `name`.
    pub async fn blob(&self, name: &str) -> Result<Arc<dyn BlobStore>> {
        validate_resource_name("blob store", name)?;
        let (provider, service) = self.configured(&self.blob, ServiceKind::Blob)?;
        let store = service
            .open(name)
            .await
            .map_err(label(provider, "blob.open"))?;
        Ok(Arc::new(CheckedBlob::new(store, provider)))
    }

    /// The KV table called `name`.
    pub async fn kv(&self, name: &str) -> Result<Arc<dyn KvStore>> {
        validate_resource_name("KV table", name)?;
        let (provider, service) = self.configured(&self.kv, ServiceKind::Kv)?;
        let store = service
            .open(name)
            .await
            .map_err(label(provider, "kv.open"))?;
        Ok(Arc::new(CheckedKv::new(store, provider)))
    }

    /// The queue called `name`.
    pub async fn queue(&self, name: &str) -> Result<Arc<dyn Queue>> {
        validate_resource_name("queue", name)?;
        let (provider, service) = self.configured(&self.queue, ServiceKind::Queue)?;
        let queue = service
            .open(name)
            .await
            .map_err(label(provider, "queue.open"))?;
        Ok(Arc::new(CheckedQueue::new(queue, provider)))
    }

    /// The dead-letter queue of the queue called `name` (needs `queue.dead_letter`).
    pub async fn dead_letter_queue(&self, name: &str) -> Result<Arc<dyn Queue>> {
        validate_resource_name("queue", name)?;
        let (provider, service) = self.configured(&self.queue, ServiceKind::Queue)?;
        let label = label(provider, "queue.open_dead_letter");
        let main = service.open(name).await.map_err(label)?;
        if !main.capabilities().dead_letter {
            return Err(label(Error::unsupported(format!(
                "this store does not declare capability {}",
                crate::Capability::QueueDeadLetter
            ))));
        }
        let queue = service.open_dead_letter(name).await.map_err(label)?;
        Ok(Arc::new(CheckedQueue::new(queue, provider)))
    }

    /// The compute service.
    pub fn compute(&self) -> Result<Arc<dyn Compute>> {
        let (provider, compute) = self.configured(&self.compute, ServiceKind::Compute)?;
        Ok(Arc::new(CheckedCompute::new(compute.clone(), provider)))
    }
}

/// Labels errors of `operation` with `provider`.
fn label<'a>(provider: &'a str, operation: &'a str) -> impl Fn(Error) -> Error + Copy + 'a {
    move |e| e.with_provider(provider).with_operation(operation)
}
