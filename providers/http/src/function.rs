//! STUB — being written by a helper; replace this whole file.

use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{Declared, Provider, async_trait};

/// The `http` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpProvider;

#[async_trait]
impl Provider for HttpProvider {
    fn name(&self) -> &'static str {
        "http"
    }

    fn description(&self) -> &'static str {
        "HTTP functions"
    }

    fn declared(&self) -> Declared {
        Declared::default()
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        options.finish()
    }
}
