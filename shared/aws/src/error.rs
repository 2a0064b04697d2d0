//! SDK errors mapped to `PortError`: throttling, timeouts and service faults are
//! retryable, a missing resource is `NotFound`, the rest are not retryable.

use std::error::Error;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use gen3d_ports::PortError;

/// Error codes that mean "try again later".
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "RequestTimeout",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionConflictException",
];

const NOT_FOUND_CODES: &[&str] =
    &["NoSuchKey", "NotFound", "NoSuchBucket", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "ResourceNotFoundException"];

/// Maps an SDK error onto the port's error kinds: transport failures and throttling are
/// retryable (`Unavailable`), missing things are `NotFound`, the rest `Internal`.
pub(crate) fn classify<E, R>(what: &str, err: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().unwrap_or_default().to_owned();
    let message = format!("{what}: {}", DisplayErrorContext(&err));
    let transport = matches!(err, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_));
    if transport || RETRYABLE_CODES.contains(&code.as_str()) {
        PortError::Unavailable(message)
    } else if NOT_FOUND_CODES.contains(&code.as_str()) {
        PortError::NotFound(message)
    } else if code == "ConditionalCheckFailedException" {
        PortError::Conflict(message)
    } else {
        PortError::Internal(message)
    }
}
