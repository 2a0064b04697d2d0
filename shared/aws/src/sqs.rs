//! The `Queue` port on SQS: visibility timeouts, dead-letter queues from the redrive
//! policy, replay.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use gen3d_config::ResourceNames;
use gen3d_ports::{PortError, Queue, QueueName, Receipt, Received};

use crate::error::classify;

/// Used when a queue's redrive policy cannot be read.
const DEFAULT_MAX_RECEIVES: u32 = 5;

/// The pipeline's queues on SQS, named `{prefix}-{queue}`. Queue URLs and each queue's
/// `maxReceiveCount` are read once, at `connect`.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    names: ResourceNames,
    urls: Mutex<HashMap<QueueName, String>>,
    max_receives: HashMap<QueueName, u32>,
}

/// The ARN of the queue with this physical name.
pub(crate) async fn queue_arn(client: &aws_sdk_sqs::Client, physical: &str) -> Result<String, PortError> {
    let out = client.get_queue_url().queue_name(physical).send().await.map_err(|e| classify(&format!("queue {physical}"), e))?;
    let url = out.queue_url().ok_or_else(|| PortError::NotFound(format!("queue {physical}")))?;
    queue_attribute(client, url, QueueAttributeName::QueueArn).await?.ok_or_else(|| PortError::Internal(format!("queue {physical} has no ARN")))
}

/// One attribute of the queue at `url`, if it has it.
pub(crate) async fn queue_attribute(client: &aws_sdk_sqs::Client, url: &str, name: QueueAttributeName) -> Result<Option<String>, PortError> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(name.clone())
        .send()
        .await
        .map_err(|e| classify(&format!("attribute {name} of {url}"), e))?;
    Ok(out.attributes().and_then(|a| a.get(&name)).cloned())
}

fn whole_seconds(d: Duration) -> i32 {
    d.as_secs_f64().ceil().clamp(0.0, 43_200.0) as i32
}

impl SqsQueue {
    /// [`SqsQueue::connect`] with a client made from `sdk`.
    pub async fn connect_sdk(sdk: &aws_config::SdkConfig, names: ResourceNames) -> Result<Self, PortError> {
        Self::connect(aws_sdk_sqs::Client::new(sdk), names).await
    }

    /// Resolves every pipeline queue and its redrive policy; fails if one is missing.
    /// For the operator's tools, whose credentials may read every queue.
    pub async fn connect(client: aws_sdk_sqs::Client, names: ResourceNames) -> Result<Self, PortError> {
        let all: Vec<QueueName> = QueueName::PIPELINE.into_iter().map(QueueName::pipeline).collect();
        Self::connect_for(client, names, &all).await
    }

    /// Resolves only `consumed` (a Lambda's own queue: its role may read that queue's
    /// attributes and no other's). Queues it sends to are resolved on first use, with
    /// `GetQueueUrl` alone.
    pub async fn connect_for(client: aws_sdk_sqs::Client, names: ResourceNames, consumed: &[QueueName]) -> Result<Self, PortError> {
        let mut q = Self { client, names, urls: Mutex::new(HashMap::new()), max_receives: HashMap::new() };
        for name in consumed {
            let name = name.clone();
            let url = q.url(&name).await?;
            let max = queue_attribute(&q.client, &url, QueueAttributeName::RedrivePolicy)
                .await?
                .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
                .and_then(|p| match &p["maxReceiveCount"] {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.parse().ok(),
                    _ => None,
                })
                .map(|n| n as u32);
            if max.is_none() {
                tracing::warn!(queue = %name, "queue has no readable redrive policy; assuming {DEFAULT_MAX_RECEIVES} receives");
            }
            q.max_receives.insert(name, max.unwrap_or(DEFAULT_MAX_RECEIVES));
        }
        Ok(q)
    }

    async fn url(&self, queue: &QueueName) -> Result<String, PortError> {
        if let Some(url) = self.urls.lock().map_err(|_| PortError::Internal("queue url cache poisoned".into()))?.get(queue) {
            return Ok(url.clone());
        }
        let physical = self.names.queue(queue.as_str());
        let out = self.client.get_queue_url().queue_name(&physical).send().await.map_err(|e| classify(&format!("queue {physical}"), e))?;
        let url = out.queue_url().ok_or_else(|| PortError::NotFound(format!("queue {physical}")))?.to_owned();
        self.urls.lock().map_err(|_| PortError::Internal("queue url cache poisoned".into()))?.insert(queue.clone(), url.clone());
        Ok(url)
    }

