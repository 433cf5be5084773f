//! Case results and their table, JSON Lines and JUnit renderings.

use std::fmt::Write;

use serde::Serialize;
use stratus::ServiceKind;

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every check held.
    Pass,
    /// A check failed.
    Fail,
    /// The store does not declare the capability, and refuses it with `Unsupported`.
    Unsupported,
    /// The case failed, and the ledger records it as a known gap of an emulator the run
    /// uses (see [`crate::ledger`]). Not a conformance failure of the adapter.
    Ledgered,
}

impl Outcome {
    /// `pass`, `fail`, `unsupported` or `ledgered`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Unsupported => "unsupported",
            Outcome::Ledgered => "ledgered",
        }
    }

    /// The outcome called `name` (`pass`, `fail`, `unsupported`, `ledgered`).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Outcome::Pass,
            Outcome::Fail,
            Outcome::Unsupported,
            Outcome::Ledgered,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }
}

/// The result of one case (one JSON object per case in the JSON format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseReport {
    /// Profile name.
    pub profile: String,
    /// Service.
    pub service: ServiceKind,
    /// Provider serving the service.
    pub provider: String,
    /// Case name.
    pub case: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Wall time in milliseconds.
    pub ms: u64,
    /// Why it failed, was unsupported or ledgered; empty on a plain pass (a pass with a
    /// stale ledger entry says so here).
    pub detail: String,
}

/// Counts of outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Passed cases.
    pub pass: usize,
    /// Failed cases.
    pub fail: usize,
    /// Unsupported cases.
    pub unsupported: usize,
    /// Ledgered cases (failures recorded as known emulator gaps).
    pub ledgered: usize,
}

impl Summary {
    /// Counts `reports`.
    pub fn of<'a>(reports: impl IntoIterator<Item = &'a CaseReport>) -> Self {
        let mut s = Summary::default();
        for r in reports {
            match r.outcome {
                Outcome::Pass => s.pass += 1,
                Outcome::Fail => s.fail += 1,
                Outcome::Unsupported => s.unsupported += 1,
                Outcome::Ledgered => s.ledgered += 1,
            }
        }
        s
    }

    /// Total cases.
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.unsupported + self.ledgered
    }

    /// `, N ledgered` when any case was ledgered, else nothing.
    fn ledgered_suffix(&self) -> String {
        if self.ledgered > 0 {
            format!(", {} ledgered", self.ledgered)
        } else {
            String::new()
        }
    }
}

/// One line of JSON per case.
pub fn json_line(report: &CaseReport) -> String {
    serde_json::to_string(report).expect("a case report always serializes")
}

