//! A small SharedKey REST client for Azure Storage (Queue, Table and the Blob calls the
//! queue overflow and container provisioning need): builds URLs, signs, sends, buffers the
//! answer and classifies failures into stratus error kinds. No retries here.

use std::sync::Arc;

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use stratus::{Error, ErrorKind, Result};

use crate::shared_key::{Flavour, SharedKey, Signable};

/// The `x-ms-version` every request sends.
pub const API_VERSION: &str = "2021-12-02";

/// Characters escaped in query values (everything but unreserved characters).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A request before signing.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// Path below the endpoint, already URL-safe (no leading `/` needed).
    pub path: String,
    /// Query parameters (unencoded).
    pub query: Vec<(String, String)>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
}

impl Request {
    /// A request of `method` on `path` with no query, headers or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
}

/// A buffered answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The Azure error code: `x-ms-error-code`, else `<Code>` (XML) or `odata.error.code`
    /// (JSON) in the body.
    pub fn error_code(&self) -> String {
        if let Some(code) = self.header("x-ms-error-code") {
            return code.to_owned();
        }
        let text = String::from_utf8_lossy(&self.body);
        if let Some(code) = between(&text, "<Code>", "</Code>") {
            return code.to_owned();
        }
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                v.pointer("/odata.error/code")
                    .or_else(|| v.pointer("/error/code"))
                    .and_then(|c| c.as_str().map(str::to_owned))
            })
            .unwrap_or_default()
    }

    /// This reply if it is a success, else its classified error.
    pub fn ok(self, what: &str) -> Result<Self> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.error(what))
        }
    }

    /// The stratus error for this (failed) reply.
    pub fn error(&self, what: &str) -> Error {
        let code = self.error_code();
        let kind = kind_for(self.status, &code);
        let text = String::from_utf8_lossy(&self.body);
        let detail: String = text.chars().take(300).collect();
        Error::new(
            kind,
            format!("{what}: HTTP {} {code}: {}", self.status, detail.trim()),
        )
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// The stratus kind for an Azure Storage error code, else for the HTTP status.
pub fn kind_for(status: u16, code: &str) -> ErrorKind {
    match code {
        "BlobNotFound" | "ContainerNotFound" | "QueueNotFound" | "MessageNotFound"
        | "ResourceNotFound" | "TableNotFound" | "EntityNotFound" => ErrorKind::NotFound,
        "BlobAlreadyExists"
        | "ContainerAlreadyExists"
        | "QueueAlreadyExists"
        | "TableAlreadyExists"
        | "EntityAlreadyExists" => ErrorKind::AlreadyExists,
        "ConditionNotMet" | "UpdateConditionNotSatisfied" | "PopReceiptMismatch" => {
            ErrorKind::PreconditionFailed
        }
        "AuthenticationFailed" | "NoAuthenticationInformation" => ErrorKind::Unauthenticated,
        "AuthorizationFailure"
        | "AuthorizationPermissionMismatch"
        | "InsufficientAccountPermissions" => ErrorKind::PermissionDenied,
        "ServerBusy" | "OperationTimedOut" | "InternalError" => ErrorKind::Unavailable,
        "RequestBodyTooLarge"
        | "MessageTooLarge"
        | "EntityTooLarge"
        | "PropertyValueTooLarge"
        | "InvalidInput"
        | "InvalidXmlDocument"
        | "InvalidQueryParameterValue"
        | "OutOfRangeInput"
        | "InvalidHeaderValue" => ErrorKind::InvalidArgument,
        _ => match status {
            404 => ErrorKind::NotFound,
            409 => ErrorKind::AlreadyExists,
            412 => ErrorKind::PreconditionFailed,
            400 | 413 => ErrorKind::InvalidArgument,
            401 => ErrorKind::Unauthenticated,
            403 => ErrorKind::PermissionDenied,
            429 | 503 => ErrorKind::Throttled,
            500..=599 => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        },
    }
}

/// Percent-encodes a query value or path segment.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY).to_string()
}

