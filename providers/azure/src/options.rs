//! Connection options every Azure section accepts: `account`, `access_key` and an optional
//! `endpoint` (Azurite's path-style URL, or a sovereign cloud).

use std::sync::Arc;

use stratus::config::{ConfigError, Section};
use stratus::{Error, Result};

use crate::rest::Client;
use crate::shared_key::{Flavour, SharedKey};

/// Account, key and endpoint of one service section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureOptions {
    /// Storage account name.
    pub account: String,
    /// Base64 account key (SharedKey).
    pub access_key: String,
    /// Service endpoint; `None` uses `https://{account}.{service}.core.windows.net`.
    pub endpoint: Option<String>,
}

impl AzureOptions {
    /// Reads `account`, `access_key` and `endpoint` (an empty endpoint counts as unset).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let account = section.required_string("account")?;
        let access_key = section.required_string("access_key")?;
        if SharedKey::new(&account, &access_key).is_none() {
            return Err(section.key_error("access_key", "expected a base64 account key"));
        }
        let endpoint = parse_endpoint(section, "endpoint")?;
        Ok(Self {
            account,
            access_key,
            endpoint,
        })
    }

    /// The endpoint of `service` (`blob`, `queue`, `table`).
    pub fn endpoint_for(&self, service: &str) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("https://{}.{service}.core.windows.net", self.account))
    }

    /// The signer.
    pub fn key(&self) -> Arc<SharedKey> {
        Arc::new(SharedKey::new(&self.account, &self.access_key).expect("checked by parse"))
    }

    /// A signed REST client of `endpoint`.
    pub fn client(&self, endpoint: &str, flavour: Flavour) -> Result<Client> {
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| Error::internal("building the HTTP client").with_source(e))?;
        Ok(Client::new(http, self.key(), endpoint, flavour))
    }
}

/// Reads an optional http(s) URL option; empty counts as unset.
pub fn parse_endpoint(section: &Section, key: &str) -> Result<Option<String>, ConfigError> {
    let endpoint = section.string(key)?.filter(|e| !e.is_empty());
    if let Some(e) = &endpoint
        && !(e.starts_with("http://") || e.starts_with("https://"))
    {
        return Err(section.key_error(key, format!("expected an http(s) URL, found {e:?}")));
    }
    Ok(endpoint)
}

/// The blob endpoint next to another service's endpoint: Azurite's port 10001/10002 becomes
/// 10000, `.queue.`/`.table.` becomes `.blob.`.
pub fn sibling_blob_endpoint(endpoint: &str) -> String {
    endpoint
        .replace(":10001/", ":10000/")
        .replace(":10002/", ":10000/")
        .replace(".queue.", ".blob.")
        .replace(".table.", ".blob.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_endpoint_is_derived() {
        assert_eq!(
            sibling_blob_endpoint("http://127.0.0.1:10001/devstoreaccount1"),
            "http://127.0.0.1:10000/devstoreaccount1"
        );
        assert_eq!(
            sibling_blob_endpoint("https://acct.queue.core.windows.net"),
            "https://acct.blob.core.windows.net"
        );
    }
}
