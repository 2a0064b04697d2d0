//! The API under hostile use (issue 16): racing writers, rejections from the HTTP layer
//! itself, header spellings. Every case here failed before its fix.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gen3d::client::ApiClient;
use gen3d_domain::{EmailAddress, ObjectKey, SessionFile, SessionId, UserId};
use gen3d_intake::Principal;
use gen3d_tests::{TestApp, fixture, wait_ready};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Two different photos PUT at once into one session: exactly one is accepted, and the
/// stored file, the recorded size and the embeddings are all that one's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_photo_uploads_store_exactly_one_photo() {
    let app = TestApp::start();
    let api = app.user("race@example.com");
    let truck = std::fs::read(fixture("truck.jpg")).unwrap();
    let dog = std::fs::read(fixture("dog.jpg")).unwrap();
    for round in 0..10 {
        let session = api.post_json("/v1/sessions", &json!({})).await.json()["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/sessions/{session}/image");
        let put = |bytes: Vec<u8>| {
            let (client, path) = (api.with_token(api.token()), path.clone());
            tokio::spawn(async move { client.call(Method::PUT, &path, Some("image/jpeg"), bytes).await })
        };
        let (a, b) = (put(truck.clone()), put(dog.clone()));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let statuses = [a.status, b.status];
        assert!(statuses.contains(&StatusCode::ACCEPTED) && statuses.contains(&StatusCode::CONFLICT), "round {round}: {statuses:?}");
        let (winner, size) = if a.status == StatusCode::ACCEPTED { (&truck, (1800, 1200)) } else { (&dog, (800, 534)) };
        let loser = if a.status == StatusCode::ACCEPTED { &b } else { &a };
        assert!(loser.error_message().contains("already has"), "{}", loser.error_message());
        let stored = api.get(&path).await;
        assert_eq!(&stored.body[..], &winner[..], "round {round}: the stored photo is the accepted one");
        let view = api.get(&format!("/v1/sessions/{session}")).await.json();
        assert_eq!((view["image"]["width"].as_u64(), view["image"]["height"].as_u64()), (Some(size.0), Some(size.1)), "round {round}: {view}");
    }
}

/// A crash between storing the photo and recording it leaves the photo stored and the
/// session `created`: the same photo again completes the upload; another is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_short_completes_with_the_same_photo_only() {
    let app = TestApp::start();
    let principal = Principal { user: UserId::generate(), email: EmailAddress::parse("retry@example.com").unwrap() };
    let api = ApiClient::new(app.stack.router(), app.stack.token(&principal));
    let dog = std::fs::read(fixture("dog.jpg")).unwrap();
    let session = api.post_json("/v1/sessions", &json!({})).await.json()["id"].as_str().unwrap().to_owned();
    let key = ObjectKey::session_file(&principal.user, &SessionId::parse(&session).unwrap(), SessionFile::Image);
    assert!(app.stack.ports.blobs.put_new(&key, dog.clone().into(), "image/jpeg").await.unwrap(), "the cut-short upload's write");
    let path = format!("/v1/sessions/{session}/image");
    let other = api.call(Method::PUT, &path, Some("image/jpeg"), std::fs::read(fixture("truck.jpg")).unwrap()).await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.error_message());
    let same = api.call(Method::PUT, &path, Some("image/jpeg"), dog).await;
    assert_eq!(same.status, StatusCode::ACCEPTED, "{}", same.error_message());
    wait_ready(&api, &session).await;
}

/// Ten sign-ups of one address at once (in different letter cases): one account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_registrations_create_one_account() {
    let app = TestApp::start();
    let anon = ApiClient::new(app.stack.router(), String::new());
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let client = anon.with_token("");
            let email = if i % 2 == 0 { "Twin@Example.com" } else { "twin@example.com" };
            tokio::spawn(async move {
                let r = client.post_json("/v1/auth/register", &json!({"email": email, "password": format!("password-{i}")})).await;
                (i, r)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        let (i, r) = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => winners.push((i, r.json()["user"].clone())),
            StatusCode::CONFLICT => assert!(r.error_message().contains("already exists"), "{}", r.error_message()),
            s => panic!("unexpected {s}: {}", r.error_message()),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one account: {winners:?}");
    let (i, user) = &winners[0];
    let login = anon.post_json("/v1/auth/login", &json!({"email": "TWIN@example.com", "password": format!("password-{i}")})).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.error_message());
    assert_eq!(&login.json()["user"], user, "the account that signs in is the one created");
}

