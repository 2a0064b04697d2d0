//! The torch backend (feature `torch`) on small TorchScript modules with the real models'
//! contracts, made by `container/models/torch/test_modules.py`: libtorch through `tch`
//! gives the same outputs as the same module run from Python, the manifest loads them,
//! their embeddings drive the click decoder, and bad modules fail with clear reasons.
//!
//! Needs the Python whose torch the build linked (`make test` sets `GEN3D_TORCH_PYTHON`).
#![cfg(feature = "torch")]

use std::path::{Path, PathBuf};
use std::process::Command;

use gen3d_domain::{Point, PointLabel, Prompt};
use gen3d_media::{Mask, Photo, decode_photo};
use gen3d_models::ModelError;
use gen3d_models::backend::{ImageEncoder, Models, ObjectReconstructor};
use gen3d_models::decoder::{Decoder, PromptTensors};
use gen3d_models::manifest::{DeviceChoice, Dtype};
use gen3d_models::torch::{TorchEncoder, TorchReconstructor};

fn test_modules() -> tempfile::TempDir {
    let python = std::env::var("GEN3D_TORCH_PYTHON").expect("GEN3D_TORCH_PYTHON must name a Python with torch (`make test` sets it)");
    let dir = tempfile::tempdir().unwrap();
    let script = gen3d_testkit::repo().join("container/models/torch/test_modules.py");
    let status = Command::new(python).arg(script).arg("make").arg(dir.path()).status().unwrap();
    assert!(status.success(), "test_modules.py make failed");
    dir
}

fn reference(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join("reference").join(format!("{name}.bin"))).unwrap()
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[track_caller]
fn assert_close(name: &str, got: &[f32], want: &[f32], tolerance: f32) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    let worst = got.iter().zip(want).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0f32, f32::max);
    assert!(worst <= tolerance, "{name}: largest difference {worst} > {tolerance}");
}

fn fixture(name: &str) -> PathBuf {
    gen3d_testkit::fixture(name)
}

#[test]
fn torchscript_outputs_match_python() {
    let dir = test_modules();
    let dir = dir.path();
    let encoder = TorchEncoder::load(&dir.join("sam3_image_encoder.pt"), DeviceChoice::Cpu, Dtype::Float32).unwrap();
    let got = encoder.run(&floats(&reference(dir, "encoder_input"))).unwrap();
    assert_close("image_embed", got.image_embed(), &floats(&reference(dir, "image_embed")), 1e-5);
    assert_close("high_res_feats_0", got.high_res_feats_0(), &floats(&reference(dir, "high_res_feats_0")), 1e-5);
    assert_close("high_res_feats_1", got.high_res_feats_1(), &floats(&reference(dir, "high_res_feats_1")), 1e-5);

    let reconstructor = TorchReconstructor::load(&dir.join("sam3d_objects.pt"), DeviceChoice::Cpu).unwrap();
    let (w, h) = (960, 720);
    let photo = Photo { rgb: image::RgbImage::from_raw(w, h, reference(dir, "image")).unwrap() };
    let mask = Mask::new(w, h, reference(dir, "mask").iter().map(|&b| b != 0).collect()).unwrap();
    let cloud = reconstructor.reconstruct(&photo, &mask, 7).unwrap();
    let column = |f: &dyn Fn(&gen3d_media::Splat) -> Vec<f32>| cloud.splats.iter().flat_map(f).collect::<Vec<f32>>();
    assert_close("xyz", &column(&|s| s.position.to_vec()), &floats(&reference(dir, "xyz")), 1e-6);
    assert_close("f_dc", &column(&|s| s.f_dc.to_vec()), &floats(&reference(dir, "f_dc")), 1e-6);
    assert_close("opacity", &column(&|s| vec![s.opacity]), &floats(&reference(dir, "opacity")), 1e-6);
    assert_close("scale", &column(&|s| s.scale.to_vec()), &floats(&reference(dir, "scale")), 1e-6);
    assert_close("rotation", &column(&|s| s.rotation.to_vec()), &floats(&reference(dir, "rotation")), 1e-6);
    // The seed is passed through: another seed, other splats; the same seed, the same.
    assert_ne!(reconstructor.reconstruct(&photo, &mask, 8).unwrap(), cloud);
    assert_eq!(reconstructor.reconstruct(&photo, &mask, 7).unwrap(), cloud);
}

