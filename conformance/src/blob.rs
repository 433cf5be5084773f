//! Blob cases: the executable form of the blob semantics every provider must meet.
//!
//! Every case works under its own key prefix (`<case>/`) in the run's store.

mod conditional;
mod copy;
mod keys;
mod list;
mod multipart;
mod object;
mod presign;
mod range;
mod stream;
mod util;

use crate::case::Case;

/// Every blob case, in report order.
pub fn cases() -> Vec<Case> {
    let mut cases = object::cases();
    cases.extend(range::cases());
    cases.extend(keys::cases());
    cases.extend(list::cases());
    cases.extend(conditional::cases());
    cases.extend(copy::cases());
    cases.extend(stream::cases());
    cases.extend(multipart::cases());
    cases.extend(presign::cases());
    cases
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_snake_case_and_enough() {
        let cases = super::cases();
        assert!(cases.len() >= 45, "only {} blob cases", cases.len());
        let mut seen = BTreeSet::new();
        for case in &cases {
            assert!(seen.insert(case.name), "duplicate case name {}", case.name);
            assert!(
                case.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{} is not snake_case",
                case.name
            );
            assert_eq!(case.service, stratus::ServiceKind::Blob);
        }
    }

    #[test]
    fn pattern_is_position_dependent_and_chunking_independent() {
        let whole = super::util::pattern(1, 0, 100);
        let mut pieces = super::util::pattern(1, 0, 37).to_vec();
        pieces.extend_from_slice(&super::util::pattern(1, 37, 63));
        assert_eq!(whole.to_vec(), pieces);
        assert_ne!(
            super::util::pattern(1, 0, 16),
            super::util::pattern(1, 8, 16)
        );
        assert_ne!(
            super::util::pattern(1, 0, 16),
            super::util::pattern(2, 0, 16)
        );
    }
}
