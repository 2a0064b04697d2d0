//! The queue consumer: receive, handle, delete or retry with backoff, dead-letter after
//! the last try.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gen3d_domain::QueueMessage;
use gen3d_ports::{Ports, QueueName, Received};
use tokio::sync::watch;
use tracing::Instrument;
use tracing::field::Empty;

use crate::{Handler, HandlerError};

#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    pub queue: QueueName,
    /// Longer than the slowest handler, so a message is not redelivered while in work.
    pub visibility: Duration,
    pub batch: usize,
    /// First retry delay; doubled per attempt.
    pub backoff: Duration,
}

/// Receives from `config.queue` until `stop` turns true, handing each message to
/// `handler`: success deletes it; a retryable error delays it with exponential backoff
/// (on its last allowed delivery the handler's `give_up` records the failure and the
/// message moves to the DLQ); a permanent error has already failed the job, so the
/// message is deleted. Unparseable messages are left to dead-letter.
pub async fn consume(ports: Ports, handler: Arc<dyn Handler>, config: ConsumerConfig, mut stop: watch::Receiver<bool>) {
    let queue = config.queue.clone();
    loop {
        if *stop.borrow() {
            break;
        }
        let received = tokio::select! {
            r = ports.queue.receive(&queue, config.batch, config.visibility, Duration::from_millis(500)) => r,
            _ = stop.changed() => break,
        };
        let batch = match received {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(queue = %queue, error = %e, "receive failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for msg in batch {
            let span = tracing::info_span!("message", queue = %queue, message_id = %msg.message_id, attempt = msg.receive_count);
            handle_one(&ports, handler.as_ref(), &config, msg).instrument(span).await;
        }
    }
}

async fn handle_one(ports: &Ports, handler: &dyn Handler, config: &ConsumerConfig, msg: Received) {
    let queue = &config.queue;
    let outcome = match disposition(ports, handler, queue, &msg.body, msg.receive_count, config.backoff).await {
        Disposition::Delete => ports.queue.delete(queue, &msg.receipt).await,
        Disposition::RetryAfter(delay) => ports.queue.retry_after(queue, &msg.receipt, delay).await,
        Disposition::DeadLetter => ports.queue.retry_after(queue, &msg.receipt, Duration::ZERO).await,
    };
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "could not settle the message: it will be redelivered and change nothing");
    }
}

/// What becomes of a received message once handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Done (handled, or a permanent failure already recorded on the job, or an S3 test
    /// event): delete it.
    Delete,
    /// A transient failure: deliver it again after this delay.
    RetryAfter(Duration),
    /// Poison, or out of attempts: let it reach the dead-letter queue (make it visible at
    /// once so its receive count runs out).
    DeadLetter,
}

/// Parses and handles one message body on its `receive_count`-th delivery, and says
/// what to do with it. The local consumer and the Lambda batch handler share this, so a
/// message meets the same retry, give-up and poison rules everywhere.
pub async fn disposition(ports: &Ports, handler: &dyn Handler, queue: &QueueName, body: &str, receive_count: u32, backoff: Duration) -> Disposition {
    let message = match QueueMessage::parse(body) {
        Ok(m) => m,
        Err(_) if QueueMessage::is_s3_test_event(body) => {
            tracing::info!("s3 test event deleted");
            return Disposition::Delete;
        }
        Err(e) => {
            tracing::error!(error = %e, "poison message left to dead-letter");
            ports.metrics.count("poison_messages", 1, &[("queue", queue.as_str())]);
            return Disposition::DeadLetter;
        }
    };
    let span = job_span(&message);
    settle(ports, handler, queue, message, receive_count, backoff).instrument(span).await
}

/// The span every log line of a message's handling carries: the message's kind and the
/// user, session and object it is about (a field the message does not name stays empty).
pub fn job_span(message: &QueueMessage) -> tracing::Span {
    let span = tracing::info_span!("job", kind = message.kind(), user = Empty, session = Empty, object = Empty);
    let job = message.job();
    if let Some(user) = &job.user {
        span.record("user", user.as_str());
    }
    if let Some(session) = &job.session {
        span.record("session", session.as_str());
    }
    if let Some(object) = &job.object {
        span.record("object", object.as_str());
    }
    span
}

async fn settle(
    ports: &Ports,
    handler: &dyn Handler,
    queue: &QueueName,
    message: QueueMessage,
    receive_count: u32,
    backoff: Duration,
) -> Disposition {
    let kind = message.kind();
    let started = Instant::now();
    let outcome = handler.handle(message.clone()).await;
    ports.metrics.duration_ms("handler_ms", started.elapsed().as_secs_f64() * 1e3, &[("queue", queue.as_str()), ("message", kind)]);
    match outcome {
        Ok(()) => Disposition::Delete,
        Err(HandlerError::Permanent(reason)) => {
            tracing::warn!(reason, "permanent failure; job failed");
            ports.metrics.count("handler_errors", 1, &[("queue", queue.as_str()), ("kind", "permanent")]);
            Disposition::Delete
        }
        Err(HandlerError::Retryable(reason)) => {
            ports.metrics.count("handler_errors", 1, &[("queue", queue.as_str()), ("kind", "retryable")]);
            if receive_count >= ports.queue.max_receives(queue) {
                tracing::error!(reason, "giving up after the last attempt; the message goes to the dead-letter queue");
                if let Err(e) = handler.give_up(message, &format!("gave up after {receive_count} attempts: {reason}")).await {
                    tracing::error!(error = %e, "could not record the failure");
                }
                Disposition::DeadLetter
            } else {
                let delay = backoff * 2u32.saturating_pow(receive_count.saturating_sub(1).min(8));
                tracing::warn!(reason, delay_ms = delay.as_millis() as u64, "retrying later");
                Disposition::RetryAfter(delay)
            }
        }
    }
}
