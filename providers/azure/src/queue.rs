//! STUB — being written by a helper; replace this whole file.

use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{Declared, Provider, async_trait};

/// The `azure-queue` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct AzureQueueProvider;

#[async_trait]
impl Provider for AzureQueueProvider {
    fn name(&self) -> &'static str {
        "azure-queue"
    }

    fn description(&self) -> &'static str {
        "Azure Storage Queues"
    }

    fn declared(&self) -> Declared {
        Declared::default()
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        options.finish()
    }
}
