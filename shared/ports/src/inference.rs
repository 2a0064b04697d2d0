//! The inference endpoint: SageMaker asynchronous inference in AWS, a durable local
//! stand-in otherwise. A call hands over the key of a request document; the endpoint
//! later publishes an [`gen3d_domain::InferenceNotification`] whose request key routes
//! it back to the job.

use async_trait::async_trait;
use gen3d_domain::{MeshOptions, ObjectKey};
use serde::{Deserialize, Serialize};

use crate::PortError;

/// The request document the container reads (the body SageMaker POSTs to /invocations).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaskRequest {
    /// Image -> `embeddings.g3e` (the SAM 3 encoder's three tensors).
    Embed { image: ObjectKey, output: ObjectKey },
    /// Image + mask -> Gaussian-splat PLY (SAM 3D Objects).
    Reconstruct { image: ObjectKey, mask: ObjectKey, output: ObjectKey, seed: u64 },
    /// Splat PLY -> a mesh (Open3D) in every format, written next to `output` (an
    /// object's `mesh.{glb,obj,ply,stl}`); the response document carries the statistics.
    Mesh { splat: ObjectKey, output: ObjectKey, options: MeshOptions },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InferenceTask {
    Embed,
    Reconstruct,
    Mesh,
}

impl InferenceTask {
    pub fn name(self) -> &'static str {
        match self {
            InferenceTask::Embed => "embed",
            InferenceTask::Reconstruct => "reconstruct",
            InferenceTask::Mesh => "mesh",
        }
    }
}

impl TaskRequest {
    pub fn task(&self) -> InferenceTask {
        match self {
            TaskRequest::Embed { .. } => InferenceTask::Embed,
            TaskRequest::Reconstruct { .. } => InferenceTask::Reconstruct,
            TaskRequest::Mesh { .. } => InferenceTask::Mesh,
        }
    }

    pub fn output(&self) -> &ObjectKey {
        match self {
            TaskRequest::Embed { output, .. } | TaskRequest::Reconstruct { output, .. } | TaskRequest::Mesh { output, .. } => output,
        }
    }
}

/// One asynchronous invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InferenceInvocation {
    /// At most 64 printable characters; stable per job step so a retry reuses it.
    pub inference_id: String,
    /// Where the request document ([`TaskRequest`] as JSON) was written.
    pub request: ObjectKey,
    pub task: InferenceTask,
}

#[async_trait]
pub trait InferenceEndpoint: Send + Sync {
    /// Queues the invocation; returns once the endpoint has durably accepted it.
    async fn invoke_async(&self, invocation: &InferenceInvocation) -> Result<(), PortError>;
}
