//! The `http` provider: registers the compute service.

use std::sync::Arc;

use stratus::compute::Compute;
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{BuildContext, Declared, Provider, Result, async_trait};

use crate::compute::{CAPABILITIES, HttpCompute};
use crate::options::HttpOptions;

/// The `http` provider (compute only).
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpProvider;

#[async_trait]
impl Provider for HttpProvider {
    fn name(&self) -> &'static str {
        "http"
    }

    fn description(&self) -> &'static str {
        "compute: functions behind HTTP triggers (Azure Functions keys; POST JSON, status-mapped errors)"
    }

    fn declared(&self) -> Declared {
        Declared {
            compute: Some(CAPABILITIES),
            ..Declared::default()
        }
    }

    fn check(&self, service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        match service {
            ServiceKind::Compute => HttpOptions::parse(options).map(drop),
            other => Err(options.error(format!(
                "provider \"http\" does not offer a {other} service"
            ))),
        }
    }

    async fn compute(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn Compute>> {
        Ok(Arc::new(HttpCompute::new(HttpOptions::parse(options)?)?))
    }
}
