//! The whole pipeline on the AWS profile against moto (see `gen3d_tests::aws`): photo in,
//! mesh out, mail read back from moto's SES; Cognito tokens checked by the API; a
//! dead-lettered step replayed with `gen3d replay` completes exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::http::StatusCode;
use gen3d_domain::{MeshFormat, ObjectFile, ObjectId, ObjectKey, QueueMessage, SessionId, UserId};
use gen3d_pipeline::{Handler, HandlerError};
use gen3d_ports::QueueName;
use gen3d_tests::aws::{ADMIN, AwsOptions, AwsStack};
use gen3d_tests::{photo_to_object, upload, wait_object, wait_ready};
use serde_json::json;

fn moto() -> Option<String> {
    gen3d_tests::moto_url()
}

/// Mails moto's SES accepted for `to`: (subject, body).
async fn mails_to(moto: &str, to: &str) -> Vec<(String, String)> {
    gen3d_tests::aws::ses_messages(moto)
        .await
        .into_iter()
        .filter(|m| m["destinations"].to_string().contains(to))
        .map(|m| (m["subject"].as_str().unwrap_or_default().to_owned(), m["body"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Waits until `to` has `n` mails (the notify hop runs after the object is done).
async fn wait_mails(moto: &str, to: &str, n: usize) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mails = mails_to(moto, to).await;
        if mails.len() >= n || Instant::now() > deadline {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn photo_to_mesh_on_the_aws_profile() {
    let Some(moto) = moto() else { return };
    let stack = AwsStack::start(&moto, AwsOptions::default()).await;
    let (session, done) = photo_to_object(&stack.api, "dog.jpg", 150.0, 420.0).await;
    assert_eq!(done["state"], "done", "{done}");
    assert!(done["stats"]["triangles"].as_u64().unwrap_or(0) > 1000, "{done}");

    // The mesh is in S3 under the prefix of the Cognito user's `sub`, written by the
    // container's mesh task.
    let user = UserId::parse(&stack.user.sub).unwrap();
    let (session, object) = (SessionId::parse(&session).unwrap(), ObjectId::parse(done["id"].as_str().unwrap()).unwrap());
    for format in MeshFormat::ALL {
        let key = ObjectKey::object_file(&user, &session, &object, ObjectFile::Mesh(format));
        let bytes = stack.ports.blobs.get(&key).await.unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(bytes.len() > 1000, "{key} has {} bytes", bytes.len());
    }
    let glb = stack.ports.blobs.get(&ObjectKey::object_file(&user, &session, &object, ObjectFile::Mesh(MeshFormat::Glb))).await.unwrap();
    assert_eq!(&glb[..4], b"glTF");

    // The owner and the admin got mail through SES v2.
    let mails = wait_mails(&moto, &stack.user.email, 1).await;
    assert_eq!(mails.len(), 1, "one mail to the owner: {mails:?}");
    assert!(mails[0].0.starts_with("Object 1 of your ") && mails[0].0.ends_with(" is ready in 3D"), "the subject names the object: {}", mails[0].0);
    assert!(mails[0].1.contains(object.as_str()), "the mail links the object: {}", mails[0].1);
    let admin = wait_mails(&moto, ADMIN, 1).await;
    assert!(admin.iter().any(|(_, body)| body.contains(object.as_str())), "the admin copy: {admin:?}");

    // Every queue drained; nothing dead-lettered.
    for q in QueueName::PIPELINE {
        let dlq = QueueName::pipeline(q).dead_letter();
        assert_eq!(stack.ports.queue.depth(&dlq).await.unwrap(), 0, "{dlq}");
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_photo_refused_after_a_direct_upload_fails_the_session_and_mails_owner_and_admin() {
    let Some(moto) = moto() else { return };
    let stack = AwsStack::start(&moto, AwsOptions::default()).await;
    let created = stack.api.post_json("/v1/sessions", &json!({})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.error_message());
    let session = created.json()["id"].as_str().unwrap().to_owned();
    let (_, status) = stack.direct_upload(&session, b"not a photo at all".to_vec(), "image/jpeg").await;
    assert_eq!(status, 200, "S3 takes the bytes");
    let deadline = Instant::now() + Duration::from_secs(60);
    let failed = loop {
        let v = stack.api.get(&format!("/v1/sessions/{session}")).await.json();
        if v["state"] == "failed" {
            break v;
        }
        assert!(Instant::now() < deadline, "the session did not fail: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(failed["failure"].as_str().unwrap_or_default().starts_with("photo:"), "{failed}");
    let mails = wait_mails(&moto, &stack.user.email, 1).await;
    assert_eq!(mails.len(), 1, "one mail to the owner: {mails:?}");
    assert_eq!(mails[0].0, "We could not prepare your photo");
    assert!(mails[0].1.contains(&session), "the mail links the session: {}", mails[0].1);
    // Other tests mail the same admin: wait for the copy about this session.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !mails_to(&moto, ADMIN).await.iter().any(|(subject, _)| subject.contains(&session)) {
        assert!(Instant::now() < deadline, "no admin copy about session {session}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_takes_only_valid_cognito_id_tokens_of_the_caller() {
    let Some(moto) = moto() else { return };
    let stack = AwsStack::start(&moto, AwsOptions::default()).await;
    let created = stack.api.post_json("/v1/sessions", &json!({})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.error_message());
    let session = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{session}");
    assert_eq!(stack.api.get(&path).await.status, StatusCode::OK);

    let unauthorised = |token: &str| stack.api_with_token(token);
    assert_eq!(unauthorised("").get(&path).await.status, StatusCode::UNAUTHORIZED, "no token");
    let token = &stack.user.id_token;
    let forged = format!("{}{}", &token[..token.len() - 4], if token.ends_with("AAAA") { "BBBB" } else { "AAAA" });
    assert_eq!(unauthorised(&forged).get(&path).await.status, StatusCode::UNAUTHORIZED, "bad signature");
    let (head, rest) = token.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let claims =
        gen3d_tests::aws::b64url(&json!({"sub": stack.user.sub, "email": stack.user.email, "token_use": "id", "exp": 4102444800u64}).to_string());
    assert_eq!(unauthorised(&format!("{head}.{claims}.{sig}")).get(&path).await.status, StatusCode::UNAUTHORIZED, "altered claims");

    // A token of another pool (another issuer and audience) is refused.
    let other_pool = {
        let (m, e) = (moto.clone(), format!("other-{}", stack.user.email));
        tokio::task::spawn_blocking(move || gen3d_tests::cognito::CognitoUser::create(&m, "other-pool", &e)).await.unwrap()
    };
    assert_eq!(unauthorised(&other_pool.id_token).get(&path).await.status, StatusCode::UNAUTHORIZED, "another pool");

    // Another user of the same pool cannot see the first user's session.
    let other = {
        let (m, e, u) = (moto.clone(), format!("second-{}", stack.user.email), stack.user.clone());
        tokio::task::spawn_blocking(move || u.another(&m, &e)).await.unwrap()
    };
    let theirs = stack.api_with_token(&other.id_token);
    assert_eq!(theirs.get("/v1/sessions").await.status, StatusCode::OK, "their token is valid");
    assert_eq!(theirs.get(&path).await.status, StatusCode::NOT_FOUND, "but the session is not theirs");
    // Local accounts do not exist in this deployment.
    let register = stack.api.post_json("/v1/auth/register", &json!({"email": "x@example.com", "password": "long enough"})).await;
    assert_eq!(register.status, StatusCode::NOT_FOUND);
    stack.stop().await;
}

/// The meshing handler with an injectable outage: while it lasts, every mesh request
/// fails with a retryable error.
struct Outage {
    inner: Arc<dyn Handler>,
    on: Arc<AtomicBool>,
}

#[async_trait]
impl Handler for Outage {
    async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError> {
        if self.on.load(Ordering::SeqCst) && matches!(message, QueueMessage::MeshRequested(_)) {
            return Err(HandlerError::Retryable("injected outage".into()));
        }
        self.inner.handle(message).await
    }

    async fn give_up(&self, message: QueueMessage, reason: &str) -> Result<(), HandlerError> {
        self.inner.give_up(message, reason).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_lettered_step_replays_and_completes_exactly_once() {
    let Some(moto) = moto() else { return };
    let on = Arc::new(AtomicBool::new(true));
    let switch = on.clone();
    let options = AwsOptions {
        max_receives: 2,
        wrap_meshing: Some(Box::new(move |inner| Arc::new(Outage { inner, on: switch }) as Arc<dyn Handler>)),
        ..AwsOptions::default()
    };
    let stack = AwsStack::start(&moto, options).await;
    let bytes = std::fs::read(gen3d_tests::fixture("dog.jpg")).unwrap();
    let (session, reply) = upload(&stack.api, bytes).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    wait_ready(&stack.api, &session).await;
    let created =
        stack.api.post_json(&format!("/v1/sessions/{session}/objects"), &json!({"points": [{"x": 150.0, "y": 420.0, "label": "include"}]})).await;
    let object = created.json()["id"].as_str().unwrap().to_owned();

    // Two deliveries fail; the second gives up: the object fails at meshing, the user is
    // told, and the message moves to the dead-letter queue.
    let failed = wait_object(&stack.api, &session, &object).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["failure"]["stage"], "meshing", "{failed}");
    assert!(failed["failure"]["reason"].as_str().unwrap().contains("injected outage"), "{failed}");
    let dlq = QueueName::pipeline("meshing").dead_letter();
    let deadline = Instant::now() + Duration::from_secs(30);
    while stack.ports.queue.depth(&dlq).await.unwrap() < 1 {
        assert!(Instant::now() < deadline, "the message never reached {dlq}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mails = wait_mails(&moto, &stack.user.email, 1).await;
    assert_eq!(mails.len(), 1, "{mails:?}");

    // The outage ends; the operator looks, then replays.
    on.store(false, Ordering::SeqCst);
    gen3d::cli::run_args(stack.cli_args(&["jobs"])).await.expect("gen3d jobs");
    gen3d::cli::run_args(stack.cli_args(&["replay", "--queue", "meshing-dlq", "--dry-run"])).await.expect("dry run");
    assert_eq!(stack.ports.queue.depth(&dlq).await.unwrap(), 1, "a dry run moves nothing");
    gen3d::cli::run_args(stack.cli_args(&["replay", "--queue", "meshing-dlq"])).await.expect("gen3d replay");

    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let v = stack.api.get(&format!("/v1/sessions/{session}/objects/{object}")).await.json();
        if v["state"] == "done" {
            break v;
        }
        assert!(Instant::now() < deadline, "the replayed object did not finish: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(done["failure"].is_null(), "{done}");
    let mails = wait_mails(&moto, &stack.user.email, 2).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails_later = mails_to(&moto, &stack.user.email).await;
    assert_eq!(mails_later.len(), 2, "one failure mail, then exactly one ready mail: {mails:?}");
    assert!(mails_later[1].0.ends_with(" is ready in 3D"), "{}", mails_later[1].0);
    assert_eq!(stack.ports.queue.depth(&dlq).await.unwrap(), 0);
    // A second replay finds nothing to move, and the object stays done. (The baseline is
    // read now: the notify step marks the object told after it was first seen done.)
    let done = stack.api.get(&format!("/v1/sessions/{session}/objects/{object}")).await.json();
    gen3d::cli::run_args(stack.cli_args(&["replay", "--queue", "meshing-dlq"])).await.expect("second replay");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let still = stack.api.get(&format!("/v1/sessions/{session}/objects/{object}")).await.json();
    assert_eq!(still["state"], "done");
    assert_eq!(still["updated_ms"], done["updated_ms"], "nothing ran again");
    stack.stop().await;
}

/// What the web app does in AWS: the session's upload URL is an S3 presigned PUT, the
/// photo goes straight to S3, the bucket's event starts the embedding step (the photo
/// checked there as the API would), and the large downloads redirect to presigned GETs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn photos_go_straight_to_s3_and_large_files_come_back_from_it() {
    let Some(moto) = moto() else { return };
    let stack = AwsStack::start(&moto, AwsOptions::default()).await;
    let created = stack.api.post_json("/v1/sessions", &json!({})).await.json();
    let session = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["upload"]["url"], format!("/v1/sessions/{session}/image"), "the view names the API route; the direct URL is asked for");
    let photo = std::fs::read(gen3d_tests::fixture("truck.jpg")).unwrap();
    let (target, status) = stack.direct_upload(&session, photo.clone(), "image/jpeg").await;
    assert_eq!(status, 200);
    let url = target["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&moto) && url.contains("X-Amz-Signature"), "a presigned S3 URL, not the API: {url}");
    assert!(url.contains(&format!("users/{}/sessions/{session}/image", stack.user.sub)), "under the user's prefix: {url}");
    // Bound to this photo: its length, its type and "only if absent" are signed, so S3
    // refuses another body, another type, or a second use of the URL.
    let signed = url.split("X-Amz-SignedHeaders=").nth(1).and_then(|s| s.split('&').next()).unwrap_or_default().replace("%3B", ";");
    for h in ["content-length", "content-type", "if-none-match"] {
        assert!(signed.split(';').any(|s| s == h), "{h} is signed: {signed}");
    }
    assert_eq!(target["headers"]["if-none-match"], "*", "{target}");
    assert_eq!(target["headers"]["content-type"], "image/jpeg", "{target}");
    assert_eq!(gen3d_tests::aws::put_with(&target, photo).await, 412, "the URL uploads once");

    wait_ready(&stack.api, &session).await;
    let again = stack.api.post_json(&format!("/v1/sessions/{session}/upload"), &json!({"bytes": 1000, "type": "image/jpeg"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "the session has its photo: {}", again.error_message());
    let view = stack.api.get(&format!("/v1/sessions/{session}")).await.json();
    assert_eq!(view["image"], json!({"width": 1800, "height": 1200}), "{view}");

    // The embeddings (7 MB, over Lambda's 6 MB response limit) come from S3: the API
    // path redirects there, and the view carries the presigned URL the browser uses.
    let reply = stack.api.get(&format!("/v1/sessions/{session}/embeddings")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let location = reply.headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
    assert!(location.starts_with(&moto), "{location}");
    let location = view["direct"]["embeddings"].as_str().expect("a direct embeddings URL").to_owned();
    let bytes =
        tokio::task::spawn_blocking(move || ureq::get(&location).call().unwrap().body_mut().with_config().limit(1 << 26).read_to_vec().unwrap())
            .await
            .unwrap();
    assert_eq!(&bytes[..4], b"G3DE");
    gen3d_media::Embeddings::decode(&bytes).expect("the embeddings decode");

    // Not a photo: the session fails with the reason, and nothing else is touched.
    let created = stack.api.post_json("/v1/sessions", &json!({})).await.json();
    let bad = created["id"].as_str().unwrap().to_owned();
    assert_eq!(stack.direct_upload(&bad, b"just some text".to_vec(), "image/jpeg").await.1, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let v = stack.api.get(&format!("/v1/sessions/{bad}")).await.json();
        if v["state"] == "failed" || Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(failed["failure"].as_str().unwrap_or_default().starts_with("photo:"), "{failed}");
    assert_eq!(stack.api.get(&format!("/v1/sessions/{session}")).await.json()["state"], "ready");
    stack.stop().await;
}
