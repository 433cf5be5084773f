//! A YAML document as a tree of nodes that remember their line and column.

use saphyr_parser::{Event, Parser, Span};

use super::ConfigError;

/// A YAML node with its 1-based position in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// Whether the scalar was written in quotes (its text starts one column later).
    pub quoted: bool,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar as written (plain scalars `~`/`null`/empty are [`Value::Null`]).
    Scalar(String),
    /// An explicit or implicit null.
    Null,
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with string keys, in file order.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// A short description of the type for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "a scalar",
            Value::Null => "null",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Parses one YAML document. Anchors and aliases are rejected (configuration should be
/// plain); duplicate keys are an error.
pub fn parse(file: &str, text: &str) -> Result<Node, ConfigError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            ConfigError::at(file, e.marker().line(), e.marker().col() + 1, "", e.info())
        })?;
        let node = match event {
            Event::Scalar(text, style, anchor, _) => {
                reject_anchor(file, anchor, &span)?;
                let plain = matches!(style, saphyr_parser::ScalarStyle::Plain);
                let value = if plain && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL")
                {
                    Value::Null
                } else {
                    Value::Scalar(text.into_owned())
                };
                let mut node = node_at(value, &span);
                node.quoted = !plain;
                Some(node)
            }
            Event::SequenceStart(anchor, _) => {
                reject_anchor(file, anchor, &span)?;
                stack.push(Frame::Seq(node_at(Value::Seq(Vec::new()), &span)));
                None
            }
            Event::MappingStart(anchor, _) => {
                reject_anchor(file, anchor, &span)?;
                stack.push(Frame::Map(node_at(Value::Map(Vec::new()), &span), None));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(n)) | Some(Frame::Map(n, _)) => Some(n),
                None => None,
            },
            Event::Alias(_) => {
                return Err(ConfigError::at(
                    file,
                    span.start.line(),
                    span.start.col() + 1,
                    "",
                    "YAML aliases are not supported in stratus configuration",
                ));
            }
            _ => None,
        };
        if let Some(node) = node {
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Seq(parent)) => {
                    if let Value::Seq(items) = &mut parent.value {
                        items.push(node);
                    }
                }
                Some(Frame::Map(parent, pending)) => match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => {
                        let Value::Map(entries) = &mut parent.value else {
                            unreachable!()
                        };
                        let key = map_key(file, key)?;
                        let name = key_text(&key);
                        if entries.iter().any(|(k, _)| key_text(k) == name) {
                            return Err(ConfigError::at(
                                file,
                                key.line,
                                key.col,
                                "",
                                format!("duplicate key {name:?}"),
                            ));
                        }
                        entries.push((key, node));
                    }
                },
            }
        }
    }
    Ok(root.unwrap_or(Node {
        value: Value::Null,
        line: 1,
        col: 1,
        quoted: false,
    }))
}

enum Frame {
    Seq(Node),
    Map(Node, Option<Node>),
}

fn node_at(value: Value, span: &Span) -> Node {
    Node {
        value,
        line: span.start.line(),
        col: span.start.col() + 1,
        quoted: false,
    }
}

fn reject_anchor(file: &str, anchor: usize, span: &Span) -> Result<(), ConfigError> {
    if anchor == 0 {
        return Ok(());
    }
    Err(ConfigError::at(
        file,
        span.start.line(),
        span.start.col() + 1,
        "",
        "YAML anchors are not supported in stratus configuration",
    ))
}

fn map_key(file: &str, key: Node) -> Result<Node, ConfigError> {
    match key.value {
        Value::Scalar(_) => Ok(key),
        _ => Err(ConfigError::at(
            file,
            key.line,
            key.col,
            "",
            format!(
                "mapping keys must be strings, found {}",
                key.value.type_name()
            ),
        )),
    }
}

/// The text of a scalar key.
pub fn key_text(key: &Node) -> &str {
    match &key.value {
        Value::Scalar(s) => s,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let root = parse("t.yaml", "a:\n  b: 1\n  c: [x, y]\n").unwrap();
        let Value::Map(entries) = &root.value else {
            panic!()
        };
        let (_, a) = &entries[0];
        let Value::Map(inner) = &a.value else {
            panic!()
        };
        assert_eq!((inner[0].1.line, inner[0].1.col), (2, 6));
        assert!(matches!(&inner[1].1.value, Value::Seq(v) if v.len() == 2));
    }

    #[test]
    fn duplicate_keys_and_aliases_are_errors() {
        let e = parse("t.yaml", "a: 1\na: 2\n").unwrap_err();
        assert_eq!(e.to_string(), "t.yaml:2:1: duplicate key \"a\"");
        assert!(parse("t.yaml", "a: &x 1\nb: *x\n").is_err());
    }
}
