//! The inference server on a model directory built from the real SAM 3 tracker
//! architecture (`make sam3-test-models`: transformers' `Sam3TrackerModel`, random weights,
//! 2 ViT layers): it serves a photo's embeddings from the traced encoder through libtorch,
//! and they are transformers' own `get_image_embeddings` of that photo (preprocessed as
//! SAM 3's predictor does), written by `prepare_sam3.py` into `reference/`.
//!
//! Needs the torch feature, `GEN3D_TORCH_PYTHON`'s libtorch and `GEN3D_SAM3_MODELS`
//! (`make test` sets both); fails without the model directory unless `GEN3D_SKIP=sam3`.
#![cfg(feature = "torch")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use gen3d_embedded::FsBlobStore;
use gen3d_inference::Models;
use gen3d_media::Embeddings;
use gen3d_ports::BlobStore;
use serde_json::{Value, json};

mod common;
use common::{call, key, start};

fn model_dir() -> Option<PathBuf> {
    if !gen3d_testkit::runs("sam3", "serving the SAM 3 encoder") {
        return None;
    }
    Some(PathBuf::from(
        std::env::var_os("GEN3D_SAM3_MODELS")
            .expect("GEN3D_SAM3_MODELS must name a SAM 3 model directory (`make sam3-test-models`; `make test` sets it), or set GEN3D_SKIP=sam3"),
    ))
}

fn floats(path: &Path) -> Vec<f32> {
    std::fs::read(path).unwrap().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

/// Largest |a - b| over the largest |b|.
fn relative_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-6);
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / scale
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_sam3_embeddings_equal_to_transformers() {
    let Some(models_dir) = model_dir() else { return };
    let models = Models::load(&models_dir);
    assert!(models.all_ready(), "{}", models.status());

    let data = tempfile::tempdir().unwrap();
    let blobs = Arc::new(FsBlobStore::new(data.path()));
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(models_dir.join("reference/reference.json")).unwrap()).unwrap();
    let photo = gen3d_testkit::fixture_dir().join(reference["photo"].as_str().unwrap());
    let image = key("users/u/sessions/s/image");
    blobs.put(&image, Bytes::from(std::fs::read(&photo).unwrap()), "image/jpeg").await.unwrap();
    let base = start(blobs.clone(), models).await;

    let (status, ping) = call(format!("{base}/ping"), None).await;
    assert_eq!(status, 200);
    assert!(ping["models"]["encoder"]["backend"].as_str().unwrap().ends_with("sam3_image_encoder.pt"), "{ping}");
    assert!(ping["models"]["decoder"]["backend"].as_str().unwrap().ends_with("sam3_decoder.onnx"), "{ping}");

    let output = "users/u/sessions/s/embeddings.g3e";
    let (status, body) = call(format!("{base}/invocations"), Some(json!({"task": "embed", "image": image, "output": output}))).await;
    assert_eq!(status, 200, "{body}");
    let served = Embeddings::decode(&blobs.get(&key(output)).await.unwrap()).unwrap();
    let dir = models_dir.join("reference");
    // The traced encoder through libtorch, on the very input transformers was given,
    // gives transformers' embeddings.
    let encoder = gen3d_models::torch::TorchEncoder::load(
        &models_dir.join("sam3_image_encoder.pt"),
        gen3d_models::manifest::DeviceChoice::Cpu,
        gen3d_models::manifest::Dtype::Float32,
    )
    .unwrap();
    let input = floats(&dir.join("encoder_input.f32"));
    let direct = encoder.run(&input).unwrap();
    for (name, got) in
        [("image_embed", direct.image_embed()), ("high_res_feats_0", direct.high_res_feats_0()), ("high_res_feats_1", direct.high_res_feats_1())]
    {
        let diff = relative_difference(got, &floats(&dir.join(format!("{name}.f32"))));
        eprintln!("{name} through tch on transformers' input: within {diff:.1e} of transformers");
        assert!(diff < 1e-4, "{name}: libtorch gives {diff} from transformers' own forward");
    }
    // The server's own preprocessing (Rust's antialiased 8-bit resize) differs from PIL's
    // in rounding and filter details: say by how much, then check what the user sees.
    let photo_pixels = gen3d_models::encoder::input_tensor(&gen3d_media::decode_photo(&std::fs::read(&photo).unwrap()).unwrap());
    let off = photo_pixels.iter().zip(&input).filter(|(a, b)| (*a - *b).abs() > 1.5 / 127.5).count();
    eprintln!(
        "preprocessing: {:.2}% of input values differ from PIL's by more than one 8-bit level (mean |difference| {:.4})",
        off as f64 * 100.0 / input.len() as f64,
        photo_pixels.iter().zip(&input).map(|(a, b)| f64::from((a - b).abs())).sum::<f64>() / input.len() as f64
    );
    for (name, got) in
        [("image_embed", served.image_embed()), ("high_res_feats_0", served.high_res_feats_0()), ("high_res_feats_1", served.high_res_feats_1())]
    {
        let want = floats(&dir.join(format!("{name}.f32")));
        let mean = mean_relative_difference(got, &want);
        eprintln!("{name} served: within {mean:.2e} (mean, relative) of transformers");
        assert!(mean < 3e-2, "{name}: the served embeddings are {mean} (mean, relative) from transformers'");
    }
    // What the user sees: the reference click's mask from the served embeddings.
    let case = &reference["cases"][0];
    let decoder = Models::load(&models_dir).decoder.unwrap();
    let (w, h) = (reference["width"].as_u64().unwrap() as u32, reference["height"].as_u64().unwrap() as u32);
    let points = case["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| gen3d_domain::Point {
            x: p[0].as_f64().unwrap() as f32,
            y: p[1].as_f64().unwrap() as f32,
            label: if p[2] == "include" { gen3d_domain::PointLabel::Include } else { gen3d_domain::PointLabel::Exclude },
        })
        .collect();
    let tensors = gen3d_models::decoder::PromptTensors::new(&gen3d_domain::Prompt::new(points, None, w, h).unwrap(), w, h);
    let ours = decoder.run(&served, &tensors, None).unwrap();
    let theirs = gen3d_models::decoder::DecoderOutput { masks: floats(&dir.join(case["masks"].as_str().unwrap())), iou_predictions: [0.0; 3] };
    for k in 0..3 {
        let (a, b) = (ours.mask(k, w, h).unwrap(), theirs.mask(k, w, h).unwrap());
        let same = a.data().iter().zip(b.data()).filter(|(x, y)| x == y).count() as f64 / a.data().len() as f64;
        eprintln!("candidate {k}: {:.3}% of mask pixels as transformers'", same * 100.0);
        assert!(same >= 0.99, "candidate {k}: only {same} of the mask agrees with transformers'");
    }
}

