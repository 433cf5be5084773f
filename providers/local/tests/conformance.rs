//! Runs the whole conformance suite against the `local` profile of
//! `stratus.example.yaml`, exactly as an operator would configure it (the conformance
//! functions run as subprocesses), with its data in a fresh temporary folder.

use std::sync::Arc;

use stratus::Registry;
use stratus_conformance::testing::assert_conformant;
use stratus_local::LocalProvider;

const EXAMPLE: &str = include_str!("../../../stratus.example.yaml");

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn local_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut registry = Registry::new();
    registry.register(Arc::new(LocalProvider));
    let reports = assert_conformant(EXAMPLE, dir.path(), "local", &registry).await;
    assert!(reports.len() >= 112, "only {} cases ran", reports.len());
}
