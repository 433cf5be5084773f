//! The `s3` provider: blob stores as key prefixes inside one S3 bucket, through
//! `object_store` 0.14.
//!
//! - Store `n` is the key prefix `n/` in the configured bucket; list results and keys
//!   are reported without it.
//! - Conditional writes use S3's `If-None-Match: *` / `If-Match` on PutObject and
//!   CompleteMultipartUpload (atomic on S3).
//! - `copy` is a server-side CopyObject; a `create_only` copy streams the source through
//!   this process into a conditional put (S3 has no create-only CopyObject), so its cost is
//!   a download plus an upload of the object.
//! - `list` is one ListObjectsV2 call per page (`start-after` = the larger of the caller's
//!   `start_after` and the page token, which is the last entry returned).
//! - Presigned URLs come from `object_store`'s SigV4 signer.
//! - Credentials: `object_store`'s chain (the `AWS_*` environment variables, web
//!   identity, ECS or instance metadata); never from the configuration file.

mod errors;
mod raw;
mod store;

use std::sync::Arc;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use stratus::blob::{BlobService, BlobStore};
use stratus::capabilities::BlobCapabilities;
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::{BuildContext, Declared, Error, Provider, Result, async_trait};

pub use store::S3BlobStore;

use crate::common::AwsOptions;

/// What every `s3` store declares.
pub const CAPABILITIES: BlobCapabilities = BlobCapabilities {
    conditional_write: true,
    multipart: true,
    presign: true,
    max_object_bytes: 5 * 1024 * 1024 * 1024,
};

/// Options of an `s3` blob section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Options {
    /// Region and endpoint shared by every AWS service.
    pub aws: AwsOptions,
    /// The bucket holding every store of this section.
    pub bucket: String,
    /// Path-style URLs (`endpoint/bucket/key`, needed by emulators) instead of
    /// virtual-hosted ones (`bucket.endpoint/key`).
    pub path_style: bool,
    /// SSE-KMS key id or ARN for every write, if any.
    pub sse_kms_key_id: Option<String>,
    /// Storage class of every write (such as `STANDARD_IA`), if any.
    pub storage_class: Option<String>,
}

impl S3Options {
    /// Parses the `blob:` section (no side effects).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let aws = AwsOptions::parse(section)?;
        let bucket = section.required_string("bucket")?;
        if bucket.is_empty() {
            return Err(section.key_error("bucket", "must not be empty"));
        }
        let path_style = section.bool("path_style")?.unwrap_or(false);
        let sse_kms_key_id = section.string("sse_kms_key_id")?.filter(|s| !s.is_empty());
        let storage_class = section.string("storage_class")?.filter(|s| !s.is_empty());
        section.finish()?;
        Ok(Self {
            aws,
            bucket,
            path_style,
            sse_kms_key_id,
            storage_class,
        })
    }

    /// The `object_store` client for the bucket.
    fn client(&self) -> Result<AmazonS3> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&self.bucket)
            .with_virtual_hosted_style_request(!self.path_style);
        if let Some(region) = &self.aws.region {
            builder = builder.with_region(region);
        }
        if let Some(endpoint) = &self.aws.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(key) = &self.sse_kms_key_id {
            builder = builder.with_sse_kms_encryption(key);
        }
        builder
            .build()
            .map_err(|e| Error::invalid(format!("s3 client for bucket {:?}: {e}", self.bucket)))
    }
}

/// The `s3` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct S3Provider;

#[async_trait]
impl Provider for S3Provider {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn description(&self) -> &'static str {
        "Amazon S3 (and S3-compatible stores): blob stores as key prefixes in one bucket"
    }

    fn declared(&self) -> Declared {
        Declared {
            blob: Some(CAPABILITIES),
            ..Declared::default()
        }
    }

    fn check(&self, service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        match service {
            ServiceKind::Blob => S3Options::parse(options).map(drop),
            other => Err(options.error(format!("provider \"s3\" offers no {other} service"))),
        }
    }

    async fn provision(&self, service: ServiceKind, options: &Section) -> Result<Vec<String>> {
        if service != ServiceKind::Blob {
            return Ok(Vec::new());
        }
        let opts = S3Options::parse(options)?;
        let client = opts.client()?;
        let region = client_region(&opts);
        raw::create_bucket(&client, &region).await?;
        Ok(vec![format!("s3 bucket {}", opts.bucket)])
    }

    async fn blob(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn BlobService>> {
        let opts = S3Options::parse(options)?;
        let client = Arc::new(opts.client()?);
        Ok(Arc::new(S3BlobService {
            client,
            storage_class: opts.storage_class,
        }))
    }
}

/// The region the client signs for (what CreateBucket needs as its location).
fn client_region(opts: &S3Options) -> String {
    opts.aws
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// Opens stores (key prefixes) in the configured bucket.
pub struct S3BlobService {
    client: Arc<AmazonS3>,
    storage_class: Option<String>,
}

#[async_trait]
impl BlobService for S3BlobService {
    async fn open(&self, name: &str) -> Result<Arc<dyn BlobStore>> {
        Ok(Arc::new(S3BlobStore::new(
            self.client.clone(),
            format!("{name}/"),
            self.storage_class.clone(),
        )))
    }
}
