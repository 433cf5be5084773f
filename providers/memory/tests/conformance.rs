//! Runs the whole conformance suite against the `memory` profile of
//! `stratus.example.yaml`.

use std::path::Path;
use std::sync::Arc;

use stratus::Registry;
use stratus_conformance::testing::assert_conformant;
use stratus_memory::MemoryProvider;

const EXAMPLE: &str = include_str!("../../../stratus.example.yaml");

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_passes_the_conformance_suite() {
    let mut registry = Registry::new();
    registry.register(Arc::new(MemoryProvider));
    let reports = assert_conformant(EXAMPLE, Path::new("."), "memory", &registry).await;
    assert!(reports.len() >= 112, "only {} cases ran", reports.len());
}
