//! stratus providers for Azure Storage, one per service: `azure-blob` (blob),
//! `azure-queue` (queue) and `azure-table` (KV). Each section takes the storage `account`
//! and `access_key` (SharedKey; put `${AZURE_STORAGE_KEY}` in the file, never the key) and
//! an optional `endpoint` (Azurite or a sovereign cloud).

mod blob;
mod queue;
mod table;

use std::sync::Arc;

use stratus::Provider;

pub use blob::AzureBlobProvider;
pub use queue::AzureQueueProvider;
pub use table::AzureTableProvider;

/// Every Azure provider, for a registry.
pub fn providers() -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(AzureBlobProvider),
        Arc::new(AzureQueueProvider),
        Arc::new(AzureTableProvider),
    ]
}
