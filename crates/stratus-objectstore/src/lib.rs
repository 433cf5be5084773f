//! What the blob adapters built on `object_store` (`s3`, `azure-blob`) share: the
//! classification of `object_store`'s typed errors and the mapping between a logical
//! store's keys and paths under its prefix in the one bucket or container.

use object_store::path::Path;
use stratus::{Error, ErrorKind, Result};

/// The stratus kind of an `object_store` error that says what went wrong by its variant;
/// `None` for the generic variants, which each adapter classifies from its service's
/// error codes.
pub fn typed_kind(err: &object_store::Error) -> Option<ErrorKind> {
    use object_store::Error as E;
    Some(match err {
        E::NotFound { .. } => ErrorKind::NotFound,
        E::AlreadyExists { .. } => ErrorKind::AlreadyExists,
        E::Precondition { .. } | E::NotModified { .. } => ErrorKind::PreconditionFailed,
        E::PermissionDenied { .. } => ErrorKind::PermissionDenied,
        E::Unauthenticated { .. } => ErrorKind::Unauthenticated,
        E::InvalidPath { .. } => ErrorKind::InvalidArgument,
        E::NotSupported { .. } | E::NotImplemented { .. } => ErrorKind::Unsupported,
        _ => return None,
    })
}

/// A logical blob store inside one bucket or container: its keys live under `prefix`
/// (`<store name>/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefixed {
    prefix: String,
}

impl Prefixed {
    /// The store whose keys live under `prefix` (ending with `/`).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The prefix, ending with `/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The object path of `key`; `service` names the store kind in the error.
    pub fn path(&self, key: &str, service: &str) -> Result<Path> {
        Path::parse(format!("{}{key}", self.prefix))
            .map_err(|e| Error::invalid(format!("key {key:?} is not a valid {service} path: {e}")))
    }

    /// The caller's key of an object path (the prefix removed).
    pub fn key_of<'a>(&self, path: &'a str) -> &'a str {
        path.strip_prefix(&self.prefix).unwrap_or(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors_classify_and_generic_ones_do_not() {
        let not_found = object_store::Error::NotFound {
            path: "p".into(),
            source: "gone".into(),
        };
        assert_eq!(typed_kind(&not_found), Some(ErrorKind::NotFound));
        let generic = object_store::Error::Generic {
            store: "S3",
            source: "boom".into(),
        };
        assert_eq!(typed_kind(&generic), None);
    }

    #[test]
    fn paths_and_keys_round_trip_under_the_prefix() {
        let store = Prefixed::new("media/");
        let path = store.path("a/b.txt", "S3").unwrap();
        assert_eq!(path.as_ref(), "media/a/b.txt");
        assert_eq!(store.key_of(path.as_ref()), "a/b.txt");
    }
}
