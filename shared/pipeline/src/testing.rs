//! For the services' unit tests (feature `testing`): the embedded adapters in a temporary
//! directory, an inference endpoint that records invocations instead of running them,
//! and the endpoint's side of a task (its response document and notification) written by
//! hand, so each branch of a handler can be reached directly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{
    EmailAddress, InferenceNotification, InferenceStatus, MeshFormat, MeshMethod, MeshOptions, ObjectId, ObjectKey, ObjectRecord, ObjectState,
    QueueMessage, SessionId, SessionRecord, SessionState, UserId,
};
use gen3d_embedded::{FsBlobStore, MemoryMetrics, OutboxMailer, SqliteJobStore, SqliteQueue, open_database};
use gen3d_ports::{InferenceEndpoint, InferenceInvocation, PortError, Ports, QueueName, TaskResponse};

/// Records every invocation; runs nothing.
#[derive(Default)]
struct RecordingEndpoint {
    calls: Mutex<Vec<InferenceInvocation>>,
}

#[async_trait]
impl InferenceEndpoint for RecordingEndpoint {
    async fn invoke_async(&self, invocation: &InferenceInvocation) -> Result<(), PortError> {
        self.calls.lock().expect("not poisoned").push(invocation.clone());
        Ok(())
    }
}

/// Ports over a temporary directory, with a recording inference endpoint.
pub struct TestPorts {
    pub ports: Ports,
    endpoint: Arc<RecordingEndpoint>,
    _dir: tempfile::TempDir,
}

impl Default for TestPorts {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPorts {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = dir.path().join("db.sqlite");
        let endpoint = Arc::new(RecordingEndpoint::default());
        let ports = Ports {
            blobs: Arc::new(FsBlobStore::new(dir.path().join("blobs"))),
            queue: Arc::new(SqliteQueue::new(open_database(&db).expect("queue database"), 3)),
            jobs: Arc::new(SqliteJobStore::new(open_database(&db).expect("job database"))),
            mailer: Arc::new(OutboxMailer::new(dir.path().join("outbox"))),
            metrics: Arc::new(MemoryMetrics::default()),
            inference: endpoint.clone(),
        };
        Self { ports, endpoint, _dir: dir }
    }

    /// Every invocation so far, in order.
    pub fn invocations(&self) -> Vec<InferenceInvocation> {
        self.endpoint.calls.lock().expect("not poisoned").clone()
    }

    /// The count of metric `name` (all dimensions together).
    pub fn count(&self, name: &str) -> u64 {
        self.ports.metrics.snapshot().counters.iter().filter(|(k, _)| k.split('|').next() == Some(name)).map(|(_, v)| v).sum()
    }

    /// Takes every message waiting on the pipeline queue `queue`, in order.
    pub async fn sent(&self, queue: &'static str) -> Vec<QueueMessage> {
        let name = QueueName::pipeline(queue);
        let mut out = Vec::new();
        loop {
            let batch = self.ports.queue.receive(&name, 10, Duration::from_secs(60), Duration::ZERO).await.expect("receive");
            if batch.is_empty() {
                return out;
            }
            for m in batch {
                out.push(QueueMessage::parse(&m.body).expect("a Gen3D message"));
                self.ports.queue.delete(&name, &m.receipt).await.expect("delete");
            }
        }
    }

    pub async fn put(&self, key: &ObjectKey, bytes: &'static [u8]) {
        self.ports.blobs.put(key, Bytes::from_static(bytes), "application/octet-stream").await.expect("put");
    }

    /// What the endpoint does when `invocation` succeeds: writes `response` where
    /// SageMaker writes it and returns the notification (the task's outputs are the
    /// test's to write, or to leave out).
    pub async fn completed(&self, invocation: &InferenceInvocation, response: &TaskResponse) -> InferenceNotification {
        let output = ObjectKey::inference_output(&invocation.inference_id, false).expect("a valid inference id");
        let body = serde_json::to_vec(response).expect("a response serialises");
        self.ports.blobs.put(&output, Bytes::from(body), "application/json").await.expect("put");
        InferenceNotification {
            invocation_status: InferenceStatus::Completed,
            inference_id: invocation.inference_id.clone(),
            request_key: Some(invocation.request.clone()),
            output_key: Some(output),
            failure_reason: None,
        }
    }
}

/// The notification of a failed `invocation`, with the endpoint's `reason` if it gave one.
pub fn failed(invocation: &InferenceInvocation, reason: Option<&str>) -> InferenceNotification {
    InferenceNotification {
        invocation_status: InferenceStatus::Failed,
        inference_id: invocation.inference_id.clone(),
        request_key: Some(invocation.request.clone()),
        output_key: None,
        failure_reason: reason.map(str::to_owned),
    }
}

/// User `u1`'s session `s1`, created now and moved through `path` (each step checked).
pub fn session_in(path: &[SessionState]) -> SessionRecord {
    let mut rec = SessionRecord::new(
        UserId::parse("u1").expect("valid"),
        SessionId::parse("s1").expect("valid"),
        EmailAddress::parse("u1@example.com").expect("valid"),
        1,
    );
    for (i, state) in path.iter().enumerate() {
        rec = rec.moved(*state, 2 + i as u64).expect("a legal path");
    }
    rec
}

/// Object `o1` of [`session_in`]'s session, submitted, moved through `path`.
pub fn object_in(path: &[ObjectState]) -> ObjectRecord {
    let session = session_in(&[]);
    let mut rec = ObjectRecord {
        user: session.user,
        session: session.session,
        object: ObjectId::parse("o1").expect("valid"),
        state: ObjectState::Submitted,
        prompt: None,
        options: MeshOptions::new(MeshMethod::Poisson, 5_000, MeshFormat::Glb).expect("valid options"),
        seed: 7,
        failure: None,
        stats: None,
        pose: None,
        notified: false,
        variant_of: None,
        stage_ms: Default::default(),
        name: None,
        created_ms: 1,
        updated_ms: 1,
    };
    for (i, state) in path.iter().enumerate() {
        rec = rec.moved(*state, 2 + i as u64).expect("a legal path");
    }
    rec
}
