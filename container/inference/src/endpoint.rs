//! The endpoint's own queue of accepted invocations, run one at a time, with results
//! written and announced.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{InferenceStatus, ObjectKey, inference_notification_body};
use gen3d_ports::{BlobStore, InferenceEndpoint, InferenceInvocation, InferenceTask, Metrics, PortError, Queue, QueueName, TaskRequest, Topic};
use serde::{Deserialize, Serialize};

use gen3d_models::backend::Models;

use crate::Mesher;
use crate::task::{TaskError, run_task};

/// The endpoint's own queue of accepted invocations (SageMaker keeps its own, durably).
pub const INFERENCE_QUEUE: &str = "inference";
const VISIBILITY: Duration = Duration::from_secs(600);

#[derive(Serialize, Deserialize)]
struct Accepted {
    inference_id: String,
    request: ObjectKey,
    task: InferenceTask,
}

/// Where the stand-in runs an invocation.
#[derive(Clone, Debug)]
pub enum Runner {
    /// The endpoint's models (built-in unless [`LocalAsyncEndpoint::with_models`]) in this
    /// process.
    InProcess,
    /// A container's HTTP contract: the request document is POSTed to `{base}/invocations`
    /// exactly as SageMaker does.
    Container { base: String },
}

/// The local stand-in for a SageMaker asynchronous endpoint.
pub struct LocalAsyncEndpoint {
    blobs: Arc<dyn BlobStore>,
    /// Holds accepted invocations (the endpoint's own queue).
    queue: Arc<dyn Queue>,
    metrics: Arc<dyn Metrics>,
    runner: Runner,
    /// What [`Runner::InProcess`] runs.
    models: Models,
    mesher: Mesher,
    /// Where notifications go: straight to the consuming service's queue, or to a topic
    /// whose subscriptions route them (SNS, as in AWS).
    topic: Option<Arc<dyn Topic>>,
}

/// Which queue hears about a task's results (an SNS subscription with a filter in AWS).
pub fn result_queue(task: InferenceTask) -> QueueName {
    match task {
        InferenceTask::Embed => QueueName::pipeline(QueueName::EMBEDDING),
        InferenceTask::Reconstruct => QueueName::pipeline(QueueName::RECONSTRUCTION),
        InferenceTask::Mesh => QueueName::pipeline(QueueName::MESHING),
    }
}

fn own_queue() -> QueueName {
    QueueName::parse(INFERENCE_QUEUE).expect("constant queue name is valid")
}

impl LocalAsyncEndpoint {
    pub fn new(blobs: Arc<dyn BlobStore>, queue: Arc<dyn Queue>, metrics: Arc<dyn Metrics>) -> Self {
        Self { blobs, queue, metrics, runner: Runner::InProcess, models: Models::builtin(), mesher: Mesher::InProcess, topic: None }
    }

    /// Publishes notifications on `topic` instead of sending them to the services' queues.
    pub fn with_topic(mut self, topic: Arc<dyn Topic>) -> Self {
        self.topic = Some(topic);
        self
    }

    /// Runs invocations with `runner` instead of in-process.
    pub fn with_runner(mut self, runner: Runner) -> Self {
        self.runner = runner;
        self
    }

    /// Runs in-process mesh tasks with `mesher` (e.g. in child processes).
    pub fn with_mesher(mut self, mesher: Mesher) -> Self {
        self.mesher = mesher;
        self
    }

    /// Runs in-process invocations with `models` instead of the built-in ones.
    pub fn with_models(mut self, models: Models) -> Self {
        self.models = models;
        self
    }

