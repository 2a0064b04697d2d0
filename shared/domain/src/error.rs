//! `DomainError`: why a value from outside was rejected.

use thiserror::Error;

/// Why a value from outside was rejected. Messages are lowercase and name the problem.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DomainError {
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("illegal transition of {what} from {from} to {to}")]
    IllegalTransition { what: &'static str, from: String, to: String },
}

impl DomainError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid { what, reason: reason.into() }
    }
}
