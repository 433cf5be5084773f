//! The emulator gap ledger (`conformance/ledger.toml`): cases known to fail against an
//! emulator because the emulator, not the adapter, departs from the real cloud.
//!
//! A run names the emulators it uses (`stratus conformance --ledger FILE --emulator moto`).
//! A case with an entry for the provider under test and an active emulator is reported
//! `ledgered` when it fails and `pass` with a "stale" note when it passes (see
//! [`apply_ledger`]). Only emulator gaps belong in the ledger; adapter bugs get fixed.
//!
//! ```toml
//! [[gap]]
//! provider = "s3"
//! emulator = "moto"
//! case = "blob.copy_keeps_metadata"
//! reason = "moto drops user metadata on CopyObject"
//! upstream = "https://github.com/getmoto/moto/issues/0000"   # optional
//! ```

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use stratus::ServiceKind;

use crate::case::Case;
use crate::report::Outcome;
use crate::runner::all_cases;

/// One known emulator gap: `case` fails for `provider` when it runs against `emulator`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The provider under test (`s3`, `azure-queue`, ...).
    pub provider: String,
    /// The emulator the gap belongs to (`moto`, `ministack`, `azurite`, `function-host`).
    pub emulator: String,
    /// The service of the case.
    pub service: ServiceKind,
    /// The case name within the service (`copy_keeps_metadata`).
    pub case: String,
    /// Why the emulator fails the case.
    pub reason: String,
    /// A link to the upstream issue, if there is one.
    pub upstream: Option<String>,
    /// The line of the entry's `[[gap]]` header in its file (1-based).
    pub line: usize,
}

impl Gap {
    /// The case as the ledger writes it: `service.case_name`.
    pub fn case_id(&self) -> String {
        format!("{}.{}", self.service.name(), self.case)
    }
}

/// Why a ledger file could not be used: a sentence naming the file, and where it applies,
/// the line and entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerError(String);

impl LedgerError {
    /// The whole message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LedgerError {}

/// The parsed ledger: every gap, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    gaps: Vec<Gap>,
}

/// The file's top level: only `[[gap]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    gap: Vec<toml::Spanned<toml::Table>>,
}

/// One `[[gap]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGap {
    provider: String,
    emulator: String,
    case: String,
    reason: String,
    upstream: Option<String>,
}

