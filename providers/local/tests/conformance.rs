//! Runs the whole conformance suite against the `local` provider, with the conformance
//! functions served as subprocesses (as an operator's YAML would configure them).

use std::sync::Arc;

use stratus::Registry;
use stratus_conformance::testing::assert_conformant;
use stratus_local::LocalProvider;

const CONFIG: &str = r#"
profiles:
  local:
    blob: { provider: local, root: ./blob }
    kv: { provider: local, path: ./stratus.redb }
    queue: { provider: local, path: ./stratus.redb, visibility_timeout: 30s, max_attempts: 3 }
    compute:
      provider: local
      functions:
        echo: { command: [cat] }
        fail: { command: [sh, -c, "echo conformance failure requested >&2; exit 3"] }
        sleep:
          command:
            - sh
            - -c
            - 'ms=$(sed -n ''s/.*"ms" *: *\([0-9]*\).*/\1/p''); sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"; printf ''{"slept_ms":%s}'' "$ms"'
          timeout: 60s
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn local_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut registry = Registry::new();
    registry.register(Arc::new(LocalProvider));
    let reports = assert_conformant(CONFIG, dir.path(), "local", &registry).await;
    assert!(reports.len() >= 112, "only {} cases ran", reports.len());
}
