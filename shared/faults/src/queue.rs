//! Fault injection around a `Queue`: failures, duplicates, reordering, lost
//! acknowledgements.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gen3d_ports::{PortError, Queue, QueueName, Receipt, Received};

use crate::schedule::timed_out;
use crate::{Fault, Faults, Port};

/// A [`Queue`] that fails, lags, times out, delivers twice, shuffles batches and loses
/// acknowledgements on schedule. The operator's calls (`depth`, `replay`) pass through.
pub struct FaultyQueue {
    inner: Arc<dyn Queue>,
    faults: Arc<Faults>,
}

impl FaultyQueue {
    pub fn new(inner: Arc<dyn Queue>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

const SEND: &[Fault] = &[Fault::Retryable, Fault::Permanent, Fault::Latency, Fault::Timeout, Fault::Duplicate];
const RECEIVE: &[Fault] = &[Fault::Retryable, Fault::Latency, Fault::Reorder];
const DELETE: &[Fault] = &[Fault::Retryable, Fault::Latency, Fault::Timeout, Fault::LostAck];
const RETRY: &[Fault] = &[Fault::Retryable, Fault::Latency, Fault::Timeout];

#[async_trait]
impl Queue for FaultyQueue {
    async fn send(&self, queue: &QueueName, body: &str) -> Result<String, PortError> {
        let fault = self.faults.before(Port::Queue, "send", SEND).await?;
        let id = self.inner.send(queue, body).await?;
        match fault {
            Some(Fault::Timeout) => Err(timed_out(Port::Queue, "send")),
            Some(Fault::Duplicate) => {
                self.inner.send(queue, body).await?;
                Ok(id)
            }
            _ => Ok(id),
        }
    }

    async fn receive(&self, queue: &QueueName, max: usize, visibility: Duration, wait: Duration) -> Result<Vec<Received>, PortError> {
        let fault = self.faults.before(Port::Queue, "receive", RECEIVE).await?;
        let mut batch = self.inner.receive(queue, max, visibility, wait).await?;
        if fault == Some(Fault::Reorder) {
            self.faults.shuffle(&mut batch);
        }
        Ok(batch)
    }

    async fn delete(&self, queue: &QueueName, receipt: &Receipt) -> Result<(), PortError> {
        match self.faults.before(Port::Queue, "delete", DELETE).await? {
            Some(Fault::LostAck) => Ok(()),
            Some(Fault::Timeout) => {
                self.inner.delete(queue, receipt).await?;
                Err(timed_out(Port::Queue, "delete"))
            }
            _ => self.inner.delete(queue, receipt).await,
        }
    }

    async fn retry_after(&self, queue: &QueueName, receipt: &Receipt, delay: Duration) -> Result<(), PortError> {
        let fault = self.faults.before(Port::Queue, "retry_after", RETRY).await?;
        self.inner.retry_after(queue, receipt, delay).await?;
        if fault == Some(Fault::Timeout) {
            return Err(timed_out(Port::Queue, "retry_after"));
        }
        Ok(())
    }

    fn max_receives(&self, queue: &QueueName) -> u32 {
        self.inner.max_receives(queue)
    }

    async fn depth(&self, queue: &QueueName) -> Result<u64, PortError> {
        self.inner.depth(queue).await
    }

    async fn replay(&self, dlq: &QueueName, max: Option<u64>) -> Result<u64, PortError> {
        self.inner.replay(dlq, max).await
    }
}
