//! `stratus matrix`: turns JSON-lines conformance results into a Markdown provider
//! matrix (no timings, so the same results always give the same text) and optionally
//! writes it into a README between `<!-- matrix:start -->` and `<!-- matrix:end -->`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde::Deserialize;
use stratus::{Capability, ServiceKind};
use stratus_conformance::Outcome;

use crate::cli::MatrixArgs;
use crate::commands::CliError;

/// The line that opens the generated block in a README.
pub const START_MARKER: &str = "<!-- matrix:start -->";
/// The line that closes the generated block in a README.
pub const END_MARKER: &str = "<!-- matrix:end -->";

/// The fields of one JSON result line the matrix uses (others, such as `ms`, are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct ResultLine {
    /// Profile name.
    pub profile: String,
    /// Service name (`blob`, `kv`, `queue`, `compute`).
    pub service: String,
    /// Provider serving the service.
    pub provider: String,
    /// Case name.
    pub case: String,
    /// `pass`, `fail`, `unsupported` or `ledgered`.
    pub outcome: String,
    /// Why the case failed or was unsupported, or the ledger's note on a pass.
    #[serde(default)]
    pub detail: String,
}

impl ResultLine {
    /// The outcome as the matrix counts it: a pass whose ledger entry applied counts as
    /// `ledgered`, so an intermittent emulator gap gives the same matrix on every run.
    fn matrix_outcome(&self) -> String {
        if self.outcome == "pass" && stratus_conformance::ledger::is_stale_note(&self.detail) {
            "ledgered".to_owned()
        } else {
            self.outcome.clone()
        }
    }
}

/// The results of one profile: one matrix column.
#[derive(Debug, Default)]
struct Column {
    profile: String,
    providers: BTreeMap<ServiceKind, String>,
    outcomes: BTreeMap<(ServiceKind, String), String>,
}

impl Column {
    fn label(&self) -> String {
        let mut providers: Vec<&str> = Vec::new();
        for p in self.providers.values() {
            if !providers.contains(&p.as_str()) {
                providers.push(p);
            }
        }
        format!("{} ({})", self.profile, providers.join(", "))
    }

    fn service_cell(&self, service: ServiceKind) -> String {
        let outcomes: Vec<&str> = self
            .outcomes
            .iter()
            .filter(|((s, _), _)| *s == service)
            .map(|(_, o)| o.as_str())
            .collect();
        if outcomes.is_empty() {
            return "not run".into();
        }
        let count = |o: &str| outcomes.iter().filter(|x| **x == o).count();
        let mut cell = format!("{}/{} pass", count("pass"), outcomes.len());
        for (outcome, label) in [
            ("unsupported", "unsupported"),
            ("ledgered", "ledgered"),
            ("fail", "FAIL"),
        ] {
            let n = count(outcome);
            if n > 0 {
                let _ = write!(cell, ", {n} {label}");
            }
        }
        cell
    }

    fn capability_cell(
        &self,
        cap: Capability,
        requires: &BTreeMap<(ServiceKind, String), Capability>,
    ) -> String {
        let outcomes: Vec<&str> = self
            .outcomes
            .iter()
            .filter(|(key, _)| requires.get(*key) == Some(&cap))
            .map(|(_, o)| o.as_str())
            .collect();
        let all = |o: &str| outcomes.iter().all(|x| *x == o);
        let ledgered = outcomes.iter().filter(|x| **x == "ledgered").count();
        if outcomes.is_empty() {
            "not run".into()
        } else if outcomes.contains(&"fail") {
            "FAIL".into()
        } else if all("pass") {
            "yes".into()
        } else if outcomes.iter().all(|x| matches!(*x, "pass" | "ledgered")) {
            format!("yes ({ledgered} ledgered)")
        } else if all("unsupported") {
            "no (refused)".into()
        } else {
            "mixed".into()
        }
    }
}

