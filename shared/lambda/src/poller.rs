//! SQS polling as Lambda's event source mapping does it, for local runs and tests.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use gen3d_ports::{PortError, Receipt, Received};
use tokio::sync::watch;

use crate::QueueService;

/// What Lambda's SQS event source mapping does, for local runs and tests: receive a
/// batch, invoke [`QueueService::handle_batch`] with it as an `SqsEvent`, delete every
/// record the response does not report as failed. Returns how many were received.
pub async fn poll_once(service: &QueueService, batch: usize, visibility: Duration, wait: Duration) -> Result<usize, PortError> {
    let received = service.ports.queue.receive(&service.queue, batch, visibility, wait).await?;
    let count = received.len();
    if count == 0 {
        return Ok(0);
    }
    let receipts: Vec<(String, Receipt)> = received.iter().map(|r| (r.message_id.clone(), r.receipt.clone())).collect();
    let mut event = SqsEvent::default();
    event.records = received.into_iter().map(to_record).collect();
    let response = service.handle_batch(event).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    for (id, receipt) in &receipts {
        if !failed.contains(&id.as_str()) {
            service.ports.queue.delete(&service.queue, receipt).await?;
        }
    }
    Ok(count)
}

/// [`poll_once`] in a loop until `stop` turns true.
pub async fn poll(service: QueueService, batch: usize, visibility: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            break;
        }
        let round = tokio::select! {
            r = poll_once(&service, batch, visibility, Duration::from_secs(1)) => r,
            _ = stop.changed() => break,
        };
        if let Err(e) = round {
            tracing::error!(queue = %service.queue, error = %e, "poll failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

fn to_record(r: Received) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(r.message_id);
    m.receipt_handle = Some(r.receipt.0);
    m.body = Some(r.body);
    m.attributes.insert("ApproximateReceiveCount".into(), r.receive_count.to_string());
    m.event_source = Some("aws:sqs".into());
    m
}
