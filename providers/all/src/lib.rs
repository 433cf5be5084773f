//! Every stratus provider this build links, selected by cargo feature
//! (`memory` and `local` by default; each cloud behind its own feature).

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
    registry
}
