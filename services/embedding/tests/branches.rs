//! Every branch of the embedding service's handler, over the embedded ports with a
//! recording endpoint: the request, success, a failure document, success without output
//! or response, a response for another task, a duplicate notification, stale states and
//! giving up.

use gen3d_domain::{EmbedRequested, InferenceNotification, QueueMessage, SessionFile, SessionRecord, SessionState};
use gen3d_embedding::EmbeddingService;
use gen3d_pipeline::testing::{self, failed, session_in};
use gen3d_pipeline::{Handler, HandlerError};
use gen3d_ports::{InferenceInvocation, InferenceTask, QueueName, TaskRequest, TaskResponse};

use SessionState::{Embedding, Failed, Ready, Uploaded};

type Case = testing::Case<EmbeddingService, SessionRecord>;

/// The embedding service's side of a [`Case`].
trait EmbeddingCase: Sized {
    async fn with(session: SessionRecord) -> Self;
    /// A session whose photo was uploaded, asked to embed: the one invocation.
    async fn invoked() -> (Self, InferenceInvocation);
    fn message(&self) -> QueueMessage;
    async fn request(&self) -> Result<(), HandlerError>;
    fn response(&self) -> TaskResponse;
}

impl EmbeddingCase for Case {
    async fn with(session: SessionRecord) -> Self {
        Case::new(session, EmbeddingService::new).await
    }

    async fn invoked() -> (Self, InferenceInvocation) {
        let case = Self::with(session_in(&[Uploaded])).await;
        let invocation = case.invoked_by(case.message()).await;
        (case, invocation)
    }

    fn message(&self) -> QueueMessage {
        QueueMessage::EmbedRequested(EmbedRequested { user: self.record.user.clone(), session: self.record.session.clone() })
    }

    async fn request(&self) -> Result<(), HandlerError> {
        self.handle(self.message()).await
    }

    fn response(&self) -> TaskResponse {
        TaskResponse { width: Some(800), height: Some(534), ..TaskResponse::new(InferenceTask::Embed, self.file(SessionFile::Embeddings), 9) }
    }
}

#[tokio::test]
async fn a_request_writes_the_task_and_invokes_the_endpoint() {
    let (case, invocation) = Case::invoked().await;
    assert_eq!(case.stored().await.state, Embedding);
    assert_eq!(invocation.inference_id, "embed-s1");
    assert_eq!(invocation.task, InferenceTask::Embed);
    assert_eq!(invocation.request, case.file(SessionFile::EmbedRequest));
    let doc: TaskRequest = serde_json::from_slice(&case.t.ports.blobs.get(&invocation.request).await.unwrap()).unwrap();
    assert_eq!(doc, TaskRequest::Embed { image: case.file(SessionFile::Image), output: case.file(SessionFile::Embeddings) });
    // A redelivery re-invokes under the same id (the first may not have been accepted).
    case.request().await.unwrap();
    assert_eq!(case.t.invocations(), [invocation.clone(), invocation]);
}

#[tokio::test]
async fn success_readies_the_session() {
    let (case, invocation) = Case::invoked().await;
    case.t.put(&case.file(SessionFile::Embeddings), b"g3e").await;
    let note = case.t.completed(&invocation, &case.response()).await;
    case.notify(note).await.unwrap();
    assert_eq!(case.stored().await.state, Ready);
    assert_eq!(case.t.count("sessions_ready"), 1);
    assert_eq!(case.notify_requests().await, 0, "a ready session mails nobody");
}

#[tokio::test]
async fn a_failure_document_fails_the_session_with_its_reason_and_tells_the_owner() {
    let (case, invocation) = Case::invoked().await;
    case.notify(failed(&invocation, Some("image: not a photo"))).await.unwrap();
    let rec = case.stored().await;
    assert_eq!((rec.state, rec.failure.as_deref()), (Failed, Some("image: not a photo")));
    assert_eq!(case.notify_requests().await, 1);
    assert_eq!(case.t.count("sessions_failed"), 1);

    let (case, invocation) = Case::invoked().await;
    case.notify(failed(&invocation, None)).await.unwrap();
    assert_eq!(case.stored().await.failure.as_deref(), Some("embedding failed"), "no reason given: the stage's");
}

