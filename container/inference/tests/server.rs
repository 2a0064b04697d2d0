//! The inference server on a random port: /ping, /invocations for each task with the
//! fixture photo, outputs byte-for-byte those of the models called directly, clear
//! failures for bad requests, and /ping answering while jobs run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gen3d_domain::ObjectKey;
use gen3d_embedded::FsBlobStore;
use gen3d_media::{Mask, decode_photo};
use gen3d_models::{encoder, reconstructor};
use gen3d_ports::BlobStore;
use serde_json::{Value, json};

fn key(k: &str) -> ObjectKey {
    ObjectKey::parse(k).unwrap()
}

async fn start(blobs: Arc<FsBlobStore>) -> String {
    start_with(blobs, gen3d_inference::Models::builtin()).await
}

async fn start_with(blobs: Arc<FsBlobStore>, models: gen3d_inference::Models) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = gen3d_inference::app(gen3d_inference::ServerState::new(blobs, 1).with_models(models));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn post(url: String, body: Value) -> (u16, Value) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut r = agent.post(&url).send_json(body).unwrap();
        (r.status().as_u16(), r.body_mut().read_json().unwrap_or(Value::Null))
    })
    .await
    .unwrap()
}

async fn ping(base: &str) -> (u16, Duration) {
    let url = format!("{base}/ping");
    tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let status = ureq::get(&url).call().unwrap().status().as_u16();
        (status, t.elapsed())
    })
    .await
    .unwrap()
}

fn mask_png(w: u32, h: u32, rect: Option<(u32, u32, u32, u32)>) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        let on = rect.is_some_and(|(x0, y0, x1, y1)| x >= x0 && x < x1 && y >= y0 && y < y1);
        image::Luma([if on { 255 } else { 0 }])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_both_models_and_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(FsBlobStore::new(dir.path()));
    let photo_bytes = std::fs::read(fixture("truck.jpg")).unwrap();
    let image = key("users/u/sessions/s/image");
    blobs.put(&image, Bytes::from(photo_bytes.clone()), "image/jpeg").await.unwrap();
    let mask = key("users/u/sessions/s/objects/o/mask.png");
    blobs.put(&mask, Bytes::from(mask_png(1800, 1200, Some((250, 330, 630, 450)))), "image/png").await.unwrap();
    let base = start(blobs.clone()).await;
    assert_eq!(ping(&base).await.0, 200);
    let inv = format!("{base}/invocations");

    // Embed: the output equals the encoder's, byte for byte.
    let (status, body) = post(inv.clone(), json!({"task": "embed", "image": image, "output": "users/u/sessions/s/embeddings.g3e"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["width"].as_u64(), body["height"].as_u64()), (Some(1800), Some(1200)));
    let photo = decode_photo(&photo_bytes).unwrap();
    let served = blobs.get(&key("users/u/sessions/s/embeddings.g3e")).await.unwrap();
    assert_eq!(served.as_ref(), encoder::encode(&photo).encode().as_slice());

    // Reconstruct: the output equals the reconstructor's, byte for byte.
    let splat = "users/u/sessions/s/objects/o/splat.ply";
    let (status, body) = post(inv.clone(), json!({"task": "reconstruct", "image": image, "mask": mask, "output": splat, "seed": 3})).await;
    assert_eq!(status, 200, "{body}");
    let m = Mask::decode_png(&blobs.get(&mask).await.unwrap(), 1800, 1200).unwrap();
    assert_eq!(blobs.get(&key(splat)).await.unwrap().as_ref(), reconstructor::reconstruct(&photo, &m, 3).write_ply().as_slice());

    // Bad requests: each a clear reason; the server keeps serving.
    blobs.put(&key("users/u/sessions/s/objects/small/mask.png"), Bytes::from(mask_png(10, 10, Some((0, 0, 5, 5)))), "image/png").await.unwrap();
    blobs.put(&key("users/u/sessions/s/objects/empty/mask.png"), Bytes::from(mask_png(1800, 1200, None)), "image/png").await.unwrap();
    let cases = [
        (json!({"task": "dance"}), 400, "not a task request"),
        (
            json!({"task": "embed", "image": "users/u/sessions/nope/image", "output": "users/u/sessions/nope/embeddings.g3e"}),
            422,
            "the image is missing",
        ),
        (
            json!({"task": "reconstruct", "image": image, "mask": "users/u/sessions/s/objects/small/mask.png", "output": "users/u/sessions/s/objects/small/splat.ply", "seed": 0}),
            422,
            "mask is 10x10 but the photo is 1800x1200",
        ),
        (
            json!({"task": "reconstruct", "image": image, "mask": "users/u/sessions/s/objects/empty/mask.png", "output": "users/u/sessions/s/objects/empty/splat.ply", "seed": 0}),
            422,
            "mask is empty",
        ),
        // Keys that are not this task's files of one session and object (a request
        // document edited to reach another user's files, or other files): refused.
        (
            json!({"task": "embed", "image": mask, "output": "users/u/sessions/s/embeddings.g3e"}),
            422,
            "image users/u/sessions/s/objects/o/mask.png is not this task's file",
        ),
        (
            json!({"task": "embed", "image": "users/v/sessions/s/image", "output": "users/u/sessions/s/embeddings.g3e"}),
            422,
            "is not this task's file",
        ),
        (
            json!({"task": "reconstruct", "image": image, "mask": mask, "output": "users/v/sessions/s/objects/o/splat.ply", "seed": 0}),
            422,
            "is not this task's file",
        ),
        (
            json!({"task": "mesh", "splat": "users/v/sessions/s/objects/o/splat.ply", "output": "users/u/sessions/s/objects/o/mesh.glb", "options": {"method": "poisson", "target_triangles": 5000, "format": "glb"}}),
            422,
            "is not this task's file",
        ),
    ];
    for (req, want, reason) in cases {
        let (status, body) = post(inv.clone(), req.clone()).await;
        assert_eq!(status, want, "{req}: {body}");
        assert!(body["error"].as_str().unwrap_or_default().contains(reason), "{req}: {body}");
    }

    // /ping answers promptly while invocations run.
    let jobs: Vec<_> = (0..3)
        .map(|_| tokio::spawn(post(inv.clone(), json!({"task": "embed", "image": image, "output": "users/u/sessions/s/embeddings.g3e"}))))
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, took) = ping(&base).await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(2), "ping took {took:?} during jobs");
    for j in jobs {
        assert_eq!(j.await.unwrap().0, 200);
    }
}

