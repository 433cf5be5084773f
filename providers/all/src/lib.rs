//! Every stratus provider this build links, selected by cargo feature
//! (`memory` and `local` by default; `aws`, `azure` and `http` on request).

use std::sync::Arc;

use stratus::Registry;

/// A registry holding every provider enabled at build time.
pub fn registry() -> Registry {
    #[allow(unused_mut)]
    let mut registry = Registry::new();
    #[cfg(feature = "memory")]
    registry.register(Arc::new(stratus_memory::MemoryProvider));
    #[cfg(feature = "local")]
    registry.register(Arc::new(stratus_local::LocalProvider));
    #[cfg(feature = "aws")]
    for provider in stratus_aws::providers() {
        registry.register(provider);
    }
    #[cfg(feature = "azure")]
    for provider in stratus_azure::providers() {
        registry.register(provider);
    }
    #[cfg(feature = "http")]
    registry.register(Arc::new(stratus_http::HttpProvider));
    registry
}