#[test]
fn manifest_loads_modules_whose_embeddings_drive_the_click_decoder() {
    let dir = test_modules();
    let models = Models::load(dir.path());
    let status = models.status();
    assert_eq!(status["encoder"]["ready"], true, "{status}");
    assert!(status["encoder"]["backend"].as_str().unwrap().starts_with("torch cpu "), "{status}");
    assert!(status["reconstructor"]["backend"].as_str().unwrap().ends_with("sam3d_objects.pt"), "{status}");

    let photo = decode_photo(&std::fs::read(fixture("dog.jpg")).unwrap()).unwrap();
    let embeddings = models.encoder.as_ref().unwrap().encode(&photo).unwrap();
    embeddings.check_shapes().unwrap();
    assert_eq!(models.encoder.as_ref().unwrap().encode(&photo).unwrap(), embeddings, "deterministic");
    // Through the transport file and into the decoder, as the browser gets them.
    let transported = gen3d_media::Embeddings::decode(&embeddings.encode()).unwrap();
    let prompt = Prompt::new(vec![Point { x: 400.0, y: 300.0, label: PointLabel::Include }], None, photo.width(), photo.height()).unwrap();
    let out = Decoder::builtin().run(&transported, &PromptTensors::new(&prompt, photo.width(), photo.height()), None).unwrap();
    assert!(out.iou_predictions.iter().all(|v| v.is_finite()));
    out.mask(out.best(), photo.width(), photo.height()).unwrap();

    let mask = Mask::new(800, 534, (0..800 * 534).map(|i| (100..300).contains(&(i % 800)) && (300..500).contains(&(i / 800))).collect()).unwrap();
    let cloud = models.reconstructor.as_ref().unwrap().reconstruct(&photo, &mask, 1).unwrap();
    assert!(!cloud.splats.is_empty() && cloud.splats.len() <= 30_000);
    assert!(cloud.splats.iter().all(|s| s.position.iter().all(|c| c.abs() <= 0.5)), "object-local in [-0.5,0.5]^3");
    let back = gen3d_media::SplatCloud::read_ply(&cloud.write_ply()).unwrap();
    assert_eq!(back.splats.len(), cloud.splats.len());
}

#[test]
fn bad_modules_fail_with_clear_reasons() {
    let dir = test_modules();
    let dir = dir.path();
    let load_err = |file: &str, device| match TorchEncoder::load(&dir.join(file), device, Dtype::Float32) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{file} loaded"),
    };
    std::fs::write(dir.join("corrupt.pt"), b"PK\x03\x04 this is not a TorchScript archive").unwrap();
    let e = load_err("corrupt.pt", DeviceChoice::Cpu);
    assert!(e.contains("corrupt.pt: not a loadable TorchScript module"), "{e}");
    assert!(!e.contains('\n'), "one line, no C++ backtrace: {e}");
    let e = load_err("missing.pt", DeviceChoice::Cpu);
    assert!(e.contains("missing.pt: no such model file"), "{e}");
    if !tch::Cuda::is_available() {
        let e = load_err("sam3_image_encoder.pt", DeviceChoice::Cuda(0));
        assert!(e.contains("device cuda:0 was asked for, but this machine has 0 CUDA device(s)"), "{e}");
    }

    // A module with SAM 1's embedding shape loads, but its output is refused.
    let photo = decode_photo(&std::fs::read(fixture("dog.jpg")).unwrap()).unwrap();
    let sam1 = TorchEncoder::load(&dir.join("sam1_shaped_encoder.pt"), DeviceChoice::Cpu, Dtype::Float32).unwrap();
    let e = sam1.encode(&photo).unwrap_err();
    assert!(matches!(e, ModelError::Output(_)), "{e:?}");
    assert!(e.to_string().contains("image_embed has shape [1, 256, 64, 64], expected [1, 256, 72, 72]"), "{e}");

    // The encoder's file loaded as the reconstructor: the call fails (TorchScript checks
    // the arguments), as an error, not a crash.
    let wrong = TorchReconstructor::load(&dir.join("sam3_image_encoder.pt"), DeviceChoice::Cpu).unwrap();
    let mask = Mask::new(800, 534, vec![true; 800 * 534]).unwrap();
    let e = wrong.reconstruct(&photo, &mask, 0).unwrap_err();
    assert!(matches!(e, ModelError::Run(_)), "{e:?}");
    assert!(e.to_string().starts_with("running a model: reconstructor: "), "{e}");

    // A mask of another size never reaches the module.
    let good = TorchReconstructor::load(&dir.join("sam3d_objects.pt"), DeviceChoice::Cpu).unwrap();
    let small = Mask::new(10, 10, vec![true; 100]).unwrap();
    assert_eq!(good.reconstruct(&photo, &small, 0).unwrap_err().to_string(), "bad model input: mask is 10x10 but the photo is 800x534");

    // A half-precision input cast runs the float32 module's weights on half input: libtorch
    // refuses the mixed types, and that is a clear per-request error too.
    let half = TorchEncoder::load(&dir.join("sam3_image_encoder.pt"), DeviceChoice::Cpu, Dtype::Float16).unwrap();
    let e = half.encode(&photo).unwrap_err();
    assert!(matches!(e, ModelError::Run(_)), "{e:?}");
    assert!(!e.to_string().contains('\n'), "one line, no C++ backtrace: {e}");
}
