//! The `python` reconstructor backend over the container's `/invocations`, with a
//! stand-in for SAM 3D Objects' official `inference` module (same import path, same call
//! and return shapes: `Inference(config, compile=False)`, called with an RGB uint8 image,
//! a bool mask and a seed, returning `gs.save_ply`, `rotation`, `translation`, `scale`).
//! The real package needs a CUDA GPU with 32 GB; it did not run here.
//!
//! The stand-in misbehaves on cue (the seed): each failure becomes a failure with a clear
//! reason, the server stays up, and the next request is served (by a restarted worker
//! where the last one died). Needs `python3` with numpy (`make test` uses the ort venv).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gen3d_domain::ObjectKey;
use gen3d_embedded::FsBlobStore;
use gen3d_media::SplatCloud;
use gen3d_models::manifest::PythonEntry;
use gen3d_ports::BlobStore;
use serde_json::{Value, json};

/// The stand-in for the official `inference` module (committed, so the local pipeline
/// test and the benchmark use the same one).
const STAND_IN: &str = include_str!("../../models/python/stand_in/inference.py");

/// A Python with numpy: the ort venv of `make test` (`GEN3D_ORT_PYTHON`), else
/// `python3`. Without numpy the test fails, saying so.
fn python() -> PathBuf {
    let python = std::env::var_os("GEN3D_ORT_PYTHON").map(PathBuf::from).unwrap_or_else(|| "python3".into());
    let ok = std::process::Command::new(&python).args(["-c", "import numpy"]).status().is_ok_and(|s| s.success());
    assert!(ok, "{} cannot import numpy: run `make test` (or set GEN3D_ORT_PYTHON to a Python with numpy)", python.display());
    python
}

struct Setup {
    _dir: tempfile::TempDir,
    models: PathBuf,
    package: PathBuf,
}

fn setup(config: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("sam3d");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(package.join("inference.py"), STAND_IN).unwrap();
    let models = dir.path().join("model");
    std::fs::create_dir_all(models.join("hf")).unwrap();
    std::fs::write(models.join("hf/pipeline.yaml"), config).unwrap();
    Setup { models, package, _dir: dir }
}

fn entry(s: &Setup, python: PathBuf, module: &str, request_secs: u64) -> PythonEntry {
    PythonEntry {
        config: "hf/pipeline.yaml".into(),
        python,
        path: Some(s.package.clone()),
        module: module.into(),
        startup_secs: 60,
        request_secs,
        max_in_flight: 1,
    }
}

fn models_with(reconstructor: Result<Arc<dyn gen3d_models::backend::ObjectReconstructor>, String>) -> gen3d_inference::Models {
    gen3d_inference::Models { reconstructor, ..gen3d_inference::Models::builtin() }
}

fn worker(s: &Setup, e: PythonEntry) -> gen3d_inference::Models {
    let r = gen3d_models::python::PythonReconstructor::start(e.settings(&s.models)).unwrap();
    models_with(Ok(r))
}

async fn serve(blobs: Arc<FsBlobStore>, models: gen3d_inference::Models) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = gen3d_inference::app(gen3d_inference::ServerState::new(blobs, 1).with_models(models));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// POSTs `body` as JSON, or GETs when there is none.
async fn call(url: String, body: Option<Value>) -> (u16, Value) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut r = match body {
            Some(b) => agent.post(&url).send_json(b).unwrap(),
            None => agent.get(&url).call().unwrap(),
        };
        (r.status().as_u16(), r.body_mut().read_json().unwrap_or(Value::Null))
    })
    .await
    .unwrap()
}

fn executable(path: &Path, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_owned()
}

/// A worker that greets properly, then answers every request with a frame that is not
/// JSON.
const GARBLED: &str = r#"
import struct, sys
out, inp = sys.stdout.buffer, sys.stdin.buffer
def send(b):
    out.write(struct.pack(">I", len(b))); out.write(b); out.flush()
def recv():
    n = struct.unpack(">I", inp.read(4))[0]; return inp.read(n)
send(b'{"ready": true, "model": "garbled"}')
while True:
    recv(); recv(); recv()
    send(b"{not json")
"#;

fn fixture(name: &str) -> Vec<u8> {
    gen3d_testkit::fixture_bytes(name)
}

async fn photo_and_mask(blobs: &FsBlobStore) {
    let key = |k: &str| ObjectKey::parse(k).unwrap();
    blobs.put(&key("users/u/sessions/s/image"), Bytes::from(fixture("dog.jpg")), "image/jpeg").await.unwrap();
    let mask = image::GrayImage::from_fn(800, 534, |x, y| image::Luma([if (100..300).contains(&x) && (300..500).contains(&y) { 255 } else { 0 }]));
    let mut png = Vec::new();
    mask.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    blobs.put(&key("users/u/sessions/s/objects/o/mask.png"), Bytes::from(png), "image/png").await.unwrap();
}

fn reconstruct(seed: u64) -> Value {
    json!({"task": "reconstruct", "image": "users/u/sessions/s/image", "mask": "users/u/sessions/s/objects/o/mask.png",
           "output": "users/u/sessions/s/objects/o/splat.ply", "seed": seed})
}

