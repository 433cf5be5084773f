//! The `http` compute provider: functions behind HTTP triggers (Azure Functions today;
//! the same adapter is meant to serve Cloud Run and Function Compute HTTP triggers).
//!
//! An invoke is one `POST {base_url}{path_template}` with `{function}` replaced by the
//! function name, the JSON payload as the body (`application/json`) and, when `key` is
//! configured, the header `x-functions-key`. The answer's status decides the outcome
//! (see [`response`]). The deadline (`opts.timeout`, else `default_timeout`, 30 s unless
//! configured) covers connecting, sending and reading the whole answer; when it passes the
//! request is dropped and invoke fails with `Timeout`.
//!
//! `compute.async` is not declared: an HTTP trigger gives no execution channel to poll,
//! and the portable asynchronous executions built on Queue + KV come with a later layer.

mod auth;
mod compute;
mod function;
mod options;
pub mod response;

pub use auth::Auth;
pub use compute::HttpCompute;
pub use function::HttpProvider;
pub use options::HttpOptions;