/// Passwords are measured in characters at both ends of the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_length_counts_characters() {
    let app = TestApp::start();
    let anon = ApiClient::new(app.stack.router(), String::new());
    let cases = [
        ("wide@example.com", "𝄞".repeat(200), StatusCode::CREATED), // 200 characters, 800 bytes
        ("long@example.com", "a".repeat(257), StatusCode::BAD_REQUEST),
        ("short@example.com", "ééééééé".to_owned(), StatusCode::BAD_REQUEST), // 7 characters, 14 bytes
    ];
    for (email, password, status) in cases {
        let r = anon.post_json("/v1/auth/register", &json!({"email": email, "password": password})).await;
        assert_eq!(r.status, status, "{email}: {}", r.error_message());
    }
}

async fn raw(app: &TestApp, req: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let resp = app.stack.router().oneshot(req).await.unwrap();
    let status = resp.status();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Rejections written by the HTTP layer (extractors, router) have the documented
/// `{"error": {"code", "message"}}` body too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rejection_has_a_json_error_body() {
    let app = TestApp::start();
    let api = app.user("shapes@example.com");
    let token = format!("Bearer {}", api.token());
    let req = |method: &str, uri: &str, content_type: Option<&str>, body: Vec<u8>| {
        let mut r = Request::builder().method(method).uri(uri).header("authorization", &token);
        if let Some(ct) = content_type {
            r = r.header("content-type", ct);
        }
        r.body(Body::from(body)).unwrap()
    };
    let session = api.post_json("/v1/sessions", &json!({})).await.json()["id"].as_str().unwrap().to_owned();
    let cases = [
        (req("POST", "/v1/auth/register", Some("application/json"), b"{not json".to_vec()), StatusCode::BAD_REQUEST, "bad_request"),
        (req("POST", "/v1/auth/register", Some("text/plain"), b"{}".to_vec()), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (req("POST", "/v1/auth/register", Some("application/json"), b"{\"email\": 5}".to_vec()), StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
        (req("DELETE", "/v1/sessions", None, vec![]), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        (req("GET", "/v1/no-such-route", None, vec![]), StatusCode::NOT_FOUND, "not_found"),
        (
            req("PUT", &format!("/v1/sessions/{session}/image"), Some("image/jpeg"), vec![0u8; gen3d_media::MAX_PHOTO_BYTES + 4096]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ];
    for (request, status, code) in cases {
        let what = format!("{} {}", request.method(), request.uri());
        let (got, content_type, body) = raw(&app, request).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(content_type.as_deref(), Some("application/json"), "{what}");
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}");
    }
}

/// Header values that are case-insensitive by the HTTP specification are read so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheme_and_media_type_are_case_insensitive() {
    let app = TestApp::start();
    let api = app.user("case@example.com");
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = Request::builder().uri("/v1/sessions").header("authorization", format!("{scheme} {}", api.token())).body(Body::empty()).unwrap();
        let (status, _, body) = raw(&app, r).await;
        assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
    }
    let (session, reply) = gen3d_tests::upload(&api, std::fs::read(fixture("dog.jpg")).unwrap()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    wait_ready(&api, &session).await;
    let prompt = serde_json::to_vec(&json!({"points": [{"x": 150, "y": 420, "label": "include"}]})).unwrap();
    let r = api.call(Method::POST, &format!("/v1/sessions/{session}/objects"), Some("Application/JSON; charset=utf-8"), prompt).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.error_message());
}

/// A number beyond u32 in the query string or a JSON body is refused, not wrapped around,
/// with a message naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_query_numbers_are_refused() {
    let app = TestApp::start();
    let api = app.user("range@example.com");
    let (session, _) = gen3d_tests::upload(&api, std::fs::read(fixture("dog.jpg")).unwrap()).await;
    wait_ready(&api, &session).await;
    let mask = {
        let img = image::GrayImage::from_pixel(800, 534, image::Luma([255]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    };
    // 4294968296 = 2^32 + 1000 would wrap to 1000, a valid target.
    let r = api.call(Method::POST, &format!("/v1/sessions/{session}/objects?target_triangles=4294968296"), Some("image/png"), mask).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.error_message());
    assert!(r.error_message().contains("target_triangles"), "{}", r.error_message());
    // The same in a JSON body, and every numeric field names itself: out of range, negative,
    // fractional, below the minimum.
    let point = json!([{"x": 400, "y": 300, "label": "include"}]);
    for (field, value) in [
        ("target_triangles", json!(4_294_968_296u64)),
        ("target_triangles", json!(-5)),
        ("target_triangles", json!(20000.5)),
        ("target_triangles", json!(5)),
        ("max_points", json!(4_294_968_296u64)),
        ("max_points", json!(10)),
        ("seed", json!(-1)),
    ] {
        let r = api.post_json(&format!("/v1/sessions/{session}/objects"), &json!({"points": point, field: value})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}={value}: {}", r.error_message());
        assert!(r.error_message().contains(field), "{field}={value}: {}", r.error_message());
    }
    assert_eq!(api.get(&format!("/v1/sessions/{session}/objects")).await.json()["objects"], json!([]));
}

/// Per-user limits: past one, 429 with `Retry-After` and a message naming the limit; other
/// users are not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_user_limits_answer_429_with_retry_after() {
    let app = TestApp::start_with(|c| c.limits = gen3d_config::UserLimits { objects_in_flight: 1, objects_per_day: 2, photos_per_hour: 2 });
    let api = app.user("busy@example.com");
    let other = app.user("calm@example.com");

    // Photos per hour: two sessions, then 429 for this user only.
    let (session, reply) = gen3d_tests::upload(&api, std::fs::read(fixture("dog.jpg")).unwrap()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(api.post_json("/v1/sessions", &json!({})).await.status, StatusCode::CREATED);
    let third = api.post_json("/v1/sessions", &json!({})).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS, "{}", third.error_message());
    assert!(third.error_message().contains("2 photos in the last hour"), "{}", third.error_message());
    let retry: u64 = third.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3_500..=3_600).contains(&retry), "Retry-After {retry}");
    assert_eq!(other.post_json("/v1/sessions", &json!({})).await.status, StatusCode::CREATED, "another user is not limited");

    // Objects in flight: one at a time.
    wait_ready(&api, &session).await;
    let objects = format!("/v1/sessions/{session}/objects");
    let click = json!({"points": [{"x": 150, "y": 420, "label": "include"}]});
    let first = api.post_json(&objects, &click).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let busy = api.post_json(&objects, &click).await;
    if busy.status == StatusCode::TOO_MANY_REQUESTS {
        assert!(busy.error_message().contains("still being made"), "{}", busy.error_message());
        assert_eq!(busy.headers["retry-after"], "30");
    } else {
        // The first object finished before the second request: it counts for the day.
        assert_eq!(busy.status, StatusCode::CREATED, "{}", busy.error_message());
    }
    let first_id = first.json()["id"].as_str().unwrap().to_owned();
    gen3d_tests::wait_object(&api, &session, &first_id).await;
    if busy.status == StatusCode::TOO_MANY_REQUESTS {
        assert_eq!(api.post_json(&objects, &click).await.status, StatusCode::CREATED, "a slot is free again");
    }
    // Objects per day: two made, the third is refused until the window frees.
    let listed = api.get(&objects).await.json()["objects"].as_array().unwrap().clone();
    for o in &listed {
        gen3d_tests::wait_object(&api, &session, o["id"].as_str().unwrap()).await;
    }
    let day = api.post_json(&objects, &click).await;
    assert_eq!(day.status, StatusCode::TOO_MANY_REQUESTS, "{}", day.error_message());
    assert!(day.error_message().contains("2 objects in the last 24 hours"), "{}", day.error_message());
    assert_eq!(day.json()["error"]["code"], "too_many_requests");
}

