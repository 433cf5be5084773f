//! The stratus conformance suite: named cases, grouped by service, that every provider
//! must pass. It is the executable form of the repository's `spec/`: every MUST there has
//! a case here.
//!
//! A case whose capability the store does not declare is not skipped: the runner checks
//! that using the capability fails with `Unsupported` and reports `unsupported`.
//!
//! Runs against emulators may pass a [`Ledger`] of known emulator gaps: a listed case that
//! fails is reported `ledgered` instead of `fail`.

mod blob;
pub mod case;
mod compute;
pub mod functions;
mod kv;
pub mod ledger;
mod queue;
pub mod report;
pub mod runner;
pub mod testing;

pub use case::{Case, CaseResult, Ctx, Failure};
pub use ledger::{Gap, Ledger, LedgerError, apply_ledger};
pub use report::{CaseReport, Outcome, Summary};
pub use runner::{all_cases, run_suite, run_suite_with_ledger};
