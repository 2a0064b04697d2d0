//! Every branch of the reconstruction service's handler, over the embedded ports with a
//! recording endpoint: the request (and its replay), success with and without a pose, a
//! pose that is not valid, a failure document, success without output, a duplicate
//! notification, stale states and giving up.

use gen3d_domain::{
    InferenceNotification, MeshRequested, ObjectFile, ObjectKey, ObjectRecord, ObjectState, Pose, QueueMessage, ReconstructRequested, SessionFile,
    Stage,
};
use gen3d_pipeline::testing::{self, failed, object_in};
use gen3d_pipeline::{Handler, HandlerError};
use gen3d_ports::{InferenceInvocation, InferenceTask, QueueName, TaskRequest, TaskResponse};
use gen3d_reconstruction::ReconstructionService;

use ObjectState::{Done, Meshing, Reconstructing, Submitted};

const POSE: Pose = Pose { rotation: [0.0, 1.0, 0.0, 0.0], translation: [0.1, -0.2, 2.5], scale: 0.8 };

type Case = testing::Case<ReconstructionService, ObjectRecord>;

/// The reconstruction service's side of a [`Case`].
trait ReconstructionCase: Sized {
    async fn with(object: ObjectRecord) -> Self;
    /// A submitted object, asked to reconstruct: the one invocation.
    async fn invoked() -> (Self, InferenceInvocation);
    fn message(&self) -> QueueMessage;
    async fn request(&self) -> Result<(), HandlerError>;
    fn response(&self, pose: Option<Pose>) -> TaskResponse;
    /// The notification of a successful reconstruction whose splat is in storage.
    async fn succeeded(&self, invocation: &InferenceInvocation, pose: Option<Pose>) -> InferenceNotification;
    async fn mesh_requests(&self) -> usize;
}

impl ReconstructionCase for Case {
    async fn with(object: ObjectRecord) -> Self {
        Case::new(object, ReconstructionService::new).await
    }

    async fn invoked() -> (Self, InferenceInvocation) {
        let case = Self::with(object_in(&[])).await;
        let invocation = case.invoked_by(case.message()).await;
        (case, invocation)
    }

    fn message(&self) -> QueueMessage {
        let o = &self.record;
        QueueMessage::ReconstructRequested(ReconstructRequested { user: o.user.clone(), session: o.session.clone(), object: o.object.clone() })
    }

    async fn request(&self) -> Result<(), HandlerError> {
        self.handle(self.message()).await
    }

    fn response(&self, pose: Option<Pose>) -> TaskResponse {
        TaskResponse { splats: Some(1000), pose, ..TaskResponse::new(InferenceTask::Reconstruct, self.file(ObjectFile::Splat), 62_000) }
    }

    async fn succeeded(&self, invocation: &InferenceInvocation, pose: Option<Pose>) -> InferenceNotification {
        self.t.put(&self.file(ObjectFile::Splat), b"ply").await;
        self.t.completed(invocation, &self.response(pose)).await
    }

    async fn mesh_requests(&self) -> usize {
        self.sent_matching(QueueName::MESHING, |m| matches!(m, QueueMessage::MeshRequested(_))).await
    }
}

#[tokio::test]
async fn a_request_writes_the_task_and_invokes_the_endpoint() {
    let (case, invocation) = Case::invoked().await;
    assert_eq!(case.stored().await.state, Reconstructing);
    assert_eq!((invocation.inference_id.as_str(), invocation.task), ("reconstruct-o1", InferenceTask::Reconstruct));
    assert_eq!(invocation.request, case.file(ObjectFile::ReconstructRequest));
    let doc: TaskRequest = serde_json::from_slice(&case.t.ports.blobs.get(&invocation.request).await.unwrap()).unwrap();
    let o = &case.record;
    let image = ObjectKey::session_file(&o.user, &o.session, SessionFile::Image);
    assert_eq!(doc, TaskRequest::Reconstruct { image, mask: case.file(ObjectFile::Mask), output: case.file(ObjectFile::Splat), seed: o.seed });
    case.request().await.unwrap();
    assert_eq!(case.t.invocations(), [invocation.clone(), invocation], "a redelivery re-invokes under the same id");
}

#[tokio::test]
async fn a_replayed_request_retries_a_failed_reconstruction_but_not_a_failed_mesh() {
    let at_reconstruction = object_in(&[Reconstructing]).failed("endpoint down", 5).unwrap();
    let case = Case::with(at_reconstruction).await;
    case.request().await.unwrap();
    assert_eq!(case.stored().await.state, Reconstructing);
    assert_eq!(case.t.invocations().len(), 1);

    let at_meshing = object_in(&[Reconstructing, Meshing]).failed("open3d refused", 5).unwrap();
    let case = Case::with(at_meshing.clone()).await;
    case.request().await.unwrap();
    assert!(case.t.invocations().is_empty(), "the mesh stage is the meshing service's to retry");
    assert_eq!(case.stored().await, at_meshing);
    assert_eq!(case.notify_requests().await, 1, "its owner, not told yet, is");
}

