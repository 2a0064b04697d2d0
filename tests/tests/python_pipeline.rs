//! The local pipeline end to end with the `python` reconstructor backend: SAM 3D Objects'
//! worker protocol and supervision, driven with the committed stand-in for the official
//! `inference` module (`container/models/python/stand_in`), from photo to mesh and mail.
//! The real module needs a CUDA GPU with 32 GB; it did not run here.

use gen3d_tests::{TestApp, photo_to_object};

/// A Python with numpy (`make test`'s ort venv); fails, saying so, without one.
fn python() -> std::path::PathBuf {
    let python = std::env::var_os("GEN3D_ORT_PYTHON").map(std::path::PathBuf::from).unwrap_or_else(|| "python3".into());
    let ok = std::process::Command::new(&python).args(["-c", "import numpy"]).status().is_ok_and(|s| s.success());
    assert!(ok, "{} cannot import numpy: run `make test` (or set GEN3D_ORT_PYTHON to a Python with numpy)", python.display());
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photo_to_mesh_and_mail_through_the_python_worker() {
    let models = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(models.path().join("hf")).unwrap();
    std::fs::write(models.path().join("hf/pipeline.yaml"), "stand-in pipeline\n").unwrap();
    let manifest = serde_json::json!({
        "reconstructor": {
            "backend": "python",
            "config": "hf/pipeline.yaml",
            "python": python(),
            "path": gen3d_tests::repo().join("container/models/python/stand_in"),
            "request_secs": 60,
        }
    });
    std::fs::write(models.path().join("manifest.json"), manifest.to_string()).unwrap();
    let dir = models.path().to_owned();
    let app = TestApp::start_with(move |c| c.models = Some(dir));
    let api = app.user("worker@example.com");
    let (_, done) = photo_to_object(&api, "dog.jpg", 150.0, 420.0).await;
    assert_eq!(done["state"], "done", "{done}");
    assert!(done["stats"]["triangles"].as_u64().unwrap() > 100, "{done}");
    // The stand-in's pose, normalised, kept on the object.
    let pose = &done["pose"];
    assert!((pose["rotation"][0].as_f64().unwrap() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-3, "{pose}");
    assert_eq!(pose["translation"], serde_json::json!([0.1, -0.2, 2.5]), "{pose}");
    assert!((pose["scale"].as_f64().unwrap() - 0.8).abs() < 1e-6, "{pose}");
    let object = done["id"].as_str().unwrap();
    app.wait_mail(&format!("{object}-done.eml")).await; // the owner was mailed
}
