//! `stratus conformance`: runs the conformance suite against one profile and reports
//! every case as a table, JSON lines or JUnit XML. With `--ledger FILE --emulator NAME`,
//! known emulator gaps are reported `ledgered` instead of `fail`.

use std::io::{IsTerminal, Write};

use stratus::{BuildContext, Config, ServiceKind, Stratus, check_profile};
use stratus_conformance::report::{self, CaseReport, Outcome};
use stratus_conformance::{Case, Ledger, all_cases, functions, run_suite_with_ledger};

use crate::cli::{ConformanceArgs, ReportFormat};
use crate::commands::CliError;

/// Opens the profile, runs the selected cases and prints the report; exit 1 if a case
/// failed (`ledgered` does not count), exit 2 on configuration, ledger or usage errors.
pub fn run(args: &ConformanceArgs) -> Result<(), CliError> {
    let registry = stratus_providers::registry();
    let config = Config::load(&args.config).map_err(CliError::usage)?;
    let profile = config.profile(&args.profile).map_err(CliError::usage)?;
    check_profile(&profile, &registry).map_err(CliError::usage)?;
    let configured: Vec<ServiceKind> = profile.services.iter().map(|s| s.kind).collect();
    let services = select_services(args, &configured)?;
    let cases = select_cases(all_cases(), &services, args.case.as_deref())?;
    let ledger = match &args.ledger {
        Some(path) => Ledger::load(path).map_err(CliError::usage)?,
        None => Ledger::empty(),
    };
    let emulators: Vec<&str> = args.emulator.iter().map(String::as_str).collect();
    for emulator in &emulators {
        if !ledger.mentions_emulator(emulator) {
            eprintln!("note: the ledger has no entry for emulator {emulator:?}");
        }
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    let reports = runtime.block_on(async {
        let ctx = BuildContext {
            handlers: functions::handlers(),
        };
        let stratus = Stratus::open(&config, Some(&args.profile), &registry, ctx)
            .await
            .map_err(|e| CliError::usage(format!("cannot open profile {:?}: {e}", args.profile)))?;
        let progress = args.format == ReportFormat::Table && std::io::stderr().is_terminal();
        let total = cases.len();
        let mut done = 0;
        let reports =
            run_suite_with_ledger(&stratus, &services, &cases, &ledger, &emulators, |r| {
                done += 1;
                if progress {
                    eprintln!(
                        "[{done}/{total}] {} {} {}",
                        r.service,
                        r.case,
                        r.outcome.as_str()
                    );
                }
                if args.format == ReportFormat::Json {
                    // Streamed so a long run shows its results as they come.
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{}", report::json_line(r));
                    let _ = out.flush();
                }
            })
            .await;
        Ok::<_, CliError>(reports)
    })?;

    match args.format {
        ReportFormat::Table => print!("{}", report::table(&reports)),
        ReportFormat::Junit => print!("{}", report::junit(&reports)),
        ReportFormat::Json => {}
    }
    if reports
        .iter()
        .any(|r: &CaseReport| r.outcome == Outcome::Fail)
    {
        Err(CliError::Failed)
    } else {
        Ok(())
    }
}

/// The services to run: those asked for (each must be configured), else all configured.
fn select_services(
    args: &ConformanceArgs,
    configured: &[ServiceKind],
) -> Result<Vec<ServiceKind>, CliError> {
    if args.service.is_empty() {
        return Ok(configured.to_vec());
    }
    let mut services: Vec<ServiceKind> = Vec::new();
    for service in args.service.iter().map(|s| ServiceKind::from(*s)) {
        if !configured.contains(&service) {
            return Err(CliError::usage(format!(
                "{}: profile {:?} configures no {service} service",
                args.config.display(),
                args.profile
            )));
        }
        if !services.contains(&service) {
            services.push(service);
        }
    }
    Ok(services)
}

/// The cases of `services` whose name contains `filter`; none at all is a usage error.
fn select_cases(
    cases: Vec<Case>,
    services: &[ServiceKind],
    filter: Option<&str>,
) -> Result<Vec<Case>, CliError> {
    let selected: Vec<Case> = cases
        .into_iter()
        .filter(|c| services.contains(&c.service))
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = services.iter().map(|s| s.name()).collect();
        return Err(CliError::usage(match filter {
            Some(f) => format!(
                "no conformance case of {} has a name containing {f:?}",
                names.join(", ")
            ),
            None => format!("the suite has no case for {}", names.join(", ")),
        }));
    }
    Ok(selected)
}
