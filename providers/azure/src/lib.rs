//! stratus providers for Azure Storage, one per service: `azure-blob` (blob),
//! `azure-queue` (queue) and `azure-table` (KV). Each section takes the storage `account`
//! and `access_key` (SharedKey; put `${AZURE_STORAGE_KEY}` in the file, never the key) and
//! an optional `endpoint` (Azurite or a sovereign cloud).

mod blob;
mod options;
mod queue;
pub mod rest;
pub mod shared_key;
mod table;
mod xml;

use std::sync::Arc;

use stratus::Provider;

pub use blob::{
    AzureBlobProvider, decode_meta_name, decode_meta_value, encode_meta_name, encode_meta_value,
};
pub use options::{AzureOptions, sibling_blob_endpoint};
pub use queue::{AzureQueueProvider, Envelope, MAX_TEXT};
pub use table::AzureTableProvider;

/// Every Azure provider, for a registry.
pub fn providers() -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(AzureBlobProvider),
        Arc::new(AzureQueueProvider),
        Arc::new(AzureTableProvider),
    ]
}
