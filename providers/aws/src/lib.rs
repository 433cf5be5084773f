//! stratus providers for AWS, one per service: `s3` (blob), `sqs` (queue), `dynamodb`
//! (KV) and `lambda` (compute). Each section accepts `region` and `endpoint` (for
//! emulators; unset or empty means the real service), and credentials come from the AWS
//! SDK's default chain, never from the file.

mod common;

pub use common::{AwsOptions, kind_for_code, sdk_error};
mod dynamodb;
mod lambda;
mod s3;
mod sqs;

use std::sync::Arc;

use stratus::Provider;

pub use dynamodb::DynamoDbProvider;
pub use lambda::LambdaProvider;
pub use s3::S3Provider;
pub use sqs::SqsProvider;

/// Every AWS provider, for a registry.
pub fn providers() -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(S3Provider),
        Arc::new(SqsProvider),
        Arc::new(DynamoDbProvider),
        Arc::new(LambdaProvider),
    ]
}
