//! The compute service: one HTTP POST per invoke.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Client;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use stratus::capabilities::ComputeCapabilities;
use stratus::compute::{Compute, InvokeOptions, with_deadline};
use stratus::limits::MAX_COMPUTE_PAYLOAD_BYTES;
use stratus::{Error, ErrorKind, Result, async_trait};

use crate::options::HttpOptions;
use crate::response;

/// What the `http` compute service declares (no `compute.async`).
pub const CAPABILITIES: ComputeCapabilities = ComputeCapabilities {
    async_submit: false,
    max_payload_bytes: MAX_COMPUTE_PAYLOAD_BYTES,
};

/// Invokes functions behind HTTP triggers.
#[derive(Debug, Clone)]
pub struct HttpCompute {
    client: Client,
    options: HttpOptions,
}

impl HttpCompute {
    /// A service for `options` with its own connection pool.
    pub fn new(options: HttpOptions) -> Result<Self> {
        let client = Client::builder().build().map_err(|e| {
            Error::internal(format!("building the HTTP client: {e}")).with_source(e)
        })?;
        Ok(Self { client, options })
    }

    fn timeout(&self, opts: &InvokeOptions) -> Duration {
        opts.timeout.unwrap_or(self.options.default_timeout)
    }

    async fn call(&self, function: &str, payload: Bytes) -> Result<Bytes> {
        let request = self
            .client
            .post(self.options.url(function))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(payload);
        let response = self
            .options
            .auth
            .apply(request)
            .send()
            .await
            .map_err(|e| transport_error(function, e))?;
        response::outcome(function, response).await
    }
}

/// The error for a request that got no (complete) answer: the function host could not be
/// reached or the connection broke. Retryable (`Unavailable`), or `Timeout`.
pub(crate) fn transport_error(function: &str, e: reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Unavailable
    };
    let what = if e.is_connect() {
        "cannot connect to the function host"
    } else {
        "request failed"
    };
    // reqwest's Display omits the cause (connection refused, ...); include the chain.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::new(
        kind,
        format!("invoking function {function:?}: {what}: {detail}"),
    )
    .with_source(e)
}

#[async_trait]
impl Compute for HttpCompute {
    fn capabilities(&self) -> ComputeCapabilities {
        CAPABILITIES
    }

    async fn invoke(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<Bytes> {
        with_deadline(function, self.timeout(&opts), self.call(function, payload)).await
    }
}
