//! `${VAR}` and `${VAR:-default}` expansion in configuration scalars.

/// Why a scalar could not be expanded, with the character offset of the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandError {
    /// Offset (in characters) of the `$` that starts the bad reference.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Expands `${VAR}` (unset is an error), `${VAR:-default}` (default when unset or empty)
/// and `$$` (a literal `$`). Other text is kept as written.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('$', Some('$')) => {
                out.push('$');
                i += 2;
            }
            ('$', Some('{')) => {
                let close = chars[i..].iter().position(|c| *c == '}').map(|p| i + p);
                let Some(close) = close else {
                    return Err(ExpandError {
                        offset: i,
                        message: "unterminated ${...} reference".into(),
                    });
                };
                let inner: String = chars[i + 2..close].iter().collect();
                let (name, default) = match inner.split_once(":-") {
                    Some((n, d)) => (n, Some(d)),
                    None => (inner.as_str(), None),
                };
                if !is_var_name(name) {
                    return Err(ExpandError {
                        offset: i,
                        message: format!("{name:?} is not a valid environment variable name"),
                    });
                }
                match (lookup(name), default) {
                    (Some(v), Some(d)) if v.is_empty() => out.push_str(d),
                    (Some(v), _) => out.push_str(&v),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => {
                        return Err(ExpandError {
                            offset: i,
                            message: format!(
                                "environment variable {name} is not set (write ${{{name}:-default}} to give a default)"
                            ),
                        });
                    }
                }
                i = close + 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_references() {
        assert_eq!(expand("a-${SET}-b", &env).unwrap(), "a-value-b");
        assert_eq!(expand("${UNSET:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(expand("${EMPTY:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(expand("${UNSET:-}", &env).unwrap(), "");
        assert_eq!(expand("cost $$5 ${SET}", &env).unwrap(), "cost $5 value");
        assert_eq!(expand("plain $HOME", &env).unwrap(), "plain $HOME");
    }

    #[test]
    fn reports_offset_and_reason() {
        let e = expand("key-${NOPE}", &env).unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(e.message.contains("NOPE is not set"));
        assert!(
            expand("${OPEN", &env)
                .unwrap_err()
                .message
                .contains("unterminated")
        );
        assert!(
            expand("${1BAD}", &env)
                .unwrap_err()
                .message
                .contains("not a valid")
        );
    }
}
