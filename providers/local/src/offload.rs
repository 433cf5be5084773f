//! Runs blocking filesystem and redb work (writes that fsync) off the async runtime.

use stratus::{Error, Result};

/// Runs `work` on tokio's blocking pool and returns its result.
pub async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::internal(format!("blocking task failed: {e}")))?
}
