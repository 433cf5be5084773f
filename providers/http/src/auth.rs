//! How requests prove who sends them. Pluggable so that other HTTP function platforms
//! (a bearer token for Cloud Run, ...) can be added as variants without touching the
//! invoke path.

use reqwest::RequestBuilder;

/// The header Azure Functions reads a function or host key from.
pub const FUNCTION_KEY_HEADER: &str = "x-functions-key";

/// The credentials attached to every invoke request.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No credentials (an anonymous trigger).
    #[default]
    None,
    /// An Azure Functions key, sent as the `x-functions-key` header.
    FunctionKey(String),
}

impl Auth {
    /// Adds the credentials to `request`.
    pub fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Self::None => request,
            Self::FunctionKey(key) => request.header(FUNCTION_KEY_HEADER, key),
        }
    }
}

/// Never prints secrets.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::FunctionKey(_) => f.write_str("FunctionKey(<redacted>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_key() {
        let text = format!("{:?}", Auth::FunctionKey("s3cret".into()));
        assert!(!text.contains("s3cret"), "{text}");
    }
}
