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
}

impl Outcome {
    /// `pass`, `fail` or `unsupported`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Unsupported => "unsupported",
        }
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
    /// Why it failed or was unsupported; empty on pass.
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
            }
        }
        s
    }

    /// Total cases.
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.unsupported
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
                "{:<8} {} cases: {} pass, {} fail, {} unsupported",
                service.name(),
                s.total(),
                s.pass,
                s.fail,
                s.unsupported
            );
        }
    }
    let s = Summary::of(reports);
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} unsupported",
        s.pass, s.fail, s.unsupported
    );
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JUnit XML document: one test suite per service, unsupported cases as skipped.
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
            s.unsupported
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
                Outcome::Pass => out.push_str("/>\n"),
                Outcome::Fail => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\"/>\n    </testcase>",
                        xml_escape(&r.detail)
                    );
                }
                Outcome::Unsupported => {
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
