//! STUB — being written by a helper; replace this whole file.

use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{Declared, Provider, async_trait};

/// The `azure-table` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct AzureTableProvider;

#[async_trait]
impl Provider for AzureTableProvider {
    fn name(&self) -> &'static str {
        "azure-table"
    }

    fn description(&self) -> &'static str {
        "Azure Table Storage"
    }

    fn declared(&self) -> Declared {
        Declared::default()
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        options.finish()
    }
}
