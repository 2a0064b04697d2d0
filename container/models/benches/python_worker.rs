//! The Python worker's cost per request beyond the model call (issue 17), in one run:
//! the committed stand-in for SAM 3D Objects' `inference` module called in Python
//! directly (the model call, `save_ply` and reading the file back: the work the adapter
//! does around it), against the same calls through the supervised worker from Rust
//! (frames over pipes, the splat's PLY checks, the pose). The difference is the overhead.
//!
//! `make bench-worker` (= `cargo bench -p gen3d-models --bench python_worker` with a
//! Python that has numpy in `GEN3D_ORT_PYTHON`).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gen3d_media::{Mask, decode_photo};
use gen3d_models::backend::ObjectReconstructor;
use gen3d_models::python::{PythonReconstructor, PythonSettings};

const RUNS: usize = 30;

fn stats(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[0], ms[ms.len() - 1])
}

fn main() {
    let python = std::env::var("GEN3D_ORT_PYTHON").expect("GEN3D_ORT_PYTHON must name a Python with numpy (`make bench-worker` sets it)");
    let root = gen3d_testkit::repo().join("container/models");
    let stand_in = root.join("python/stand_in");
    let photo_path = gen3d_testkit::fixture("dog.jpg");
    let photo = decode_photo(&std::fs::read(&photo_path).unwrap()).unwrap();
    let (w, h) = (photo.width(), photo.height());
    let mask = Mask::new(w, h, (0..w * h).map(|i| (100..300).contains(&(i % w)) && (300..500).contains(&(i / w))).collect()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(&config, "stand-in\n").unwrap();

    // Python alone: the same image, mask and work, timed inside one process.
    let rgb = dir.path().join("rgb.bin");
    std::fs::write(&rgb, photo.rgb.as_raw()).unwrap();
    let bits = dir.path().join("mask.bin");
    std::fs::write(&bits, mask.data().iter().map(|&b| u8::from(b)).collect::<Vec<u8>>()).unwrap();
    let script = format!(
        r#"
import sys, time, os, numpy as np
sys.path.insert(0, {stand_in:?})
import inference
m = inference.Inference({config:?}, compile=False)
img = np.fromfile({rgb:?}, np.uint8).reshape({h}, {w}, 3)
mask = np.fromfile({bits:?}, np.uint8).reshape({h}, {w}) > 0
out = []
for i in range({runs} + 1):
    t = time.perf_counter()
    o = m(img, mask, seed=0)
    o["gs"].save_ply({ply:?})
    open({ply:?}, "rb").read()
    out.append((time.perf_counter() - t) * 1e3)
print(" ".join("%.4f" % x for x in out[1:]))
"#,
        stand_in = stand_in.display().to_string(),
        config = config.display().to_string(),
        rgb = rgb.display().to_string(),
        bits = bits.display().to_string(),
        ply = dir.path().join("o.ply").display().to_string(),
        runs = RUNS,
    );
    let output = Command::new(&python).args(["-c", &script]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let direct: Vec<f64> = String::from_utf8(output.stdout).unwrap().split_whitespace().map(|x| x.parse().unwrap()).collect();

    // Through the worker.
    let settings = PythonSettings {
        python: python.into(),
        path: Some(stand_in),
        module: "inference".into(),
        config,
        startup: Duration::from_secs(60),
        request: Duration::from_secs(60),
        max_in_flight: 1,
    };
    let worker: Arc<PythonReconstructor> = PythonReconstructor::start(settings).unwrap();
    worker.reconstruct_posed(&photo, &mask, 0).unwrap();
    let through: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            let r = worker.reconstruct_posed(&photo, &mask, 0).unwrap();
            assert!(!r.cloud.splats.is_empty() && r.pose.is_some());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let (dm, dlo, dhi) = stats(direct);
    let (tm, tlo, thi) = stats(through);
    println!("photo {w}x{h}, {RUNS} runs each");
    println!("stand-in in Python (call + save_ply + read): median {dm:.2} ms ({dlo:.2}-{dhi:.2})");
    println!("through the worker from Rust:               median {tm:.2} ms ({tlo:.2}-{thi:.2})");
    println!("overhead per request (median difference):   {:.2} ms", tm - dm);
}
