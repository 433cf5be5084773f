//! Support for provider crates' own tests: run the whole suite on a profile and fail
//! loudly on any `fail`, or on an `unsupported` outcome for a declared capability.

use std::path::Path;
use std::sync::Arc;

use stratus::{BuildContext, Config, Registry, ServiceKind, Stratus};

use crate::case::Case;
use crate::ledger::Ledger;
use crate::report::{CaseReport, Outcome, table};
use crate::runner::{all_cases, run_suite_with_ledger};

/// Opens `profile` from the YAML text `yaml` (relative paths resolve against `base_dir`)
/// with the conformance function set, runs every case of every configured service,
/// prints the table, and panics unless every case passed or was verified unsupported
/// because the provider does not declare the capability. Returns the reports.
///
/// No ledger applies: a `ledgered` outcome is impossible here. Emulator runs with known
/// gaps use [`assert_conformant_with`].
pub async fn assert_conformant(
    yaml: &str,
    base_dir: &Path,
    profile: &str,
    registry: &Registry,
) -> Vec<CaseReport> {
    run_and_check(yaml, base_dir, profile, registry, None).await
}

/// Like [`assert_conformant`], but cases with an entry in `ledger` for the provider under
/// test and one of `emulators` may also end `ledgered` (a known emulator gap). Stale
/// entries (the case passes) are printed, not treated as failures.
pub async fn assert_conformant_with(
    yaml: &str,
    base_dir: &Path,
    profile: &str,
    registry: &Registry,
    ledger: &Ledger,
    emulators: &[&str],
) -> Vec<CaseReport> {
    run_and_check(yaml, base_dir, profile, registry, Some((ledger, emulators))).await
}

async fn run_and_check(
    yaml: &str,
    base_dir: &Path,
    profile: &str,
    registry: &Registry,
    ledger: Option<(&Ledger, &[&str])>,
) -> Vec<CaseReport> {
    let config = Config::parse(
        "conformance.yaml",
        yaml,
        base_dir,
        Arc::new(|name| std::env::var(name).ok()),
    )
    .unwrap_or_else(|e| panic!("conformance config: {e}"));
    let ctx = BuildContext {
        handlers: crate::functions::handlers(),
    };
    let stratus = Stratus::open(&config, Some(profile), registry, ctx)
        .await
        .unwrap_or_else(|e| panic!("opening profile {profile}: {e}"));
    let services: Vec<ServiceKind> = ServiceKind::ALL
        .into_iter()
        .filter(|s| stratus.provider(*s).is_some())
        .collect();
    let cases = all_cases();
    let empty = Ledger::empty();
    let (active, emulators) = ledger.unwrap_or((&empty, &[]));
    let reports =
        run_suite_with_ledger(&stratus, &services, &cases, active, emulators, |_| {}).await;
    println!("{}", table(&reports));
    check_reports(&reports, &cases, registry, ledger.is_some());
    reports
}

/// Panics on any `fail`, on `ledgered` unless `allow_ledgered`, and on an `unsupported`
/// outcome for a capability the provider declares.
fn check_reports(
    reports: &[CaseReport],
    cases: &[Case],
    registry: &Registry,
    allow_ledgered: bool,
) {
    let failed: Vec<String> = reports
        .iter()
        .filter(|r| {
            r.outcome == Outcome::Fail || (r.outcome == Outcome::Ledgered && !allow_ledgered)
        })
        .map(|r| format!("{}.{}: {}", r.service, r.case, r.detail))
        .collect();
    assert!(
        failed.is_empty(),
        "{} case(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );

    let stale: Vec<String> = reports
        .iter()
        .filter(|r| r.outcome == Outcome::Pass && !r.detail.is_empty())
        .map(|r| format!("{}.{}: {}", r.service, r.case, r.detail))
        .collect();
    if !stale.is_empty() {
        println!("stale ledger entries:\n{}", stale.join("\n"));
    }

    for report in reports.iter().filter(|r| r.outcome == Outcome::Unsupported) {
        let case = cases
            .iter()
            .find(|c| c.service == report.service && c.name == report.case)
            .expect("every report comes from a case");
        let cap = case
            .requires
            .unwrap_or_else(|| panic!("{} is unsupported but requires no capability", report.case));
        let declared = registry
            .get(&report.provider)
            .map(|p| p.declared().declares(cap))
            .unwrap_or(false);
        assert!(
            !declared,
            "{} reported unsupported although {} declares {cap}",
            report.case, report.provider
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(case: &str, outcome: Outcome) -> CaseReport {
        CaseReport {
            profile: "p".into(),
            service: ServiceKind::Compute,
            provider: "memory".into(),
            case: case.into(),
            outcome,
            ms: 0,
            detail: "ledgered (moto): gap — failure was: x".into(),
        }
    }

    #[test]
    fn ledgered_is_allowed_with_a_ledger() {
        let reports = vec![report("invoke_echo", Outcome::Ledgered)];
        check_reports(&reports, &all_cases(), &Registry::new(), true);
    }

    #[test]
    #[should_panic(expected = "1 case(s) failed")]
    fn ledgered_is_refused_without_a_ledger() {
        let reports = vec![report("invoke_echo", Outcome::Ledgered)];
        check_reports(&reports, &all_cases(), &Registry::new(), false);
    }
}
