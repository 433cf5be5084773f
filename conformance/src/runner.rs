//! Runs cases against an opened profile and checks capability honesty.

use std::time::{Duration, Instant};

use bytes::Bytes;
use stratus::blob::{PresignMethod, PutMode, PutOptions};
use stratus::compute::InvokeOptions;
use stratus::kv::{BatchOp, DeleteCondition, Key, PutItemOptions};
use stratus::queue::OutgoingMessage;
use stratus::{Capability, ErrorKind, ServiceKind, Stratus};

use crate::case::{Case, CaseResult, Ctx, Failure, expect_kind};
use crate::ledger::{Ledger, apply_ledger};
use crate::report::{CaseReport, Outcome};

/// How long one case may take before it fails.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// Every case of the suite, in report order.
pub fn all_cases() -> Vec<Case> {
    let mut cases = crate::blob::cases();
    cases.extend(crate::kv::cases());
    cases.extend(crate::queue::cases());
    cases.extend(crate::compute::cases());
    cases
}

/// Whether the profile's store for `service` declares `cap`.
async fn declares(cx: &Ctx, service: ServiceKind, cap: Capability) -> Result<bool, Failure> {
    Ok(match service {
        ServiceKind::Blob => cx.blob().await?.capabilities().declares(cap),
        ServiceKind::Kv => cx.kv().await?.capabilities().declares(cap),
        ServiceKind::Queue => cx.new_queue().await?.1.capabilities().declares(cap),
        ServiceKind::Compute => cx.compute()?.capabilities().declares(cap),
    })
}

/// Uses `cap` once and checks the store refuses with `Unsupported` (never silent success).
async fn probe_undeclared(cx: &Ctx, cap: Capability) -> CaseResult {
    let what = format!("using undeclared capability {cap}");
    match cap {
        Capability::BlobConditionalWrite => {
            let opts = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            let r = cx
                .blob()
                .await?
                .put(&cx.key("probe"), Bytes::from_static(b"x"), opts)
                .await;
            expect_kind(&what, r, ErrorKind::Unsupported)?;
        }
        Capability::BlobMultipart => {
            let r = cx
                .blob()
                .await?
                .multipart_start(&cx.key("probe"), PutOptions::default())
                .await;
            expect_kind(&what, r, ErrorKind::Unsupported)?;
        }
        Capability::BlobPresign => {
            let r = cx
                .blob()
                .await?
                .presign(
                    &cx.key("probe"),
                    PresignMethod::Get,
                    Duration::from_secs(60),
                )
                .await;
            expect_kind(&what, r, ErrorKind::Unsupported)?;
        }
        Capability::KvTtl => {
            let opts = PutItemOptions {
                ttl: Some(Duration::from_secs(60)),
                ..Default::default()
            };
            let key = Key::new(cx.partition(), "probe");
            let r = cx
                .kv()
                .await?
                .put(&key, Bytes::from_static(b"x"), opts)
                .await;
            expect_kind(&what, r, ErrorKind::Unsupported)?;
        }
        Capability::KvAtomicBatch => {
            let ops = vec![BatchOp::Delete {
                sort: "probe".into(),
                condition: DeleteCondition::Always,
            }];
            let r = cx.kv().await?.batch(&cx.partition(), ops).await;
            expect_kind(&what, r, ErrorKind::Unsupported)?;
        }
        Capability::QueueDelay => {
            let mut message = OutgoingMessage::new(Bytes::from_static(b"x"));
            message.delay = Some(Duration::from_secs(1));
            let r = cx.new_queue().await?.1.send(vec![message]).await;
            expect_kind(&what, r, ErrorKind::Unsupported)?;
        }
        Capability::QueueDeadLetter => {
            let (name, _) = cx.new_queue().await?;
            let r = cx.stratus().dead_letter_queue(&name).await.map(|_| ());
            expect_kind(&what, r, ErrorKind::Unsupported)?;
        }
        Capability::QueueExtendVisibility => {
            let r = cx
                .new_queue()
                .await?
                .1
                .extend("probe.probe", Duration::from_secs(5))
                .await;
            expect_kind(&what, r, ErrorKind::Unsupported)?;
        }
        Capability::ComputeAsync => {
            let r = cx
                .compute()?
                .submit("echo", Bytes::from_static(b"{}"), InvokeOptions::default())
                .await;
            expect_kind(&what, r, ErrorKind::Unsupported)?;
        }
    }
    Ok(())
}

