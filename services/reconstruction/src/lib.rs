//! The reconstruction service: image + mask -> Gaussian splat (SAM 3D Objects), through
//! the asynchronous inference endpoint.
//!
//! `ReconstructRequested` moves the object submitted -> reconstructing and invokes the
//! endpoint; its notification moves the object to meshing and sends `MeshRequested`
//! (or fails the object with the endpoint's reason).

use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{
    InferenceNotification, InferenceStatus, KeyOwner, MeshRequested, ObjectFile, ObjectKey, ObjectState, Pose, QueueMessage, ReconstructRequested,
    SessionFile,
};
use gen3d_pipeline::{Handler, HandlerError, fail_object, fail_object_by_id, load_object, move_object, notify_unless_told, send, settle_object};
use gen3d_ports::{InferenceInvocation, InferenceTask, PortError, Ports, QueueName, TaskRequest, now_ms};
use serde::Deserialize;

pub struct ReconstructionService {
    ports: Ports,
}

impl ReconstructionService {
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    async fn requested(&self, m: &ReconstructRequested) -> Result<(), HandlerError> {
        let mut rec = load_object(&self.ports, &m.user, &m.session, &m.object).await?;
        if rec.state == ObjectState::Failed && rec.failure.as_ref().is_some_and(|f| f.stage != gen3d_domain::Stage::Meshing) {
            // A replayed message: retry the stage that failed.
            rec = move_object(&self.ports, &rec, rec.resumed(now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?).await?;
        }
        if rec.state == ObjectState::Submitted {
            let next = rec.moved(ObjectState::Reconstructing, now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?;
            rec = move_object(&self.ports, &rec, next).await?;
        }
        if rec.state != ObjectState::Reconstructing {
            return notify_unless_told(&self.ports, &rec).await; // already past this stage: a duplicate
        }
        let request = ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::ReconstructRequest);
        let doc = TaskRequest::Reconstruct {
            image: ObjectKey::session_file(&m.user, &m.session, SessionFile::Image),
            mask: ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::Mask),
            output: ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::Splat),
            seed: rec.seed,
        };
        self.ports.blobs.put(&request, Bytes::from(serde_json::to_vec(&doc).expect("request serialises")), "application/json").await?;
        let invocation = InferenceInvocation { inference_id: format!("reconstruct-{}", m.object), request, task: InferenceTask::Reconstruct };
        self.ports.inference.invoke_async(&invocation).await?;
        Ok(())
    }

    async fn result(&self, note: InferenceNotification) -> Result<(), HandlerError> {
        let Some(KeyOwner::Object { user, session, object, file: ObjectFile::ReconstructRequest }) =
            note.request_key.as_ref().and_then(|k| k.owner())
        else {
            return Err(HandlerError::Permanent(format!("inference result {} is not for a reconstruction request", note.inference_id)));
        };
        let mut rec = load_object(&self.ports, &user, &session, &object).await?;
        match (rec.state, note.invocation_status) {
            (ObjectState::Reconstructing, InferenceStatus::Completed) => {
                let splat = ObjectKey::object_file(&user, &session, &object, ObjectFile::Splat);
                if self.ports.blobs.head(&splat).await?.is_none() {
                    return Err(HandlerError::Retryable("endpoint reported success but the splat is not there yet".into()));
                }
                let mut next = rec.moved(ObjectState::Meshing, now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?;
                next.pose = self.read_pose(&note).await?;
                rec = move_object(&self.ports, &rec, next).await?;
            }
            (ObjectState::Reconstructing, status) => {
                let reason = note.failure_reason.unwrap_or_else(|| format!("reconstruction {status:?}").to_lowercase());
                return fail_object(&self.ports, &rec, &reason).await;
            }
            _ => {}
        }
        // In meshing (just now, or a redelivery after a crash before the send): ask for
        // the mesh. The meshing step ignores a duplicate request.
        if rec.state == ObjectState::Meshing {
            send(&self.ports, QueueName::MESHING, QueueMessage::MeshRequested(MeshRequested { user, session, object })).await?;
        }
        notify_unless_told(&self.ports, &rec).await
    }

    /// The object's pose from the response document (its location is in the
    /// notification); `None` when the model gave none. A pose that is not valid is a
    /// failure of the model.
    async fn read_pose(&self, note: &InferenceNotification) -> Result<Option<Pose>, HandlerError> {
        #[derive(Deserialize)]
        struct Response {
            #[serde(default)]
            pose: Option<Pose>,
        }
        let key = match &note.output_key {
            Some(k) => k.clone(),
            None => ObjectKey::inference_output(&note.inference_id, false).map_err(|e| HandlerError::Permanent(e.to_string()))?,
        };
        let doc = match self.ports.blobs.get(&key).await {
            Ok(doc) => doc,
            Err(PortError::NotFound(_)) => return Err(HandlerError::Retryable(format!("the response document {key} is not there yet"))),
            Err(e) => return Err(e.into()),
        };
        let response: Response = serde_json::from_slice(&doc)
            .map_err(|e| HandlerError::Permanent(format!("reconstruction response {key} is not a reconstruction result: {e}")))?;
        match response.pose {
            Some(pose) if !pose.is_valid() => Err(HandlerError::Permanent(format!("the reconstructor's pose is not valid: {pose:?}"))),
            pose => Ok(pose),
        }
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
            QueueMessage::InferenceResult(n) => match n.request_key.as_ref().and_then(|k| k.owner()) {
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
            QueueMessage::InferenceResult(n) => match n.request_key.as_ref().and_then(|k| k.owner()) {
                Some(KeyOwner::Object { user, session, object, .. }) => fail_object_by_id(&self.ports, &user, &session, &object, reason).await,
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}
