//! stratus: provider-neutral Blob, KV, Queue and Compute for services that must run the
//! same on every cloud.
//!
//! Applications open a [`Stratus`] from a YAML [`Config`] profile and a [`Registry`] of
//! linked providers, then ask for logical resources by name:
//!
//! ```no_run
//! # async fn demo(registry: stratus::Registry) -> stratus::Result<()> {
//! let config = stratus::Config::load("stratus.yaml".as_ref())?;
//! let stratus = stratus::Stratus::open(&config, None, &registry, Default::default()).await?;
//! let messages = stratus.kv("messages").await?;
//! let key = stratus::kv::Key::new("conv-1", "00000001");
//! messages.put(&key, "hello".into(), Default::default()).await?;
//! # Ok(()) }
//! ```
//!
//! The normative semantics are in the repository's `spec/` folder.

pub mod blob;
pub mod capabilities;
pub mod compute;
pub mod config;
mod error;
mod handle;
pub mod kv;
pub mod limits;
pub mod names;
pub mod queue;
pub mod registry;
pub mod validate;

pub use async_trait::async_trait;
pub use bytes::Bytes;
pub use capabilities::Capability;
pub use config::{Config, ConfigError, ServiceKind};
pub use error::{Error, ErrorKind, Result};
pub use handle::{Stratus, check_profile};
pub use registry::{BuildContext, Declared, Provider, Registry};
