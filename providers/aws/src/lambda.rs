//! The `lambda` provider: compute on AWS Lambda.
//!
//! Options: `region`, `endpoint` (see [`AwsOptions`]), `function_prefix` (default empty;
//! function `f` is the Lambda function `{function_prefix}{f}`) and `default_timeout`
//! (default 30 s, 1 ms..=15 min).
//!
//! `invoke` is a synchronous `Invoke` (`RequestResponse`). A function error
//! (`X-Amz-Function-Error`) becomes `FunctionFailed` with the function's `errorMessage`,
//! except Lambda's own timeout (`Sandbox.Timedout` / "Task timed out"), which is
//! `Timeout`; an unknown function is `NotFound`. The deadline (`opts.timeout`, else
//! `default_timeout`) is enforced client-side with [`with_deadline`]: the caller gets
//! `Timeout` when it passes, but Lambda cannot cancel a running invocation, so the
//! function runs on until its own configured timeout (side effects may happen; not
//! portable, `spec/compute.md`).
//!
//! `compute.async` is NOT declared: an `Event` invoke gives no status or result channel
//! to answer `execution(id)`. The portable asynchronous execution built on a queue and a
//! KV table comes with the layers.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use bytes::Bytes;
use stratus::capabilities::ComputeCapabilities;
use stratus::compute::{
    Compute, DEFAULT_TIMEOUT, InvokeOptions, check_result, timeout_option, with_deadline,
};
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::limits::MAX_COMPUTE_PAYLOAD_BYTES;
use stratus::{BuildContext, Declared, Error, ErrorKind, Provider, Result, async_trait};

use crate::common::{AwsOptions, sdk_error};

/// What the Lambda compute service declares.
pub const CAPABILITIES: ComputeCapabilities = ComputeCapabilities {
    async_submit: false,
    max_payload_bytes: MAX_COMPUTE_PAYLOAD_BYTES,
};

/// Options of a `lambda` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaOptions {
    /// Region and endpoint.
    pub aws: AwsOptions,
    /// Prepended to every function name.
    pub function_prefix: String,
    /// Deadline of calls that pass no timeout.
    pub default_timeout: Duration,
}

impl LambdaOptions {
    /// Parses the section (no side effects).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let aws = AwsOptions::parse(section)?;
        let function_prefix = section.string("function_prefix")?.unwrap_or_default();
        if let Some(c) = function_prefix
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
        {
            return Err(section.key_error(
                "function_prefix",
                format!("Lambda function names allow a-z A-Z 0-9 _ - only, found {c:?}"),
            ));
        }
        if function_prefix.len() + stratus::limits::MAX_RESOURCE_NAME_CHARS > 64 {
            return Err(section.key_error(
                "function_prefix",
                "too long: Lambda function names have at most 64 characters",
            ));
        }
        let default_timeout =
            timeout_option(section, "default_timeout")?.unwrap_or(DEFAULT_TIMEOUT);
        section.finish()?;
        Ok(Self {
            aws,
            function_prefix,
            default_timeout,
        })
    }
}

/// The `lambda` provider (compute on AWS Lambda).
#[derive(Debug, Clone, Copy, Default)]
pub struct LambdaProvider;

#[async_trait]
impl Provider for LambdaProvider {
    fn name(&self) -> &'static str {
        "lambda"
    }

    fn description(&self) -> &'static str {
        "AWS Lambda: synchronous invokes with a client-side deadline (no compute.async)"
    }

    fn declared(&self) -> Declared {
        Declared {
            compute: Some(CAPABILITIES),
            ..Declared::default()
        }
    }

    fn check(&self, service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        match service {
            ServiceKind::Compute => LambdaOptions::parse(options).map(drop),
            _ => options.finish(),
        }
    }

    async fn compute(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn Compute>> {
        let options = LambdaOptions::parse(options)?;
        Ok(Arc::new(LambdaCompute::connect(options).await))
    }
}

/// Invokes Lambda functions.
pub struct LambdaCompute {
    client: Client,
    prefix: String,
    default_timeout: Duration,
}

impl LambdaCompute {
    /// A service using the SDK configuration of `options`.
    pub async fn connect(options: LambdaOptions) -> Self {
        let config = options.aws.sdk_config().await;
        Self {
            client: Client::new(&config),
            prefix: options.function_prefix,
            default_timeout: options.default_timeout,
        }
    }

    /// The Lambda function name of `function`.
    pub fn function_name(&self, function: &str) -> String {
        format!("{}{function}", self.prefix)
    }

    async fn call(&self, function: &str, payload: Bytes) -> Result<Bytes> {
        let out = self
            .client
            .invoke()
            .function_name(self.function_name(function))
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload.to_vec()))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("Lambda Invoke {function:?}"), e))?;
        let body = out
            .payload
            .map(|b| Bytes::from(b.into_inner()))
            .unwrap_or_default();
        if let Some(kind) = out.function_error {
            return Err(function_error(function, &kind, &body));
        }
        check_result(function, body)
    }
}

/// The error for a function error response (`X-Amz-Function-Error: kind`).
fn function_error(function: &str, kind: &str, body: &[u8]) -> Error {
    let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let message = field("errorMessage")
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(1024).collect());
    let error_type = field("errorType").unwrap_or_else(|| kind.to_owned());
    if error_type == "Sandbox.Timedout" || message.contains("Task timed out") {
        return Error::new(
            ErrorKind::Timeout,
            format!("function {function:?} hit its Lambda timeout: {message}"),
        );
    }
    Error::new(
        ErrorKind::FunctionFailed,
        format!("function {function:?} failed: {message} ({error_type})"),
    )
}

#[async_trait]
impl Compute for LambdaCompute {
    fn capabilities(&self) -> ComputeCapabilities {
        CAPABILITIES
    }

    async fn invoke(&self, function: &str, payload: Bytes, opts: InvokeOptions) -> Result<Bytes> {
        let timeout = opts.timeout.unwrap_or(self.default_timeout);
        with_deadline(function, timeout, self.call(function, payload)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_errors_carry_the_message() {
        let body = br#"{"errorMessage": "boom", "errorType": "RuntimeError"}"#;
        let e = function_error("f", "Unhandled", body);
        assert_eq!(e.kind(), ErrorKind::FunctionFailed);
        assert!(e.message().contains("boom"), "{}", e.message());
        let body = br#"{"errorMessage": "2026-01-01 Task timed out after 3.00 seconds"}"#;
        assert_eq!(
            function_error("f", "Unhandled", body).kind(),
            ErrorKind::Timeout
        );
        let e = function_error("f", "Unhandled", b"not json");
        assert!(e.message().contains("not json"));
    }

    #[test]
    fn results_must_be_json() {
        assert!(check_result("f", Bytes::from_static(b"{\"a\":1}")).is_ok());
        let e = check_result("f", Bytes::from_static(b"nope")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FunctionFailed);
        let big = Bytes::from(format!("\"{}\"", "x".repeat(MAX_COMPUTE_PAYLOAD_BYTES)));
        assert_eq!(
            check_result("f", big).unwrap_err().kind(),
            ErrorKind::FunctionFailed
        );
    }
}
