//! The HTTP API: authentication, isolation between users, bad input and response shapes.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gen3d_tests::{TestApp, fixture, photo_to_object, upload, wait_ready};
use serde_json::json;
use tower_oneshot::oneshot;

mod tower_oneshot {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, Response};

    pub async fn oneshot(router: Router, req: Request<Body>) -> Response<Body> {
        use tower::ServiceExt;
        router.oneshot(req).await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_cannot_reach_each_others_data() {
    let app = TestApp::start();
    let ann = app.user("ann@example.com");
    let bob = app.user("bob@example.com");
    let (session, done) = photo_to_object(&ann, "dog.jpg", 150.0, 420.0).await;
    let object = done["id"].as_str().unwrap();

    let paths = [
        format!("/v1/sessions/{session}"),
        format!("/v1/sessions/{session}/image"),
        format!("/v1/sessions/{session}/embeddings"),
        format!("/v1/sessions/{session}/objects"),
        format!("/v1/sessions/{session}/objects/{object}"),
        format!("/v1/sessions/{session}/objects/{object}/files/mesh.glb"),
        format!("/v1/sessions/{session}/objects/{object}/files/splat.ply"),
    ];
    for path in &paths {
        assert_eq!(ann.get(path).await.status, StatusCode::OK, "{path}");
        let reply = bob.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "bob must not see {path}");
    }
    assert_eq!(bob.get("/v1/sessions").await.json()["sessions"], json!([]));
    assert_eq!(ann.get("/v1/sessions").await.json()["sessions"].as_array().unwrap().len(), 1);
    // Bob cannot add objects to Ann's session or upload into it either.
    let r = bob.post_json(&format!("/v1/sessions/{session}/objects"), &json!({"points": [{"x": 1, "y": 1, "label": "include"}]})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = bob.call(Method::PUT, &format!("/v1/sessions/{session}/image"), Some("image/jpeg"), std::fs::read(fixture("dog.jpg")).unwrap()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Without a token, or with a forged one: 401.
    for token in [None, Some("Bearer g3d1.e30.AAAA"), Some("Basic abc")] {
        let mut req = Request::builder().uri(format!("/v1/sessions/{session}"));
        if let Some(t) = token {
            req = req.header("authorization", t);
        }
        let resp = oneshot(app.stack.router(), req.body(Body::empty()).unwrap()).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{token:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_get_clear_4xx_errors_and_harm_nothing() {
    let app = TestApp::start();
    let api = app.user("carol@example.com");
    let truck = std::fs::read(fixture("truck.jpg")).unwrap();
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (b"this is not an image".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "not a supported image"),
        (Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "empty file"),
        (truck[..truck.len() / 3].to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "corrupt or truncated"),
        (bomb_png(), StatusCode::PAYLOAD_TOO_LARGE, "over the limit"),
    ];
    for (bytes, status, message) in cases {
        let (session, reply) = upload(&api, bytes).await;
        assert_eq!(reply.status, status, "{}", reply.error_message());
        assert!(reply.error_message().contains(message), "{}", reply.error_message());
        assert_eq!(api.get(&format!("/v1/sessions/{session}")).await.json()["state"], "created", "a rejected upload leaves the session untouched");
    }

    // A good photo, then bad selections.
    let (session, reply) = upload(&api, truck).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    wait_ready(&api, &session).await;
    let objects = format!("/v1/sessions/{session}/objects");
    let outside = api.post_json(&objects, &json!({"points": [{"x": 5000, "y": 10, "label": "include"}]})).await;
    assert_eq!(outside.status, StatusCode::BAD_REQUEST);
    assert_eq!(outside.error_message(), "invalid prompt: point (5000, 10) is outside the 1800x1200 image");
    let exclude_only = api.post_json(&objects, &json!({"points": [{"x": 5, "y": 10, "label": "exclude"}]})).await;
    assert_eq!(exclude_only.status, StatusCode::BAD_REQUEST);
    let wrong_size = png_mask(10, 10, true);
    let r = api.call(Method::POST, &objects, Some("image/png"), wrong_size).await;
    assert_eq!((r.status, r.error_message()), (StatusCode::UNPROCESSABLE_ENTITY, "mask: mask is 10x10 but the photo is 1800x1200".into()));
    let empty = png_mask(1800, 1200, false);
    let r = api.call(Method::POST, &objects, Some("image/png"), empty).await;
    assert_eq!((r.status, r.error_message()), (StatusCode::UNPROCESSABLE_ENTITY, "mask: mask is empty: no pixel is selected".into()));
    let r = api.call(Method::POST, &objects, Some("text/plain"), "hi").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(api.get(&objects).await.json()["objects"], json!([]), "no object was created by bad input");
    // A second photo into the same session is refused.
    let again = api.call(Method::PUT, &format!("/v1/sessions/{session}/image"), Some("image/jpeg"), std::fs::read(fixture("dog.jpg")).unwrap()).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

fn png_mask(w: u32, h: u32, on: bool) -> Vec<u8> {
    let img = image::GrayImage::from_pixel(w, h, image::Luma([if on { 255 } else { 0 }]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

/// A valid PNG whose header claims 20000x20000 pixels (CRC fixed up), i.e. a
/// decompression bomb: refused from the header.
fn bomb_png() -> Vec<u8> {
    let mut bytes = png_mask(1, 1, true);
    bytes[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_shapes() {
    let app = TestApp::start();
    let api = app.user("dave@example.com");
    let created = api.post_json("/v1/sessions", &json!({})).await;
    let session = created.json()["id"].as_str().unwrap().to_owned();
    let redact = |v: serde_json::Value| {
        let text = v.to_string().replace(&session, "[session]");
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    insta::assert_json_snapshot!("session_created", redact(created.json()), {".created_ms" => "[ms]", ".updated_ms" => "[ms]"});
    let (_, done) = {
        let (s, reply) = upload(&api, std::fs::read(fixture("groceries.jpg")).unwrap()).await;
        // The embedding step may take the photo before the API records it (the message goes
        // first, by design): the reply then shows the step's state.
        assert!(["uploaded", "embedding", "ready"].contains(&reply.json()["state"].as_str().unwrap()), "{}", reply.json());
        insta::assert_json_snapshot!("photo_uploaded", reply.json(), {".id" => "[session]", ".created_ms" => "[ms]", ".updated_ms" => "[ms]", ".state" => "[uploaded or later]"});
        wait_ready(&api, &s).await;
        let r = api.post_json(&format!("/v1/sessions/{s}/objects"), &json!({"points": [{"x": 408, "y": 267, "label": "include"}]})).await;
        let object = r.json()["id"].as_str().unwrap().to_owned();
        let text = r.json().to_string().replace(&object, "[object]").replace(&s, "[session]");
        insta::assert_json_snapshot!("object_submitted", serde_json::from_str::<serde_json::Value>(&text).unwrap(), {".created_ms" => "[ms]", ".updated_ms" => "[ms]"});
        gen3d_tests::wait_object(&api, &s, &object).await;
        // The owner's mail is recorded before the admin's copy goes: after the copy, the
        // view carries `mail`, so the snapshot does not race the notify step.
        app.wait_mail(&format!("{object}-done-admin.eml")).await;
        (s.clone(), api.get(&format!("/v1/sessions/{s}/objects/{object}")).await.json())
    };
    let object = done["id"].as_str().unwrap().to_owned();
    let session = done["session"].as_str().unwrap().to_owned();
    let text = done.to_string().replace(&object, "[object]").replace(&session, "[session]");
    insta::assert_json_snapshot!("object_done", serde_json::from_str::<serde_json::Value>(&text).unwrap(), {
        ".created_ms" => "[ms]", ".updated_ms" => "[ms]", ".stats.vertices" => "[n]", ".stats.triangles" => "[n]",
        ".stats.bbox_min" => "[bbox]", ".stats.bbox_max" => "[bbox]", ".stats.watertight" => "[bool]", ".stats.splats_in" => "[n]", ".stats.splats_used" => "[n]",
        ".stage_ms.reconstructing" => "[ms]", ".stage_ms.meshing" => "[ms]", ".stage_ms.done" => "[ms]"
    });
    let entered = |s: &str| done["stage_ms"][s].as_u64().unwrap_or_else(|| panic!("stage_ms.{s}: {done}"));
    assert!(
        done["created_ms"].as_u64().unwrap() <= entered("reconstructing")
            && entered("reconstructing") <= entered("meshing")
            && entered("meshing") <= entered("done"),
        "stages are entered in order: {done}"
    );
    let missing = api.get("/v1/sessions/nope").await;
    insta::assert_json_snapshot!("not_found", missing.json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_again_makes_a_variant_with_its_seed_and_options() {
    let app = TestApp::start();
    let api = app.user("ann@example.com");
    let (session, first) = photo_to_object(&api, "dog.jpg", 400.0, 300.0).await;
    let first = first["id"].as_str().unwrap().to_owned();
    let mask = api.get(&format!("/v1/sessions/{session}/objects/{first}/files/mask.png")).await;
    assert_eq!(mask.status, StatusCode::OK);
    let post = |query: String| {
        let body = mask.body.clone();
        let api = &api;
        let session = &session;
        async move { api.call(Method::POST, &format!("/v1/sessions/{session}/objects?{query}"), Some("image/png"), body).await }
    };
    let again = post(format!("seed=7&variant_of={first}&remove_outliers=true&max_points=5000&target_triangles=10000")).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.error_message());
    let view = again.json();
    assert_eq!(view["variant_of"], first.as_str());
    assert_eq!(view["seed"], 7);
    assert_eq!(view["options"]["remove_outliers"], true);
    assert_eq!(view["options"]["max_points"], 5000);
    assert_eq!(view["options"]["target_triangles"], 10000);

    for (query, field) in [
        ("variant_of=nope".to_owned(), "variant_of"),
        (format!("variant_of={}", gen3d_domain::ObjectId::generate()), "variant_of"),
        ("remove_outliers=yes".to_owned(), "remove_outliers"),
        ("max_points=10".to_owned(), "max_points"),
    ] {
        let reply = post(query.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.error_message());
        assert!(reply.error_message().contains(field), "{query}: {}", reply.error_message());
    }
}
