//! The local async-endpoint stand-in driving the inference container over HTTP (as
//! SageMaker does): the whole pipeline completes, and a container that refuses a task
//! ends the object as failed with the container's reason.

use std::sync::Arc;
use std::time::Duration;

use gen3d::{LocalConfig, LocalStack};
use gen3d_domain::{EmailAddress, UserId};
use gen3d_intake::Principal;
use gen3d_tests::photo_to_object;

/// The inference container on a random port, reading and writing the stack's blobs (S3 in
/// AWS), with `models`; and the local stack sending its inference to it over HTTP.
async fn stack_with_container(dir: &std::path::Path, models: gen3d_inference::Models) -> LocalStack {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let blobs = Arc::new(gen3d_embedded::FsBlobStore::new(dir.join("blobs")));
    let app = gen3d_inference::app(gen3d_inference::ServerState::new(blobs, 1).with_models(models));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = LocalConfig::new(dir);
    config.inference_url = Some(base);
    config.backoff = Duration::from_millis(50);
    LocalStack::open(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_runs_through_the_container_http_contract() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack_with_container(dir.path(), gen3d_inference::Models::builtin()).await;
    let workers = stack.start_workers().unwrap();
    let principal = Principal { user: UserId::generate(), email: EmailAddress::parse("http@example.com").unwrap() };
    let api = gen3d::client::ApiClient::new(stack.router(), stack.token(&principal));
    let (_, done) = photo_to_object(&api, "dog.jpg", 150.0, 420.0).await;
    assert_eq!(done["state"], "done", "{done}");
    // The endpoint wrote SageMaker-style response documents.
    let outputs: Vec<_> = std::fs::read_dir(dir.path().join("blobs/inference/output")).unwrap().flatten().collect();
    assert_eq!(outputs.len(), 3, "one embed, one reconstruct and one mesh response");

    // The container refuses a reconstruction whose photo has vanished: the object fails
    // at that stage with the container's reason, and the user is told.
    let session = done["session"].as_str().unwrap();
    let image = dir.path().join("blobs/users").join(principal.user.as_str()).join("sessions").join(session).join("image");
    std::fs::remove_file(&image).unwrap();
    let mask = {
        let img = image::GrayImage::from_fn(800, 534, |x, y| image::Luma([if (100..300).contains(&x) && (300..500).contains(&y) { 255 } else { 0 }]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    };
    let r = api.call(axum::http::Method::POST, &format!("/v1/sessions/{session}/objects"), Some("image/png"), mask).await;
    assert_eq!(r.status, 201, "{}", r.error_message());
    let failed = gen3d_tests::wait_object(&api, session, r.json()["id"].as_str().unwrap()).await;
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["failure"]["stage"], "reconstructing");
    assert_eq!(failed["failure"]["reason"], "the image is missing");
    let failure_docs: Vec<_> = std::fs::read_dir(dir.path().join("blobs/inference/failure")).unwrap().flatten().collect();
    assert_eq!(failure_docs.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let object = failed["id"].as_str().unwrap();
    assert!(dir.path().join("outbox").join(format!("{object}-failed.eml")).exists(), "the user is told");
    workers.stop().await;
}

/// A container whose image encoder failed to load at start (the manifest names a module
/// that is not there) still answers /ping; the user's photo ends as a failed session with
/// the load error, and SageMaker's failure document is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_with_a_broken_model_reports_it_on_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    std::fs::create_dir(&model_dir).unwrap();
    std::fs::write(model_dir.join("manifest.json"), r#"{"encoder":{"backend":"torch","file":"sam3_image_encoder.pt"}}"#).unwrap();
    let stack = stack_with_container(dir.path(), gen3d_inference::Models::load(&model_dir)).await;
    let workers = stack.start_workers().unwrap();
    let principal = Principal { user: UserId::generate(), email: EmailAddress::parse("broken@example.com").unwrap() };
    let api = gen3d::client::ApiClient::new(stack.router(), stack.token(&principal));
    let (session, reply) = gen3d_tests::upload(&api, std::fs::read(gen3d_tests::fixture("dog.jpg")).unwrap()).await;
    assert_eq!(reply.status, 202, "{}", reply.error_message());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let view = loop {
        let v = api.get(&format!("/v1/sessions/{session}")).await.json();
        if v["state"] != "uploaded" && v["state"] != "embedding" {
            break v;
        }
        assert!(std::time::Instant::now() < deadline, "session did not finish: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(view["state"], "failed", "{view}");
    let reason = view["failure"].as_str().unwrap();
    assert!(reason.contains("the image encoder is not available") && reason.contains("sam3_image_encoder.pt"), "{reason}");
    let failure_docs: Vec<_> = std::fs::read_dir(dir.path().join("blobs/inference/failure")).unwrap().flatten().collect();
    assert_eq!(failure_docs.len(), 1);
    workers.stop().await;
}