/// `POST …/upload`: the photo's length and type are checked before any byte is sent;
/// locally the answer is the API's own route with the type to send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_targets_check_length_and_type_first() {
    let app = TestApp::start();
    let api = app.user("target@example.com");
    let session = api.post_json("/v1/sessions", &json!({})).await.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{session}/upload");
    let ask = |bytes: u64, kind: &'static str| {
        let (api, path) = (&api, path.clone());
        async move { api.post_json(&path, &json!({"bytes": bytes, "type": kind})).await }
    };
    let big = ask(50_000_000, "image/jpeg").await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(big.error_message().starts_with("bytes:"), "{}", big.error_message());
    let zero = ask(0, "image/jpeg").await;
    assert_eq!(zero.status, StatusCode::PAYLOAD_TOO_LARGE);
    let gif = ask(1000, "image/gif").await;
    assert_eq!(gif.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(gif.error_message().starts_with("type:"), "{}", gif.error_message());
    let ok = ask(1000, "Image/JPEG").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.error_message());
    assert_eq!(
        ok.json(),
        json!({"method": "PUT", "url": format!("/v1/sessions/{session}/image"), "max_bytes": gen3d_media::MAX_PHOTO_BYTES, "headers": {"content-type": "image/jpeg"}})
    );
    let dog = std::fs::read(fixture("dog.jpg")).unwrap();
    assert_eq!(api.call(Method::PUT, &format!("/v1/sessions/{session}/image"), Some("image/jpeg"), dog).await.status, StatusCode::ACCEPTED);
    assert_eq!(ask(1000, "image/jpeg").await.status, StatusCode::CONFLICT, "one photo per session");
}

