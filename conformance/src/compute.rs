//! compute cases: synchronous invokes (payloads, errors, deadlines, concurrency) and
//! asynchronous executions. They use the conformance function set (`echo`, `fail`,
//! `sleep`, see [`crate::functions`]). Normative text: `spec/compute.md`.

mod executions;
mod invoke;

use std::future::Future;

use bytes::Bytes;
use stratus::{Capability, ServiceKind};

use crate::case::{Case, CaseResult, Ctx, Failure};

/// Every compute case.
pub fn cases() -> Vec<Case> {
    let mut cases = invoke::cases();
    cases.extend(executions::cases());
    cases
}

/// A compute case named `name` needing `requires`.
fn case<F, Fut>(name: &'static str, requires: Option<Capability>, body: F) -> Case
where
    F: Fn(Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = CaseResult> + Send + 'static,
{
    Case::new(ServiceKind::Compute, name, requires, body)
}

/// A JSON payload.
fn json(value: serde_json::Value) -> Bytes {
    Bytes::from(value.to_string())
}

/// Parses a function result as JSON. Results are compared as JSON values, not bytes,
/// because a provider may re-serialise them.
fn parse(what: &str, bytes: &[u8]) -> Result<serde_json::Value, Failure> {
    serde_json::from_slice(bytes).map_err(|e| {
        let shown: String = String::from_utf8_lossy(bytes).chars().take(200).collect();
        Failure(format!("{what}: result is not JSON ({e}): {shown:?}"))
    })
}