/// A signed client for one storage service endpoint.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    key: Arc<SharedKey>,
    /// Endpoint without a trailing `/`, e.g. `http://127.0.0.1:10001/devstoreaccount1`.
    endpoint: String,
    flavour: Flavour,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("flavour", &self.flavour)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of `endpoint` signing with `key` in `flavour`.
    pub fn new(
        http: reqwest::Client,
        key: Arc<SharedKey>,
        endpoint: &str,
        flavour: Flavour,
    ) -> Self {
        Self {
            http,
            key,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            flavour,
        }
    }

    /// The endpoint (no trailing slash).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The full URL of `path` (no query).
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.endpoint, path.trim_start_matches('/'))
    }

    /// Signs and sends `request`; any HTTP status is returned as a [`Reply`], transport
    /// failures are `Unavailable` (or `Timeout`).
    pub async fn send(&self, request: Request, what: &str) -> Result<Reply> {
        let mut url = self.url(&request.path);
        if !request.query.is_empty() {
            let q: Vec<String> = request
                .query
                .iter()
                .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
                .collect();
            url.push('?');
            url.push_str(&q.join("&"));
        }
        let parsed = url::Url::parse(&url)
            .map_err(|e| Error::invalid(format!("{what}: bad URL {url:?}: {e}")))?;
        let mut headers = request.headers.clone();
        headers.push(("x-ms-date".into(), http_date()));
        headers.push(("x-ms-version".into(), API_VERSION.into()));
        let auth = self.key.authorization(
            self.flavour,
            &Signable {
                method: request.method.as_str(),
                path: parsed.path(),
                query: &request.query,
                headers: &headers,
                content_length: request.body.len(),
            },
        );
        let mut builder = self
            .http
            .request(request.method.clone(), parsed)
            .header("Authorization", auth);
        for (n, v) in &headers {
            builder = builder.header(n.as_str(), v.as_str());
        }
        if !request.body.is_empty() || matches!(request.method, Method::PUT | Method::POST) {
            builder = builder
                .header("Content-Length", request.body.len().to_string())
                .body(request.body.clone());
        }
        let response = builder.send().await.map_err(|e| transport(what, e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| transport(what, e))?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

fn transport(what: &str, e: reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Unavailable
    };
    Error::new(kind, format!("{what}: request failed")).with_source(e)
}

/// The current time in the RFC 1123 form Azure expects.
pub fn http_date() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Parses an RFC 1123 date (`Fri, 26 Jun 2015 23:39:12 GMT`).
pub fn parse_http_date(text: &str) -> Option<std::time::SystemTime> {
    chrono::DateTime::parse_from_rfc2822(text)
        .ok()
        .map(std::time::SystemTime::from)
}

/// Creates a blob container with a signed `PUT ?restype=container`; an existing container
/// is fine. `client` must be a Blob/Queue-flavour client of the blob endpoint.
pub async fn ensure_container(client: &Client, container: &str) -> Result<()> {
    let request = Request::new(Method::PUT, container.to_owned()).query("restype", "container");
    let reply = client.send(request, "create container").await?;
    if reply.is_success() || reply.error_code() == "ContainerAlreadyExists" || reply.status == 409 {
        Ok(())
    } else {
        Err(reply.error(&format!("create container {container:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classify_before_statuses() {
        assert_eq!(kind_for(404, "MessageNotFound"), ErrorKind::NotFound);
        assert_eq!(
            kind_for(400, "PopReceiptMismatch"),
            ErrorKind::PreconditionFailed
        );
        assert_eq!(
            kind_for(409, "EntityAlreadyExists"),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            kind_for(412, "UpdateConditionNotSatisfied"),
            ErrorKind::PreconditionFailed
        );
        assert_eq!(
            kind_for(403, "AuthenticationFailed"),
            ErrorKind::Unauthenticated
        );
        assert_eq!(kind_for(503, ""), ErrorKind::Throttled);
        assert_eq!(kind_for(500, ""), ErrorKind::Unavailable);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("PartitionKey eq 'a'"), "PartitionKey%20eq%20%27a%27");
        assert_eq!(encode("a-b_c.d~"), "a-b_c.d~");
    }

    #[test]
    fn dates_round_trip() {
        let d = http_date();
        assert!(d.ends_with(" GMT"), "{d}");
        assert!(parse_http_date(&d).is_some());
    }
}
