//! TorchScript from Rust (tch) against the same module from Python, in one run: the
//! torch backend must be no slower than Python. Modules and inputs come from
//! `torch/test_modules.py` (the real models' contracts; see its docstring).
//!
//! `make bench-torch` (= `cargo bench -p gen3d-models --features torch --bench torch_vs_python`
//! with the torch venv's Python and libtorch).

use std::process::Command;
use std::time::Instant;

use gen3d_media::{Mask, Photo};
use gen3d_models::backend::ObjectReconstructor;
use gen3d_models::manifest::{DeviceChoice, Dtype};
use gen3d_models::torch::{TorchEncoder, TorchReconstructor};
use tch::Tensor;

const RUNS: usize = 15;
const ROUNDS: usize = 5;

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
    let script = gen3d_testkit::repo().join("container/models/torch/test_modules.py");
    let dir = tempfile::tempdir().unwrap();
    assert!(Command::new(&python).arg(&script).arg("make").arg(dir.path()).status().unwrap().success());
    let read = |name: &str| std::fs::read(dir.path().join("reference").join(format!("{name}.bin"))).unwrap();

    let encoder = TorchEncoder::load(&dir.path().join("sam3_image_encoder.pt"), DeviceChoice::Auto, Dtype::Float32).unwrap();
    let input: Vec<f32> = read("encoder_input").chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    let reconstructor = TorchReconstructor::load(&dir.path().join("sam3d_objects.pt"), DeviceChoice::Auto).unwrap();
    let (w, h) = (960, 720);
    let photo = Photo { rgb: image::RgbImage::from_raw(w, h, read("image")).unwrap() };
    let mask = Mask::new(w, h, read("mask").iter().map(|&b| b != 0).collect()).unwrap();

    // Rounds alternate Rust and Python, so drift on a shared machine hits both; each side's
    // figure is the median of its round medians.
    // The module call as Python makes it: tensors in, outputs copied out as float32 host
    // values. Then the whole backend call the server makes: Rust buffers in (copied into
    // tensors), every output checked (shape, finite values) and converted.
    let input_t = Tensor::from_slice(&input).view([1, 3, 1008, 1008]);
    let image_t = Tensor::from_slice(photo.rgb.as_raw()).view([720, 960, 3]);
    let mask_t = Tensor::from_slice(mask.data()).view([720, 960]);
    let host = |outputs: &[Tensor]| {
        for o in outputs {
            let o = o.to_device(tch::Device::Cpu).to_kind(tch::Kind::Float).contiguous().view([-1]);
            Vec::<f32>::try_from(&o).unwrap();
        }
    };
    let (mut rust, mut py, mut whole) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    let mut threads = serde_json::Value::Null;
    for _ in 0..ROUNDS {
        rust[0].push(median_ms(|| tch::no_grad(|| host(&encoder.forward(&input_t).unwrap()))));
        rust[1].push(median_ms(|| tch::no_grad(|| host(&reconstructor.forward(&image_t, &mask_t, 7).unwrap()))));
        whole[0].push(median_ms(|| {
            encoder.run(&input).unwrap();
        }));
        whole[1].push(median_ms(|| {
            reconstructor.reconstruct(&photo, &mask, 7).unwrap();
        }));
        let out = Command::new(&python).arg(&script).arg("bench").arg(dir.path()).arg(RUNS.to_string()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        py[0].push(v["encoder_ms"].as_f64().unwrap());
        py[1].push(v["reconstructor_ms"].as_f64().unwrap());
        threads = v["threads"].clone();
    }
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [rust_encoder, rust_reconstructor] = rust.map(mid);
    let [py_encoder, py_reconstructor] = py.map(mid);
    let [whole_encoder, whole_reconstructor] = whole.map(mid);

    let device = if tch::Cuda::is_available() { "cuda:0" } else { "cpu" };
    println!("TorchScript modules from test_modules.py, {ROUNDS} alternating rounds of {RUNS} runs after a warm-up, device {device}");
    println!("(libtorch threads: Rust {}, Python {threads})", tch::get_num_threads());
    println!("| module | module call, Rust (tch) | module call, Python | Rust / Python | whole backend call (Rust) |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| encoder, [1,3,1008,1008] -> 3 embeddings | {rust_encoder:.2} ms | {py_encoder:.2} ms | {:.2} | {whole_encoder:.2} ms |",
        rust_encoder / py_encoder
    );
    println!(
        "| reconstructor, 960x720 photo + mask -> 30k splats | {rust_reconstructor:.2} ms | {py_reconstructor:.2} ms | {:.2} | {whole_reconstructor:.2} ms |",
        rust_reconstructor / py_reconstructor
    );
}
