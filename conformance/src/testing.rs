//! Support for provider crates' own tests: run the whole suite on a profile and fail
//! loudly on any `fail`, or on an `unsupported` outcome for a declared capability.

use std::path::Path;
use std::sync::Arc;

use stratus::{BuildContext, Config, Registry, ServiceKind, Stratus};

use crate::report::{CaseReport, Outcome, table};
use crate::runner::{all_cases, run_suite};

/// Opens `profile` from the YAML text `yaml` (relative paths resolve against `base_dir`)
/// with the conformance function set, runs every case of every configured service,
/// prints the table, and panics unless every case passed or was verified unsupported
/// because the provider does not declare the capability. Returns the reports.
pub async fn assert_conformant(
    yaml: &str,
    base_dir: &Path,
    profile: &str,
    registry: &Registry,
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
    let reports = run_suite(&stratus, &services, &cases, |_| {}).await;
    println!("{}", table(&reports));

    let failed: Vec<String> = reports
        .iter()
        .filter(|r| r.outcome == Outcome::Fail)
        .map(|r| format!("{}.{}: {}", r.service, r.case, r.detail))
        .collect();
    assert!(
        failed.is_empty(),
        "{} case(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );

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
    reports
}
