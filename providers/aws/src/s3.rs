//! STUB — being written by a helper; replace this whole file.

use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{Declared, Provider, async_trait};

/// The `s3` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct S3Provider;

#[async_trait]
impl Provider for S3Provider {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn description(&self) -> &'static str {
        "Amazon S3 (and S3-compatible stores)"
    }

    fn declared(&self) -> Declared {
        Declared::default()
    }

    fn check(&self, _service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        options.finish()
    }
}
