//! Deleting a photo or an object (issue 18): every stored file and record goes, the
//! other objects and another user's data stay, and nothing still being made can be
//! deleted under the pipeline's feet.

use std::path::{Path, PathBuf};

use axum::http::{Method, StatusCode};
use gen3d_tests::{TestApp, fixture, photo_to_object, upload, wait_object};
use serde_json::json;

/// Every file under the users' data whose path names `id`. (The inference endpoint's
/// response documents under `inference/` hold keys, counts and the pose, no pixels; they
/// expire after 7 days, by the `expire-inference-results` lifecycle rule in AWS.)
fn files_naming(root: &Path, id: &str) -> Vec<PathBuf> {
    let root = root.join("users");
    let root = root.as_path();
    fn walk(dir: &Path, id: &str, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, id, out);
            } else if path.to_string_lossy().contains(id) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, id, &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_removes_files_and_records_and_nothing_else() {
    let app = TestApp::start();
    let blobs = app.stack.config.blobs();
    let alice = app.user("alice@example.com");
    let bob = app.user("bob@example.com");
    let (session, first) = photo_to_object(&alice, "dog.jpg", 400.0, 300.0).await;
    let second = alice.post_json(&format!("/v1/sessions/{session}/objects"), &json!({"points": [{"x": 200, "y": 200, "label": "include"}]})).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.error_message());
    let second = wait_object(&alice, &session, second.json()["id"].as_str().unwrap()).await;
    let (bob_session, bob_object) = photo_to_object(&bob, "dog.jpg", 400.0, 300.0).await;
    let (first, second) = (first["id"].as_str().unwrap().to_owned(), second["id"].as_str().unwrap().to_owned());
    let bob_files = files_naming(&blobs, &bob_session);
    assert!(files_naming(&blobs, &first).len() >= 5, "the object has its mask, splat and meshes: {:?}", files_naming(&blobs, &first));

    // Another user's ids are not found, and delete nothing.
    for uri in [format!("/v1/sessions/{session}"), format!("/v1/sessions/{session}/objects/{first}")] {
        assert_eq!(bob.call(Method::DELETE, &uri, None, Vec::new()).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
    assert!(!files_naming(&blobs, &first).is_empty());

    // One object: its files and record go; the photo and the other object stay.
    let deleted = alice.call(Method::DELETE, &format!("/v1/sessions/{session}/objects/{first}"), None, Vec::new()).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.error_message());
    assert_eq!(files_naming(&blobs, &first), Vec::<PathBuf>::new());
    assert_eq!(alice.get(&format!("/v1/sessions/{session}/objects/{first}")).await.status, StatusCode::NOT_FOUND);
    let left: Vec<String> = alice.get(&format!("/v1/sessions/{session}/objects")).await.json()["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, [second.clone()]);
    assert_eq!(alice.get(&format!("/v1/sessions/{session}/objects/{second}/files/mesh.glb")).await.status, StatusCode::OK);
    assert_eq!(alice.call(Method::DELETE, &format!("/v1/sessions/{session}/objects/{first}"), None, Vec::new()).await.status, StatusCode::NOT_FOUND);

    // The photo: everything under it goes.
    let deleted = alice.call(Method::DELETE, &format!("/v1/sessions/{session}"), None, Vec::new()).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.error_message());
    assert_eq!(files_naming(&blobs, &session), Vec::<PathBuf>::new(), "no file of the photo is left");
    assert_eq!(alice.get(&format!("/v1/sessions/{session}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(alice.get(&format!("/v1/sessions/{session}/objects/{second}")).await.status, StatusCode::NOT_FOUND);
    assert!(alice.get("/v1/sessions").await.json()["sessions"].as_array().unwrap().is_empty());

    // Bob's photo and object are untouched.
    assert_eq!(files_naming(&blobs, &bob_session), bob_files);
    let bob_view = bob.get(&format!("/v1/sessions/{bob_session}/objects/{}", bob_object["id"].as_str().unwrap())).await;
    assert_eq!(bob_view.json()["state"], "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_still_being_made_cannot_be_deleted() {
    let mut app = TestApp::start();
    let alice = app.user("alice@example.com");
    let (session, _) = photo_to_object(&alice, "dog.jpg", 400.0, 300.0).await;
    // With the workers gone, a new object stays `submitted` and a new photo `uploaded`.
    app.workers.take().unwrap().kill().await;
    let object = alice.post_json(&format!("/v1/sessions/{session}/objects"), &json!({"points": [{"x": 300, "y": 300, "label": "include"}]})).await;
    assert_eq!(object.status, StatusCode::CREATED);
    let object = object.json()["id"].as_str().unwrap().to_owned();
    let reply = alice.call(Method::DELETE, &format!("/v1/sessions/{session}/objects/{object}"), None, Vec::new()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.error_message().contains("still being made (submitted)"), "{}", reply.error_message());
    let reply = alice.call(Method::DELETE, &format!("/v1/sessions/{session}"), None, Vec::new()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.error_message().contains(&format!("object {object} of this photo is still being made")), "{}", reply.error_message());

    let (pending, reply) = upload(&alice, std::fs::read(fixture("dog.jpg")).unwrap()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let reply = alice.call(Method::DELETE, &format!("/v1/sessions/{pending}"), None, Vec::new()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.error_message().contains("still being prepared (uploaded)"), "{}", reply.error_message());
    assert_eq!(alice.get(&format!("/v1/sessions/{pending}")).await.json()["state"], "uploaded", "nothing was deleted");

    // A photo with no upload yet can go.
    let empty = alice.post_json("/v1/sessions", &json!({})).await.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(alice.call(Method::DELETE, &format!("/v1/sessions/{empty}"), None, Vec::new()).await.status, StatusCode::NO_CONTENT);
}
