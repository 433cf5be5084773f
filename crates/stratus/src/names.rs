//! Portable validation of keys and names, applied in the layer for every provider.

use crate::error::{Error, Result};
use crate::limits::*;

fn is_forbidden_char(c: char) -> bool {
    c.is_control()
}

/// Checks a blob key: UTF-8, 1..=1024 bytes, `/`-separated segments that are neither
/// empty nor `.`/`..`, no control characters and no `\\` (Azure Blob Storage turns a
/// backslash into `/`, so a key holding one cannot mean the same thing everywhere).
pub fn validate_blob_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("blob key must not be empty"));
    }
    if key.len() > MAX_BLOB_KEY_BYTES {
        return Err(Error::invalid(format!(
            "blob key is {} bytes; the limit is {MAX_BLOB_KEY_BYTES}",
            key.len()
        )));
    }
    if let Some(c) = key.chars().find(|c| is_forbidden_char(*c)) {
        return Err(Error::invalid(format!(
            "blob key {key:?} contains control character U+{:04X}",
            c as u32
        )));
    }
    if key.contains('\\') {
        return Err(Error::invalid(format!(
            "blob key {key:?} contains '\\', which is not portable (Azure Blob Storage reads it as '/')"
        )));
    }
    for segment in key.split('/') {
        match segment {
            "" => {
                return Err(Error::invalid(format!(
                    "blob key {key:?} has an empty path segment (leading, trailing or double '/')"
                )));
            }
            "." | ".." => {
                return Err(Error::invalid(format!(
                    "blob key {key:?} has a '{segment}' path segment"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a blob key prefix used for listing: empty, or a string that could start a key
/// (no control characters, at most 1024 bytes).
pub fn validate_blob_prefix(prefix: &str) -> Result<()> {
    if prefix.len() > MAX_BLOB_KEY_BYTES {
        return Err(Error::invalid("list prefix is longer than a key may be"));
    }
    if prefix.chars().any(is_forbidden_char) {
        return Err(Error::invalid(format!(
            "list prefix {prefix:?} contains a control character"
        )));
    }
    Ok(())
}

/// Checks one part of a KV key (partition or sort): UTF-8, 1..=512 bytes, no control
/// characters. `what` names the part in the error.
pub fn validate_kv_key_part(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("KV {what} key must not be empty")));
    }
    if value.len() > MAX_KV_KEY_BYTES {
        return Err(Error::invalid(format!(
            "KV {what} key is {} bytes; the limit is {MAX_KV_KEY_BYTES}",
            value.len()
        )));
    }
    if let Some(c) = value.chars().find(|c| is_forbidden_char(*c)) {
        return Err(Error::invalid(format!(
            "KV {what} key {value:?} contains control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

/// Checks a logical resource name (blob store, KV table, queue) or function name:
/// 1..=40 characters of `a-z`, `0-9` and `-`, starting with a letter, not ending with `-`
/// and without `--`. This is the intersection of what every cloud accepts, leaving room
/// for a prefix and suffix the profile adds.
pub fn validate_resource_name(what: &str, name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid(format!("{what} name {name:?} {why}")));
    if name.is_empty() || name.len() > MAX_RESOURCE_NAME_CHARS {
        return bad(&format!("must be 1..={MAX_RESOURCE_NAME_CHARS} characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return bad("must start with a lowercase letter");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad("may contain only a-z, 0-9 and '-'");
    }
    if name.ends_with('-') || name.contains("--") {
        return bad("must not end with '-' or contain '--'");
    }
    Ok(())
}

/// Checks a metadata or attribute name: 1..=128 characters of `a-z`, `0-9`, `-`, `_`, `.`.
/// Lowercase only, because several providers fold header names to lowercase.
pub fn validate_attribute_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{what} name {name:?} must be 1..=128 characters of a-z, 0-9, '-', '_' or '.'"
        )))
    }
}

/// Checks a metadata or attribute value: printable (no control characters).
pub fn validate_attribute_value(what: &str, name: &str, value: &str) -> Result<()> {
    if value.chars().any(is_forbidden_char) {
        return Err(Error::invalid(format!(
            "{what} {name:?} has a value with a control character"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn blob_keys() {
        for ok in [
            "a",
            "a/b/c",
            "日本/語 ファイル",
            "100% + more",
            "x".repeat(1024).as_str(),
        ] {
            validate_blob_key(ok).unwrap();
        }
        for bad in [
            "", "/a", "a/", "a//b", "./a", "a/../b", "a\nb", "a\u{7f}", "a\\b",
        ] {
            assert_eq!(
                validate_blob_key(bad).unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{bad:?}"
            );
        }
        assert!(validate_blob_key(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn resource_names() {
        for ok in ["a", "messages", "node-1-deliveries"] {
            validate_resource_name("queue", ok).unwrap();
        }
        for bad in ["", "1a", "A", "a_b", "a-", "a--b", &"a".repeat(41)] {
            assert!(validate_resource_name("queue", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn kv_parts() {
        validate_kv_key_part("sort", "msg#0001").unwrap();
        assert!(validate_kv_key_part("sort", "").is_err());
        assert!(validate_kv_key_part("partition", "a\0b").is_err());
        assert!(validate_kv_key_part("partition", &"p".repeat(513)).is_err());
    }
}