/// Mean |a - b| over the mean |b|.
fn mean_relative_difference(a: &[f32], b: &[f32]) -> f32 {
    let diff: f64 = a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).sum();
    let scale: f64 = b.iter().map(|x| f64::from(x.abs())).sum();
    (diff / scale.max(1e-12)) as f32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_sam3_file_is_named_on_ping_and_in_the_tasks_failure() {
    let Some(models_dir) = model_dir() else { return };
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(models_dir.join("manifest.json"), copy.path().join("manifest.json")).unwrap();
    for file in ["sam3_decoder.onnx", "sam3_decoder.prepare.onnx", "sam3_decoder.click.onnx"] {
        std::fs::copy(models_dir.join(file), copy.path().join(file)).unwrap();
    }
    std::fs::write(copy.path().join("sam3_image_encoder.pt"), b"PK\x03\x04 truncated").unwrap();
    let data = tempfile::tempdir().unwrap();
    let blobs = Arc::new(FsBlobStore::new(data.path()));
    let image = key("users/u/sessions/s/image");
    let photo = gen3d_testkit::fixture("truck.jpg");
    blobs.put(&image, Bytes::from(std::fs::read(photo).unwrap()), "image/jpeg").await.unwrap();
    let base = start(blobs, Models::load(copy.path())).await;
    let (status, ping) = call(format!("{base}/ping"), None).await;
    assert_eq!(status, 200);
    assert_eq!(ping["models"]["encoder"]["ready"], false, "{ping}");
    assert!(ping["models"]["encoder"]["error"].as_str().unwrap().contains("sam3_image_encoder.pt"), "{ping}");
    assert_eq!(ping["models"]["decoder"]["ready"], true, "{ping}");
    let (status, body) =
        call(format!("{base}/invocations"), Some(json!({"task": "embed", "image": image, "output": "users/u/sessions/s/embeddings.g3e"}))).await;
    assert_eq!(status, 500, "{body}");
    assert!(body["error"].as_str().unwrap().contains("sam3_image_encoder.pt: not a loadable TorchScript module"), "{body}");
}

/// The embeddings file for the three fixture photos with real-architecture features: its
/// size, and the masks the real decoder draws from it against float32 embeddings.
#[test]
fn sam3_embeddings_on_the_wire() {
    use gen3d_domain::{Point, PointLabel, Prompt, PromptBox};
    use gen3d_models::decoder::PromptTensors;

    let Some(models_dir) = model_dir() else { return };
    let models = Models::load(&models_dir);
    let (encoder, decoder) = (models.encoder.as_ref().unwrap(), models.decoder.as_ref().unwrap());
    for name in ["truck.jpg", "dog.jpg", "groceries.jpg"] {
        let bytes = gen3d_testkit::fixture_bytes(name);
        let photo = gen3d_media::decode_photo(&bytes).unwrap();
        let (w, h) = (photo.width(), photo.height());
        let float32 = encoder.encode(&photo).unwrap();
        let wire = float32.encode();
        let transported = Embeddings::decode(&wire).unwrap();
        let (fw, fh) = (w as f32, h as f32);
        let include = |x: f32, y: f32| Point { x, y, label: PointLabel::Include };
        let prompts = [
            Prompt::new(vec![include(fw * 0.5, fh * 0.5)], None, w, h).unwrap(),
            Prompt::new(vec![include(fw * 0.3, fh * 0.6), Point { x: fw * 0.1, y: fh * 0.1, label: PointLabel::Exclude }], None, w, h).unwrap(),
            Prompt::new(vec![], Some(PromptBox { x0: fw * 0.2, y0: fh * 0.2, x1: fw * 0.8, y1: fh * 0.9 }), w, h).unwrap(),
        ];
        let (mut same, mut total) = (0usize, 0usize);
        for prompt in &prompts {
            let tensors = PromptTensors::new(prompt, w, h);
            let a = decoder.run(&float32, &tensors, None).unwrap();
            let b = decoder.run(&transported, &tensors, None).unwrap();
            for k in 0..3 {
                let (ma, mb) = (a.mask(k, w, h).unwrap(), b.mask(k, w, h).unwrap());
                same += ma.data().iter().zip(mb.data()).filter(|(x, y)| x == y).count();
                total += ma.data().len();
            }
        }
        let agreement = same as f64 / total as f64;
        eprintln!(
            "{name}: {} bytes on the wire ({:.2} MB), {:.4}% of mask pixels as with float32",
            wire.len(),
            wire.len() as f64 / 1e6,
            agreement * 100.0
        );
        assert!(agreement >= 0.995, "{name}: only {agreement} of mask pixels agree with float32 embeddings");
        assert!(wire.len() <= 8_000_000, "{name}: {} bytes on the wire, over the 8 MB budget", wire.len());
    }
}
