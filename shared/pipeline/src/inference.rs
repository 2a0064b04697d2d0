//! The step the three model services share: ask the asynchronous inference endpoint for
//! a task ([`invoke`]), then read what the endpoint's notification says about it
//! ([`outcome`]).
//!
//! Both halves are idempotent. A repeated [`invoke`] rewrites the same request document
//! and invokes under the same id (after a crash nobody knows whether the last invocation
//! was accepted; the task rewrites the same output). A repeated notification reads the
//! same outcome; whether it still changes the job is the service's state check.

use bytes::Bytes;
use gen3d_domain::{InferenceNotification, InferenceStatus, KeyOwner, ObjectKey};
use gen3d_ports::{InferenceInvocation, InferenceTask, PortError, Ports, TaskRequest, TaskResponse};

use crate::HandlerError;

/// What the endpoint said about a task.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// The task wrote its output; its response document.
    Done(TaskResponse),
    /// The task failed or expired: the reason, to fail the job with.
    Failed(String),
}

/// Writes `doc` to `request` (the job's `*.request.json`) and invokes the endpoint on it
/// as `inference_id` (stable per job step).
pub async fn invoke(ports: &Ports, request: ObjectKey, inference_id: String, doc: &TaskRequest) -> Result<(), HandlerError> {
    let body = serde_json::to_vec(doc).map_err(|e| HandlerError::Permanent(format!("the {} request does not serialise: {e}", doc.task().name())))?;
    ports.blobs.put(&request, Bytes::from(body), "application/json").await?;
    let invocation = InferenceInvocation { inference_id, request, task: doc.task() };
    ports.inference.invoke_async(&invocation).await?;
    Ok(())
}

/// The job a notification is about: the owner of its request document's key.
pub fn notification_owner(note: &InferenceNotification) -> Option<KeyOwner> {
    note.request_key.as_ref().and_then(ObjectKey::owner)
}

/// Reads the notification of the task whose request was `expected`:
/// - completed: the response document (where the notification says, else where the
///   endpoint writes it), which must be that task's and name `output`; the output must be
///   in storage. A response or output not there yet is retryable (storage may lag the
///   notification); a response that is not the task's is permanent.
/// - failed or expired: the endpoint's reason, or "<stage> failed" / "<stage> expired".
pub async fn outcome(ports: &Ports, note: &InferenceNotification, expected: &TaskRequest) -> Result<TaskOutcome, HandlerError> {
    let task = expected.task();
    match note.invocation_status {
        InferenceStatus::Completed => {}
        status => {
            let stage = match task {
                InferenceTask::Embed => "embedding",
                InferenceTask::Reconstruct => "reconstruction",
                InferenceTask::Mesh => "meshing",
            };
            let reason = note.failure_reason.clone().unwrap_or_else(|| format!("{stage} {status:?}").to_lowercase());
            return Ok(TaskOutcome::Failed(reason));
        }
    }
    let key = match &note.output_key {
        Some(key) => key.clone(),
        None => ObjectKey::inference_output(&note.inference_id, false)?,
    };
    let doc = match ports.blobs.get(&key).await {
        Ok(doc) => doc,
        Err(PortError::NotFound(_)) => return Err(HandlerError::Retryable(format!("the response document {key} is not there yet"))),
        Err(e) => return Err(e.into()),
    };
    let response: TaskResponse = serde_json::from_slice(&doc)
        .map_err(|e| HandlerError::Permanent(format!("the {} response {key} is not a task response: {e}", task.name())))?;
    if response.task != task || &response.output != expected.output() {
        return Err(HandlerError::Permanent(format!(
            "the response {key} is for {} {}, not for {} {}",
            response.task.name(),
            response.output,
            task.name(),
            expected.output()
        )));
    }
    if ports.blobs.head(expected.output()).await?.is_none() {
        return Err(HandlerError::Retryable(format!("the endpoint reported success but {} is not there yet", expected.output())));
    }
    Ok(TaskOutcome::Done(response))
}
