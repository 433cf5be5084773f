//! STUB — being written by a helper; replace this whole file.

use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{Declared, Provider, async_trait};

/// The `sqs` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqsProvider;

#[async_trait]
impl Provider for SqsProvider {
    fn name(&self) -> &'static str {
        "sqs"
    }

    fn description(&self) -> &'static str {
        "Amazon SQS"
    }

    fn declared(&self) -> Declared {
        Declared::default()
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        options.finish()
    }
}