#[tokio::test]
async fn success_without_the_output_or_the_response_is_retried() {
    let (case, invocation) = Case::invoked().await;
    let note = case.t.completed(&invocation, &case.response()).await;
    let err = case.notify(note.clone()).await.unwrap_err();
    assert!(err.is_retryable() && err.to_string().contains("embeddings.g3e is not there yet"), "{err}");
    assert_eq!(case.stored().await.state, Embedding, "nothing moved");

    case.t.put(&case.file(SessionFile::Embeddings), b"g3e").await;
    let lost = InferenceNotification { output_key: Some(gen3d_domain::ObjectKey::parse("inference/output/lost.out").unwrap()), ..note.clone() };
    let err = case.notify(lost).await.unwrap_err();
    assert!(err.is_retryable() && err.to_string().contains("response document"), "{err}");
    // Once both are there, the same notification readies the session.
    case.notify(note).await.unwrap();
    assert_eq!(case.stored().await.state, Ready);
}

#[tokio::test]
async fn a_response_for_another_task_fails_the_session() {
    let (case, invocation) = Case::invoked().await;
    case.t.put(&case.file(SessionFile::Embeddings), b"g3e").await;
    let wrong = TaskResponse { task: InferenceTask::Mesh, ..case.response() };
    let note = case.t.completed(&invocation, &wrong).await;
    let err = case.notify(note).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    let rec = case.stored().await;
    assert_eq!(rec.state, Failed);
    assert!(rec.failure.unwrap().contains("is for mesh"), "the reason names the mix-up");
    assert_eq!(case.notify_requests().await, 1);
}

#[tokio::test]
async fn a_duplicate_notification_changes_nothing() {
    let (case, invocation) = Case::invoked().await;
    case.t.put(&case.file(SessionFile::Embeddings), b"g3e").await;
    let note = case.t.completed(&invocation, &case.response()).await;
    case.notify(note.clone()).await.unwrap();
    let ready = case.stored().await;
    case.notify(note).await.unwrap();
    case.notify(failed(&invocation, Some("late failure"))).await.unwrap();
    assert_eq!(case.stored().await, ready, "the record is untouched");
    assert_eq!(case.t.count("sessions_ready"), 1);
    assert!(case.t.sent(QueueName::NOTIFY).await.is_empty());
}

#[tokio::test]
async fn stale_states_are_left_alone() {
    // A request for a session that is already ready invokes nothing.
    let case = Case::with(session_in(&[Uploaded, Embedding, Ready])).await;
    case.request().await.unwrap();
    assert!(case.t.invocations().is_empty());
    assert_eq!(case.stored().await.state, Ready);

    // A notification for a session that failed meanwhile asks once more for the mail
    // (the notify service sends once), and changes nothing else.
    let failed_session = session_in(&[Uploaded, Embedding, Failed]);
    let case = Case::with(failed_session.clone()).await;
    let invocation =
        InferenceInvocation { inference_id: "embed-s1".into(), request: case.file(SessionFile::EmbedRequest), task: InferenceTask::Embed };
    case.t.put(&case.file(SessionFile::Embeddings), b"g3e").await;
    let note = case.t.completed(&invocation, &case.response()).await;
    case.notify(note.clone()).await.unwrap();
    assert_eq!(case.stored().await, failed_session);
    assert_eq!(case.notify_requests().await, 1);

    // Once the owner was told, nobody is asked again.
    let told = SessionRecord { notified: true, ..failed_session };
    let case = Case::with(told.clone()).await;
    case.notify(note).await.unwrap();
    assert_eq!(case.stored().await, told);
    assert_eq!(case.notify_requests().await, 0);
}

#[tokio::test]
async fn a_notification_for_another_kind_of_request_is_refused() {
    let (case, invocation) = Case::invoked().await;
    let not_a_job = gen3d_domain::ObjectKey::parse("inference/output/x.out").unwrap();
    let stray = InferenceNotification { request_key: Some(not_a_job), ..failed(&invocation, None) };
    let err = case.notify(stray).await.unwrap_err();
    assert!(!err.is_retryable() && err.to_string().contains("not for an embedding request"), "{err}");
    assert_eq!(case.stored().await.state, Embedding, "a stray notification fails no session");
}

#[tokio::test]
async fn giving_up_fails_the_session_once() {
    let (case, _) = Case::invoked().await;
    let m = case.message();
    case.service.give_up(m.clone(), "the endpoint kept refusing").await.unwrap();
    let rec = case.stored().await;
    assert_eq!((rec.state, rec.failure.as_deref()), (Failed, Some("the endpoint kept refusing")));
    case.service.give_up(m, "again").await.unwrap();
    assert_eq!(case.stored().await, rec);
    assert_eq!(case.notify_requests().await, 1);
}
