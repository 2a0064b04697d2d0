//! The product on a model directory from the real SAM 3 tracker architecture
//! (`make sam3-test-models`: transformers' `Sam3TrackerModel`, random weights, 2 ViT
//! layers), with `--models`:
//! - `gen3d run`: photo, SAM 3 embeddings (TorchScript encoder through libtorch), a mask
//!   from the exported decoder (tract), splat, mesh and mail;
//! - `gen3d serve` in headless Chromium (`web/tests/e2e-sam3.mjs`): the page decodes with
//!   the full-size decoder in onnxruntime-web and its masks equal the server's.
//!
//! Needs the torch feature (`make test` builds this crate with it for this file),
//! `GEN3D_SAM3_MODELS`, and for the browser half Node.js, `web/dist` and Chromium. Without
//! them the tests fail, unless `GEN3D_SKIP` names `sam3` (or `web`).
#![cfg(feature = "torch")]

use std::path::{Path, PathBuf};
use std::process::Command;

use gen3d_testkit::{fixture, runs};

fn model_dir() -> Option<PathBuf> {
    if !runs("sam3", "the product on the SAM 3 model directory") {
        return None;
    }
    Some(PathBuf::from(
        std::env::var_os("GEN3D_SAM3_MODELS")
            .expect("GEN3D_SAM3_MODELS must name a SAM 3 model directory (`make sam3-test-models`; `make test` sets it), or set GEN3D_SKIP=sam3"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_models_goes_from_photo_to_mail() {
    let Some(models) = model_dir() else { return };
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let arg = |p: &Path| p.display().to_string();
    gen3d::cli::run_args([
        "gen3d",
        "--data",
        &arg(data.path()),
        "--models",
        &arg(&models),
        "run",
        &arg(&fixture("truck.jpg")),
        "--point",
        "500,375",
        "--out",
        &arg(out.path()),
    ])
    .await
    .unwrap();
    for file in ["mask.png", "splat.ply", "mesh.glb"] {
        let len = std::fs::metadata(out.path().join(file)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 100, "{file}: {len} bytes");
    }
    let mails: Vec<_> = std::fs::read_dir(data.path().join("outbox")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(mails.iter().any(|m| m.to_string_lossy().ends_with("-done.eml")), "{mails:?}");
}

#[test]
fn a_broken_model_directory_stops_start_up_naming_the_file() {
    let Some(models) = model_dir() else { return };
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(models.join("manifest.json"), copy.path().join("manifest.json")).unwrap();
    std::fs::copy(models.join("sam3_image_encoder.pt"), copy.path().join("sam3_image_encoder.pt")).unwrap();
    std::fs::write(copy.path().join("sam3_decoder.onnx"), b"not onnx").unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut config = gen3d::LocalConfig::new(data.path());
    config.models = Some(copy.path().to_path_buf());
    let err = gen3d::LocalStack::open(config).err().expect("start-up must fail").to_string();
    assert!(err.contains("sam3_decoder.onnx") && err.contains("decoder"), "{err}");
}

#[test]
fn a_split_decoder_with_the_wrong_graph_stops_start_up_naming_the_file() {
    let Some(models) = model_dir() else { return };
    let copy = tempfile::tempdir().unwrap();
    for file in ["manifest.json", "sam3_image_encoder.pt", "sam3_decoder.onnx", "sam3_decoder.prepare.onnx"] {
        std::fs::copy(models.join(file), copy.path().join(file)).unwrap();
    }
    // The click graph's place holds the prepare graph: valid ONNX, another contract.
    std::fs::copy(models.join("sam3_decoder.prepare.onnx"), copy.path().join("sam3_decoder.click.onnx")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut config = gen3d::LocalConfig::new(data.path());
    config.models = Some(copy.path().to_path_buf());
    let err = gen3d::LocalStack::open(config).err().expect("start-up must fail").to_string();
    assert!(err.contains("sam3_decoder.click.onnx: not this part of the split decoder"), "{err}");
}

#[test]
fn browser_decodes_with_the_real_decoder_and_matches_the_server() {
    let Some(models) = model_dir() else { return };
    if !runs("web", "the SAM 3 browser journey") {
        return;
    }
    let web = gen3d_testkit::repo().join("web");
    assert!(web.join("dist/index.html").is_file(), "web/dist is not built: run `make web` (or set GEN3D_SKIP=web)");
    let out = web.join("test-results/sam3");
    let status = Command::new("node")
        .current_dir(&web)
        .arg("tests/e2e-sam3.mjs")
        .arg("--gen3d")
        .arg(env!("CARGO_BIN_EXE_gen3d"))
        .arg("--models")
        .arg(&models)
        .arg("--out")
        .arg(&out)
        .status()
        .expect("node runs (install Node.js)");
    assert!(status.success(), "the SAM 3 browser journey failed: see the output above and the screenshots in {}", out.display());
}
