//! The done mail's 24-hour download link, end to end on the embedded stack: it opens the
//! object's GLB without signing in (the same bytes the owner downloads), a made-up or
//! altered token is 404, an expired one 410 naming why, and deleting the object ends it.

use axum::http::StatusCode;
use gen3d_tests::{TestApp, photo_to_object};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_done_mails_link_downloads_the_glb_without_sign_in_until_it_expires_or_the_object_goes() {
    let app = TestApp::start();
    let api = app.user("ann@example.com");
    let (session, done) = photo_to_object(&api, "truck.jpg", 500.0, 375.0).await;
    assert_eq!(done["state"], "done", "{done}");
    let object = done["id"].as_str().unwrap();
    let eml = std::fs::read_to_string(app.wait_mail(&format!("{object}-done.eml")).await).unwrap();
    let at = eml.find("/v1/links/dl_").expect("the mail has a download link");
    let link: String = eml[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || "/_-".contains(*c)).collect();
    assert!(eml.contains(&format!("http://127.0.0.1:8080{link}")), "the link is under the API's URL");
    assert!(eml.contains("works for 24 hours"), "{eml}");

    let anyone = api.with_token("not-a-token");
    let opened = anyone.get(&link).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.error_message());
    let owners = api.get(&format!("/v1/sessions/{session}/objects/{object}/files/mesh.glb")).await;
    assert_eq!(opened.body, owners.body, "the link gives the owner's GLB");
    assert_eq!(&opened.body[..4], b"glTF");

    let mut altered = link.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(anyone.get(&altered).await.status, StatusCode::NOT_FOUND);
    assert_eq!(anyone.get("/v1/links/dl_short").await.status, StatusCode::NOT_FOUND);

    // Expired: the record's time set back (as 24 hours passing would).
    let dir = app.stack.config.blobs().join("links");
    let records: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(records.len(), 1, "one record, named by the token's hash: {records:?}");
    assert!(!records[0].to_string_lossy().contains(&link["/v1/links/".len()..]), "the token itself is not stored");
    let original = std::fs::read_to_string(&records[0]).unwrap();
    let mut record: serde_json::Value = serde_json::from_str(&original).unwrap();
    record["expires_ms"] = serde_json::json!(1_000);
    std::fs::write(&records[0], record.to_string()).unwrap();
    let expired = anyone.get(&link).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.error_message().contains("expired"), "{}", expired.error_message());
    std::fs::write(&records[0], original).unwrap();
    assert_eq!(anyone.get(&link).await.status, StatusCode::OK);

    let deleted = api.call(axum::http::Method::DELETE, &format!("/v1/sessions/{session}/objects/{object}"), None, Vec::new()).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.error_message());
    assert_eq!(anyone.get(&link).await.status, StatusCode::NOT_FOUND, "a deleted object's link opens nothing");
}
