//! STUB — being written by a helper; replace this whole file.

use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{Declared, Provider, async_trait};

/// The `dynamodb` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamoDbProvider;

#[async_trait]
impl Provider for DynamoDbProvider {
    fn name(&self) -> &'static str {
        "dynamodb"
    }

    fn description(&self) -> &'static str {
        "Amazon DynamoDB"
    }

    fn declared(&self) -> Declared {
        Declared::default()
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        options.finish()
    }
}
