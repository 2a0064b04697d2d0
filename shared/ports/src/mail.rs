//! The `Mailer` port and the mail it sends.

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
    /// Images the HTML shows inline (`<img src="cid:…">`): the result's picture.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inline: Vec<InlineImage>,
}

/// An image carried in a mail and shown by its HTML as `cid:{content_id}`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct InlineImage {
    pub content_id: String,
    pub file_name: String,
    pub content_type: String,
    #[serde(serialize_with = "byte_count")]
    pub bytes: Vec<u8>,
}

fn byte_count<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{} bytes", bytes.len()))
}

impl std::fmt::Debug for InlineImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineImage")
            .field("content_id", &self.content_id)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `email`. `PortError::Invalid` means its recipient will never get it (an address
    /// the mail service refuses: unverified in SES's sandbox, malformed, suppressed), and
    /// the caller records it as undeliverable rather than trying again; any other error may
    /// pass if tried later (a sender not set up is the operator's to fix, then replay).
    async fn send(&self, email: &Email) -> Result<(), PortError>;
}