#[tokio::test]
async fn success_records_the_pose_and_asks_for_the_mesh() {
    let (case, invocation) = Case::invoked().await;
    case.notify(case.succeeded(&invocation, Some(POSE)).await).await.unwrap();
    let rec = case.stored().await;
    assert_eq!((rec.state, rec.pose), (Meshing, Some(POSE)));
    assert_eq!(case.mesh_requests().await, 1);
    assert_eq!(case.notify_requests().await, 0);

    let (case, invocation) = Case::invoked().await;
    case.notify(case.succeeded(&invocation, None).await).await.unwrap();
    let rec = case.stored().await;
    assert_eq!((rec.state, rec.pose), (Meshing, None), "a model without poses");
}

#[tokio::test]
async fn a_pose_that_is_not_valid_fails_the_object() {
    let (case, invocation) = Case::invoked().await;
    let bad = Pose { scale: 0.0, ..POSE };
    let err = case.notify(case.succeeded(&invocation, Some(bad)).await).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    let rec = case.stored().await;
    assert_eq!(rec.state, ObjectState::Failed);
    let failure = rec.failure.unwrap();
    assert_eq!(failure.stage, Stage::Reconstructing);
    assert!(failure.reason.contains("pose is not valid"), "{}", failure.reason);
    assert_eq!(case.mesh_requests().await, 0);
    assert_eq!(case.notify_requests().await, 1);
}

#[tokio::test]
async fn a_failure_document_fails_the_object_with_its_reason_and_tells_the_owner() {
    let (case, invocation) = Case::invoked().await;
    case.notify(failed(&invocation, Some("mask: empty"))).await.unwrap();
    let rec = case.stored().await;
    assert_eq!(rec.state, ObjectState::Failed);
    assert_eq!(rec.failure.as_ref().map(|f| (f.stage, f.reason.as_str())), Some((Stage::Reconstructing, "mask: empty")));
    assert_eq!(case.notify_requests().await, 1);
    assert_eq!(case.t.count("objects_failed"), 1);

    let (case, invocation) = Case::invoked().await;
    case.notify(failed(&invocation, None)).await.unwrap();
    assert_eq!(case.stored().await.failure.unwrap().reason, "reconstruction failed");
}

#[tokio::test]
async fn success_without_the_splat_is_retried() {
    let (case, invocation) = Case::invoked().await;
    let note = case.t.completed(&invocation, &case.response(Some(POSE))).await;
    let err = case.notify(note.clone()).await.unwrap_err();
    assert!(err.is_retryable() && err.to_string().contains("splat.ply is not there yet"), "{err}");
    assert_eq!(case.stored().await.state, Reconstructing);
    assert_eq!(case.mesh_requests().await, 0);
    case.t.put(&case.file(ObjectFile::Splat), b"ply").await;
    case.notify(note).await.unwrap();
    assert_eq!(case.stored().await.state, Meshing);
}

#[tokio::test]
async fn a_duplicate_notification_only_repeats_the_mesh_request() {
    let (case, invocation) = Case::invoked().await;
    let note = case.succeeded(&invocation, Some(POSE)).await;
    case.notify(note.clone()).await.unwrap();
    let meshing = case.stored().await;
    // A redelivery after a crash before the send must ask again; the meshing step
    // ignores a duplicate request.
    case.notify(note).await.unwrap();
    case.notify(failed(&invocation, Some("late"))).await.unwrap();
    assert_eq!(case.stored().await, meshing);
    let expected = QueueMessage::MeshRequested(MeshRequested { user: meshing.user, session: meshing.session, object: meshing.object });
    assert_eq!(case.t.sent(QueueName::MESHING).await, [expected.clone(), expected.clone(), expected], "each delivery finding it meshing asks");
}

#[tokio::test]
async fn stale_states_are_left_alone() {
    // A request for an object past this stage invokes nothing.
    let case = Case::with(object_in(&[Reconstructing, Meshing])).await;
    case.request().await.unwrap();
    assert!(case.t.invocations().is_empty());
    assert_eq!(case.stored().await.state, Meshing);

    // A notification for a done object changes nothing; its owner, told already, is
    // not asked about again.
    let done = ObjectRecord { notified: true, ..object_in(&[Reconstructing, Meshing, Done]) };
    let case = Case::with(done.clone()).await;
    let invocation = InferenceInvocation {
        inference_id: "reconstruct-o1".into(),
        request: case.file(ObjectFile::ReconstructRequest),
        task: InferenceTask::Reconstruct,
    };
    case.notify(case.succeeded(&invocation, Some(POSE)).await).await.unwrap();
    assert_eq!(case.stored().await, done);
    assert_eq!((case.mesh_requests().await, case.notify_requests().await), (0, 0));

    // A submitted object (its request not handled yet) is not moved by a notification.
    let case = Case::with(object_in(&[])).await;
    case.notify(case.succeeded(&invocation, Some(POSE)).await).await.unwrap();
    assert_eq!(case.stored().await.state, Submitted);
}

#[tokio::test]
async fn giving_up_fails_the_object_once() {
    let (case, _) = Case::invoked().await;
    case.service.give_up(case.message(), "the endpoint kept refusing").await.unwrap();
    let rec = case.stored().await;
    assert_eq!(rec.failure.as_ref().map(|f| f.reason.as_str()), Some("the endpoint kept refusing"));
    case.service.give_up(case.message(), "again").await.unwrap();
    assert_eq!(case.stored().await, rec);
    assert_eq!(case.notify_requests().await, 2, "each asks while the owner is not told (the mail goes once)");
}