/// Runs one case: the body if its capability is declared, else the honesty probe.
pub async fn run_case(stratus: &Stratus, run_id: &str, case: &Case) -> (Outcome, String) {
    let cx = Ctx::new(stratus.clone(), run_id, case.name);
    let work = async {
        if let Some(cap) = case.requires
            && !declares(&cx, case.service, cap).await?
        {
            probe_undeclared(&cx, cap).await?;
            return Ok(Some(format!(
                "capability {cap} not declared; verified it is refused with Unsupported"
            )));
        }
        case.run(cx.clone()).await.map(|_| None)
    };
    match tokio::time::timeout(CASE_TIMEOUT, work).await {
        Ok(Ok(None)) => (Outcome::Pass, String::new()),
        Ok(Ok(Some(detail))) => (Outcome::Unsupported, detail),
        Ok(Err(Failure(detail))) => (Outcome::Fail, detail),
        Err(_) => (
            Outcome::Fail,
            format!("case did not finish within {CASE_TIMEOUT:?}"),
        ),
    }
}

/// Runs `cases` of the given services, in order, calling `on_case` after each one.
/// Every failure is reported as `fail` (no ledger).
pub async fn run_suite(
    stratus: &Stratus,
    services: &[ServiceKind],
    cases: &[Case],
    on_case: impl FnMut(&CaseReport),
) -> Vec<CaseReport> {
    run_suite_with_ledger(stratus, services, cases, &Ledger::empty(), &[], on_case).await
}

/// Like [`run_suite`], but a case with an entry in `ledger` for its provider and one of
/// `emulators` (the emulators this run uses) gets its outcome through [`apply_ledger`]:
/// a failure becomes `ledgered`, a pass notes that the entry is stale.
pub async fn run_suite_with_ledger(
    stratus: &Stratus,
    services: &[ServiceKind],
    cases: &[Case],
    ledger: &Ledger,
    emulators: &[&str],
    mut on_case: impl FnMut(&CaseReport),
) -> Vec<CaseReport> {
    let run_id = new_run_id();
    let mut reports = Vec::new();
    for case in cases.iter().filter(|c| services.contains(&c.service)) {
        let provider = stratus.provider(case.service).unwrap_or("-").to_owned();
        let started = Instant::now();
        let (mut outcome, mut detail) = run_case(stratus, &run_id, case).await;
        if let Some(gap) = ledger.lookup(&provider, case.service, case.name, emulators) {
            (outcome, detail) = apply_ledger(outcome, detail, gap);
        }
        let report = CaseReport {
            profile: stratus.profile().to_owned(),
            service: case.service,
            provider,
            case: case.name.to_owned(),
            outcome,
            ms: started.elapsed().as_millis() as u64,
            detail,
        };
        on_case(&report);
        reports.push(report);
    }
    reports
}

/// A short id that keeps the resources of concurrent runs apart (`[a-z0-9]{8}`).
pub fn new_run_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut run: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    run.make_ascii_lowercase();
    run
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use stratus::{BuildContext, Config, Registry};

    use super::*;

    /// The memory provider's compute service, opened like a profile.
    async fn memory_compute() -> Stratus {
        let config = Config::parse(
            "t.yaml",
            "profiles:\n  memory:\n    compute: { provider: memory }\n",
            Path::new("."),
            Arc::new(|_| None),
        )
        .expect("config parses");
        let mut registry = Registry::new();
        registry.register(Arc::new(stratus_memory::MemoryProvider));
        let ctx = BuildContext {
            handlers: crate::functions::handlers(),
        };
        Stratus::open(&config, Some("memory"), &registry, ctx)
            .await
            .expect("profile opens")
    }

    #[tokio::test]
    async fn a_ledger_entry_for_an_active_emulator_marks_a_passing_case_stale() {
        let stratus = memory_compute().await;
        let cases: Vec<Case> = all_cases()
            .into_iter()
            .filter(|c| c.name == "invoke_echo")
            .collect();
        let ledger = Ledger::parse_for(
            "ledger.toml",
            "[[gap]]\nprovider = \"memory\"\nemulator = \"moto\"\ncase = \"compute.invoke_echo\"\nreason = \"r\"\n",
            &cases,
        )
        .expect("ledger parses");
        let services = [ServiceKind::Compute];

        let reports =
            run_suite_with_ledger(&stratus, &services, &cases, &ledger, &["moto"], |_| {}).await;
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].outcome, Outcome::Pass);
        assert_eq!(
            reports[0].detail,
            "ledger entry for moto is stale: the case passes"
        );

        let reports =
            run_suite_with_ledger(&stratus, &services, &cases, &ledger, &["azurite"], |_| {}).await;
        assert_eq!(reports[0].outcome, Outcome::Pass);
        assert_eq!(
            reports[0].detail, "",
            "an inactive emulator's entry is ignored"
        );
    }
}
