//! The conformance function set: `echo`, `fail` and `sleep`, as in-process handlers.
//!
//! Every compute provider under test must offer functions with these names and this
//! behaviour (`spec/compute.md`): in process for `memory`, as subprocesses or deployed
//! functions elsewhere.

use std::time::Duration;

use bytes::Bytes;
use stratus::compute::{FunctionError, Handlers};

/// `echo` returns its payload; `fail` reports a function error; `sleep` waits
/// `{"ms": N}` milliseconds and returns `{"slept_ms": N}`.
pub fn handlers() -> Handlers {
    let mut handlers = Handlers::new();
    handlers.register("echo", |payload| async move { Ok(payload) });
    handlers.register("fail", |_| async move {
        Err(FunctionError("conformance failure requested".into()))
    });
    handlers.register("sleep", |payload: Bytes| async move {
        let ms = serde_json::from_slice::<serde_json::Value>(&payload)
            .ok()
            .and_then(|v| v.get("ms").and_then(|ms| ms.as_u64()))
            .ok_or_else(|| FunctionError("sleep expects {\"ms\": N}".into()))?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(Bytes::from(format!("{{\"slept_ms\":{ms}}}")))
    });
    handlers
}
