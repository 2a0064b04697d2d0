//! The SQS batch handler on the embedded adapters: partial batch failures, a panicking
//! record failing alone, poison and test events, give-up on the last delivery, and the
//! poller deleting exactly what succeeded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use gen3d_domain::{EmbedRequested, QueueMessage, SessionId, UserId};
use gen3d_embedded::{FsBlobStore, MemoryMetrics, OutboxMailer, SqliteJobStore, SqliteQueue, open_database};
use gen3d_lambda::{QueueService, poll_once};
use gen3d_pipeline::{Handler, HandlerError};
use gen3d_ports::{InferenceEndpoint, InferenceInvocation, PortError, Ports, QueueName};

struct NoInference;

#[async_trait]
impl InferenceEndpoint for NoInference {
    async fn invoke_async(&self, _: &InferenceInvocation) -> Result<(), PortError> {
        Err(PortError::Internal("not used".into()))
    }
}

/// Behaves by session id: `ok…` succeeds, `retry…` fails retryably, `bad…` permanently,
/// `panic…` panics. Records every call and every give-up.
#[derive(Default)]
struct Scripted {
    seen: Mutex<Vec<String>>,
    gave_up: Mutex<Vec<String>>,
}

#[async_trait]
impl Handler for Scripted {
    async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError> {
        let QueueMessage::EmbedRequested(m) = message else {
            return Err(HandlerError::Permanent("unexpected".into()));
        };
        let id = m.session.as_str().to_owned();
        self.seen.lock().unwrap().push(id.clone());
        match id.split('-').next() {
            Some("ok") => Ok(()),
            Some("retry") => Err(HandlerError::Retryable("try later".into())),
            Some("bad") => Err(HandlerError::Permanent("never".into())),
            _ => panic!("handler bug on {id}"),
        }
    }

    async fn give_up(&self, message: QueueMessage, _reason: &str) -> Result<(), HandlerError> {
        if let QueueMessage::EmbedRequested(m) = message {
            self.gave_up.lock().unwrap().push(m.session.as_str().to_owned());
        }
        Ok(())
    }
}

fn service(dir: &std::path::Path, handler: Arc<Scripted>) -> QueueService {
    let db = dir.join("db.sqlite");
    let ports = Ports {
        blobs: Arc::new(FsBlobStore::new(dir.join("blobs"))),
        queue: Arc::new(SqliteQueue::new(open_database(&db).unwrap(), 2)),
        jobs: Arc::new(SqliteJobStore::new(open_database(&db).unwrap())),
        mailer: Arc::new(OutboxMailer::new(dir.join("outbox"))),
        metrics: Arc::new(MemoryMetrics::default()),
        inference: Arc::new(NoInference),
    };
    QueueService { ports, handler, queue: QueueName::pipeline(QueueName::EMBEDDING), backoff: Duration::ZERO }
}

fn body(session: &str) -> String {
    QueueMessage::EmbedRequested(EmbedRequested { user: UserId::parse("u1").unwrap(), session: SessionId::parse(session).unwrap() }).to_body()
}

fn record(id: &str, body: Option<String>, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.body = body;
    m.attributes.insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m
}

#[tokio::test]
async fn each_record_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let handler = Arc::new(Scripted::default());
    let svc = service(dir.path(), handler.clone());
    let mut event = SqsEvent::default();
    event.records = vec![
        record("m1", Some(body("ok-1")), 1),
        record("m2", Some(body("retry-1")), 1),
        record("m3", Some(body("panic-1")), 1),
        record("m4", Some("{not json".into()), 1),
        record("m5", Some(r#"{"Event":"s3:TestEvent","Service":"Amazon S3"}"#.into()), 1),
        record("m6", Some(body("bad-1")), 1),
        record("m7", None, 1),
        record("m8", Some(body("ok-2")), 1),
    ];
    let response = svc.handle_batch(event).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    // Retryable, panicking, poison and body-less records fail; the rest (including the
    // permanent failure, already recorded on the job, and the S3 test event) are done.
    assert_eq!(failed, ["m2", "m3", "m4", "m7"]);
    assert_eq!(*handler.seen.lock().unwrap(), ["ok-1", "retry-1", "panic-1", "bad-1", "ok-2"], "the panic did not stop the batch");
    assert!(handler.gave_up.lock().unwrap().is_empty(), "first deliveries do not give up");
    let snapshot = gen3d_ports::Metrics::snapshot(svc.ports.metrics.as_ref());
    assert!(format!("{snapshot:?}").contains("handler_panics"), "{snapshot:?}");
}

#[tokio::test]
async fn the_last_delivery_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let handler = Arc::new(Scripted::default());
    let svc = service(dir.path(), handler.clone());
    let mut event = SqsEvent::default();
    event.records = vec![record("m1", Some(body("retry-1")), 2)];
    let response = svc.handle_batch(event).await;
    assert_eq!(response.batch_item_failures.len(), 1, "it fails, to reach the dead-letter queue");
    assert_eq!(*handler.gave_up.lock().unwrap(), ["retry-1"], "and the job hears of it once");
}

