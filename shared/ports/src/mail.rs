use async_trait::async_trait;
use gen3d_domain::EmailAddress;
use serde::Serialize;

use crate::PortError;

/// A message with a plain-text and an HTML body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Email {
    pub from: EmailAddress,
    pub to: Vec<EmailAddress>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Stable per logical message: sending twice with the same key delivers once where
    /// the transport allows (the outbox overwrites one file).
    pub idempotency_key: String,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &Email) -> Result<(), PortError>;
}
