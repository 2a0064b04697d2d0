//! The point-cloud-to-mesh service: the object's splat PLY -> a coloured mesh in every
//! format (`mesh.glb`, `mesh.obj`, `mesh.ply`, `mesh.stl`), then object meshing -> done
//! and `NotifyRequested`.
//!
//! The service only orchestrates: Open3D runs in the inference container's `mesh` task
//! (the same image as the SAM models, so the Lambda stays small). `MeshRequested` writes
//! `mesh.request.json` and invokes the endpoint; the endpoint's notification carries the
//! response document with the mesh statistics.

use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{
    InferenceNotification, InferenceStatus, KeyOwner, MeshFormat, MeshRequested, MeshStats, ObjectFile, ObjectId, ObjectKey, ObjectState,
    QueueMessage, SessionId, Stage, UserId,
};
use gen3d_pipeline::{Handler, HandlerError, fail_object, fail_object_by_id, load_object, move_object, notify_unless_told, settle_object};
use gen3d_ports::{InferenceInvocation, InferenceTask, Ports, TaskRequest, Transition, now_ms};
use serde::Deserialize;

pub struct MeshingService {
    ports: Ports,
}

/// The part of the mesh task's response document the service reads.
#[derive(Deserialize)]
struct MeshResponse {
    stats: MeshStats,
}

impl MeshingService {
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    async fn requested(&self, m: &MeshRequested) -> Result<(), HandlerError> {
        let mut rec = load_object(&self.ports, &m.user, &m.session, &m.object).await?;
        if rec.state == ObjectState::Failed && rec.failure.as_ref().is_some_and(|f| f.stage == Stage::Meshing) {
            // A replayed message: mesh again.
            rec = move_object(&self.ports, &rec, rec.resumed(now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?).await?;
        }
        if rec.state == ObjectState::Meshing {
            let request = ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::MeshRequest);
            let doc = TaskRequest::Mesh {
                splat: ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::Splat),
                output: ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::Mesh(MeshFormat::Glb)),
                options: rec.options,
                pose: rec.pose,
            };
            self.ports.blobs.put(&request, Bytes::from(serde_json::to_vec(&doc).expect("request serialises")), "application/json").await?;
            let invocation = InferenceInvocation { inference_id: format!("mesh-{}", m.object), request, task: InferenceTask::Mesh };
            self.ports.inference.invoke_async(&invocation).await?;
            return Ok(());
        }
        notify_unless_told(&self.ports, &rec).await
    }

    async fn result(&self, note: InferenceNotification) -> Result<(), HandlerError> {
        let Some(KeyOwner::Object { user, session, object, file: ObjectFile::MeshRequest }) = note.request_key.as_ref().and_then(|k| k.owner())
        else {
            return Err(HandlerError::Permanent(format!("inference result {} is not for a mesh request", note.inference_id)));
        };
        let mut rec = load_object(&self.ports, &user, &session, &object).await?;
        match (rec.state, note.invocation_status) {
            (ObjectState::Meshing, InferenceStatus::Completed) => {
                let stats = self.read_stats(&note).await?;
                let glb = ObjectKey::object_file(&user, &session, &object, ObjectFile::Mesh(MeshFormat::Glb));
                if self.ports.blobs.head(&glb).await?.is_none() {
                    return Err(HandlerError::Retryable("endpoint reported success but the mesh is not there yet".into()));
                }
                let mut next = rec.moved(ObjectState::Done, now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?;
                next.stats = Some(stats);
                rec = match self.ports.jobs.update_object(ObjectState::Meshing, rec.notified, &next).await? {
                    Transition::Applied(r) => {
                        self.ports.metrics.count("objects_done", 1, &[]);
                        r
                    }
                    Transition::Stale(r) => r,
                };
            }
            (ObjectState::Meshing, status) => {
                let reason = note.failure_reason.unwrap_or_else(|| format!("meshing {status:?}").to_lowercase());
                return fail_object(&self.ports, &rec, &reason).await;
            }
            _ => {}
        }
        notify_unless_told(&self.ports, &rec).await
    }

    /// The statistics from the response document (its location is in the notification).
    async fn read_stats(&self, note: &InferenceNotification) -> Result<MeshStats, HandlerError> {
        let key = match &note.output_key {
            Some(k) => k.clone(),
            None => ObjectKey::inference_output(&note.inference_id, false).map_err(|e| HandlerError::Permanent(e.to_string()))?,
        };
        let doc = self.ports.blobs.get(&key).await?;
        let response: MeshResponse =
            serde_json::from_slice(&doc).map_err(|e| HandlerError::Permanent(format!("mesh response {key} is not a mesh result: {e}")))?;
        Ok(response.stats)
    }

    async fn fail(&self, ids: (&UserId, &SessionId, &ObjectId), reason: &str) -> Result<(), HandlerError> {
        fail_object_by_id(&self.ports, ids.0, ids.1, ids.2, reason).await
    }
}

#[async_trait]
impl Handler for MeshingService {
    async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError> {
        match message {
            QueueMessage::MeshRequested(m) => settle_object(&self.ports, (&m.user, &m.session, &m.object), self.requested(&m).await).await,
            QueueMessage::InferenceResult(n) => match n.request_key.as_ref().and_then(|k| k.owner()) {
                Some(KeyOwner::Object { user, session, object, .. }) => {
                    settle_object(&self.ports, (&user, &session, &object), self.result(n).await).await
                }
                _ => self.result(n).await,
            },
            other => Err(HandlerError::Permanent(format!("meshing service got a {} message", other.kind()))),
        }
    }

    async fn give_up(&self, message: QueueMessage, reason: &str) -> Result<(), HandlerError> {
        match message {
            QueueMessage::MeshRequested(m) => self.fail((&m.user, &m.session, &m.object), reason).await,
            QueueMessage::InferenceResult(n) => match n.request_key.as_ref().and_then(|k| k.owner()) {
                Some(KeyOwner::Object { user, session, object, .. }) => self.fail((&user, &session, &object), reason).await,
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}
