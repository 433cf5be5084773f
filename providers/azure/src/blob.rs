//! STUB — being written by a helper; replace this whole file.

use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{Declared, Provider, async_trait};

/// The `azure-blob` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct AzureBlobProvider;

#[async_trait]
impl Provider for AzureBlobProvider {
    fn name(&self) -> &'static str {
        "azure-blob"
    }

    fn description(&self) -> &'static str {
        "Azure Blob Storage"
    }

    fn declared(&self) -> Declared {
        Declared::default()
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        options.finish()
    }
}
