//! Ports: the traits through which services reach the outside world. Each has an
//! embedded implementation (`gen3d-embedded`) and an AWS one; a service only ever holds
//! `Arc<dyn Port>`, bundled in [`Ports`].

mod blob;
mod error;
mod inference;
mod jobs;
mod mail;
mod metrics;
mod queue;
mod topic;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use blob::{BlobStore, DIRECT_URL_TTL, DirectAccess, DirectPut};
pub use error::PortError;
pub use inference::{InferenceEndpoint, InferenceInvocation, InferenceTask, TaskRequest, TaskResponse};
pub use jobs::{JobStore, Stalled, Transition};
pub use mail::{Email, InlineImage, Mailer};
pub use metrics::{Metrics, MetricsSnapshot};
pub use queue::{Queue, QueueName, Receipt, Received};
pub use topic::Topic;

/// Everything a service handler may touch, built once per process.
#[derive(Clone)]
pub struct Ports {
    pub blobs: Arc<dyn BlobStore>,
    pub queue: Arc<dyn Queue>,
    pub jobs: Arc<dyn JobStore>,
    pub mailer: Arc<dyn Mailer>,
    pub metrics: Arc<dyn Metrics>,
    pub inference: Arc<dyn InferenceEndpoint>,
}

/// Milliseconds since the Unix epoch, for record timestamps.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
