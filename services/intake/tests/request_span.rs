//! Every line an API request logs names its user, session and object: a deletion's log
//! line, captured as the Lambda writes it (JSON), carries the request's span.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gen3d_config::{LogSettings, UserLimits};
use gen3d_domain::ObjectState::{Done, Meshing, Reconstructing};
use gen3d_domain::SessionState::{Embedding, Ready, Uploaded};
use gen3d_domain::{EmailAddress, UserId};
use gen3d_intake::{AppState, Auth, LocalAuth, Principal, ServerDecoder};
use gen3d_models::decoder::Decoder;
use gen3d_pipeline::testing::{TestPorts, object_in, session_in};
use gen3d_testkit::Captured;
use tower::ServiceExt;

#[tokio::test]
async fn a_requests_log_lines_name_its_user_session_and_object() {
    let t = TestPorts::new();
    let session = session_in(&[Uploaded, Embedding, Ready]);
    t.ports.jobs.create_session(&session).await.unwrap();
    t.ports.jobs.create_object(&object_in(&[Reconstructing, Meshing, Done])).await.unwrap();
    let local = Arc::new(LocalAuth::new(b"0123456789abcdef0123456789abcdef".to_vec()));
    let token = local.issue(&Principal { user: UserId::parse("u1").unwrap(), email: EmailAddress::parse("u1@example.com").unwrap() });
    let state = AppState {
        ports: t.ports.clone(),
        decoder: ServerDecoder::ready(Arc::new(Decoder::builtin())),
        auth: Arc::new(Auth::Local(local)),
        limits: UserLimits::LOCAL,
    };

    let out = Captured::default();
    let writer = out.clone();
    let _guard =
        tracing::subscriber::set_default(gen3d_telemetry::subscriber(&LogSettings { json: true, filter: "info".into() }, move || writer.clone()));
    let request = Request::builder()
        .method(Method::DELETE)
        .uri("/v1/sessions/s1/objects/o1")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = gen3d_intake::app(state).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let text = out.text();
    let line: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .find(|l: &serde_json::Value| l["fields"]["message"] == "object deleted")
        .expect("logged");
    let span = &line["span"];
    assert_eq!((&span["user"], &span["session"], &span["object"]), (&"u1".into(), &"s1".into(), &"o1".into()), "{line}");
    assert_eq!((&span["method"], &span["path"]), (&"DELETE".into(), &"/v1/sessions/s1/objects/o1".into()));
}
