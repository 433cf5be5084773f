//! Queries: the sort-key window as a `KeyConditionExpression`, paged with `Limit` and
//! `ExclusiveStartKey` until `limit + 1` live items are known (so `next_cursor` is set
//! exactly when more follow). The window is re-checked on every item, because a key
//! condition holds one sort-key operator and bounds may be exclusive.

use std::collections::HashMap;
use std::ops::Bound;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use stratus::Result;
use stratus::kv::{Order, QueryOptions, QueryPage, SortWindow, page_of};

use super::item::{self, Names, PK, SK};
use crate::common::sdk_error;

/// The sort-key part of a key condition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SortCondition {
    /// Any sort key.
    Any,
    /// `sk >= lo` (or `>` when `exclusive`).
    Above { lo: String, exclusive: bool },
    /// `sk <= hi` (or `<` when `exclusive`).
    Below { hi: String, exclusive: bool },
    /// `sk BETWEEN lo AND hi` (inclusive; exclusive ends are filtered afterwards).
    Between { lo: String, hi: String },
}

/// The smallest string greater than every string starting with `prefix` (code-point order,
/// which is UTF-8 byte order), or `None` when there is none.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(c) = chars.pop() {
        let next = match c {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(c as u32 + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn max_lower(a: Bound<String>, b: Bound<String>) -> Bound<String> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            if x > y || (x == y && matches!(a, Bound::Excluded(_))) {
                a
            } else {
                b
            }
        }
    }
}

fn min_upper(a: Bound<String>, b: Bound<String>) -> Bound<String> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            if x < y || (x == y && matches!(a, Bound::Excluded(_))) {
                a
            } else {
                b
            }
        }
    }
}

/// The key condition covering `window`, or `None` when the window is certainly empty.
fn sort_condition(window: &SortWindow) -> Option<SortCondition> {
    let mut lower = window.lower.clone();
    let mut upper = window.upper.clone();
    if let Some(p) = window.prefix.as_deref().filter(|p| !p.is_empty()) {
        lower = max_lower(lower, Bound::Included(p.to_owned()));
        if let Some(end) = prefix_end(p) {
            upper = min_upper(upper, Bound::Excluded(end));
        }
    }
    // Sort keys are never empty: "" as a lower bound excludes nothing, as an upper bound
    // everything (and DynamoDB refuses empty strings in key conditions).
    if matches!(&lower, Bound::Included(l) | Bound::Excluded(l) if l.is_empty()) {
        lower = Bound::Unbounded;
    }
    if matches!(&upper, Bound::Included(u) | Bound::Excluded(u) if u.is_empty()) {
        return None;
    }
    Some(match (lower, upper) {
        (Bound::Unbounded, Bound::Unbounded) => SortCondition::Any,
        (Bound::Included(lo), Bound::Unbounded) => SortCondition::Above {
            lo,
            exclusive: false,
        },
        (Bound::Excluded(lo), Bound::Unbounded) => SortCondition::Above {
            lo,
            exclusive: true,
        },
        (Bound::Unbounded, Bound::Included(hi)) => SortCondition::Below {
            hi,
            exclusive: false,
        },
        (Bound::Unbounded, Bound::Excluded(hi)) => SortCondition::Below {
            hi,
            exclusive: true,
        },
        (Bound::Included(lo) | Bound::Excluded(lo), Bound::Included(hi) | Bound::Excluded(hi)) => {
            if lo > hi {
                return None;
            }
            SortCondition::Between { lo, hi }
        }
    })
}

/// The key condition expression, its names and values.
fn key_condition(
    partition: &str,
    condition: &SortCondition,
) -> (
    String,
    HashMap<String, String>,
    HashMap<String, AttributeValue>,
) {
    let mut names = Names::default();
    let pk = names.name(PK);
    let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(partition.to_owned()))]);
    let mut expression = format!("{pk} = :pk");
    let mut value = |name: &str, v: &str| {
        values.insert(name.to_owned(), AttributeValue::S(v.to_owned()));
    };
    match condition {
        SortCondition::Any => {}
        SortCondition::Above { lo, exclusive } => {
            let sk = names.name(SK);
            let op = if *exclusive { ">" } else { ">=" };
            expression.push_str(&format!(" AND {sk} {op} :lo"));
            value(":lo", lo);
        }
        SortCondition::Below { hi, exclusive } => {
            let sk = names.name(SK);
            let op = if *exclusive { "<" } else { "<=" };
            expression.push_str(&format!(" AND {sk} {op} :hi"));
            value(":hi", hi);
        }
        SortCondition::Between { lo, hi } => {
            let sk = names.name(SK);
            expression.push_str(&format!(" AND {sk} BETWEEN :lo AND :hi"));
            value(":lo", lo);
            value(":hi", hi);
        }
    }
    (expression, names.into_map(), values)
}

