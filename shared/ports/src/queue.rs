//! The `Queue` port and queue names.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use gen3d_domain::DomainError;

use crate::PortError;

/// A queue's name: `[a-z0-9-]{1,64}`. A dead-letter queue is named `{source}-dlq`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueName(String);

impl QueueName {
    pub const EMBEDDING: &'static str = "embedding";
    pub const RECONSTRUCTION: &'static str = "reconstruction";
    pub const MESHING: &'static str = "meshing";
    pub const NOTIFY: &'static str = "notify";
    /// The pipeline's queues, in the order a job crosses them.
    pub const PIPELINE: [&'static str; 4] = [Self::EMBEDDING, Self::RECONSTRUCTION, Self::MESHING, Self::NOTIFY];

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let ok = !raw.is_empty() && raw.len() <= 64 && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(DomainError::Invalid { what: "queue name", reason: format!("{raw:?} is not 1 to 64 of [a-z0-9-]") });
        }
        Ok(Self(raw.to_owned()))
    }

    /// One of the pipeline's own queues (a compile-time constant above).
    pub fn pipeline(name: &'static str) -> Self {
        debug_assert!(Self::PIPELINE.contains(&name));
        Self(name.to_owned())
    }

    pub fn dead_letter(&self) -> Self {
        Self(format!("{}-dlq", self.0))
    }

    pub fn is_dead_letter(&self) -> bool {
        self.0.ends_with("-dlq")
    }

    /// For a dead-letter queue, the queue it drains.
    pub fn source(&self) -> Option<Self> {
        self.0.strip_suffix("-dlq").map(|s| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QueueName({})", self.0)
    }
}

/// Proof of one receive; deleting or delaying a message needs the latest one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt(pub String);

#[derive(Clone, Debug)]
pub struct Received {
    pub message_id: String,
    pub receipt: Receipt,
    pub body: String,
    /// 1 on the first delivery.
    pub receive_count: u32,
}

/// An at-least-once queue with SQS semantics: a received message is invisible for the
/// visibility timeout, then delivered again unless deleted; after `max_receives`
/// deliveries it moves to the dead-letter queue instead.
#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, queue: &QueueName, body: &str) -> Result<String, PortError>;
    /// Up to `max` messages; waits up to `wait` for the first one (long polling).
    async fn receive(&self, queue: &QueueName, max: usize, visibility: Duration, wait: Duration) -> Result<Vec<Received>, PortError>;
    async fn delete(&self, queue: &QueueName, receipt: &Receipt) -> Result<(), PortError>;
    /// Makes a received message visible again after `delay` (retry with backoff).
    async fn retry_after(&self, queue: &QueueName, receipt: &Receipt, delay: Duration) -> Result<(), PortError>;
    /// How many deliveries move a message to the dead-letter queue.
    fn max_receives(&self, queue: &QueueName) -> u32;
    /// Messages waiting (visible or in flight) in a queue.
    async fn depth(&self, queue: &QueueName) -> Result<u64, PortError>;
    /// Moves up to `max` messages from `dlq` back to its source queue with a fresh
    /// receive count; returns how many moved. Never loses a message if interrupted.
    async fn replay(&self, dlq: &QueueName, max: Option<u64>) -> Result<u64, PortError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letter_names_round_trip() {
        let q = QueueName::pipeline(QueueName::MESHING);
        assert_eq!(q.dead_letter().as_str(), "meshing-dlq");
        assert_eq!(q.dead_letter().source(), Some(q.clone()));
        assert!(q.source().is_none());
        assert!(QueueName::parse("Bad Name").is_err());
    }
}
