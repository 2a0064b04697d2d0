//! Every branch of the meshing service's handler, over the embedded ports with a
//! recording endpoint: the request (and its replay), success, a response without
//! statistics, a failure document, success without output, a duplicate notification,
//! stale states and giving up.

use gen3d_domain::{
    InferenceNotification, MeshFormat, MeshRequested, MeshStats, ObjectFile, ObjectKey, ObjectRecord, ObjectState, Pose, QueueMessage, Stage,
};
use gen3d_meshing_service::MeshingService;
use gen3d_pipeline::testing::{self, failed, object_in};
use gen3d_pipeline::{Handler, HandlerError};
use gen3d_ports::{InferenceInvocation, InferenceTask, TaskRequest, TaskResponse};

use ObjectState::{Done, Meshing, Reconstructing};

const POSE: Pose = Pose { rotation: [1.0, 0.0, 0.0, 0.0], translation: [0.0, 0.0, 3.0], scale: 1.0 };

fn stats() -> MeshStats {
    MeshStats {
        vertices: 2_500,
        triangles: 5_000,
        watertight: true,
        bbox_min: [-0.5, -0.5, -0.5],
        bbox_max: [0.5, 0.5, 0.5],
        splats_in: 1_000,
        splats_used: 990,
    }
}

type Case = testing::Case<MeshingService, ObjectRecord>;

/// The meshing service's side of a [`Case`].
trait MeshingCase: Sized {
    async fn with(object: ObjectRecord) -> Self;
    /// An object reconstructed with a pose, asked to mesh: the one invocation.
    async fn invoked() -> (Self, InferenceInvocation);
    fn message(&self) -> QueueMessage;
    async fn request(&self) -> Result<(), HandlerError>;
    fn glb(&self) -> ObjectKey;
    fn response(&self) -> TaskResponse;
    /// The notification of a successful mesh task whose GLB is in storage.
    async fn succeeded(&self, invocation: &InferenceInvocation) -> InferenceNotification;
}

impl MeshingCase for Case {
    async fn with(object: ObjectRecord) -> Self {
        Case::new(object, MeshingService::new).await
    }

    async fn invoked() -> (Self, InferenceInvocation) {
        let mut object = object_in(&[Reconstructing, Meshing]);
        object.pose = Some(POSE);
        let case = Self::with(object).await;
        let invocation = case.invoked_by(case.message()).await;
        (case, invocation)
    }

    fn message(&self) -> QueueMessage {
        let o = &self.record;
        QueueMessage::MeshRequested(MeshRequested { user: o.user.clone(), session: o.session.clone(), object: o.object.clone() })
    }

    async fn request(&self) -> Result<(), HandlerError> {
        self.handle(self.message()).await
    }

    fn glb(&self) -> ObjectKey {
        self.file(ObjectFile::Mesh(MeshFormat::Glb))
    }

    fn response(&self) -> TaskResponse {
        TaskResponse { splats: Some(1000), stats: Some(stats()), pose: Some(POSE), ..TaskResponse::new(InferenceTask::Mesh, self.glb(), 80_000) }
    }

    async fn succeeded(&self, invocation: &InferenceInvocation) -> InferenceNotification {
        self.t.put(&self.glb(), b"glTF").await;
        self.t.completed(invocation, &self.response()).await
    }
}

#[tokio::test]
async fn a_request_writes_the_task_with_the_options_and_pose_and_invokes_the_endpoint() {
    let (case, invocation) = Case::invoked().await;
    assert_eq!((invocation.inference_id.as_str(), invocation.task), ("mesh-o1", InferenceTask::Mesh));
    assert_eq!(invocation.request, case.file(ObjectFile::MeshRequest));
    let doc: TaskRequest = serde_json::from_slice(&case.t.ports.blobs.get(&invocation.request).await.unwrap()).unwrap();
    let expected = TaskRequest::Mesh { splat: case.file(ObjectFile::Splat), output: case.glb(), options: case.record.options, pose: Some(POSE) };
    assert_eq!(doc, expected);
    assert_eq!(case.stored().await.state, Meshing);
}

#[tokio::test]
async fn a_replayed_request_meshes_again_only_after_a_meshing_failure() {
    let case = Case::with(object_in(&[Reconstructing, Meshing]).failed("open3d refused", 5).unwrap()).await;
    case.request().await.unwrap();
    assert_eq!(case.stored().await.state, Meshing);
    assert_eq!(case.t.invocations().len(), 1);

    let at_reconstruction = object_in(&[Reconstructing]).failed("no splats", 5).unwrap();
    let case = Case::with(at_reconstruction.clone()).await;
    case.request().await.unwrap();
    assert!(case.t.invocations().is_empty(), "reconstruction is the reconstruction service's to retry");
    assert_eq!(case.stored().await, at_reconstruction);
}