impl Ledger {
    /// A ledger without entries: every failure stays a failure.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Reads and checks the ledger at `path` against the suite's cases.
    pub fn load(path: &Path) -> Result<Self, LedgerError> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| LedgerError(format!("{source}: cannot read the ledger: {e}")))?;
        Self::parse(&source, &text)
    }

    /// Parses ledger `text` (read from `source`, used in errors), checking every entry's
    /// case against [`all_cases`].
    pub fn parse(source: &str, text: &str) -> Result<Self, LedgerError> {
        Self::parse_for(source, text, &all_cases())
    }

    /// Parses ledger `text`, checking every entry's case against `cases`.
    pub fn parse_for(source: &str, text: &str, cases: &[Case]) -> Result<Self, LedgerError> {
        let file: RawFile = toml::from_str(text).map_err(|e| {
            LedgerError(format!(
                "{source}: not a valid ledger: {}",
                e.to_string().trim_end()
            ))
        })?;
        let mut gaps: Vec<Gap> = Vec::new();
        for (i, spanned) in file.gap.into_iter().enumerate() {
            let line = line_of(text, spanned.span().start);
            let at = |message: String| {
                LedgerError(format!(
                    "{source}:{line}: [[gap]] entry {}: {message}",
                    i + 1
                ))
            };
            let raw: RawGap = toml::Value::Table(spanned.into_inner())
                .try_into()
                .map_err(|e: toml::de::Error| at(e.message().trim_end().to_owned()))?;
            let gap = check_entry(raw, line, cases).map_err(at)?;
            if let Some(earlier) = gaps.iter().find(|g| {
                g.provider == gap.provider
                    && g.emulator == gap.emulator
                    && g.case_id() == gap.case_id()
            }) {
                return Err(at(format!(
                    "duplicate entry for provider {:?}, emulator {:?}, case {:?} (first at line {})",
                    gap.provider,
                    gap.emulator,
                    gap.case_id(),
                    earlier.line
                )));
            }
            gaps.push(gap);
        }
        Ok(Self { gaps })
    }

    /// Every entry, in file order.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// Whether the ledger has no entries.
    pub fn is_empty(&self) -> bool {
        self.gaps.is_empty()
    }

    /// The first entry for `provider` and `service`.`case` whose emulator is one of
    /// `emulators` (the emulators the run uses).
    pub fn lookup(
        &self,
        provider: &str,
        service: ServiceKind,
        case: &str,
        emulators: &[&str],
    ) -> Option<&Gap> {
        self.gaps.iter().find(|g| {
            g.provider == provider
                && g.service == service
                && g.case == case
                && emulators.contains(&g.emulator.as_str())
        })
    }

    /// Whether any entry belongs to `emulator`.
    pub fn mentions_emulator(&self, emulator: &str) -> bool {
        self.gaps.iter().any(|g| g.emulator == emulator)
    }
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Checks the fields of one entry; the message says which field is wrong.
fn check_entry(raw: RawGap, line: usize, cases: &[Case]) -> Result<Gap, String> {
    for (field, value) in [
        ("provider", &raw.provider),
        ("emulator", &raw.emulator),
        ("reason", &raw.reason),
    ] {
        if value.trim().is_empty() {
            return Err(format!("field `{field}` must not be empty"));
        }
    }
    if !raw
        .emulator
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "emulator {:?}: use lowercase letters, digits and `-` (moto, ministack, azurite, function-host)",
            raw.emulator
        ));
    }
    if raw.upstream.as_deref().is_some_and(|u| u.trim().is_empty()) {
        return Err("field `upstream` must not be empty (leave it out instead)".into());
    }
    let (service_name, case_name) = raw.case.split_once('.').ok_or_else(|| {
        format!(
            "case {:?}: write it as service.case_name (for example kv.put_get)",
            raw.case
        )
    })?;
    let service = ServiceKind::parse(service_name).ok_or_else(|| {
        format!(
            "case {:?}: unknown service {service_name:?} (blob, kv, queue, compute)",
            raw.case
        )
    })?;
    if !cases
        .iter()
        .any(|c| c.service == service && c.name == case_name)
    {
        return Err(format!(
            "unknown case {:?}: the suite has no {service} case named {case_name:?}",
            raw.case
        ));
    }
    Ok(Gap {
        provider: raw.provider,
        emulator: raw.emulator,
        service,
        case: case_name.to_owned(),
        reason: raw.reason,
        upstream: raw.upstream,
        line,
    })
}

/// The outcome and detail of a case that has ledger entry `gap` for an active emulator.
///
/// - `fail` becomes `ledgered`, with detail
///   `ledgered (EMULATOR): REASON [UPSTREAM] — failure was: DETAIL`.
/// - `pass` stays `pass`, with detail `ledger entry for EMULATOR is stale: the case passes`.
/// - `unsupported` stays `unsupported` (the body did not run), with a note appended.
/// - `ledgered` is returned unchanged.
pub fn apply_ledger(outcome: Outcome, detail: String, gap: &Gap) -> (Outcome, String) {
    match outcome {
        Outcome::Fail => {
            let upstream = gap
                .upstream
                .as_deref()
                .map(|u| format!(" [{u}]"))
                .unwrap_or_default();
            (
                Outcome::Ledgered,
                format!(
                    "ledgered ({}): {}{upstream} — failure was: {detail}",
                    gap.emulator, gap.reason
                ),
            )
        }
        Outcome::Pass => (Outcome::Pass, stale_note(&gap.emulator)),
        Outcome::Unsupported => (
            Outcome::Unsupported,
            format!(
                "{detail}; ledger entry for {} does not apply (capability not declared)",
                gap.emulator
            ),
        ),
        Outcome::Ledgered => (Outcome::Ledgered, detail),
    }
}