/// The human-readable table: one row per case and a summary per service.
pub fn table(reports: &[CaseReport]) -> String {
    let width = reports
        .iter()
        .map(|r| r.case.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8} {:<9} {:<width$} {:<12} {:>7}  detail",
        "service", "provider", "case", "outcome", "ms"
    );
    for r in reports {
        let _ = writeln!(
            out,
            "{:<8} {:<9} {:<width$} {:<12} {:>7}  {}",
            r.service.name(),
            r.provider,
            r.case,
            r.outcome.as_str(),
            r.ms,
            r.detail
        );
    }
    out.push('\n');
    for service in ServiceKind::ALL {
        let of_service: Vec<_> = reports.iter().filter(|r| r.service == service).collect();
        if !of_service.is_empty() {
            let s = Summary::of(of_service);
            let _ = writeln!(
                out,
                "{:<8} {} cases: {} pass, {} fail, {} unsupported{}",
                service.name(),
                s.total(),
                s.pass,
                s.fail,
                s.unsupported,
                s.ledgered_suffix()
            );
        }
    }
    let s = Summary::of(reports);
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} unsupported{}",
        s.pass,
        s.fail,
        s.unsupported,
        s.ledgered_suffix()
    );
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JUnit XML document: one test suite per service, unsupported and ledgered cases as
/// skipped (the message says which, and why).
pub fn junit(reports: &[CaseReport]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for service in ServiceKind::ALL {
        let of_service: Vec<_> = reports.iter().filter(|r| r.service == service).collect();
        if of_service.is_empty() {
            continue;
        }
        let s = Summary::of(of_service.iter().copied());
        let profile = xml_escape(&of_service[0].profile);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{profile}.{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            service.name(),
            s.total(),
            s.fail,
            s.unsupported + s.ledgered
        );
        for r in of_service {
            let _ = write!(
                out,
                "    <testcase classname=\"{profile}.{}.{}\" name=\"{}\" time=\"{:.3}\"",
                service.name(),
                xml_escape(&r.provider),
                xml_escape(&r.case),
                r.ms as f64 / 1000.0
            );
            match r.outcome {
                Outcome::Pass if r.detail.is_empty() => out.push_str("/>\n"),
                Outcome::Pass => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>{}</system-out>\n    </testcase>",
                        xml_escape(&r.detail)
                    );
                }
                Outcome::Fail => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\"/>\n    </testcase>",
                        xml_escape(&r.detail)
                    );
                }
                Outcome::Unsupported | Outcome::Ledgered => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(&r.detail)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(case: &str, outcome: Outcome, detail: &str) -> CaseReport {
        CaseReport {
            profile: "aws".into(),
            service: ServiceKind::Kv,
            provider: "dynamodb".into(),
            case: case.into(),
            outcome,
            ms: 1,
            detail: detail.into(),
        }
    }

    fn reports() -> Vec<CaseReport> {
        vec![
            report("a", Outcome::Pass, ""),
            report(
                "b",
                Outcome::Ledgered,
                "ledgered (moto): gap — failure was: <x>",
            ),
            report(
                "c",
                Outcome::Pass,
                "ledger entry for moto is stale: the case passes",
            ),
            report("d", Outcome::Unsupported, "not declared"),
        ]
    }

    #[test]
    fn outcomes_round_trip_by_name_and_serialize_lowercase() {
        for o in [
            Outcome::Pass,
            Outcome::Fail,
            Outcome::Unsupported,
            Outcome::Ledgered,
        ] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
            assert_eq!(
                serde_json::to_string(&o).expect("serializes"),
                format!("\"{}\"", o.as_str())
            );
        }
        assert_eq!(Outcome::parse("skipped"), None);
    }

    #[test]
    fn summary_counts_ledgered() {
        let s = Summary::of(&reports());
        assert_eq!((s.pass, s.fail, s.unsupported, s.ledgered), (2, 0, 1, 1));
        assert_eq!(s.total(), 4);
    }

    #[test]
    fn table_mentions_ledgered_only_when_there_are_some() {
        let text = table(&reports());
        assert!(
            text.contains("kv       4 cases: 2 pass, 0 fail, 1 unsupported, 1 ledgered\n"),
            "{text}"
        );
        assert!(
            text.ends_with("2 passed, 0 failed, 1 unsupported, 1 ledgered\n"),
            "{text}"
        );
        let plain = table(&reports()[..1]);
        assert!(
            plain.ends_with("1 passed, 0 failed, 0 unsupported\n"),
            "{plain}"
        );
    }

    #[test]
    fn junit_skips_ledgered_cases_with_the_reason() {
        let xml = junit(&reports());
        assert!(
            xml.contains("tests=\"4\" failures=\"0\" skipped=\"2\""),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"ledgered (moto): gap — failure was: &lt;x&gt;\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<system-out>ledger entry for moto is stale: the case passes</system-out>"
            ),
            "{xml}"
        );
    }

    #[test]
    fn json_lines_carry_the_ledgered_outcome() {
        let line = json_line(&reports()[1]);
        assert!(line.contains("\"outcome\":\"ledgered\""), "{line}");
    }
}
