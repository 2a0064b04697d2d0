//! The inference server with the torch backend (feature `torch`), loaded from a model
//! directory as SageMaker provides it: both tasks served by TorchScript modules with the
//! real contracts, outputs byte for byte those of the modules called directly, and a
//! corrupt module file that fails only its own task while the server keeps serving.
//!
//! Needs the Python whose torch the build linked (`make test` sets `GEN3D_TORCH_PYTHON`).
#![cfg(feature = "torch")]

use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use gen3d_embedded::FsBlobStore;
use gen3d_inference::Models;
use gen3d_media::{Mask, decode_photo};
use gen3d_ports::BlobStore;
use serde_json::json;

mod common;
use common::{call, key, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_torchscript_modules_and_survives_a_corrupt_one() {
    let python = std::env::var("GEN3D_TORCH_PYTHON").expect("GEN3D_TORCH_PYTHON must name a Python with torch (`make test` sets it)");
    let model_dir = tempfile::tempdir().unwrap();
    let script = gen3d_testkit::repo().join("container/models/torch/test_modules.py");
    assert!(Command::new(python).arg(script).arg("make").arg(model_dir.path()).status().unwrap().success());
    let models = Models::load(model_dir.path());

    let data = tempfile::tempdir().unwrap();
    let blobs = Arc::new(FsBlobStore::new(data.path()));
    let photo_bytes = gen3d_testkit::fixture_bytes("truck.jpg");
    let image = key("users/u/sessions/s/image");
    blobs.put(&image, Bytes::from(photo_bytes.clone()), "image/jpeg").await.unwrap();
    let mask_png = {
        let img =
            image::GrayImage::from_fn(1800, 1200, |x, y| image::Luma([if (250..630).contains(&x) && (330..450).contains(&y) { 255 } else { 0 }]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    };
    let mask = key("users/u/sessions/s/objects/o/mask.png");
    blobs.put(&mask, Bytes::from(mask_png.clone()), "image/png").await.unwrap();
    let base = start(blobs.clone(), models.clone()).await;
    let inv = format!("{base}/invocations");

    let (status, ping) = call(format!("{base}/ping"), None).await;
    assert_eq!(status, 200);
    assert!(ping["models"]["encoder"]["backend"].as_str().unwrap().starts_with("torch "), "{ping}");

    // Each task's output is exactly what the loaded module gives when called directly.
    let photo = decode_photo(&photo_bytes).unwrap();
    let (status, body) = call(inv.clone(), Some(json!({"task": "embed", "image": image, "output": "users/u/sessions/s/embeddings.g3e"}))).await;
    assert_eq!(status, 200, "{body}");
    let direct = models.encoder.as_ref().unwrap().encode(&photo).unwrap().encode();
    assert_eq!(blobs.get(&key("users/u/sessions/s/embeddings.g3e")).await.unwrap().as_ref(), direct.as_slice());
    let splat = "users/u/sessions/s/objects/o/splat.ply";
    let (status, body) = call(inv.clone(), Some(json!({"task": "reconstruct", "image": image, "mask": mask, "output": splat, "seed": 5}))).await;
    assert_eq!(status, 200, "{body}");
    let m = Mask::decode_png(&mask_png, 1800, 1200).unwrap();
    let direct = models.reconstructor.as_ref().unwrap().reconstruct(&photo, &m, 5).unwrap();
    assert_eq!(body["splats"].as_u64(), Some(direct.splats.len() as u64));
    assert_eq!(blobs.get(&key(splat)).await.unwrap().as_ref(), direct.write_ply().as_slice());

    // A corrupt reconstructor file at start-up: the server starts, says so on /ping,
    // fails reconstructions with the reason, and keeps embedding.
    std::fs::write(model_dir.path().join("sam3d_objects.pt"), b"\x00\x01 not a model").unwrap();
    let base = start(blobs.clone(), Models::load(model_dir.path())).await;
    let (status, ping) = call(format!("{base}/ping"), None).await;
    assert_eq!(status, 200);
    assert_eq!(ping["models"]["reconstructor"]["ready"], false, "{ping}");
    let inv = format!("{base}/invocations");
    let (status, body) = call(inv.clone(), Some(json!({"task": "reconstruct", "image": image, "mask": mask, "output": splat, "seed": 5}))).await;
    assert_eq!(status, 500, "{body}");
    let reason = body["error"].as_str().unwrap();
    assert!(
        reason.starts_with("the reconstructor is not available: loading a model: ")
            && reason.contains("sam3d_objects.pt: not a loadable TorchScript module"),
        "{reason}"
    );
    let (status, body) = call(inv, Some(json!({"task": "embed", "image": image, "output": "users/u/sessions/s/embeddings.g3e"}))).await;
    assert_eq!(status, 200, "{body}");
}
