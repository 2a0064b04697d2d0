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

/// The SAM 3 test model directory's click decoder file (`make test` sets
/// `GEN3D_SAM3_MODELS`), or `None` where `GEN3D_SKIP` names sam3.
fn sam3_decoder_file() -> Option<std::path::PathBuf> {
    if !gen3d_testkit::runs("sam3", "the server-side decode with the SAM 3 model directory's decoder") {
        return None;
    }
    let dir = std::path::PathBuf::from(
        std::env::var_os("GEN3D_SAM3_MODELS")
            .expect("GEN3D_SAM3_MODELS must name a SAM 3 model directory (`make sam3-test-models`; `make test` sets it), or set GEN3D_SKIP=sam3"),
    );
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json")).expect("manifest");
    Some(dir.join(manifest["decoder"]["file"].as_str().expect("manifest names the decoder")))
}

/// The mask `decoder` makes of `points` on the session's stored embeddings: the PNG, or
/// `None` where the best mask is empty (the API's 422).
async fn expected_mask(stack: &AwsStack, session: &str, decoder: &gen3d_models::decoder::Decoder, points: &[(f32, f32)]) -> Option<Vec<u8>> {
    let view = stack.api.get(&format!("/v1/sessions/{session}")).await.json();
    let (w, h) = (view["image"]["width"].as_u64().unwrap() as u32, view["image"]["height"].as_u64().unwrap() as u32);
    let user = UserId::parse(&stack.user.sub).unwrap();
    let key = ObjectKey::session_file(&user, &SessionId::parse(session).unwrap(), gen3d_domain::SessionFile::Embeddings);
    let embeddings = gen3d_media::Embeddings::decode(&stack.ports.blobs.get(&key).await.unwrap()).unwrap();
    let points = points.iter().map(|&(x, y)| gen3d_domain::Point { x, y, label: gen3d_domain::PointLabel::Include }).collect();
    let prompt = gen3d_domain::Prompt::new(points, None, w, h).unwrap();
    let out = decoder.run(&embeddings, &gen3d_models::decoder::PromptTensors::new(&prompt, w, h), None).unwrap();
    out.mask(out.best(), w, h).ok().map(|m| m.encode_png())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_masks_run_the_decoder_the_deploy_step_put_in_the_web_bucket() {
    let Some(moto) = moto() else { return };
    let Some(file) = sam3_decoder_file() else { return };
    let onnx = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let stack = AwsStack::start(&moto, AwsOptions { web_decoder: Some(onnx.clone()), ..AwsOptions::default() }).await;
    let (session, reply) = upload(&stack.api, std::fs::read(gen3d_testkit::fixture("dog.jpg")).unwrap()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.error_message());
    wait_ready(&stack.api, &session).await;

    // The same file through the Lambda's handler and here: the same answer, mask for mask,
    // and not the built-in decoder's.
    let sam3 = gen3d_models::decoder::Decoder::from_onnx(onnx.clone()).unwrap();
    let builtin = gen3d_models::decoder::Decoder::builtin();
    let mut compared = 0;
    for points in [vec![(150.0, 420.0)], vec![(400.0, 267.0)], vec![(150.0, 420.0), (620.0, 120.0)]] {
        let body = json!({"points": points.iter().map(|(x, y)| json!({"x": x, "y": y, "label": "include"})).collect::<Vec<_>>()});
        let reply = stack.api.post_json(&format!("/v1/sessions/{session}/masks"), &body).await;
        match expected_mask(&stack, &session, &sam3, &points).await {
            Some(png) => {
                assert_eq!(reply.status, StatusCode::OK, "{points:?}: {}", reply.error_message());
                assert!(reply.body[..] == png[..], "{points:?}: the API's mask is the web bucket decoder's");
                assert_ne!(expected_mask(&stack, &session, &builtin, &points).await, Some(png), "{points:?}: the built-in decoder differs");
                compared += 1;
            }
            None => assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{points:?}: an empty selection: {}", reply.error_message()),
        }
    }
    assert!(compared > 0, "no prompt gave the SAM 3 decoder a non-empty mask to compare");
    // The API's decoder route sends the caller to that file (presigned: SAM 3's decoder is
    // over a Lambda's 6 MB response limit).
    let served = stack.api.get("/v1/models/decoder.onnx").await;
    assert_eq!(served.status, StatusCode::TEMPORARY_REDIRECT, "{}", served.error_message());
    let location = served.headers["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/models/decoder.onnx?"), "{location}");
    let fetched =
        tokio::task::spawn_blocking(move || ureq::get(&location).call().unwrap().body_mut().with_config().limit(1 << 26).read_to_vec().unwrap())
            .await
            .unwrap();
    assert!(fetched == onnx, "the redirect leads to the web bucket's decoder");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_deployed_decoder_server_masks_answer_409_naming_it() {
    let Some(moto) = moto() else { return };
    let stack = AwsStack::start(&moto, AwsOptions { web_decoder: None, ..AwsOptions::default() }).await;
    let (session, reply) = upload(&stack.api, std::fs::read(gen3d_testkit::fixture("dog.jpg")).unwrap()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.error_message());
    wait_ready(&stack.api, &session).await;
    let prompt = json!({"points": [{"x": 150.0, "y": 420.0, "label": "include"}]});
    for path in ["masks", "objects"] {
        let reply = stack.api.post_json(&format!("/v1/sessions/{session}/{path}"), &prompt).await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "POST …/{path}: {}", reply.error_message());
        let error = reply.json();
        assert_eq!(error["error"]["code"], "decoder_unavailable", "{error}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains("-web/models/decoder.onnx") && message.contains("docs/operations.md"), "names the object and the fix: {message}");
    }
    assert_eq!(stack.api.get("/v1/models/decoder.onnx").await.status, StatusCode::CONFLICT);
    // Nothing was submitted: the refusal came before the object.
    assert_eq!(stack.api.get(&format!("/v1/sessions/{session}/objects")).await.json()["objects"].as_array().map(Vec::len), Some(0));
    stack.stop().await;
}