    async fn arn(&self, queue: &QueueName) -> Result<String, PortError> {
        let url = self.url(queue).await?;
        queue_attribute(&self.client, &url, QueueAttributeName::QueueArn)
            .await?
            .ok_or_else(|| PortError::Internal(format!("queue {queue} has no ARN")))
    }

    /// Receive, send to the source, then delete: a message is never lost; an
    /// interruption between send and delete leaves a duplicate, which the idempotent
    /// steps absorb.
    async fn replay_by_copy(&self, dlq: &QueueName, source: &QueueName, max: Option<u64>) -> Result<u64, PortError> {
        let mut moved = 0;
        while max.is_none_or(|m| moved < m) {
            let want = max.map_or(10, |m| (m - moved).min(10) as usize);
            let batch = self.receive(dlq, want, Duration::from_secs(60), Duration::ZERO).await?;
            if batch.is_empty() {
                break;
            }
            for m in batch {
                self.send(source, &m.body).await?;
                self.delete(dlq, &m.receipt).await?;
                moved += 1;
            }
        }
        Ok(moved)
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, queue: &QueueName, body: &str) -> Result<String, PortError> {
        let url = self.url(queue).await?;
        let out = self.client.send_message().queue_url(url).message_body(body).send().await.map_err(|e| classify(&format!("send to {queue}"), e))?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }

    async fn receive(&self, queue: &QueueName, max: usize, visibility: Duration, wait: Duration) -> Result<Vec<Received>, PortError> {
        let url = self.url(queue).await?;
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .visibility_timeout(whole_seconds(visibility).max(1))
            .wait_time_seconds(whole_seconds(wait).min(20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| classify(&format!("receive from {queue}"), e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                let receipt = m.receipt_handle()?.to_owned();
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                Some(Received {
                    message_id: m.message_id().unwrap_or_default().to_owned(),
                    receipt: Receipt(receipt),
                    body: m.body().unwrap_or_default().to_owned(),
                    receive_count,
                })
            })
            .collect())
    }

    async fn delete(&self, queue: &QueueName, receipt: &Receipt) -> Result<(), PortError> {
        let url = self.url(queue).await?;
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(&receipt.0)
            .send()
            .await
            .map_err(|e| classify(&format!("delete from {queue}"), e))?;
        Ok(())
    }

    async fn retry_after(&self, queue: &QueueName, receipt: &Receipt, delay: Duration) -> Result<(), PortError> {
        let url = self.url(queue).await?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(&receipt.0)
            .visibility_timeout(whole_seconds(delay))
            .send()
            .await
            .map_err(|e| classify(&format!("delay on {queue}"), e))?;
        Ok(())
    }

    fn max_receives(&self, queue: &QueueName) -> u32 {
        self.max_receives.get(queue).copied().unwrap_or(DEFAULT_MAX_RECEIVES)
    }

    async fn depth(&self, queue: &QueueName) -> Result<u64, PortError> {
        let url = self.url(queue).await?;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| classify(&format!("depth of {queue}"), e))?;
        Ok(out.attributes().map(|a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum()).unwrap_or(0))
    }

    /// `StartMessageMoveTask` when moving everything (it runs in the background and
    /// cannot stop after N); otherwise, or where the API is missing (moto), a copy loop.
    async fn replay(&self, dlq: &QueueName, max: Option<u64>) -> Result<u64, PortError> {
        let source = dlq.source().ok_or_else(|| PortError::Invalid(format!("{dlq} is not a dead-letter queue (names end in -dlq)")))?;
        if max.is_none() {
            let waiting = self.depth(dlq).await?;
            let started =
                self.client.start_message_move_task().source_arn(self.arn(dlq).await?).destination_arn(self.arn(&source).await?).send().await;
            match started {
                Ok(_) => {
                    tracing::info!(queue = %dlq, messages = waiting, "message move task started");
                    return Ok(waiting);
                }
                Err(e) => {
                    tracing::info!(queue = %dlq, error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "no message move task; copying instead")
                }
            }
        }
        self.replay_by_copy(dlq, &source, max).await
    }
}
