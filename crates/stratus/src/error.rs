//! The one error type every store returns. See `spec/errors.md`.

use std::fmt;

/// What went wrong, independent of the provider. Drivers classify; callers branch on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The object, item, queue, function or execution does not exist.
    NotFound,
    /// A create-only write (blob `Create`, KV `IfAbsent`) found an existing entry.
    AlreadyExists,
    /// A condition (ETag, version, stale receipt, conditional read) did not hold.
    PreconditionFailed,
    /// The request is malformed: bad key, size over a limit, bad option value.
    InvalidArgument,
    /// The store does not declare the capability the request needs.
    Unsupported,
    /// The caller is authenticated but not allowed to do this.
    PermissionDenied,
    /// The caller's credentials are missing, invalid or expired.
    Unauthenticated,
    /// The provider asked the caller to slow down.
    Throttled,
    /// The provider could not be reached or is temporarily failing.
    Unavailable,
    /// The operation did not finish within its deadline.
    Timeout,
    /// A compute function ran and reported a failure (not an infrastructure fault).
    FunctionFailed,
    /// A bug or an unexpected provider answer.
    Internal,
}

impl ErrorKind {
    /// Whether an error of this kind is retryable unless the driver says otherwise.
    pub fn retryable_by_default(self) -> bool {
        matches!(self, Self::Throttled | Self::Unavailable | Self::Timeout)
    }

    /// The stable snake_case name used in reports and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::PreconditionFailed => "precondition_failed",
            Self::InvalidArgument => "invalid_argument",
            Self::Unsupported => "unsupported",
            Self::PermissionDenied => "permission_denied",
            Self::Unauthenticated => "unauthenticated",
            Self::Throttled => "throttled",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
            Self::FunctionFailed => "function_failed",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stratus error: kind, retryable flag, provider, operation, message and source.
pub struct Error {
    kind: ErrorKind,
    retryable: bool,
    provider: String,
    operation: String,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Result alias used throughout stratus.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind`; retryable according to [`ErrorKind::retryable_by_default`].
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            retryable: kind.retryable_by_default(),
            provider: String::new(),
            operation: String::new(),
            message: message.into(),
            source: None,
        }
    }

    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// Shorthand for [`ErrorKind::InvalidArgument`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    /// Shorthand for [`ErrorKind::Unsupported`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// Shorthand for [`ErrorKind::PreconditionFailed`].
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PreconditionFailed, message)
    }

    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Sets the provider name (for example `local`) unless one is already set.
    pub fn with_provider(mut self, provider: &str) -> Self {
        if self.provider.is_empty() {
            self.provider = provider.to_owned();
        }
        self
    }

    /// Sets the operation (for example `blob.put`) unless one is already set.
    pub fn with_operation(mut self, operation: &str) -> Self {
        if self.operation.is_empty() {
            self.operation = operation.to_owned();
        }
        self
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Overrides whether the error is retryable.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether retrying the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The provider that produced the error (empty when raised before reaching one).
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The operation that failed, such as `kv.put`.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The human-readable message, without provider, operation or source.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match (self.provider.is_empty(), self.operation.is_empty()) {
            (false, false) => write!(f, " ({} {})", self.provider, self.operation)?,
            (false, true) => write!(f, " ({})", self.provider)?,
            (true, false) => write!(f, " ({})", self.operation)?,
            (true, true) => {}
        }
        write!(f, ": {}", self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        let kind = match e.kind() {
            Io::NotFound => ErrorKind::NotFound,
            Io::AlreadyExists => ErrorKind::AlreadyExists,
            Io::PermissionDenied => ErrorKind::PermissionDenied,
            Io::TimedOut => ErrorKind::Timeout,
            Io::InvalidInput | Io::InvalidData => ErrorKind::InvalidArgument,
            Io::Interrupted | Io::WouldBlock => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        };
        Error::new(kind, "I/O error").with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_provider_operation_and_source() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::new(ErrorKind::Unavailable, "write failed")
            .with_provider("local")
            .with_operation("blob.put")
            .with_source(io);
        assert_eq!(
            e.to_string(),
            "unavailable (local blob.put): write failed: disk on fire"
        );
        assert!(e.is_retryable());
        assert!(!Error::invalid("x").is_retryable());
    }

    #[test]
    fn provider_and_operation_are_set_once() {
        let e = Error::not_found("gone")
            .with_provider("memory")
            .with_provider("outer")
            .with_operation("kv.get")
            .with_operation("outer.op");
        assert_eq!(e.provider(), "memory");
        assert_eq!(e.operation(), "kv.get");
    }
}