/// A model that fails to load at start (here the manifest names a TorchScript encoder
/// that this build or this directory cannot provide) fails only the tasks that need it,
/// with its load error; /ping stays healthy and says which model is not ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_failed_to_load_fails_only_its_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    std::fs::create_dir(&model_dir).unwrap();
    std::fs::write(model_dir.join("manifest.json"), r#"{"encoder":{"backend":"torch","file":"sam3_image_encoder.pt"}}"#).unwrap();
    let models = gen3d_inference::Models::load(&model_dir);
    let blobs = Arc::new(FsBlobStore::new(dir.path().join("blobs")));
    let image = key("users/u/sessions/s/image");
    blobs.put(&image, Bytes::from(std::fs::read(fixture("dog.jpg")).unwrap()), "image/jpeg").await.unwrap();
    let mask = key("users/u/sessions/s/objects/o/mask.png");
    blobs.put(&mask, Bytes::from(mask_png(800, 534, Some((100, 300, 300, 500)))), "image/png").await.unwrap();
    let base = start_with(blobs.clone(), models).await;

    let body: Value = tokio::task::spawn_blocking({
        let url = format!("{base}/ping");
        move || ureq::get(&url).call().unwrap().body_mut().read_json().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(body["models"]["encoder"]["ready"], false, "{body}");
    assert!(body["models"]["encoder"]["error"].as_str().unwrap().contains("sam3_image_encoder.pt"), "{body}");
    assert_eq!(body["models"]["reconstructor"], json!({"ready": true, "backend": "builtin"}));

    let inv = format!("{base}/invocations");
    let (status, body) = post(inv.clone(), json!({"task": "embed", "image": image, "output": "users/u/sessions/s/embeddings.g3e"})).await;
    assert_eq!(status, 500, "{body}");
    let reason = body["error"].as_str().unwrap();
    assert!(reason.starts_with("the image encoder is not available: ") && reason.contains("sam3_image_encoder.pt"), "{reason}");
    let splat = "users/u/sessions/s/objects/o/splat.ply";
    let (status, body) = post(inv, json!({"task": "reconstruct", "image": image, "mask": mask, "output": splat, "seed": 1})).await;
    assert_eq!(status, 200, "{body}");
}

fn fixture(name: &str) -> std::path::PathBuf {
    gen3d_testkit::fixture(name)
}

#[test]
fn bad_manifests_are_reported_for_every_model() {
    let dir = tempfile::tempdir().unwrap();
    let status = gen3d_inference::Models::load(dir.path()).status();
    let builtin = json!({"ready": true, "backend": "builtin"});
    assert_eq!(status, json!({"encoder": builtin, "reconstructor": builtin, "decoder": builtin}));
    std::fs::write(dir.path().join("manifest.json"), "{not json").unwrap();
    let models = gen3d_inference::Models::load(dir.path());
    for err in [models.encoder.err().unwrap(), models.reconstructor.err().unwrap(), models.decoder.err().unwrap()] {
        assert!(err.starts_with("model manifest: ") && err.contains("manifest.json: key must be a string"), "{err}");
    }
}
