//! For the services' unit tests (feature `testing`): the embedded adapters in a temporary
//! directory, an inference endpoint that records invocations instead of running them,
//! and the endpoint's side of a task (its response document and notification) written by
//! hand, so each branch of a handler can be reached directly. [`Case`] is one handler
//! over those ports with the session or object it works on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{
    EmailAddress, InferenceNotification, InferenceStatus, MeshFormat, MeshMethod, MeshOptions, ObjectFile, ObjectId, ObjectKey, ObjectRecord,
    ObjectState, QueueMessage, SessionFile, SessionId, SessionRecord, SessionState, UserId,
};
use gen3d_embedded::{FsBlobStore, MemoryMetrics, OutboxMailer, SqliteJobStore, SqliteQueue, open_database};
use gen3d_ports::{InferenceEndpoint, InferenceInvocation, PortError, Ports, QueueName, TaskResponse};

use crate::{Handler, HandlerError};

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
    let options = MeshOptions::new(MeshMethod::Poisson, 5_000, MeshFormat::Glb).expect("valid options");
    let mut rec = ObjectRecord::submitted(session.user, session.session, ObjectId::parse("o1").expect("valid"), options, 7, 1);
    for (i, state) in path.iter().enumerate() {
        rec = rec.moved(*state, 2 + i as u64).expect("a legal path");
    }
    rec
}

/// A job record a handler works on, as the job store keeps it.
#[async_trait]
pub trait Record: Sized + Send + Sync {
    async fn create(&self, ports: &Ports);
    /// This record as stored now.
    async fn reload(&self, ports: &Ports) -> Self;
}

#[async_trait]
impl Record for SessionRecord {
    async fn create(&self, ports: &Ports) {
        ports.jobs.create_session(self).await.expect("create the session");
    }

    async fn reload(&self, ports: &Ports) -> Self {
        ports.jobs.session(&self.user, &self.session).await.expect("read the session").expect("the session exists")
    }
}

#[async_trait]
impl Record for ObjectRecord {
    async fn create(&self, ports: &Ports) {
        ports.jobs.create_object(self).await.expect("create the object");
    }

    async fn reload(&self, ports: &Ports) -> Self {
        ports.jobs.object(&self.user, &self.session, &self.object).await.expect("read the object").expect("the object exists")
    }
}

/// One handler under test over fresh [`TestPorts`], with the record it works on stored.
pub struct Case<H, R> {
    pub t: TestPorts,
    pub service: H,
    /// The record as the case began (`stored()` reads it now).
    pub record: R,
}

impl<H: Handler, R: Record> Case<H, R> {
    /// Stores `record` and builds the handler from the ports with `service`.
    pub async fn new(record: R, service: impl FnOnce(Ports) -> H) -> Self {
        let t = TestPorts::new();
        record.create(&t.ports).await;
        let service = service(t.ports.clone());
        Self { t, service, record }
    }

    pub async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError> {
        self.service.handle(message).await
    }

    /// Hands the handler the endpoint's notification.
    pub async fn notify(&self, note: InferenceNotification) -> Result<(), HandlerError> {
        self.handle(QueueMessage::InferenceResult(note)).await
    }

    /// Handles `request`, which must invoke the endpoint, and returns that invocation.
    pub async fn invoked_by(&self, request: QueueMessage) -> InferenceInvocation {
        self.handle(request).await.expect("the request is handled");
        self.t.invocations().pop().expect("the endpoint was invoked")
    }

    pub async fn stored(&self) -> R {
        self.record.reload(&self.t.ports).await
    }

    /// How many messages waiting on `queue` match (taking them off the queue).
    pub async fn sent_matching(&self, queue: &'static str, matches: impl Fn(&QueueMessage) -> bool) -> usize {
        self.t.sent(queue).await.iter().filter(|m| matches(m)).count()
    }
}

impl<H: Handler> Case<H, SessionRecord> {
    /// The key of one of the session's files.
    pub fn file(&self, file: SessionFile) -> ObjectKey {
        ObjectKey::session_file(&self.record.user, &self.record.session, file)
    }

    /// How many times the notify service was asked to tell the owner about the session.
    pub async fn notify_requests(&self) -> usize {
        self.sent_matching(QueueName::NOTIFY, |m| matches!(m, QueueMessage::SessionNotifyRequested(_))).await
    }
}

impl<H: Handler> Case<H, ObjectRecord> {
    /// The key of one of the object's files.
    pub fn file(&self, file: ObjectFile) -> ObjectKey {
        ObjectKey::object_file(&self.record.user, &self.record.session, &self.record.object, file)
    }

    /// How many times the notify service was asked to tell the owner about the object.
    pub async fn notify_requests(&self) -> usize {
        self.sent_matching(QueueName::NOTIFY, |m| matches!(m, QueueMessage::NotifyRequested(_))).await
    }
}
