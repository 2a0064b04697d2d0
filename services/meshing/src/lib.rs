//! The point-cloud-to-mesh service: the object's splat PLY -> a coloured mesh in every
//! format (`mesh.glb`, `mesh.obj`, `mesh.ply`, `mesh.stl`), then object meshing -> done
//! and `NotifyRequested`.
//!
//! The service only orchestrates: Open3D runs in the inference container's `mesh` task
//! (the same image as the SAM models, so the Lambda stays small). `MeshRequested` writes
//! `mesh.request.json` and invokes the endpoint; the endpoint's notification carries the
//! response document with the mesh statistics.

use async_trait::async_trait;
use gen3d_domain::{
    InferenceNotification, KeyOwner, MeshFormat, MeshOptions, MeshRequested, ObjectFile, ObjectId, ObjectKey, ObjectState, Pose, QueueMessage,
    SessionId, Stage, UserId,
};
use gen3d_pipeline::{
    Handler, HandlerError, TaskOutcome, fail_object, fail_object_by_id, invoke, load_object, move_object, notification_owner, notify_unless_told,
    outcome, settle_object,
};
use gen3d_ports::{Ports, TaskRequest, Transition, now_ms};

pub struct MeshingService {
    ports: Ports,
}

/// The mesh task of one object (what the request document says).
fn task(user: &UserId, session: &SessionId, object: &ObjectId, options: MeshOptions, pose: Option<Pose>) -> TaskRequest {
    TaskRequest::Mesh {
        splat: ObjectKey::object_file(user, session, object, ObjectFile::Splat),
        output: ObjectKey::object_file(user, session, object, ObjectFile::Mesh(MeshFormat::Glb)),
        options,
        pose,
    }
}

impl MeshingService {
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    async fn requested(&self, m: &MeshRequested) -> Result<(), HandlerError> {
        let mut rec = load_object(&self.ports, &m.user, &m.session, &m.object).await?;
        if rec.state == ObjectState::Failed && rec.failure.as_ref().is_some_and(|f| f.stage == Stage::Meshing) {
            // A replayed message: mesh again.
            rec = move_object(&self.ports, &rec, rec.resumed(now_ms())?).await?;
        }
        if rec.state != ObjectState::Meshing {
            return notify_unless_told(&self.ports, &rec).await; // not (or no longer) this stage's: a duplicate
        }
        let request = ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::MeshRequest);
        invoke(&self.ports, request, format!("mesh-{}", m.object), &task(&m.user, &m.session, &m.object, rec.options, rec.pose)).await
    }

    async fn result(&self, note: InferenceNotification) -> Result<(), HandlerError> {
        let Some(KeyOwner::Object { user, session, object, file: ObjectFile::MeshRequest }) = notification_owner(&note) else {
            return Err(HandlerError::Permanent(format!("inference result {} is not for a mesh request", note.inference_id)));
        };
        let mut rec = load_object(&self.ports, &user, &session, &object).await?;
        if rec.state == ObjectState::Meshing {
            match outcome(&self.ports, &note, &task(&user, &session, &object, rec.options, rec.pose)).await? {
                TaskOutcome::Done(response) => {
                    let Some(stats) = response.stats else {
                        return Err(HandlerError::Permanent(format!("the mesh response for {object} has no statistics")));
                    };
                    let mut next = rec.moved(ObjectState::Done, now_ms())?;
                    next.stats = Some(stats);
                    rec = match self.ports.jobs.update_object(ObjectState::Meshing, rec.notified, &next).await? {
                        Transition::Applied(r) => {
                            self.ports.metrics.count("objects_done", 1, &[]);
                            r
                        }
                        Transition::Stale(r) => r,
                    };
                }
                TaskOutcome::Failed(reason) => return fail_object(&self.ports, &rec, &reason).await,
            }
        }
        notify_unless_told(&self.ports, &rec).await
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
            QueueMessage::InferenceResult(n) => match notification_owner(&n) {
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
            QueueMessage::InferenceResult(n) => match notification_owner(&n) {
                Some(KeyOwner::Object { user, session, object, .. }) => self.fail((&user, &session, &object), reason).await,
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}
