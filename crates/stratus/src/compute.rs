//! Named functions: the [`Compute`] trait. Normative text: `spec/compute.md`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::future::BoxFuture;

use crate::capabilities::ComputeCapabilities;
use crate::error::Result;

/// Options of an invoke or submit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvokeOptions {
    /// Give up (and stop the function where the provider can) after this long;
    /// `None` uses the function's configured timeout.
    pub timeout: Option<Duration>,
}

/// Where an asynchronous execution is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionState {
    /// Accepted, not started or still running.
    Running,
    /// Finished; the function's output.
    Succeeded(Bytes),
    /// Finished with an error: the kind (`function_failed`, `timeout`, ...) and message.
    Failed {
        /// The error kind's name, as in [`crate::ErrorKind::as_str`].
        kind: String,
        /// What the function or the provider said.
        message: String,
    },
}

/// Runs named functions. Payloads and results are JSON documents of at most 256 KiB.
#[async_trait]
pub trait Compute: Send + Sync + 'static {
    /// What this store declares.
    fn capabilities(&self) -> ComputeCapabilities;

    /// Runs `function` and returns its output. A function that reports an error gives
    /// `FunctionFailed`; a deadline that passes gives `Timeout`.
    async fn invoke(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<Bytes>;

    /// Starts `function` without waiting; returns an execution id (needs `compute.async`).
    async fn submit(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<String> {
        let _ = (function, payload, opts);
        Err(crate::Error::unsupported(
            "asynchronous executions are not declared by this store",
        ))
    }

    /// The state of an execution started by `submit`; `NotFound` for unknown ids.
    async fn execution(&self, id: &str) -> Result<ExecutionState> {
        let _ = id;
        Err(crate::Error::unsupported(
            "asynchronous executions are not declared by this store",
        ))
    }
}

/// An error a function itself reports (becomes `FunctionFailed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError(pub String);

/// An in-process function: JSON bytes in, JSON bytes out.
pub type Handler =
    Arc<dyn Fn(Bytes) -> BoxFuture<'static, Result<Bytes, FunctionError>> + Send + Sync>;

/// In-process functions the application registers by name; providers that run code in
/// process (memory, local) serve these.
#[derive(Clone, Default)]
pub struct Handlers {
    handlers: HashMap<String, Handler>,
}

impl Handlers {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` under `name`, replacing any earlier one.
    pub fn register<F, Fut>(&mut self, name: &str, handler: F) -> &mut Self
    where
        F: Fn(Bytes) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Bytes, FunctionError>> + Send + 'static,
    {
        self.handlers
            .insert(name.to_owned(), Arc::new(move |b| Box::pin(handler(b))));
        self
    }

    /// The handler registered under `name`.
    pub fn get(&self, name: &str) -> Option<Handler> {
        self.handlers.get(name).cloned()
    }

    /// Names of all registered handlers, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<_> = self.handlers.keys().cloned().collect();
        names.sort();
        names
    }
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("names", &self.names())
            .finish()
    }
}

/// Runs `call` under `timeout`, turning a passed deadline into `Timeout`. Dropping the
/// future on timeout cancels in-process work (a subprocess must be killed on drop).
pub async fn with_deadline<F>(function: &str, timeout: Duration, call: F) -> Result<Bytes>
where
    F: std::future::Future<Output = Result<Bytes>>,
{
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(crate::Error::new(
            crate::ErrorKind::Timeout,
            format!("function {function:?} did not finish within {timeout:?}"),
        )),
    }
}

/// Calls an in-process handler, turning its [`FunctionError`] into `FunctionFailed`.
pub async fn call_handler(function: &str, handler: &Handler, payload: Bytes) -> Result<Bytes> {
    handler(payload).await.map_err(|FunctionError(message)| {
        crate::Error::new(
            crate::ErrorKind::FunctionFailed,
            format!("function {function:?} failed: {message}"),
        )
    })
}

/// Asynchronous executions run as tasks in this process, for providers without a native
/// asynchronous invoke. States are kept until the process exits.
#[derive(Debug, Default)]
pub struct LocalExecutions {
    states: std::sync::Mutex<HashMap<String, ExecutionState>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl LocalExecutions {
    /// Starts `run` on the tokio runtime and returns its execution id.
    pub fn spawn<F>(self: &Arc<Self>, run: F) -> String
    where
        F: std::future::Future<Output = Result<Bytes>> + Send + 'static,
    {
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("exec-{}-{n}", std::process::id());
        self.set(&id, ExecutionState::Running);
        let this = Arc::clone(self);
        let task_id = id.clone();
        tokio::spawn(async move {
            let state = match run.await {
                Ok(output) => ExecutionState::Succeeded(output),
                Err(e) => ExecutionState::Failed {
                    kind: e.kind().as_str().to_owned(),
                    message: e.message().to_owned(),
                },
            };
            this.set(&task_id, state);
        });
        id
    }

    /// The state of execution `id`.
    pub fn state(&self, id: &str) -> Result<ExecutionState> {
        self.states
            .lock()
            .expect("execution table poisoned")
            .get(id)
            .cloned()
            .ok_or_else(|| crate::Error::not_found(format!("no execution with id {id:?}")))
    }

    fn set(&self, id: &str, state: ExecutionState) {
        self.states
            .lock()
            .expect("execution table poisoned")
            .insert(id.to_owned(), state);
    }
}

/// The deadline of a call when neither the caller nor the function configures one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest deadline a call or a configured function may have.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Reads the timeout option `key` of a provider section: a duration of 1ms..=15m.
pub fn timeout_option(
    section: &crate::config::Section,
    key: &str,
) -> Result<Option<Duration>, crate::config::ConfigError> {
    match section.duration(key)? {
        Some(t) if t.is_zero() || t > MAX_TIMEOUT => {
            Err(section.key_error(key, "must be between 1ms and 15m"))
        }
        other => Ok(other),
    }
}

/// Checks what a function returned: a JSON document of at most 256 KiB, else
/// `FunctionFailed` (the function broke the contract, not the infrastructure).
pub fn check_result(function: &str, output: Bytes) -> Result<Bytes> {
    let max = crate::limits::MAX_COMPUTE_PAYLOAD_BYTES;
    if output.len() > max {
        return Err(crate::Error::new(
            crate::ErrorKind::FunctionFailed,
            format!(
                "function {function:?} returned {} bytes; the limit is {max}",
                output.len()
            ),
        ));
    }
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&output) {
        return Err(crate::Error::new(
            crate::ErrorKind::FunctionFailed,
            format!("function {function:?} returned a result that is not a JSON document: {e}"),
        ));
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_must_be_json_within_the_limit() {
        assert!(check_result("f", Bytes::from_static(b"{\"a\":1}")).is_ok());
        let not_json = check_result("f", Bytes::from_static(b"nope")).unwrap_err();
        assert_eq!(not_json.kind(), crate::ErrorKind::FunctionFailed);
        let big = Bytes::from(vec![b' '; crate::limits::MAX_COMPUTE_PAYLOAD_BYTES + 1]);
        assert_eq!(
            check_result("f", big).unwrap_err().kind(),
            crate::ErrorKind::FunctionFailed
        );
    }

    #[test]
    fn timeout_options_are_bounded() {
        let config = crate::Config::parse(
            "t.yaml",
            "profiles:\n  p:\n    compute: { provider: x, a: 250ms, b: 0ms, c: 16m }\n",
            std::path::Path::new("."),
            Arc::new(|_| None),
        )
        .unwrap();
        let profile = config.profile("p").unwrap();
        let section = &profile.services[0].options;
        assert_eq!(
            timeout_option(section, "a").unwrap(),
            Some(Duration::from_millis(250))
        );
        assert!(timeout_option(section, "b").is_err());
        assert!(
            timeout_option(section, "c")
                .unwrap_err()
                .message
                .contains("1ms and 15m")
        );
        assert_eq!(timeout_option(section, "absent").unwrap(), None);
    }
}
