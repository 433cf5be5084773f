//! A conformance case, the context it runs in, and the assertions it uses.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::future::BoxFuture;
use stratus::blob::BlobStore;
use stratus::compute::Compute;
use stratus::kv::KvStore;
use stratus::queue::Queue;
use stratus::{Capability, ErrorKind, ServiceKind, Stratus};

/// Why a case failed: a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl From<stratus::Error> for Failure {
    fn from(e: stratus::Error) -> Self {
        Failure(format!("unexpected error: {e}"))
    }
}

/// What a case body returns.
pub type CaseResult = Result<(), Failure>;

type CaseFn = Arc<dyn Fn(Ctx) -> BoxFuture<'static, CaseResult> + Send + Sync>;

/// One named, self-contained check of one service.
#[derive(Clone)]
pub struct Case {
    /// The service under test.
    pub service: ServiceKind,
    /// Unique within the service, snake_case (`put_get_empty`).
    pub name: &'static str,
    /// The capability the case needs; without it the runner checks the store refuses the
    /// capability with `Unsupported` and reports `unsupported`.
    pub requires: Option<Capability>,
    run: CaseFn,
}

impl Case {
    /// A case named `name` of `service` needing `requires`, running `body`.
    pub fn new<F, Fut>(
        service: ServiceKind,
        name: &'static str,
        requires: Option<Capability>,
        body: F,
    ) -> Self
    where
        F: Fn(Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CaseResult> + Send + 'static,
    {
        Self {
            service,
            name,
            requires,
            run: Arc::new(move |cx| Box::pin(body(cx))),
        }
    }

    /// Runs the case body.
    pub fn run(&self, cx: Ctx) -> BoxFuture<'static, CaseResult> {
        (self.run)(cx)
    }
}

/// Everything a case may touch: fresh, uniquely named resources of the profile under test.
#[derive(Clone)]
pub struct Ctx {
    stratus: Stratus,
    run_id: Arc<str>,
    case: &'static str,
    counter: Arc<AtomicU32>,
}

impl Ctx {
    /// A context for `case` in run `run_id`.
    pub fn new(stratus: Stratus, run_id: &str, case: &'static str) -> Self {
        Self {
            stratus,
            run_id: run_id.into(),
            case,
            counter: Arc::default(),
        }
    }

    /// The opened profile.
    pub fn stratus(&self) -> &Stratus {
        &self.stratus
    }

    /// The run's resource name: `conf-<run id>`.
    pub fn run_resource(&self) -> String {
        format!("conf-{}", self.run_id)
    }

    /// A resource name no other case or run uses: `conf-<run id>-<n>`.
    pub fn fresh_name(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("conf-{}-{}-{n}", self.run_id, short_hash(self.case))
    }

    /// A blob key of this case: `<case>/<suffix>`. Unique per run because every run
    /// uses its own blob store (`conf-<run id>`).
    pub fn key(&self, suffix: &str) -> String {
        format!("{}/{suffix}", self.case)
    }

    /// The KV partition of this case.
    pub fn partition(&self) -> String {
        format!("{}-{}", self.case, self.run_id)
    }

    /// The run's blob store.
    pub async fn blob(&self) -> Result<Arc<dyn BlobStore>, Failure> {
        Ok(self.stratus.blob(&self.run_resource()).await?)
    }

    /// The run's KV table.
    pub async fn kv(&self) -> Result<Arc<dyn KvStore>, Failure> {
        Ok(self.stratus.kv(&self.run_resource()).await?)
    }

    /// A queue no other case uses, with its name (for its dead-letter queue).
    pub async fn new_queue(&self) -> Result<(String, Arc<dyn Queue>), Failure> {
        let name = self.fresh_name();
        let queue = self.stratus.queue(&name).await?;
        Ok((name, queue))
    }

    /// The dead-letter queue of queue `name`.
    pub async fn dead_letter(&self, name: &str) -> Result<Arc<dyn Queue>, Failure> {
        Ok(self.stratus.dead_letter_queue(name).await?)
    }

    /// The compute service.
    pub fn compute(&self) -> Result<Arc<dyn Compute>, Failure> {
        Ok(self.stratus.compute()?)
    }
}

fn short_hash(text: &str) -> String {
    let h = text.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    format!("{:x}", h % 0xfffff)
}

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl Into<String>) -> CaseResult {
    if condition {
        Ok(())
    } else {
        Err(Failure(message.into()))
    }
}

/// Fails unless `left == right`, showing both and saying what was compared.
pub fn ensure_eq<T: PartialEq + std::fmt::Debug>(what: &str, left: T, right: T) -> CaseResult {
    if left == right {
        Ok(())
    } else {
        Err(Failure(format!("{what}: got {left:?}, expected {right:?}")))
    }
}

/// Fails unless `result` is an error of `kind`; returns the error for further checks.
pub fn expect_kind<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, stratus::Error>,
    kind: ErrorKind,
) -> Result<stratus::Error, Failure> {
    match result {
        Err(e) if e.kind() == kind => Ok(e),
        Err(e) => Err(Failure(format!("{what}: expected a {kind} error, got {e}"))),
        Ok(v) => Err(Failure(format!(
            "{what}: expected a {kind} error, but it succeeded with {v:?}"
        ))),
    }
}
