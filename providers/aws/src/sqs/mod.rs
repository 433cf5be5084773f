//! The `sqs` provider: stratus queues on Amazon SQS standard queues (`aws-sdk-sqs`).
//!
//! - `open(n)` creates queue `{queue_prefix}{n}` and its dead-letter queue
//!   `{queue_prefix}{n}_dlq` (idempotent; URLs cached). `_` never occurs in a logical
//!   name, so a dead-letter queue never collides with a queue `open` can return. With
//!   `max_attempts > 0` the queue gets a redrive policy `maxReceiveCount = max_attempts`.
//! - attempt = `ApproximateReceiveCount` (in a dead-letter queue, counted from the move:
//!   SQS keeps counting receives across the move).
//! - Receive: long polling with `WaitTimeSeconds` and `VisibilityTimeout` per call, both
//!   rounded up to whole seconds; send delays likewise (`DelaySeconds`).
//! - nack and extend are `ChangeMessageVisibility`; ack is a `ChangeMessageVisibility`
//!   probe (SQS refuses it for a deleted or no longer in-flight message, where
//!   `DeleteMessage` would succeed silently) followed by `DeleteMessage`.
//! - Receipts: `encode_receipt(message id, base64url(receipt handle))`.
//! - Bodies and attributes: see [`encoding`].

mod encoding;
mod queue;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use stratus::capabilities::QueueCapabilities;
use stratus::config::{ConfigError, Section, ServiceKind};
use stratus::queue::{Queue, QueueService, QueueSettings};
use stratus::{BuildContext, Declared, Error, Provider, Result, async_trait};

pub use queue::SqsQueue;

use crate::common::{AwsOptions, sdk_error};

/// What every `sqs` queue declares.
pub const CAPABILITIES: QueueCapabilities = QueueCapabilities {
    delay: true,
    dead_letter: true,
    extend_visibility: true,
};

/// Suffix of a queue's dead-letter queue name.
pub const DEAD_LETTER_SUFFIX: &str = "_dlq";

/// Options of an `sqs` queue section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsOptions {
    /// Region and endpoint shared by every AWS service.
    pub aws: AwsOptions,
    /// Prepended to every queue name (default empty).
    pub queue_prefix: String,
    /// Default visibility timeout and dead-letter threshold.
    pub settings: QueueSettings,
}

impl SqsOptions {
    /// Parses the `queue:` section (no side effects).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let aws = AwsOptions::parse(section)?;
        let queue_prefix = section.string("queue_prefix")?.unwrap_or_default();
        if !queue_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            || queue_prefix.len() > 30
        {
            return Err(section.key_error(
                "queue_prefix",
                "may contain only A-Z, a-z, 0-9, '-' and '_' (at most 30 characters)",
            ));
        }
        let settings = QueueSettings::from_section(section)?;
        section.finish()?;
        Ok(Self {
            aws,
            queue_prefix,
            settings,
        })
    }
}

/// The `sqs` provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqsProvider;

#[async_trait]
impl Provider for SqsProvider {
    fn name(&self) -> &'static str {
        "sqs"
    }

    fn description(&self) -> &'static str {
        "Amazon SQS standard queues, each with a dead-letter queue"
    }

    fn declared(&self) -> Declared {
        Declared {
            queue: Some(CAPABILITIES),
            ..Declared::default()
        }
    }

    fn check(&self, service: ServiceKind, options: &Section) -> Result<(), ConfigError> {
        match service {
            ServiceKind::Queue => SqsOptions::parse(options).map(drop),
            other => Err(options.error(format!("provider \"sqs\" offers no {other} service"))),
        }
    }

    async fn queue(&self, options: &Section, _ctx: &BuildContext) -> Result<Arc<dyn QueueService>> {
        let opts = SqsOptions::parse(options)?;
        let client = Client::new(&opts.aws.sdk_config().await);
        Ok(Arc::new(SqsQueueService {
            client,
            prefix: opts.queue_prefix,
            settings: opts.settings,
            opened: Mutex::default(),
        }))
    }
}

/// A queue and its dead-letter queue, once created.
struct Pair {
    queue: Arc<SqsQueue>,
    dead_letter: Arc<SqsQueue>,
}

/// Opens SQS queues by logical name.
pub struct SqsQueueService {
    client: Client,
    prefix: String,
    settings: QueueSettings,
    opened: Mutex<HashMap<String, Arc<Pair>>>,
}

impl SqsQueueService {
    async fn create(&self, name: &str) -> Result<String> {
        let out = self
            .client
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("CreateQueue {name}"), e))?;
        out.queue_url
            .ok_or_else(|| Error::internal(format!("CreateQueue {name} returned no URL")))
    }

    async fn pair(&self, name: &str) -> Result<Arc<Pair>> {
        if let Some(pair) = self.opened.lock().expect("sqs cache poisoned").get(name) {
            return Ok(pair.clone());
        }
        let base = format!("{}{name}", self.prefix);
        let dlq_url = self.create(&format!("{base}{DEAD_LETTER_SUFFIX}")).await?;
        let url = self.create(&base).await?;
        let max = self.settings.max_attempts;
        let policy = if max > 0 {
            let attrs = self
                .client
                .get_queue_attributes()
                .queue_url(&dlq_url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .map_err(|e| {
                    sdk_error(&format!("GetQueueAttributes {base}{DEAD_LETTER_SUFFIX}"), e)
                })?;
            let arn = attrs
                .attributes
                .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
                .ok_or_else(|| Error::internal("the dead-letter queue has no ARN"))?;
            serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max}).to_string()
        } else {
            String::new()
        };
        let set = self
            .client
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::RedrivePolicy, policy)
            .send()
            .await;
        // Removing a policy that was never set is refused by some emulators; harmless.
        if let Err(e) = set
            && max > 0
        {
            return Err(sdk_error(&format!("SetQueueAttributes {base}"), e));
        }
        let pair = Arc::new(Pair {
            queue: Arc::new(SqsQueue::new(
                self.client.clone(),
                url,
                self.settings,
                false,
            )),
            dead_letter: Arc::new(SqsQueue::new(
                self.client.clone(),
                dlq_url,
                self.settings,
                true,
            )),
        });
        let mut opened = self.opened.lock().expect("sqs cache poisoned");
        Ok(opened.entry(name.to_owned()).or_insert(pair).clone())
    }
}

#[async_trait]
impl QueueService for SqsQueueService {
    async fn open(&self, name: &str) -> Result<Arc<dyn Queue>> {
        Ok(self.pair(name).await?.queue.clone())
    }

    async fn open_dead_letter(&self, name: &str) -> Result<Arc<dyn Queue>> {
        Ok(self.pair(name).await?.dead_letter.clone())
    }
}
