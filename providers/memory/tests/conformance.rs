//! Runs the whole conformance suite against the `memory` provider.

use std::path::Path;
use std::sync::Arc;

use stratus::Registry;
use stratus_conformance::testing::assert_conformant;
use stratus_memory::MemoryProvider;

const CONFIG: &str = "\
profiles:
  memory:
    blob: { provider: memory }
    kv: { provider: memory }
    queue: { provider: memory, visibility_timeout: 30s, max_attempts: 3 }
    compute: { provider: memory }
";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_passes_the_conformance_suite() {
    let mut registry = Registry::new();
    registry.register(Arc::new(MemoryProvider));
    let reports = assert_conformant(CONFIG, Path::new("."), "memory", &registry).await;
    assert!(reports.len() >= 112, "only {} cases ran", reports.len());
}
