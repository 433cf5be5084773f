//! Local functions: those configured in YAML run as subprocesses; any other name falls
//! back to the application's in-process [`Handlers`]. Asynchronous executions are tasks
//! in this process ([`LocalExecutions`]).

mod options;
mod subprocess;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use stratus::capabilities::ComputeCapabilities;
use stratus::compute::{
    Compute, ExecutionState, Handler, Handlers, InvokeOptions, LocalExecutions, call_handler,
    with_deadline,
};
use stratus::limits::MAX_COMPUTE_PAYLOAD_BYTES;
use stratus::{Error, Result, async_trait};

pub use options::{ComputeOptions, FunctionSpec};

/// What the local compute service declares.
pub const CAPABILITIES: ComputeCapabilities = ComputeCapabilities {
    async_submit: true,
    max_payload_bytes: MAX_COMPUTE_PAYLOAD_BYTES,
};

/// Subprocess functions from the configuration plus in-process handlers.
pub struct LocalCompute {
    functions: Functions,
    executions: Arc<LocalExecutions>,
}

/// The function table.
struct Functions {
    options: ComputeOptions,
    handlers: Handlers,
}

/// What a name resolves to.
enum Target {
    Subprocess(FunctionSpec),
    InProcess(Handler),
}

impl Functions {
    fn resolve(&self, function: &str) -> Result<Target> {
        if let Some(spec) = self.options.functions.get(function) {
            return Ok(Target::Subprocess(spec.clone()));
        }
        self.handlers
            .get(function)
            .map(Target::InProcess)
            .ok_or_else(|| Error::not_found(format!("no function named {function:?}")))
    }

    /// The call's deadline: the call's own, else the function's, else the default.
    fn timeout(&self, target: &Target, opts: &InvokeOptions) -> Duration {
        let configured = match target {
            Target::Subprocess(spec) => spec.timeout,
            Target::InProcess(_) => None,
        };
        opts.timeout
            .or(configured)
            .unwrap_or(self.options.default_timeout)
    }
}

async fn call(
    function: String,
    target: Target,
    timeout: Duration,
    payload: Bytes,
) -> Result<Bytes> {
    match target {
        Target::Subprocess(spec) => subprocess::run(&function, &spec, payload, timeout).await,
        Target::InProcess(handler) => {
            with_deadline(
                &function,
                timeout,
                call_handler(&function, &handler, payload),
            )
            .await
        }
    }
}

impl LocalCompute {
    /// Serves `options.functions` as subprocesses and `handlers` in process.
    pub fn new(options: ComputeOptions, handlers: Handlers) -> Self {
        Self {
            functions: Functions { options, handlers },
            executions: Arc::default(),
        }
    }
}

#[async_trait]
impl Compute for LocalCompute {
    fn capabilities(&self) -> ComputeCapabilities {
        CAPABILITIES
    }

    async fn invoke(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<Bytes> {
        let target = self.functions.resolve(function)?;
        let timeout = self.functions.timeout(&target, &opts);
        call(function.to_owned(), target, timeout, payload).await
    }

    async fn submit(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<String> {
        let target = self.functions.resolve(function)?;
        let timeout = self.functions.timeout(&target, &opts);
        Ok(self
            .executions
            .spawn(call(function.to_owned(), target, timeout, payload)))
    }

    async fn execution(&self, id: &str) -> Result<ExecutionState> {
        self.executions.state(id)
    }
}

#[cfg(test)]
mod tests;