    /// One request document through the runner: `Ok(response body)` or a task error.
    async fn run(&self, doc: &[u8], task: InferenceTask) -> Result<Vec<u8>, TaskError> {
        match &self.runner {
            Runner::InProcess => match serde_json::from_slice::<TaskRequest>(doc) {
                Ok(req) if req.task() == task => {
                    let response = run_task(&self.models, &self.mesher, self.blobs.as_ref(), &req).await?;
                    Ok(serde_json::to_vec(&response).expect("response serialises"))
                }
                Ok(req) => Err(TaskError::Rejected(format!("request document is a {:?} task, invoked as {:?}", req.task(), task))),
                Err(e) => Err(TaskError::Rejected(format!("request document is not a valid task: {e}"))),
            },
            Runner::Container { base } => {
                let url = format!("{}/invocations", base.trim_end_matches('/'));
                let body = doc.to_vec();
                tokio::task::spawn_blocking(move || {
                    let agent: ureq::Agent =
                        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(900))).build().into();
                    let mut resp = agent
                        .post(&url)
                        .header("content-type", "application/json")
                        .send(&body[..])
                        .map_err(|e| TaskError::Unavailable(format!("container unreachable at {url}: {e}")))?;
                    let status = resp.status().as_u16();
                    let bytes = resp.body_mut().read_to_vec().map_err(|e| TaskError::Unavailable(format!("reading the container's reply: {e}")))?;
                    let reason = || {
                        serde_json::from_slice::<serde_json::Value>(&bytes)
                            .ok()
                            .and_then(|v| v["error"].as_str().map(str::to_owned))
                            .unwrap_or_else(|| format!("container answered {status}"))
                    };
                    match status {
                        200..=299 => Ok(bytes),
                        400..=499 => Err(TaskError::Rejected(reason())),
                        500 => Err(TaskError::Model(reason())),
                        _ => Err(TaskError::Unavailable(reason())),
                    }
                })
                .await
                .map_err(|e| TaskError::Unavailable(format!("container call task: {e}")))?
            }
        }
    }

    /// Processes accepted invocations until `stop` is set; one at a time (bounded
    /// concurrency, like `MaxConcurrentInvocationsPerInstance = 1`).
    pub async fn run_worker(&self, stop: tokio::sync::watch::Receiver<bool>) {
        let queue = own_queue();
        while !*stop.borrow() {
            let batch = match self.queue.receive(&queue, 1, VISIBILITY, Duration::from_millis(500)).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "inference queue receive failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            for msg in batch {
                match self.process(&msg.body).await {
                    Ok(()) => {
                        if let Err(e) = self.queue.delete(&queue, &msg.receipt).await {
                            tracing::warn!(error = %e, "could not delete a finished invocation");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, attempt = msg.receive_count, "invocation will be retried");
                        let backoff = Duration::from_millis(200 * 2u64.pow(msg.receive_count.min(6)));
                        let _ = self.queue.retry_after(&queue, &msg.receipt, backoff).await;
                    }
                }
            }
        }
    }

    /// Runs one invocation. `Err` only for transient trouble (it is retried); a bad
    /// request ends as a failure document and a `Failed` notification.
    async fn process(&self, body: &str) -> Result<(), PortError> {
        let accepted: Accepted = match serde_json::from_str(body) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "dropping an unreadable invocation");
                return Ok(());
            }
        };
        let started = Instant::now();
        let result = match self.blobs.get(&accepted.request).await {
            Ok(doc) => self.run(&doc, accepted.task).await,
            Err(PortError::NotFound(_)) => Err(TaskError::Rejected("request document is missing".into())),
            Err(e) => Err(TaskError::Unavailable(e.to_string())),
        };
        let task = accepted.task.name();
        self.metrics.duration_ms("inference_ms", started.elapsed().as_secs_f64() * 1e3, &[("task", task)]);
        let (status, doc, failure) = match result {
            Ok(response) => (InferenceStatus::Completed, response, None),
            Err(e) if e.is_retryable() => return Err(PortError::Unavailable(e.to_string())),
            Err(e) => {
                let reason = e.to_string();
                (InferenceStatus::Failed, serde_json::to_vec(&serde_json::json!({"error": reason})).expect("json"), Some(reason))
            }
        };
        let out_key = ObjectKey::inference_output(&accepted.inference_id, status != InferenceStatus::Completed)
            .map_err(|e| PortError::Invalid(e.to_string()))?;
        self.blobs.put(&out_key, Bytes::from(doc), "application/json").await?;
        let note = inference_notification_body(
            status,
            &accepted.inference_id,
            &self.blobs.location(&accepted.request),
            &self.blobs.location(&out_key),
            failure.as_deref(),
        );
        match &self.topic {
            Some(topic) => topic.publish(&note).await?,
            None => {
                self.queue.send(&result_queue(accepted.task), &note).await?;
            }
        }
        self.metrics.count("inference_results", 1, &[("task", task), ("status", if failure.is_none() { "completed" } else { "failed" })]);
        Ok(())
    }
}

#[async_trait]
impl InferenceEndpoint for LocalAsyncEndpoint {
    async fn invoke_async(&self, invocation: &InferenceInvocation) -> Result<(), PortError> {
        let id = &invocation.inference_id;
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_graphic()) {
            return Err(PortError::Invalid(format!("inference id {id:?} must be 1 to 64 printable characters")));
        }
        let body = serde_json::to_string(&Accepted { inference_id: id.clone(), request: invocation.request.clone(), task: invocation.task })
            .expect("accepted invocation serialises");
        self.queue.send(&own_queue(), &body).await.map(|_| ())
    }
}
