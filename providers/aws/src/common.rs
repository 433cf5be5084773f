//! What every AWS service shares: region/endpoint options, the SDK configuration and the
//! classification of SDK errors into stratus error kinds.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use stratus::config::{ConfigError, Section};
use stratus::{Error, ErrorKind};

/// Connection options every AWS service section accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// Region; `None` uses the SDK's chain (`AWS_REGION`, profile files).
    pub region: Option<String>,
    /// Endpoint override (an emulator); `None` or empty uses the real service.
    pub endpoint: Option<String>,
}

impl AwsOptions {
    /// Reads `region` and `endpoint` (an empty endpoint counts as unset, so
    /// `${AWS_ENDPOINT_URL:-}` points at real AWS when the variable is unset).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let region = section.string("region")?.filter(|r| !r.is_empty());
        let endpoint = section.string("endpoint")?.filter(|e| !e.is_empty());
        if let Some(e) = &endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err(
                section.key_error("endpoint", format!("expected an http(s) URL, found {e:?}"))
            );
        }
        Ok(Self { region, endpoint })
    }

    /// The SDK configuration: credentials from the SDK's default chain, region and
    /// endpoint from these options when set.
    pub async fn sdk_config(&self) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(endpoint) = &self.endpoint {
            loader = loader.endpoint_url(endpoint.clone());
        }
        loader.load().await
    }
}

/// The stratus kind for an AWS error code (service errors) or HTTP status.
pub fn kind_for_code(code: &str, status: Option<u16>) -> ErrorKind {
    match code {
        "ResourceNotFoundException"
        | "QueueDoesNotExist"
        | "AWS.SimpleQueueService.NonExistentQueue"
        | "NoSuchKey"
        | "NoSuchBucket"
        | "NoSuchUpload" => ErrorKind::NotFound,
        "ConditionalCheckFailedException"
        | "TransactionCanceledException"
        | "PreconditionFailed" => ErrorKind::PreconditionFailed,
        "ResourceInUseException" | "QueueAlreadyExists" | "BucketAlreadyOwnedByYou" => {
            ErrorKind::AlreadyExists
        }
        "ThrottlingException"
        | "Throttling"
        | "ProvisionedThroughputExceededException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "SlowDown" => ErrorKind::Throttled,
        "AccessDenied" | "AccessDeniedException" => ErrorKind::PermissionDenied,
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "MissingAuthenticationToken" => ErrorKind::Unauthenticated,
        "ValidationException"
        | "InvalidParameterValue"
        | "InvalidParameterValueException"
        | "InvalidAttributeValue"
        | "InvalidMessageContents"
        | "InvalidRequest"
        | "RequestTooLargeException" => ErrorKind::InvalidArgument,
        "ServiceUnavailable"
        | "InternalServerError"
        | "InternalFailure"
        | "ServiceException"
        | "ResourceNotReadyException"
        | "TransactionConflictException" => ErrorKind::Unavailable,
        _ => match status {
            Some(404) => ErrorKind::NotFound,
            Some(409) => ErrorKind::AlreadyExists,
            Some(412) => ErrorKind::PreconditionFailed,
            Some(400) | Some(413) => ErrorKind::InvalidArgument,
            Some(401) => ErrorKind::Unauthenticated,
            Some(403) => ErrorKind::PermissionDenied,
            Some(429) => ErrorKind::Throttled,
            Some(500..=599) => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        },
    }
}

/// Classifies any AWS SDK error: service errors by code and status, transport failures as
/// `Unavailable`, timeouts as `Timeout`, everything else as `Internal`.
pub fn sdk_error<E>(what: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let kind = match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            kind_for_code(service.err().code().unwrap_or(""), Some(status))
        }
        SdkError::TimeoutError(_) => ErrorKind::Timeout,
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    let detail = match err.code() {
        Some(code) => format!("{what}: {code}: {}", err.message().unwrap_or("")),
        None => format!("{what}: {}", stratus_display(&err)),
    };
    Error::new(kind, detail).with_source(err)
}

fn stratus_display(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
