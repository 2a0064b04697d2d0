//! One SQS batch as a Lambda receives it, handled message by message with partial batch
//! failures.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use gen3d_pipeline::{Disposition, Handler, disposition};
use gen3d_ports::{Ports, QueueName, Receipt};
use tracing::Instrument;

/// One queue-fed service as a Lambda sees it.
#[derive(Clone)]
pub struct QueueService {
    pub ports: Ports,
    pub handler: Arc<dyn Handler>,
    /// The queue whose event source mapping invokes the function.
    pub queue: QueueName,
    /// First retry delay of a failing record, doubled per delivery.
    pub backoff: Duration,
}

/// What happened to one record of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Reported as done: the event source mapping deletes it.
    Done,
    /// Reported as failed: it comes back after the visibility timeout this handler set
    /// (a backoff), or reaches the dead-letter queue when out of attempts.
    Failed,
}

impl QueueService {
    /// Handles an SQS batch record by record. A record that fails, whose body is
    /// malformed, or whose handler panics is reported in `batchItemFailures` and fails
    /// alone; the others are done. Each record runs in its own task and span.
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for record in event.records {
            let id = record.message_id.clone().unwrap_or_default();
            if self.handle_record(record).await == RecordOutcome::Failed {
                response.add_failure(id);
            }
        }
        response
    }

    pub async fn handle_record(&self, record: SqsMessage) -> RecordOutcome {
        let id = record.message_id.clone().unwrap_or_default();
        let receive_count: u32 = record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
        let span = tracing::info_span!("record", queue = %self.queue, message_id = %id, attempt = receive_count);
        let Some(body) = record.body else {
            tracing::error!(parent: &span, "record without a body left to dead-letter");
            return RecordOutcome::Failed;
        };
        let this = self.clone();
        let work = async move { disposition(&this.ports, this.handler.as_ref(), &this.queue, &body, receive_count, this.backoff).await };
        let outcome = match tokio::spawn(work.instrument(span.clone())).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(parent: &span, error = %e, "the handler panicked; the record fails alone");
                self.ports.metrics.count("handler_panics", 1, &[("queue", self.queue.as_str())]);
                Disposition::RetryAfter(self.backoff)
            }
        };
        let delay = match outcome {
            Disposition::Delete => return RecordOutcome::Done,
            // Visible again at once, so the next receive moves it to the dead-letter queue.
            Disposition::DeadLetter => Duration::ZERO,
            Disposition::RetryAfter(delay) => delay,
        };
        // Hide the record for the backoff instead of the queue's visibility timeout. Best
        // effort: without it the record returns after the timeout.
        if let Some(receipt) = record.receipt_handle
            && let Err(e) = self.ports.queue.retry_after(&self.queue, &Receipt(receipt), delay).await
        {
            tracing::warn!(parent: &span, error = %e, "could not set the retry delay");
        }
        RecordOutcome::Failed
    }
}
