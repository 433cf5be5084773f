//! Presigned URL cases (the suite cannot fetch URLs; it checks their form and limits).

use std::time::Duration;

use stratus::blob::PresignMethod;
use stratus::{Capability, ErrorKind, ServiceKind};

use super::util::*;
use crate::case::{Case, ensure, expect_kind};

const PRESIGN: Option<Capability> = Some(Capability::BlobPresign);

/// The presign cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            ServiceKind::Blob,
            "presign_get_and_put_urls",
            PRESIGN,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                put(&store, &key, &b"x"[..]).await?;
                for method in [PresignMethod::Get, PresignMethod::Put] {
                    let url = store
                        .presign(&key, method, Duration::from_secs(300))
                        .await?;
                    let rest = url
                        .strip_prefix("https://")
                        .or_else(|| url.strip_prefix("http://"));
                    ensure(
                        rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/')),
                        format!(
                            "presign {method:?}: expected an http(s) URL with a host, got {url:?}"
                        ),
                    )?;
                }
                Ok(())
            },
        ),
        Case::new(
            ServiceKind::Blob,
            "presign_expiry_limits",
            PRESIGN,
            |cx| async move {
                let store = cx.blob().await?;
                let key = cx.key("obj");
                for expires in [
                    Duration::ZERO,
                    Duration::from_millis(999),
                    Duration::from_secs(7 * 24 * 3600 + 1),
                ] {
                    let r = store.presign(&key, PresignMethod::Get, expires).await;
                    expect_kind(
                        &format!("presign expiring after {expires:?}"),
                        r,
                        ErrorKind::InvalidArgument,
                    )?;
                }
                let url = store
                    .presign(&key, PresignMethod::Get, Duration::from_secs(7 * 24 * 3600))
                    .await?;
                ensure(!url.is_empty(), "presign for 7 days returned an empty URL")
            },
        ),
    ]
}
