//! The point-cloud-to-mesh service: the object's splat PLY -> a coloured mesh (Open3D
//! Poisson by default) -> `mesh.glb`, `mesh.obj`, `mesh.ply`, `mesh.stl`, then object
//! meshing -> done and `NotifyRequested`.

use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{MeshFormat, MeshRequested, NotifyRequested, ObjectFile, ObjectKey, ObjectState, QueueMessage, Stage};
use gen3d_media::SplatCloud;
use gen3d_pipeline::{fail_object_by_id, load_object, send, Handler, HandlerError};
use gen3d_ports::{now_ms, Ports, QueueName, Transition};

pub struct MeshingService {
    ports: Ports,
}

impl MeshingService {
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    async fn mesh(&self, m: &MeshRequested) -> Result<(), HandlerError> {
        let mut rec = load_object(&self.ports, &m.user, &m.session, &m.object).await?;
        if rec.state == ObjectState::Failed && rec.failure.as_ref().is_some_and(|f| f.stage == Stage::Meshing) {
            let next = rec.resumed(now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?;
            let (Transition::Applied(r) | Transition::Stale(r)) = self.ports.jobs.update_object(rec.state, rec.notified, &next).await?;
            rec = r;
        }
        if rec.state == ObjectState::Meshing {
            let splat_key = ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::Splat);
            let bytes = self.ports.blobs.get(&splat_key).await?;
            let options = rec.options;
            let (files, stats) = tokio::task::spawn_blocking(move || -> Result<_, HandlerError> {
                let cloud = SplatCloud::read_ply(&bytes).map_err(|e| HandlerError::Permanent(format!("splat file: {e}")))?;
                let (mesh, stats) = gen3d_meshing::mesh_splats(&cloud, &options).map_err(|e| HandlerError::Permanent(e.to_string()))?;
                let files: Vec<(MeshFormat, Vec<u8>)> = MeshFormat::ALL.into_iter().map(|f| (f, gen3d_meshing::write_mesh(&mesh, f))).collect();
                Ok((files, stats))
            })
            .await
            .map_err(|e| HandlerError::Retryable(format!("meshing task: {e}")))??;
            // Every format is offered for download; the requested one is the primary.
            for (format, bytes) in files {
                let key = ObjectKey::object_file(&m.user, &m.session, &m.object, ObjectFile::Mesh(format));
                self.ports.blobs.put(&key, Bytes::from(bytes), format.content_type()).await?;
            }
            let mut next = rec.moved(ObjectState::Done, now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?;
            next.stats = Some(stats);
            match self.ports.jobs.update_object(ObjectState::Meshing, rec.notified, &next).await? {
                Transition::Applied(r) => {
                    self.ports.metrics.count("objects_done", 1, &[]);
                    rec = r;
                }
                Transition::Stale(r) => rec = r,
            }
        }
        // Done but not yet told (now, or a redelivery after a crash before the send).
        if rec.state == ObjectState::Done && !rec.notified {
            let note = NotifyRequested { user: m.user.clone(), session: m.session.clone(), object: m.object.clone() };
            send(&self.ports, QueueName::NOTIFY, QueueMessage::NotifyRequested(note)).await?;
        }
        Ok(())
    }

    async fn fail(&self, m: &MeshRequested, reason: &str) -> Result<(), HandlerError> {
        fail_object_by_id(&self.ports, &m.user, &m.session, &m.object, reason).await
    }
}

#[async_trait]
impl Handler for MeshingService {
    async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError> {
        let QueueMessage::MeshRequested(m) = message else {
            return Err(HandlerError::Permanent(format!("meshing service got a {} message", message.kind())));
        };
        match self.mesh(&m).await {
            Err(HandlerError::Permanent(reason)) => {
                self.fail(&m, &reason).await?;
                Err(HandlerError::Permanent(reason))
            }
            other => other,
        }
    }

    async fn give_up(&self, message: QueueMessage, reason: &str) -> Result<(), HandlerError> {
        match message {
            QueueMessage::MeshRequested(m) => self.fail(&m, reason).await,
            _ => Ok(()),
        }
    }
}
