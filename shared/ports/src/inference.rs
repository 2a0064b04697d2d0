//! The inference endpoint: SageMaker asynchronous inference in AWS, a durable local
//! stand-in otherwise. A call hands over the key of a request document; the endpoint
//! later publishes an [`gen3d_domain::InferenceNotification`] whose request key routes
//! it back to the job.

use async_trait::async_trait;
use gen3d_domain::{KeyOwner, MeshOptions, ObjectFile, ObjectKey, SessionFile};
use serde::{Deserialize, Serialize};

use crate::PortError;

/// The request document the container reads (the body SageMaker POSTs to /invocations).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaskRequest {
    /// Image -> `embeddings.g3e` (the SAM 3 encoder's three tensors).
    Embed { image: ObjectKey, output: ObjectKey },
    /// Image + mask -> Gaussian-splat PLY (SAM 3D Objects).
    Reconstruct { image: ObjectKey, mask: ObjectKey, output: ObjectKey, seed: u64 },
    /// Splat PLY -> a mesh (Open3D) in every format, written next to `output` (an
    /// object's `mesh.{glb,obj,ply,stl}`); the response document carries the statistics.
    /// `pose`, the object's place in the photo's camera frame when known, goes into the
    /// GLB's scene extras (`gen3d.pose`).
    Mesh {
        splat: ObjectKey,
        output: ObjectKey,
        options: MeshOptions,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pose: Option<gen3d_domain::Pose>,
    },
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

    /// The container runs only requests whose keys are exactly the files of one user's
    /// one session (and object) that this task reads and writes: a request document
    /// edited to name another user's files, or other files, is refused.
    pub fn check_keys(&self) -> Result<(), String> {
        let bad = |what: &str, key: &ObjectKey| Err(format!("{what} {key} is not this task's file of the output's session and object"));
        match self {
            TaskRequest::Embed { image, output } => {
                let Some(KeyOwner::Session { user, session, file: SessionFile::Embeddings }) = output.owner() else {
                    return bad("output", output);
                };
                if *image != ObjectKey::session_file(&user, &session, SessionFile::Image) {
                    return bad("image", image);
                }
            }
            TaskRequest::Reconstruct { image, mask, output, .. } => {
                let Some(KeyOwner::Object { user, session, object, file: ObjectFile::Splat }) = output.owner() else {
                    return bad("output", output);
                };
                if *image != ObjectKey::session_file(&user, &session, SessionFile::Image) {
                    return bad("image", image);
                }
                if *mask != ObjectKey::object_file(&user, &session, &object, ObjectFile::Mask) {
                    return bad("mask", mask);
                }
            }
            TaskRequest::Mesh { splat, output, .. } => {
                let Some(KeyOwner::Object { user, session, object, file: ObjectFile::Mesh(_) }) = output.owner() else {
                    return bad("output", output);
                };
                if *splat != ObjectKey::object_file(&user, &session, &object, ObjectFile::Splat) {
                    return bad("splat", splat);
                }
            }
        }
        Ok(())
    }
}

/// The response document: what the container writes to the output location (SageMaker's
/// `outputLocation`) when a task succeeds, and what the service handling the task's
/// notification reads back. Fields a task does not produce are left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskResponse {
    pub task: InferenceTask,
    /// The task's main output (the request's `output`).
    pub output: ObjectKey,
    /// The size of that output.
    pub bytes: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splats: Option<usize>,
    /// The mesh task's statistics (what the meshing service records on the object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<gen3d_domain::MeshStats>,
    /// The reconstruct task's object pose in the camera frame (what the reconstruction
    /// service records on the object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pose: Option<gen3d_domain::Pose>,
}

impl TaskResponse {
    /// A response to `task` whose output at `output` has `bytes` bytes; nothing else set.
    pub fn new(task: InferenceTask, output: ObjectKey, bytes: usize) -> Self {
        Self { task, output, bytes, width: None, height: None, splats: None, stats: None, pose: None }
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

#[cfg(test)]
mod tests {
    use gen3d_domain::{MeshFormat, MeshMethod, ObjectId, SessionId, UserId};

    use super::*;

    #[test]
    fn only_one_sessions_own_files_pass_the_key_check() {
        let (me, other) = (UserId::parse("me").unwrap(), UserId::parse("other").unwrap());
        let (s, o) = (SessionId::parse("s1").unwrap(), ObjectId::parse("o1").unwrap());
        let session = |u: &UserId, f| ObjectKey::session_file(u, &s, f);
        let object = |u: &UserId, f| ObjectKey::object_file(u, &s, &o, f);
        let options = MeshOptions::new(MeshMethod::Poisson, 5_000, MeshFormat::Glb).unwrap();
        let good = [
            TaskRequest::Embed { image: session(&me, SessionFile::Image), output: session(&me, SessionFile::Embeddings) },
            TaskRequest::Reconstruct {
                image: session(&me, SessionFile::Image),
                mask: object(&me, ObjectFile::Mask),
                output: object(&me, ObjectFile::Splat),
                seed: 1,
            },
            TaskRequest::Mesh { splat: object(&me, ObjectFile::Splat), output: object(&me, ObjectFile::Mesh(MeshFormat::Glb)), options, pose: None },
        ];
        for r in &good {
            assert_eq!(r.check_keys(), Ok(()), "{r:?}");
        }
        let other_object = ObjectKey::object_file(&me, &s, &ObjectId::parse("o2").unwrap(), ObjectFile::Splat);
        let bad = [
            // Another user's photo copied into my embeddings.
            TaskRequest::Embed { image: session(&other, SessionFile::Image), output: session(&me, SessionFile::Embeddings) },
            // My photo's embeddings written over another user's.
            TaskRequest::Embed { image: session(&me, SessionFile::Image), output: session(&other, SessionFile::Embeddings) },
            // A request document as the output.
            TaskRequest::Embed { image: session(&me, SessionFile::Image), output: session(&me, SessionFile::EmbedRequest) },
            TaskRequest::Reconstruct {
                image: session(&other, SessionFile::Image),
                mask: object(&me, ObjectFile::Mask),
                output: object(&me, ObjectFile::Splat),
                seed: 1,
            },
            TaskRequest::Reconstruct {
                image: session(&me, SessionFile::Image),
                mask: object(&me, ObjectFile::Mask),
                output: object(&me, ObjectFile::Mesh(MeshFormat::Glb)),
                seed: 1,
            },
            TaskRequest::Mesh {
                splat: object(&other, ObjectFile::Splat),
                output: object(&me, ObjectFile::Mesh(MeshFormat::Glb)),
                options,
                pose: None,
            },
            TaskRequest::Mesh { splat: other_object, output: object(&me, ObjectFile::Mesh(MeshFormat::Glb)), options, pose: None },
            TaskRequest::Mesh {
                splat: ObjectKey::parse("accounts/x.json").unwrap(),
                output: object(&me, ObjectFile::Mesh(MeshFormat::Glb)),
                options,
                pose: None,
            },
        ];
        for r in &bad {
            assert!(r.check_keys().is_err(), "{r:?}");
        }
    }
}
