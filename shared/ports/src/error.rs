//! `PortError`: what can go wrong behind a port, and whether trying again may help.

use thiserror::Error;

/// What can go wrong behind a port. Each variant knows whether trying again may help;
/// the queue workers use that to retry with backoff or to fail the job at once.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PortError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    /// A dependency is down or overloaded; the same call may succeed later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or corrupted state; retrying will not help.
    #[error("internal: {0}")]
    Internal(String),
}

impl PortError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, PortError::Unavailable(_))
    }
}