/// Parses JSON-lines results (`source` names the file in errors).
pub fn parse_results(source: &str, text: &str) -> Result<Vec<ResultLine>, CliError> {
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{source}:{}", i + 1);
        let parsed: ResultLine = serde_json::from_str(line)
            .map_err(|e| CliError::usage(format!("{}: not a conformance result: {e}", at())))?;
        if ServiceKind::parse(&parsed.service).is_none() {
            return Err(CliError::usage(format!(
                "{}: unknown service {:?}",
                at(),
                parsed.service
            )));
        }
        if Outcome::parse(&parsed.outcome).is_none() {
            return Err(CliError::usage(format!(
                "{}: unknown outcome {:?}",
                at(),
                parsed.outcome
            )));
        }
        lines.push(parsed);
    }
    Ok(lines)
}

/// The Markdown matrix of `results`; columns in order of first appearance of a profile.
/// `requires` maps (service, case) to the capability the case needs.
pub fn render(
    results: &[ResultLine],
    requires: &BTreeMap<(ServiceKind, String), Capability>,
) -> Result<String, CliError> {
    let mut columns: Vec<Column> = Vec::new();
    for r in results {
        let service = ServiceKind::parse(&r.service).expect("checked when parsed");
        let index = match columns.iter().position(|c| c.profile == r.profile) {
            Some(i) => i,
            None => {
                columns.push(Column {
                    profile: r.profile.clone(),
                    ..Column::default()
                });
                columns.len() - 1
            }
        };
        let column = &mut columns[index];
        column.providers.insert(service, r.provider.clone());
        if column
            .outcomes
            .insert((service, r.case.clone()), r.matrix_outcome())
            .is_some()
        {
            return Err(CliError::usage(format!(
                "profile {:?} has two results for {service} case {:?}",
                r.profile, r.case
            )));
        }
    }
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(Column::label).collect();
    let _ = writeln!(out, "| service / capability | {} |", header.join(" | "));
    let _ = writeln!(out, "| --- |{}", " --- |".repeat(columns.len()));
    for service in ServiceKind::ALL {
        let cells: Vec<String> = columns.iter().map(|c| c.service_cell(service)).collect();
        let _ = writeln!(out, "| {} | {} |", service.name(), cells.join(" | "));
    }
    for cap in Capability::ALL {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| c.capability_cell(cap, requires))
            .collect();
        let _ = writeln!(out, "| `{}` | {} |", cap.name(), cells.join(" | "));
    }
    Ok(out)
}

/// `text` with the block between the markers replaced by `matrix`.
pub fn replace_block(text: &str, matrix: &str) -> Option<String> {
    let start = text.find(START_MARKER)? + START_MARKER.len();
    let end = start + text[start..].find(END_MARKER)?;
    Some(format!("{}\n{matrix}{}", &text[..start], &text[end..]))
}

/// Which capability each case of the suite needs.
fn case_requirements() -> BTreeMap<(ServiceKind, String), Capability> {
    stratus_conformance::all_cases()
        .into_iter()
        .filter_map(|c| c.requires.map(|cap| ((c.service, c.name.to_owned()), cap)))
        .collect()
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("{}: cannot read: {e}", path.display())))
}

/// Prints the matrix and, with `--readme`, rewrites the README's generated block.
pub fn run(args: &MatrixArgs) -> Result<(), CliError> {
    let mut results = Vec::new();
    for path in &args.results {
        results.extend(parse_results(&path.display().to_string(), &read(path)?)?);
    }
    let matrix = render(&results, &case_requirements())?;
    print!("{matrix}");
    if let Some(readme) = &args.readme {
        let text = read(readme)?;
        let updated = replace_block(&text, &matrix).ok_or_else(|| {
            CliError::usage(format!(
                "{}: needs a line {START_MARKER} followed by a line {END_MARKER}",
                readme.display()
            ))
        })?;
        if updated == text {
            eprintln!("{}: matrix unchanged", readme.display());
        } else {
            std::fs::write(readme, updated)
                .map_err(|e| CliError::usage(format!("{}: cannot write: {e}", readme.display())))?;
            eprintln!("{}: matrix updated", readme.display());
        }
    }
    Ok(())
}
