//! The library a user manages, through the HTTP API: names for photos and objects (kept
//! through the pipeline's steps, refused with a message naming the field), thumbnails
//! of both, and a photo's scene (one .glb, one node per done object, placed by its pose).

use axum::http::{Method, StatusCode};
use gen3d_tests::{TestApp, photo_to_object};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_thumbnails_and_the_scene() {
    let app = TestApp::start();
    let api = app.user("lee@example.com");
    let (session, first) = photo_to_object(&api, "dog.jpg", 400.0, 300.0).await;
    let first = first["id"].as_str().unwrap().to_owned();
    let patch = |uri: String, body: serde_json::Value| {
        let api = &api;
        async move { api.call(Method::PATCH, &uri, Some("application/json"), body.to_string()).await }
    };

    // Names: set, shown, cleared; bad ones refused naming the field; another user's untouched.
    let photo_uri = format!("/v1/sessions/{session}");
    let object_uri = format!("/v1/sessions/{session}/objects/{first}");
    let named = patch(photo_uri.clone(), json!({"name": "  Dog on the lawn "})).await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.error_message());
    assert_eq!(named.json()["name"], "Dog on the lawn");
    assert_eq!(api.get("/v1/sessions").await.json()["sessions"][0]["name"], "Dog on the lawn");
    let named = patch(object_uri.clone(), json!({"name": "Dog"})).await;
    assert_eq!((named.status, named.json()["name"].clone()), (StatusCode::OK, json!("Dog")));
    for (body, says) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(81)}), "name"),
        (json!({"name": "a\nb"}), "name"),
        (json!({"title": "Dog"}), "name"),
        (json!({"name": 7}), "invalid JSON body"),
    ] {
        let r = patch(object_uri.clone(), body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(r.error_message().contains(says), "{body}: {}", r.error_message());
    }
    let eve = app.user("eve@example.com");
    let r = eve.call(Method::PATCH, &object_uri, Some("application/json"), json!({"name": "Mine"}).to_string()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another user's object is not found");
    assert_eq!(api.get(&object_uri).await.json()["name"], "Dog", "and keeps its name");

    // Thumbnails: the photo's (a JPEG of at most 320 px a side) and the object's (a PNG).
    let view = api.get(&photo_uri).await.json();
    let thumb = api.get(view["thumbnail_url"].as_str().expect("a ready photo has a thumbnail")).await;
    assert_eq!(thumb.status, StatusCode::OK);
    let img = image::load_from_memory_with_format(&thumb.body, image::ImageFormat::Jpeg).unwrap();
    assert_eq!(img.width().max(img.height()), 320);
    let object = api.get(&object_uri).await.json();
    let link = object["files"].as_array().unwrap().iter().find(|f| f["name"] == "thumb.png").expect("a done object lists its thumbnail");
    let png = image::load_from_memory_with_format(&api.get(link["url"].as_str().unwrap()).await.body, image::ImageFormat::Png).unwrap().to_rgba8();
    let drawn = png.pixels().filter(|p| p[3] > 0).count();
    assert!(drawn > 2_000 && drawn < png.len() / 4, "the object drawn on a transparent square: {drawn} px");

    // The done mail shows the same picture inline.
    let eml = std::fs::read_to_string(app.wait_mail(&format!("{first}-done.eml")).await).unwrap();
    assert!(eml.contains("cid:result") && eml.contains("Content-ID: <result>"), "the picture rides inline");
    let b64: String =
        eml.split("Content-ID: <result>").nth(1).unwrap().split("\r\n\r\n").nth(1).unwrap().split("\r\n--").next().unwrap().replace("\r\n", "");
    use base64::Engine;
    let inline = base64::engine::general_purpose::STANDARD.decode(b64).expect("base64");
    assert_eq!(inline, api.get(link["url"].as_str().unwrap()).await.body.to_vec(), "the mail's picture is the object's thumbnail");

    // A second object, then the scene: one root node per done object, named, posed.
    let second = api.post_json(&format!("/v1/sessions/{session}/objects"), &json!({"points": [{"x": 100, "y": 80, "label": "include"}]})).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.error_message());
    let second = gen3d_tests::wait_object(&api, &session, second.json()["id"].as_str().unwrap()).await;
    let made = api.call(Method::POST, &format!("/v1/sessions/{session}/scene"), None, "").await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.error_message());
    assert_eq!(made.json()["objects"], json!([first, second["id"]]));
    let glb = api.get(made.json()["file"]["url"].as_str().unwrap()).await;
    assert_eq!(glb.status, StatusCode::OK);
    let (doc, _, _) = gltf::import_slice(&glb.body).expect("the scene is a valid GLB");
    let roots: Vec<_> = doc.default_scene().unwrap().nodes().collect();
    assert_eq!(roots.iter().map(|n| n.name().unwrap().to_owned()).collect::<Vec<_>>(), ["Dog", "Object 2"]);
    let identity =
        gltf::scene::Transform::Matrix { matrix: [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]] }.matrix();
    assert!(roots.iter().all(|n| n.transform().matrix() != identity), "each node is placed by its pose");
    assert_eq!(doc.meshes().count(), 2);

    // Deleting an object deletes the scene that held it; an empty photo has no scene.
    assert_eq!(api.call(Method::DELETE, &object_uri, None, "").await.status, StatusCode::NO_CONTENT);
    assert_eq!(api.get(&format!("/v1/sessions/{session}/scene.glb")).await.status, StatusCode::NOT_FOUND);
    let (other, _) = photo_to_object(&api, "truck.jpg", 500.0, 375.0).await;
    let objects = api.get(&format!("/v1/sessions/{other}/objects")).await.json();
    let only = objects["objects"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(api.call(Method::DELETE, &format!("/v1/sessions/{other}/objects/{only}"), None, "").await.status, StatusCode::NO_CONTENT);
    let none = api.call(Method::POST, &format!("/v1/sessions/{other}/scene"), None, "").await;
    assert_eq!(none.status, StatusCode::CONFLICT, "{}", none.error_message());
}
