//! What a step's failure means for its message: retry it, or give up on it.

use std::fmt;

use gen3d_domain::DomainError;
use gen3d_ports::PortError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerError {
    /// Transient: the message is delivered again after a backoff.
    Retryable(String),
    /// The input is wrong or the job cannot proceed: the job fails with this reason.
    Permanent(String),
}

impl HandlerError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, HandlerError::Retryable(_))
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::Retryable(m) => write!(f, "retryable: {m}"),
            HandlerError::Permanent(m) => write!(f, "permanent: {m}"),
        }
    }
}

impl std::error::Error for HandlerError {}

impl From<PortError> for HandlerError {
    fn from(e: PortError) -> Self {
        if e.is_retryable() { HandlerError::Retryable(e.to_string()) } else { HandlerError::Permanent(e.to_string()) }
    }
}

/// A rule of the domain refused the step (an illegal transition, an invalid value): the
/// same message can never succeed.
impl From<DomainError> for HandlerError {
    fn from(e: DomainError) -> Self {
        HandlerError::Permanent(e.to_string())
    }
}