/// Runs one query page.
pub async fn run(
    client: &Client,
    table: &str,
    partition: &str,
    opts: &QueryOptions,
) -> Result<QueryPage> {
    let window = SortWindow::for_query(opts);
    let limit = opts.limit.unwrap_or(stratus::limits::MAX_KV_QUERY_LIMIT);
    let want = limit.saturating_add(1);
    let Some(condition) = sort_condition(&window) else {
        return Ok(page_of(Vec::new(), opts));
    };
    let (expression, names, values) = key_condition(partition, &condition);
    let now = item::now_ms();
    let mut items = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    let mut first = true;
    loop {
        // Ask for exactly what is missing first; once expired items showed up, ask for
        // more per round trip (extra items read are simply not returned).
        let remaining = want - items.len();
        let ask = if first { remaining } else { remaining.max(100) };
        first = false;
        let out = client
            .query()
            .table_name(table)
            .consistent_read(true)
            .key_condition_expression(&expression)
            .set_expression_attribute_names(Some(names.clone()))
            .set_expression_attribute_values(Some(values.clone()))
            .scan_index_forward(opts.order == Order::Ascending)
            .limit(i32::try_from(ask).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| sdk_error("DynamoDB Query", e))?;
        for raw in out.items() {
            if !window.contains(item::sort_key(raw)?) {
                continue;
            }
            if let Some(found) = item::decode(partition, raw, now)? {
                items.push(found);
                if items.len() == want {
                    break;
                }
            }
        }
        match out.last_evaluated_key {
            Some(key) if items.len() < want && !key.is_empty() => start = Some(key),
            _ => break,
        }
    }
    Ok(page_of(items, opts))
}

#[cfg(test)]
mod tests {
    use stratus::kv::SortRange;

    use super::*;

    fn condition(range: SortRange, order: Order, cursor: Option<&str>) -> Option<SortCondition> {
        let opts = QueryOptions {
            range,
            order,
            limit: None,
            cursor: cursor.map(str::to_owned),
        };
        sort_condition(&SortWindow::for_query(&opts))
    }

    #[test]
    fn prefixes_become_ranges() {
        assert_eq!(prefix_end("ab"), Some("ac".into()));
        assert_eq!(prefix_end("a\u{10FFFF}"), Some("b".into()));
        assert_eq!(prefix_end("\u{D7FF}"), Some("\u{E000}".into()));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        assert_eq!(
            condition(SortRange::Prefix("m".into()), Order::Ascending, Some("m5")),
            Some(SortCondition::Between {
                lo: "m5".into(),
                hi: "n".into()
            })
        );
        assert_eq!(
            condition(SortRange::Prefix("m".into()), Order::Descending, Some("m5")),
            Some(SortCondition::Between {
                lo: "m".into(),
                hi: "m5".into()
            })
        );
        assert_eq!(
            condition(SortRange::Prefix(String::new()), Order::Ascending, None),
            Some(SortCondition::Any)
        );
    }

    #[test]
    fn empty_windows_are_known() {
        let between = SortRange::Between(Bound::Included("b".into()), Bound::Included("a".into()));
        assert_eq!(condition(between, Order::Ascending, None), None);
        let below_empty = SortRange::Between(Bound::Unbounded, Bound::Excluded(String::new()));
        assert_eq!(condition(below_empty, Order::Ascending, None), None);
        let cursor_past = SortRange::Between(Bound::Unbounded, Bound::Included("c".into()));
        assert_eq!(condition(cursor_past, Order::Ascending, Some("z")), None);
    }
}
