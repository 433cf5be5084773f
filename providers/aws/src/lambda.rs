//! STUB — being written by a helper; replace this whole file.

use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{Declared, Provider, async_trait};

/// The `lambda` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct LambdaProvider;

#[async_trait]
impl Provider for LambdaProvider {
    fn name(&self) -> &'static str {
        "lambda"
    }

    fn description(&self) -> &'static str {
        "AWS Lambda"
    }

    fn declared(&self) -> Declared {
        Declared::default()
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        options.finish()
    }
}