#[tokio::test]
async fn the_poller_deletes_what_succeeded_and_dead_letters_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let handler = Arc::new(Scripted::default());
    let svc = service(dir.path(), handler.clone());
    let queue = svc.queue.clone();
    for s in ["ok-1", "retry-1", "panic-1"] {
        svc.ports.queue.send(&queue, &body(s)).await.unwrap();
    }
    svc.ports.queue.send(&queue, "poison").await.unwrap();
    // max_receives is 2: two rounds, then the failures are in the dead-letter queue.
    for _ in 0..4 {
        poll_once(&svc, 10, Duration::from_secs(30), Duration::from_millis(10)).await.unwrap();
    }
    assert_eq!(svc.ports.queue.depth(&queue).await.unwrap(), 0);
    assert_eq!(svc.ports.queue.depth(&queue.dead_letter()).await.unwrap(), 3, "retry, panic and poison dead-lettered");
    let seen = handler.seen.lock().unwrap().clone();
    assert_eq!(seen.iter().filter(|s| *s == "ok-1").count(), 1, "a success is deleted, never redelivered: {seen:?}");
    assert_eq!(*handler.gave_up.lock().unwrap(), ["retry-1"]);
}

/// The invocation shapes the deployed Lambda meets: an SQS batch (answered with its
/// batch item failures) and EventBridge's scheduled event (the sweep rule in
/// `Pulumi.yaml`; the sample is AWS's documented shape), which fails a stalled session
/// and asks for its owner's mail; anything else is an error naming what was expected.
#[tokio::test]
async fn scheduled_events_sweep_and_sqs_batches_are_handled() {
    use gen3d_domain::{EmailAddress, SessionRecord, SessionState};
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path(), Arc::new(Scripted::default()));
    let old = gen3d_ports::now_ms() - 2 * gen3d_lambda::STALL_AFTER.as_millis() as u64;
    let session = SessionRecord::new(UserId::generate(), SessionId::generate(), EmailAddress::parse("a@example.com").unwrap(), old);
    svc.ports.jobs.create_session(&session).await.unwrap();
    let embedding = session.moved(SessionState::Uploaded, old).unwrap().moved(SessionState::Embedding, old).unwrap();
    svc.ports.jobs.update_session(SessionState::Created, &embedding).await.unwrap();

    let scheduled = serde_json::json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-12-01T18:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/gen3d-dev-sweep"], "detail": {}
    });
    let out = gen3d_lambda::handle_event(&svc, scheduled).await.unwrap();
    assert_eq!(out["sessions_failed"], 1, "{out}");
    let swept = svc.ports.jobs.session(&session.user, &session.session).await.unwrap().unwrap();
    assert_eq!(swept.state, SessionState::Failed);
    assert_eq!(svc.ports.queue.depth(&QueueName::pipeline(QueueName::NOTIFY)).await.unwrap(), 1, "the owner's mail is asked for");

    let mut event = SqsEvent::default();
    event.records = vec![record("m1", Some(body("ok-1")), 1), record("m2", Some(body("retry-1")), 1)];
    let batch = serde_json::to_value(event).unwrap();
    let out = gen3d_lambda::handle_event(&svc, batch).await.unwrap();
    assert_eq!(out["batchItemFailures"][0]["itemIdentifier"], "m2", "{out}");
    let err = gen3d_lambda::handle_event(&svc, serde_json::json!({"hello": 1})).await.unwrap_err();
    assert!(err.to_string().contains("not an SQS event or a scheduled event"), "{err}");
}