/// Retries a client makes after a lost response: the same photo PUT again is accepted
/// (nothing changes), and a submission repeated with its `Idempotency-Key` returns the
/// object the first one made (200) instead of making another; a bad key is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_uploads_and_submissions_change_nothing() {
    let app = TestApp::start();
    let api = app.user("retry@example.com");
    let dog = std::fs::read(fixture("dog.jpg")).unwrap();
    let session = api.post_json("/v1/sessions", &json!({})).await.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{session}/image");
    for attempt in 0..2 {
        let put = api.call(Method::PUT, &path, Some("image/jpeg"), dog.clone()).await;
        assert_eq!(put.status, StatusCode::ACCEPTED, "attempt {attempt}: {}", put.error_message());
    }
    let other = api.call(Method::PUT, &path, Some("image/jpeg"), std::fs::read(fixture("truck.jpg")).unwrap()).await;
    assert_eq!(other.status, StatusCode::CONFLICT, "another photo is still refused");
    wait_ready(&api, &session).await;

    let objects = format!("/v1/sessions/{session}/objects");
    let prompt = json!({"points": [{"x": 150, "y": 420, "label": "include"}]});
    let keyed = api.with_header("Idempotency-Key", "click-1");
    let first = keyed.post_json(&objects, &prompt).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.error_message());
    let again = keyed.post_json(&objects, &prompt).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.error_message());
    assert_eq!(again.json()["id"], first.json()["id"]);
    let other = api.with_header("Idempotency-Key", "click-2").post_json(&objects, &prompt).await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_ne!(other.json()["id"], first.json()["id"]);
    assert_eq!(api.get(&objects).await.json()["objects"].as_array().unwrap().len(), 2, "two keys, two objects");

    let bad = api.with_header("Idempotency-Key", &"k".repeat(65)).post_json(&objects, &prompt).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error_message().contains("Idempotency-Key"), "{}", bad.error_message());
}
