//! The reconstruction service: image + mask -> Gaussian splat (SAM 3D Objects), through
//! the asynchronous inference endpoint.
//!
//! `ReconstructRequested` moves the object submitted -> reconstructing and invokes the
//! endpoint; its notification moves the object to meshing and sends `MeshRequested`
//! (or fails the object with the endpoint's reason).

use async_trait::async_trait;
use gen3d_domain::{
    InferenceNotification, KeyOwner, MeshRequested, ObjectFile, ObjectId, ObjectKey, ObjectState, QueueMessage, ReconstructRequested, SessionFile,
    SessionId, Stage, UserId,
};
use gen3d_pipeline::{
    Handler, HandlerError, TaskOutcome, fail_object, fail_object_by_id, invoke, load_object, move_object, notification_owner, notify_unless_told,
    outcome, send, settle_object,
};
use gen3d_ports::{Ports, QueueName, TaskRequest, now_ms};

pub struct ReconstructionService {
    ports: Ports,
}

/// The reconstruct task of one object (what the request document says).
fn task(user: &UserId, session: &SessionId, object: &ObjectId, seed: u64) -> TaskRequest {
    TaskRequest::Reconstruct {
        image: ObjectKey::session_file(user, session, SessionFile::Image),
        mask: ObjectKey::object_file(user, session, object, ObjectFile::Mask),
        output: ObjectKey::object_file(user, session, object, ObjectFile::Splat),
        seed,
    }
}

impl ReconstructionService {
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    async fn requested(&self, m: &ReconstructRequested) -> Result<(), HandlerError> {
        let mut rec = load_object(&self.ports, &m.user, &m.session, &m.object).await?;
        if rec.state == ObjectState::Failed && rec.failure.as_ref().is_some_and(|f| f.stage != Stage::Meshing) {
            // A replayed message: retry the stage that failed.
            rec = move_object(&self.ports, &rec, rec.resumed(now_ms())?).await?;
        }
        if rec.state == ObjectState::Submitted {
            rec = move_object(&self.ports, &rec, rec.moved(ObjectState::Reconstructing, now_ms())?).await?;
        }
        if rec.state != ObjectState::Reconstructing {
            return notify_unless_told(&self.ports, &rec).await; // already past this stage: a duplicate
        }
        let request = ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::ReconstructRequest);
        invoke(&self.ports, request, format!("reconstruct-{}", m.object), &task(&m.user, &m.session, &m.object, rec.seed)).await
    }

    async fn result(&self, note: InferenceNotification) -> Result<(), HandlerError> {
        let Some(KeyOwner::Object { user, session, object, file: ObjectFile::ReconstructRequest }) = notification_owner(&note) else {
            return Err(HandlerError::Permanent(format!("inference result {} is not for a reconstruction request", note.inference_id)));
        };
        let mut rec = load_object(&self.ports, &user, &session, &object).await?;
        if rec.state == ObjectState::Reconstructing {
            match outcome(&self.ports, &note, &task(&user, &session, &object, rec.seed)).await? {
                TaskOutcome::Done(response) => {
                    let pose = match response.pose {
                        Some(pose) if !pose.is_valid() => {
                            return Err(HandlerError::Permanent(format!("the reconstructor's pose is not valid: {pose:?}")));
                        }
                        pose => pose,
                    };
                    let mut next = rec.moved(ObjectState::Meshing, now_ms())?;
                    next.pose = pose;
                    rec = move_object(&self.ports, &rec, next).await?;
                }
                TaskOutcome::Failed(reason) => return fail_object(&self.ports, &rec, &reason).await,
            }
        }
        // In meshing (just now, or a redelivery after a crash before the send): ask for
        // the mesh. The meshing step ignores a duplicate request.
        if rec.state == ObjectState::Meshing {
            send(&self.ports, QueueName::MESHING, QueueMessage::MeshRequested(MeshRequested { user, session, object })).await?;
        }
        notify_unless_told(&self.ports, &rec).await
    }

    async fn fail(&self, m: &ReconstructRequested, reason: &str) -> Result<(), HandlerError> {
        fail_object_by_id(&self.ports, &m.user, &m.session, &m.object, reason).await
    }
}

#[async_trait]
impl Handler for ReconstructionService {
    async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError> {
        match message {
            QueueMessage::ReconstructRequested(m) => settle_object(&self.ports, (&m.user, &m.session, &m.object), self.requested(&m).await).await,
            QueueMessage::InferenceResult(n) => match notification_owner(&n) {
                Some(KeyOwner::Object { user, session, object, .. }) => {
                    settle_object(&self.ports, (&user, &session, &object), self.result(n).await).await
                }
                _ => self.result(n).await,
            },
            other => Err(HandlerError::Permanent(format!("reconstruction service got a {} message", other.kind()))),
        }
    }

    async fn give_up(&self, message: QueueMessage, reason: &str) -> Result<(), HandlerError> {
        match message {
            QueueMessage::ReconstructRequested(m) => self.fail(&m, reason).await,
            QueueMessage::InferenceResult(n) => match notification_owner(&n) {
                Some(KeyOwner::Object { user, session, object, .. }) => fail_object_by_id(&self.ports, &user, &session, &object, reason).await,
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}