#[tokio::test]
async fn success_records_the_statistics_and_tells_the_owner() {
    let (case, invocation) = Case::invoked().await;
    case.notify(case.succeeded(&invocation).await).await.unwrap();
    let rec = case.stored().await;
    assert_eq!((rec.state, rec.stats), (Done, Some(stats())));
    assert_eq!(case.t.count("objects_done"), 1);
    assert_eq!(case.notify_requests().await, 1);
}

#[tokio::test]
async fn a_response_without_statistics_fails_the_object() {
    let (case, invocation) = Case::invoked().await;
    case.t.put(&case.glb(), b"glTF").await;
    let note = case.t.completed(&invocation, &TaskResponse { stats: None, ..case.response() }).await;
    let err = case.notify(note).await.unwrap_err();
    assert!(!err.is_retryable() && err.to_string().contains("no statistics"), "{err}");
    let rec = case.stored().await;
    assert_eq!(rec.failure.map(|f| f.stage), Some(Stage::Meshing));
    assert_eq!(case.notify_requests().await, 1);
}

#[tokio::test]
async fn a_failure_document_fails_the_object_with_its_reason_and_tells_the_owner() {
    let (case, invocation) = Case::invoked().await;
    case.notify(failed(&invocation, Some("too few points to mesh"))).await.unwrap();
    let rec = case.stored().await;
    assert_eq!(rec.failure.as_ref().map(|f| (f.stage, f.reason.as_str())), Some((Stage::Meshing, "too few points to mesh")));
    assert_eq!(case.notify_requests().await, 1);

    let (case, invocation) = Case::invoked().await;
    case.notify(failed(&invocation, None)).await.unwrap();
    assert_eq!(case.stored().await.failure.unwrap().reason, "meshing failed");
}

#[tokio::test]
async fn success_without_the_mesh_is_retried() {
    let (case, invocation) = Case::invoked().await;
    let note = case.t.completed(&invocation, &case.response()).await;
    let err = case.notify(note.clone()).await.unwrap_err();
    assert!(err.is_retryable() && err.to_string().contains("mesh.glb is not there yet"), "{err}");
    assert_eq!(case.stored().await.state, Meshing);
    assert_eq!(case.notify_requests().await, 0);
    case.t.put(&case.glb(), b"glTF").await;
    case.notify(note).await.unwrap();
    assert_eq!(case.stored().await.state, Done);
}

#[tokio::test]
async fn a_duplicate_notification_changes_nothing() {
    let (case, invocation) = Case::invoked().await;
    let note = case.succeeded(&invocation).await;
    case.notify(note.clone()).await.unwrap();
    let done = case.stored().await;
    case.notify(note).await.unwrap();
    case.notify(failed(&invocation, Some("late"))).await.unwrap();
    assert_eq!(case.stored().await, done);
    assert_eq!(case.t.count("objects_done"), 1);
    // Each delivery finding the owner not told yet asks (the notify service mails once).
    assert_eq!(case.notify_requests().await, 3);
}

#[tokio::test]
async fn stale_states_are_left_alone() {
    // A request for an object still reconstructing (a message ahead of its stage)
    // invokes nothing.
    let case = Case::with(object_in(&[Reconstructing])).await;
    case.request().await.unwrap();
    assert!(case.t.invocations().is_empty());
    assert_eq!(case.stored().await.state, Reconstructing);

    // A notification for an object that is done and told changes nothing, asks nothing.
    let done = ObjectRecord { notified: true, stats: Some(stats()), ..object_in(&[Reconstructing, Meshing, Done]) };
    let case = Case::with(done.clone()).await;
    let invocation = InferenceInvocation { inference_id: "mesh-o1".into(), request: case.file(ObjectFile::MeshRequest), task: InferenceTask::Mesh };
    case.notify(case.succeeded(&invocation).await).await.unwrap();
    assert_eq!(case.stored().await, done);
    assert_eq!(case.notify_requests().await, 0);
}

#[tokio::test]
async fn giving_up_fails_the_object() {
    let (case, _) = Case::invoked().await;
    case.service.give_up(case.message(), "the endpoint kept refusing").await.unwrap();
    let rec = case.stored().await;
    assert_eq!(rec.failure.as_ref().map(|f| (f.stage, f.reason.as_str())), Some((Stage::Meshing, "the endpoint kept refusing")));
    assert_eq!(case.notify_requests().await, 1);
}
