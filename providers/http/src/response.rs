//! Turning an HTTP answer into a result or a stratus error.
//!
//! | Status | Outcome |
//! |---|---|
//! | 2xx | the body, which must be a JSON document of at most 256 KiB (else `FunctionFailed`) |
//! | 500 | `FunctionFailed`; the message is the body's `{"error": ...}`, or its text |
//! | 400, 413, 422 | `InvalidArgument` |
//! | 401 | `Unauthenticated` |
//! | 403 | `PermissionDenied` |
//! | 404 | `NotFound` |
//! | 408 | `Timeout` |
//! | 429 | `Throttled` |
//! | 502, 503, 504 | `Unavailable` |
//! | anything else | `Internal` |

use bytes::{Bytes, BytesMut};
use reqwest::{Response, StatusCode};
use stratus::compute::check_result;
use stratus::limits::MAX_COMPUTE_PAYLOAD_BYTES;
use stratus::{Error, ErrorKind, Result};

/// How much of an error answer's body is read and quoted in a message.
pub const MAX_ERROR_BODY_BYTES: usize = 4096;

/// The stratus error kind of a non-success status (`None` for 2xx).
pub fn kind_for_status(status: StatusCode) -> Option<ErrorKind> {
    if status.is_success() {
        return None;
    }
    Some(match status.as_u16() {
        500 => ErrorKind::FunctionFailed,
        400 | 413 | 422 => ErrorKind::InvalidArgument,
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        408 => ErrorKind::Timeout,
        429 => ErrorKind::Throttled,
        502..=504 => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    })
}

/// The result of `function` from its answer, or the error the answer stands for.
pub async fn outcome(function: &str, response: Response) -> Result<Bytes> {
    let status = response.status();
    match kind_for_status(status) {
        None => result_body(function, response).await,
        Some(kind) => {
            let body = read_limited(function, response, MAX_ERROR_BODY_BYTES)
                .await
                .map(|(body, _)| body)
                .unwrap_or_default();
            Err(status_error(function, status, kind, &body))
        }
    }
}

async fn result_body(function: &str, response: Response) -> Result<Bytes> {
    let too_large = |size: String| {
        Error::new(
            ErrorKind::FunctionFailed,
            format!(
                "function {function:?} returned {size} bytes; the limit is {MAX_COMPUTE_PAYLOAD_BYTES}"
            ),
        )
    };
    if let Some(len) = response.content_length()
        && len > MAX_COMPUTE_PAYLOAD_BYTES as u64
    {
        return Err(too_large(len.to_string()));
    }
    let (body, truncated) = read_limited(function, response, MAX_COMPUTE_PAYLOAD_BYTES).await?;
    if truncated {
        return Err(too_large(format!("more than {}", body.len())));
    }
    check_result(function, body)
}

/// Reads at most `limit` bytes of the body; the flag says whether more followed.
async fn read_limited(
    function: &str,
    mut response: Response,
    limit: usize,
) -> Result<(Bytes, bool)> {
    let mut body = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| crate::compute::transport_error(function, e))?
    {
        if body.len() + chunk.len() > limit {
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok((body.freeze(), true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body.freeze(), false))
}

/// The error for a non-success answer; `body` is (the start of) the answer's body.
pub fn status_error(function: &str, status: StatusCode, kind: ErrorKind, body: &[u8]) -> Error {
    let said = body_message(body);
    let message = match kind {
        ErrorKind::FunctionFailed => match said {
            Some(said) => format!("function {function:?} failed: {said}"),
            None => format!("function {function:?} failed (HTTP {status} with no message)"),
        },
        ErrorKind::NotFound => format!("no function {function:?} (HTTP {status})"),
        _ => match said {
            Some(said) => format!("invoking function {function:?}: HTTP {status}: {said}"),
            None => format!("invoking function {function:?}: HTTP {status}"),
        },
    };
    Error::new(kind, message)
}

/// What an error body says: `{"error": "..."}` (or `{"message": ...}`), a JSON string,
/// or the text itself; `None` when empty.
fn body_message(body: &[u8]) -> Option<String> {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let field = ["error", "message"]
            .iter()
            .find_map(|k| value.get(k))
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        if let Some(text) = field.or_else(|| value.as_str().map(str::to_owned)) {
            return Some(text);
        }
    }
    let text = String::from_utf8_lossy(body).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    #[test]
    fn status_kinds() {
        for (code, kind) in [
            (200, None),
            (201, None),
            (500, Some(ErrorKind::FunctionFailed)),
            (404, Some(ErrorKind::NotFound)),
            (401, Some(ErrorKind::Unauthenticated)),
            (403, Some(ErrorKind::PermissionDenied)),
            (429, Some(ErrorKind::Throttled)),
            (502, Some(ErrorKind::Unavailable)),
            (503, Some(ErrorKind::Unavailable)),
            (504, Some(ErrorKind::Unavailable)),
            (408, Some(ErrorKind::Timeout)),
            (400, Some(ErrorKind::InvalidArgument)),
            (405, Some(ErrorKind::Internal)),
            (501, Some(ErrorKind::Internal)),
        ] {
            assert_eq!(kind_for_status(status(code)), kind, "{code}");
        }
    }

    #[test]
    fn function_failed_messages() {
        let e = status_error(
            "fail",
            status(500),
            ErrorKind::FunctionFailed,
            br#"{"error":"boom"}"#,
        );
        assert_eq!(e.message(), "function \"fail\" failed: boom");
        assert!(!e.is_retryable());
        let e = status_error(
            "fail",
            status(500),
            ErrorKind::FunctionFailed,
            b" plain text\n",
        );
        assert_eq!(e.message(), "function \"fail\" failed: plain text");
        let e = status_error("fail", status(500), ErrorKind::FunctionFailed, b"");
        assert!(e.message().contains("no message"), "{}", e.message());
        let e = status_error("f", status(503), ErrorKind::Unavailable, br#""busy""#);
        assert!(e.message().ends_with("busy"), "{}", e.message());
        assert!(e.is_retryable());
    }
}