const STALE_SUFFIX: &str = " is stale: the case passes";

/// The detail of a passing case whose ledger entry for `emulator` applied.
pub fn stale_note(emulator: &str) -> String {
    format!("ledger entry for {emulator}{STALE_SUFFIX}")
}

/// Whether `detail` is the note [`apply_ledger`] gives a passing ledgered case. A report
/// that aggregates runs (the provider matrix) counts such a case as ledgered, so an
/// intermittent emulator gap does not make the aggregate change from run to run.
pub fn is_stale_note(detail: &str) -> bool {
    detail.starts_with("ledger entry for ") && detail.ends_with(STALE_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "\
# a comment
[[gap]]
provider = \"s3\"
emulator = \"moto\"
case = \"compute.invoke_echo\"
reason = \"moto says no\"
upstream = \"https://example.org/issue/1\"

[[gap]]
provider = \"sqs\"
emulator = \"moto\"
case = \"compute.invoke_echo\"
reason = \"also no\"
";

    fn gap() -> Gap {
        Ledger::parse("ledger.toml", ENTRY).expect("parses").gaps()[0].clone()
    }

    #[test]
    fn parses_entries_with_lines() {
        let ledger = Ledger::parse("ledger.toml", ENTRY).expect("parses");
        assert_eq!(ledger.gaps().len(), 2);
        let first = &ledger.gaps()[0];
        assert_eq!(first.provider, "s3");
        assert_eq!(first.emulator, "moto");
        assert_eq!(first.service, ServiceKind::Compute);
        assert_eq!(first.case, "invoke_echo");
        assert_eq!(first.case_id(), "compute.invoke_echo");
        assert_eq!(
            first.upstream.as_deref(),
            Some("https://example.org/issue/1")
        );
        assert_eq!(first.line, 2);
        assert_eq!(ledger.gaps()[1].upstream, None);
        assert_eq!(ledger.gaps()[1].line, 9);
        assert!(ledger.mentions_emulator("moto"));
        assert!(!ledger.mentions_emulator("azurite"));
    }

    #[test]
    fn an_empty_file_is_an_empty_ledger() {
        let ledger = Ledger::parse("ledger.toml", "# nothing yet\n").expect("parses");
        assert!(ledger.is_empty());
    }

    #[test]
    fn lookup_needs_provider_case_and_an_active_emulator() {
        let ledger = Ledger::parse("ledger.toml", ENTRY).expect("parses");
        let found = ledger.lookup("s3", ServiceKind::Compute, "invoke_echo", &["moto"]);
        assert_eq!(found.map(|g| g.provider.as_str()), Some("s3"));
        assert!(
            ledger
                .lookup("s3", ServiceKind::Compute, "invoke_echo", &["azurite"])
                .is_none()
        );
        assert!(
            ledger
                .lookup("s3", ServiceKind::Compute, "invoke_echo", &[])
                .is_none()
        );
        assert!(
            ledger
                .lookup("memory", ServiceKind::Compute, "invoke_echo", &["moto"])
                .is_none()
        );
        assert!(
            ledger
                .lookup("s3", ServiceKind::Kv, "invoke_echo", &["moto"])
                .is_none()
        );
    }

    fn error(text: &str) -> String {
        Ledger::parse("ledger.toml", text)
            .expect_err("rejected")
            .to_string()
    }

    #[test]
    fn rejects_a_missing_field_naming_line_and_entry() {
        let text = ENTRY.replace("reason = \"also no\"\n", "");
        let e = error(&text);
        assert!(e.starts_with("ledger.toml:9: [[gap]] entry 2: "), "{e}");
        assert!(e.contains("missing field `reason`"), "{e}");
    }

    #[test]
    fn rejects_an_unknown_case() {
        let text = ENTRY.replace(
            "compute.invoke_echo\"\nreason = \"moto",
            "kv.nope\"\nreason = \"moto",
        );
        let e = error(&text);
        assert_eq!(
            e,
            "ledger.toml:2: [[gap]] entry 1: unknown case \"kv.nope\": the suite has no kv case named \"nope\""
        );
    }

    #[test]
    fn rejects_bad_case_spelling_unknown_fields_and_duplicates() {
        let e = error(&ENTRY.replace(
            "compute.invoke_echo\"\nreason = \"also",
            "invoke_echo\"\nreason = \"also",
        ));
        assert!(
            e.contains("entry 2: case \"invoke_echo\": write it as service.case_name"),
            "{e}"
        );
        let e = error(&ENTRY.replace(
            "compute.invoke_echo\"\nreason = \"also",
            "cdn.x\"\nreason = \"also",
        ));
        assert!(e.contains("unknown service \"cdn\""), "{e}");
        let e = error(&ENTRY.replace(
            "reason = \"also no\"",
            "reason = \"also no\"\ncolour = \"blue\"",
        ));
        assert!(e.contains("entry 2: unknown field `colour`"), "{e}");
        let e = error(&ENTRY.replace("provider = \"sqs\"", "provider = \"s3\""));
        assert!(e.contains("entry 2: duplicate entry"), "{e}");
        assert!(e.contains("first at line 2"), "{e}");
        let e = error(&ENTRY.replace(
            "emulator = \"moto\"\ncase = \"compute.invoke_echo\"\nreason = \"also",
            "emulator = \"\"\ncase = \"compute.invoke_echo\"\nreason = \"also",
        ));
        assert!(
            e.contains("entry 2: field `emulator` must not be empty"),
            "{e}"
        );
        let e = error("[gap]\nprovider = \"s3\"\n");
        assert!(e.starts_with("ledger.toml: not a valid ledger"), "{e}");
        let e = error("title = \"x\"\n");
        assert!(e.contains("unknown field `title`"), "{e}");
    }

    #[test]
    fn the_committed_ledger_is_valid() {
        let text = include_str!("../ledger.toml");
        if let Err(e) = Ledger::parse("conformance/ledger.toml", text) {
            panic!("{e}");
        }
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("missing.toml");
        let e = Ledger::load(&path).expect_err("no such file").to_string();
        assert!(
            e.starts_with(&format!("{}: cannot read the ledger", path.display())),
            "{e}"
        );
        std::fs::write(&path, ENTRY).expect("written");
        assert_eq!(Ledger::load(&path).expect("loads").gaps().len(), 2);
    }

    #[test]
    fn a_ledgered_failure_keeps_the_failure_text() {
        let (outcome, detail) = apply_ledger(Outcome::Fail, "etag differs".into(), &gap());
        assert_eq!(outcome, Outcome::Ledgered);
        assert_eq!(
            detail,
            "ledgered (moto): moto says no [https://example.org/issue/1] — failure was: etag differs"
        );
        let mut plain = gap();
        plain.upstream = None;
        let (outcome, detail) = apply_ledger(Outcome::Fail, "boom".into(), &plain);
        assert_eq!(outcome, Outcome::Ledgered);
        assert_eq!(detail, "ledgered (moto): moto says no — failure was: boom");
    }

    #[test]
    fn a_passing_ledgered_case_passes_with_a_stale_note() {
        let (outcome, detail) = apply_ledger(Outcome::Pass, String::new(), &gap());
        assert_eq!(outcome, Outcome::Pass);
        assert_eq!(detail, "ledger entry for moto is stale: the case passes");
    }

    #[test]
    fn unsupported_and_ledgered_outcomes_stay() {
        let (outcome, detail) = apply_ledger(Outcome::Unsupported, "refused".into(), &gap());
        assert_eq!(outcome, Outcome::Unsupported);
        assert!(
            detail.starts_with("refused; ledger entry for moto"),
            "{detail}"
        );
        let (outcome, detail) = apply_ledger(Outcome::Ledgered, "x".into(), &gap());
        assert_eq!((outcome, detail.as_str()), (Outcome::Ledgered, "x"));
    }
}
