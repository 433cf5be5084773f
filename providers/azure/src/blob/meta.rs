//! Metadata and ETag encodings shared by every blob call: Azure metadata names must be C#
//! identifiers and header values ASCII, and ETags are quoted in headers but not in lists.

/// Marks a metadata value stored as base64 (non-ASCII, edge whitespace, or the marker).
const B64_MARK: &str = "~b64:";

/// Azure metadata names must be C# identifiers and header values ASCII: names become
/// `m` + the name with `_` -> `__`, `-` -> `_d`, `.` -> `_o`.
pub fn encode_meta_name(name: &str) -> String {
    let mut out = String::from("m");
    for c in name.chars() {
        match c {
            '_' => out.push_str("__"),
            '-' => out.push_str("_d"),
            '.' => out.push_str("_o"),
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`encode_meta_name`]; names not written by stratus come back unchanged.
pub fn decode_meta_name(stored: &str) -> String {
    let Some(rest) = stored.strip_prefix('m') else {
        return stored.to_owned();
    };
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('_') => out.push('_'),
            Some('d') => out.push('-'),
            Some('o') => out.push('.'),
            _ => return stored.to_owned(),
        }
    }
    out
}

/// Header-safe form of a metadata value ([`B64_MARK`] + base64 when needed).
pub fn encode_meta_value(value: &str) -> String {
    let plain = value.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && !value.starts_with(B64_MARK);
    if plain {
        value.to_owned()
    } else {
        use base64::Engine;
        format!(
            "{B64_MARK}{}",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    }
}

/// Reverses [`encode_meta_value`].
pub fn decode_meta_value(stored: &str) -> String {
    use base64::Engine;
    stored
        .strip_prefix(B64_MARK)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| stored.to_owned())
}

/// ETags in one form everywhere: Azure quotes them in headers but not in list XML.
pub(super) fn quoted(etag: &str) -> String {
    if etag.starts_with('"') || etag.is_empty() {
        etag.to_owned()
    } else {
        format!("\"{etag}\"")
    }
}
