//! TorchScript from Rust (tch) against the same module from Python, in one run: the
//! torch backend must be no slower than Python. Modules and inputs come from
//! `torch/test_modules.py` (the real models' contracts; see its docstring).
//!
//! `make bench-torch` (= `cargo bench -p gen3d-models --features torch --bench torch_vs_python`
//! with the torch venv's Python and libtorch).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use gen3d_media::{Mask, Photo};
use gen3d_models::backend::ObjectReconstructor;
use gen3d_models::manifest::{DeviceChoice, Dtype};
use gen3d_models::torch::{TorchEncoder, TorchReconstructor};

const RUNS: usize = 21;

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..=RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .skip(1)
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let python = std::env::var("GEN3D_TORCH_PYTHON").expect("GEN3D_TORCH_PYTHON must name a Python with torch (`make bench-torch` sets it)");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("torch/test_modules.py");
    let dir = tempfile::tempdir().unwrap();
    assert!(Command::new(&python).arg(&script).arg("make").arg(dir.path()).status().unwrap().success());
    let read = |name: &str| std::fs::read(dir.path().join("reference").join(format!("{name}.bin"))).unwrap();

    let encoder = TorchEncoder::load(&dir.path().join("sam3_image_encoder.pt"), DeviceChoice::Auto, Dtype::Float32).unwrap();
    let input: Vec<f32> = read("encoder_input").chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    let rust_encoder = median_ms(|| {
        encoder.run(&input).unwrap();
    });
    let reconstructor = TorchReconstructor::load(&dir.path().join("sam3d_objects.pt"), DeviceChoice::Auto, Dtype::Float32).unwrap();
    let (w, h) = (960, 720);
    let photo = Photo { rgb: image::RgbImage::from_raw(w, h, read("image")).unwrap() };
    let mask = Mask::new(w, h, read("mask").iter().map(|&b| b != 0).collect()).unwrap();
    let rust_reconstructor = median_ms(|| {
        reconstructor.reconstruct(&photo, &mask, 7).unwrap();
    });

    let out = Command::new(&python).arg(&script).arg("bench").arg(dir.path()).arg(RUNS.to_string()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let py: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (py_encoder, py_reconstructor) = (py["encoder_ms"].as_f64().unwrap(), py["reconstructor_ms"].as_f64().unwrap());

    let device = if tch::Cuda::is_available() { "cuda:0" } else { "cpu" };
    println!("TorchScript modules from test_modules.py, median of {RUNS} after one warm-up, device {device}");
    println!("(libtorch threads: Rust {}, Python {})", tch::get_num_threads(), py["threads"]);
    println!("| module | Rust (tch) | Python | Rust / Python |");
    println!("|---|---:|---:|---:|");
    println!("| encoder, [1,3,1008,1008] -> 3 embeddings | {rust_encoder:.2} ms | {py_encoder:.2} ms | {:.2} |", rust_encoder / py_encoder);
    println!(
        "| reconstructor, 960x720 photo + mask -> 30k splats | {rust_reconstructor:.2} ms | {py_reconstructor:.2} ms | {:.2} |",
        rust_reconstructor / py_reconstructor
    );
}
