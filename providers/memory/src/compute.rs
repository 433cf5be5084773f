//! In-process compute: serves the application's [`Handlers`] under a deadline, with
//! asynchronous executions as tasks of this process.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use stratus::capabilities::ComputeCapabilities;
use stratus::compute::{
    Compute, DEFAULT_TIMEOUT, ExecutionState, Handler, Handlers, InvokeOptions, LocalExecutions,
    call_handler, check_result, timeout_option, with_deadline,
};
use stratus::config::{ConfigError, Section};
use stratus::limits::MAX_COMPUTE_PAYLOAD_BYTES;
use stratus::{Error, Result, async_trait};

/// What the memory compute service declares.
pub const CAPABILITIES: ComputeCapabilities = ComputeCapabilities {
    async_submit: true,
    max_payload_bytes: MAX_COMPUTE_PAYLOAD_BYTES,
};

/// Options of the memory compute service: `default_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeOptions {
    /// Deadline of calls that pass no timeout (default 30 s).
    pub default_timeout: Duration,
}

impl Default for ComputeOptions {
    fn default() -> Self {
        Self {
            default_timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl ComputeOptions {
    /// Parses the `compute:` section of a profile (no side effects).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let default_timeout =
            timeout_option(section, "default_timeout")?.unwrap_or(DEFAULT_TIMEOUT);
        section.finish()?;
        Ok(Self { default_timeout })
    }
}

/// Runs the in-process handlers of the [`stratus::BuildContext`].
pub struct MemoryCompute {
    handlers: Handlers,
    default_timeout: Duration,
    executions: Arc<LocalExecutions>,
}

impl MemoryCompute {
    /// A service serving `handlers`.
    pub fn new(options: ComputeOptions, handlers: Handlers) -> Self {
        Self {
            handlers,
            default_timeout: options.default_timeout,
            executions: Arc::default(),
        }
    }

    fn handler(&self, function: &str) -> Result<Handler> {
        self.handlers
            .get(function)
            .ok_or_else(|| Error::not_found(format!("no function {function:?}")))
    }

    fn timeout(&self, opts: &InvokeOptions) -> Duration {
        opts.timeout.unwrap_or(self.default_timeout)
    }
}

/// Calls `handler` under `timeout` and checks its result is a JSON document within the
/// size limit (a function that breaks that contract has failed).
async fn run(
    function: String,
    handler: Handler,
    payload: Bytes,
    timeout: Duration,
) -> Result<Bytes> {
    let output = with_deadline(
        &function,
        timeout,
        call_handler(&function, &handler, payload),
    )
    .await?;
    check_result(&function, output)
}

#[async_trait]
impl Compute for MemoryCompute {
    fn capabilities(&self) -> ComputeCapabilities {
        CAPABILITIES
    }

    async fn invoke(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<Bytes> {
        let handler = self.handler(function)?;
        run(function.to_owned(), handler, payload, self.timeout(&opts)).await
    }

    async fn submit(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<String> {
        let handler = self.handler(function)?;
        let timeout = self.timeout(&opts);
        Ok(self
            .executions
            .spawn(run(function.to_owned(), handler, payload, timeout)))
    }

    async fn execution(&self, id: &str) -> Result<ExecutionState> {
        self.executions.state(id)
    }
}

#[cfg(test)]
mod tests {
    use stratus::ErrorKind;
    use stratus::compute::FunctionError;

    use super::*;

    fn compute() -> MemoryCompute {
        let mut handlers = Handlers::new();
        handlers.register("echo", |p| async move { Ok(p) });
        handlers.register("fail", |_| async move { Err(FunctionError("boom".into())) });
        handlers.register("hang", |_| async move {
            std::future::pending::<()>().await;
            Ok(Bytes::new())
        });
        handlers.register(
            "garbage",
            |_| async move { Ok(Bytes::from_static(b"not json")) },
        );
        MemoryCompute::new(ComputeOptions::default(), handlers)
    }

    fn kind<T: std::fmt::Debug>(r: Result<T>) -> (ErrorKind, String) {
        let e = r.expect_err("expected an error");
        (e.kind(), e.message().to_owned())
    }

    #[tokio::test(start_paused = true)]
    async fn invoke_outcomes() {
        let c = compute();
        let out = c
            .invoke(
                "echo",
                Bytes::from_static(b"{\"a\":1}"),
                InvokeOptions::default(),
            )
            .await;
        assert_eq!(out.unwrap(), Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(
            kind(
                c.invoke("nope", "{}".into(), InvokeOptions::default())
                    .await
            )
            .0,
            ErrorKind::NotFound
        );
        let (k, message) = kind(
            c.invoke("fail", "{}".into(), InvokeOptions::default())
                .await,
        );
        assert!(
            k == ErrorKind::FunctionFailed && message.contains("boom"),
            "{message}"
        );
        // The default deadline applies when the call names none.
        assert_eq!(
            kind(
                c.invoke("hang", "{}".into(), InvokeOptions::default())
                    .await
            )
            .0,
            ErrorKind::Timeout
        );
        assert_eq!(
            kind(
                c.invoke("garbage", "{}".into(), InvokeOptions::default())
                    .await
            )
            .0,
            ErrorKind::FunctionFailed
        );
    }

    #[tokio::test(start_paused = true)]
    async fn submitted_executions_finish() {
        let c = compute();
        assert_eq!(
            kind(
                c.submit("nope", "{}".into(), InvokeOptions::default())
                    .await
            )
            .0,
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(c.execution("exec-unknown").await).0,
            ErrorKind::NotFound
        );
        let ok = c
            .submit("echo", "[1]".into(), InvokeOptions::default())
            .await
            .unwrap();
        let failed = c
            .submit("fail", "{}".into(), InvokeOptions::default())
            .await
            .unwrap();
        let opts = InvokeOptions {
            timeout: Some(Duration::from_secs(1)),
        };
        let hung = c.submit("hang", "{}".into(), opts).await.unwrap();
        let mut states = Vec::new();
        for id in [&ok, &failed, &hung] {
            loop {
                match c.execution(id).await.unwrap() {
                    ExecutionState::Running => tokio::time::sleep(Duration::from_millis(100)).await,
                    done => {
                        states.push(done);
                        break;
                    }
                }
            }
        }
        assert_eq!(
            states[0],
            ExecutionState::Succeeded(Bytes::from_static(b"[1]"))
        );
        assert!(
            matches!(&states[1], ExecutionState::Failed { kind, message } if kind == "function_failed" && message.contains("boom"))
        );
        assert!(matches!(&states[2], ExecutionState::Failed { kind, .. } if kind == "timeout"));
    }
}
