//! Shared by the queue-fed services (embedding, reconstruction, meshing, notify):
//!
//! - [`HandlerError`]: every failure is retryable (try again with backoff) or permanent
//!   (fail the job with a reason and tell the user, never loop);
//! - [`Handler`]: a service's library entry point, free of process concerns, so the
//!   local runner and a Lambda call the same code;
//! - [`consume`]: the local consumer loop (receive, handle, delete / back off / give up),
//!   around [`disposition`], the per-message rules a Lambda batch handler shares;
//! - [`invoke`] and [`outcome`]: asking the inference endpoint for a task and reading
//!   its notification, the step the three model services share;
//! - [`fail_object`]: the one way an object fails.

mod consumer;
mod error;
mod inference;
mod jobs;
mod links;
mod sweep;
#[cfg(feature = "testing")]
pub mod testing;

pub use consumer::{ConsumerConfig, Disposition, consume, disposition, job_span};
pub use error::HandlerError;
pub use inference::{TaskOutcome, invoke, notification_owner, outcome};
pub use jobs::{fail_object, fail_object_by_id, load_object, load_session, move_object, notify_unless_told, send, settle_object};
pub use links::{DownloadLink, LINKS_PREFIX, MAIL_LINK_TTL_MS, create_link, resolve_link};
pub use sweep::{SWEEP_BATCH, SweepReport, sweep};

use async_trait::async_trait;
use gen3d_domain::QueueMessage;

/// A queue-fed service.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Handles one message. Must be idempotent: a redelivered message changes nothing.
    async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError>;

    /// Called on the last delivery of a message that keeps failing with a retryable
    /// error: the service records the failure on the job so the user hears of it. The
    /// message then moves to the dead-letter queue, from where `gen3d replay` can retry.
    async fn give_up(&self, message: QueueMessage, reason: &str) -> Result<(), HandlerError>;
}