async fn wait_ping(base: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = call(format!("{base}/ping"), None).await;
        assert_eq!(status, 200, "/ping answers whatever the worker does");
        let backend = body["models"]["reconstructor"]["backend"].as_str().unwrap_or_default().to_owned();
        if backend.contains(want) {
            return body;
        }
        assert!(Instant::now() < deadline, "/ping never said {want:?}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_serves_and_every_failure_is_reported_and_survived() {
    let s = setup("stand-in pipeline\n");
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(FsBlobStore::new(dir.path()));
    photo_and_mask(&blobs).await;
    let base = serve(blobs.clone(), worker(&s, entry(&s, python(), "inference", 5))).await;
    let ping = wait_ping(&base, "ready").await;
    assert!(ping["models"]["reconstructor"]["backend"].as_str().unwrap().contains("inference.Inference(pipeline.yaml)"), "{ping}");
    assert_eq!(ping["models"]["reconstructor"]["ready"], true, "{ping}");
    let inv = format!("{base}/invocations");

    // Success: the worker's splat, checked and rewritten; the pose in the response.
    let (status, body) = call(inv.clone(), Some(reconstruct(0))).await;
    assert_eq!(status, 200, "{body}");
    let ply = blobs.get(&ObjectKey::parse("users/u/sessions/s/objects/o/splat.ply").unwrap()).await.unwrap();
    let cloud = SplatCloud::read_ply(&ply).unwrap();
    assert_eq!(cloud.splats.len(), body["splats"].as_u64().unwrap() as usize);
    assert!(cloud.splats.len() > 100, "{}", cloud.splats.len());
    let pose = &body["pose"];
    assert!((pose["rotation"][0].as_f64().unwrap() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-3, "{pose}");
    assert_eq!(pose["translation"], json!([0.1, -0.2, 2.5]), "{pose}");
    assert!((pose["scale"].as_f64().unwrap() - 0.8).abs() < 1e-6, "{pose}");

    // Each failure: a 500 failure document with the reason; then a good request works.
    let cases: [(u64, &str); 6] = [
        (1, "out of GPU memory: RuntimeError: CUDA out of memory"),
        (2, "did not answer within 5 s"),
        (3, "exited mid-request (exit status 3)"),
        (4, "killed by signal 9 (SIGKILL; out of memory?)"),
        (5, "the worker's splat fails the PLY checks"),
        (6, "the worker's pose has a bad rotation"),
    ];
    for (seed, reason) in cases {
        let (status, body) = call(inv.clone(), Some(reconstruct(seed))).await;
        assert_eq!(status, 500, "seed {seed}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "seed {seed}: {error:?} does not contain {reason:?}");
        let (status, body) = call(inv.clone(), Some(reconstruct(0))).await;
        assert_eq!(status, 200, "after seed {seed}: {body}");
    }
    let ping = wait_ping(&base, "ready").await;
    assert_eq!(ping["models"]["encoder"]["ready"], true, "the other models are untouched: {ping}");

    // A worker whose reply is not JSON: the request fails saying so.
    std::fs::write(s.package.join("garbled.py"), GARBLED).unwrap();
    let wrapper = format!("#!/bin/sh\nexec {} -u {}\n", python().display(), s.package.join("garbled.py").display());
    let garbled = executable(&s.package.join("garbled.sh"), &wrapper);
    let base = serve(blobs.clone(), worker(&s, entry(&s, garbled, "inference", 5))).await;
    wait_ping(&base, "ready (garbled)").await;
    let (status, body) = call(format!("{base}/invocations"), Some(reconstruct(0))).await;
    assert_eq!(status, 500, "{body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("reply is not JSON"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_cannot_start_fails_its_tasks_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(FsBlobStore::new(dir.path()));
    photo_and_mask(&blobs).await;

    // The model cannot load (the stand-in raises as the real one does without CUDA), the
    // module is not importable, the checkpoint's configuration is missing, the
    // interpreter does not exist, the worker speaks garbage.
    let s = setup("broken\n");
    let garbage = executable(&s.package.join("garbage.sh"), "#!/bin/sh\nprintf 'ABCDhello'\nsleep 30\n");
    let mut missing_config = entry(&s, python(), "inference", 5);
    missing_config.config = "hf/absent.yaml".into();
    let cases = [
        (entry(&s, python(), "inference", 5), "could not load the model: RuntimeError: CUDA is not available"),
        (entry(&s, python(), "no_such_module", 5), "ModuleNotFoundError"),
        (missing_config, "hf/absent.yaml is missing"),
        (entry(&s, "/nonexistent/python".into(), "inference", 5), "cannot start /nonexistent/python"),
        (entry(&s, garbage, "inference", 5), "malformed frame while starting"),
    ];
    for (e, reason) in cases {
        let base = serve(blobs.clone(), worker(&s, e)).await;
        let ping = wait_ping(&base, "not running").await;
        assert!(ping["models"]["reconstructor"]["backend"].as_str().unwrap().contains(reason), "{reason}: {ping}");
        assert_eq!(ping["models"]["reconstructor"]["ready"], false, "{ping}");
        let (status, body) = call(format!("{base}/invocations"), Some(reconstruct(0))).await;
        assert_eq!(status, 500, "{body}");
        assert!(body["error"].as_str().unwrap_or_default().contains(reason), "{reason}: {body}");
    }
}
