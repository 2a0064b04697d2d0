//! Fault injection at every port. [`Faults`] draws, from a seeded generator, whether a
//! call fails and how; the decorators ([`FaultyBlobs`], [`FaultyQueue`], [`FaultyJobs`],
//! [`FaultyMailer`], [`FaultyInference`], [`FaultyMetrics`]) wrap a real adapter and obey
//! it. [`wrap`] wraps a whole [`Ports`] bundle.
//!
//! What a fault does, per call:
//! - `Retryable`: the call fails with `PortError::Unavailable` and has no effect;
//! - `Permanent`: it fails with `PortError::Internal` and has no effect;
//! - `Latency`: it is delayed (up to [`FaultPlan::max_latency`]), then runs;
//! - `Timeout`: it takes effect, then reports `Unavailable` (the caller cannot tell it
//!   happened: the ambiguous outcome of a timed-out request);
//! - `Duplicate`: a queue message is sent twice (at-least-once delivery);
//! - `Reorder`: a received batch comes back shuffled;
//! - `LostAck`: a delete reports success but the message stays (it comes back after its
//!   visibility timeout);
//! - `Dropped`: a metric is not recorded.

mod blob;
mod inference;
mod jobs;
mod mail;
mod metrics;
mod queue;
mod schedule;

use std::sync::Arc;

use gen3d_ports::Ports;

pub use blob::FaultyBlobs;
pub use inference::FaultyInference;
pub use jobs::FaultyJobs;
pub use mail::FaultyMailer;
pub use metrics::FaultyMetrics;
pub use queue::FaultyQueue;
pub use schedule::{Fault, FaultPlan, FaultReport, Faults, Port};

/// Every port of `ports` behind `faults`.
pub fn wrap(ports: Ports, faults: &Arc<Faults>) -> Ports {
    Ports {
        blobs: Arc::new(FaultyBlobs::new(ports.blobs, faults.clone())),
        queue: Arc::new(FaultyQueue::new(ports.queue, faults.clone())),
        jobs: Arc::new(FaultyJobs::new(ports.jobs, faults.clone())),
        mailer: Arc::new(FaultyMailer::new(ports.mailer, faults.clone())),
        metrics: Arc::new(FaultyMetrics::new(ports.metrics, faults.clone())),
        inference: Arc::new(FaultyInference::new(ports.inference, faults.clone())),
    }
}
