//! The decoder ONNX file gives the same masks in onnxruntime (the engine of
//! onnxruntime-web, which the browser runs) as in tract (which the server runs).
//!
//! Needs a Python with `onnxruntime` and `numpy`: `make test` provides one and sets
//! `GEN3D_ORT_PYTHON`. Without it the test fails, unless `GEN3D_SKIP=ort` asks to skip it
//! (it then says so and checks nothing).

use std::process::Command;

use gen3d_domain::{Point, PointLabel, Prompt, PromptBox};
use gen3d_media::decode_photo;
use gen3d_models::decoder::{Decoder, PromptTensors};
use gen3d_models::{decoder_graph, encoder};

#[test]
fn onnxruntime_and_tract_agree() {
    let Ok(python) = std::env::var("GEN3D_ORT_PYTHON") else {
        assert!(
            !gen3d_testkit::runs("ort", "the onnxruntime parity check"),
            "GEN3D_ORT_PYTHON is not set: run `make test` (or set GEN3D_SKIP=ort to skip the onnxruntime parity test)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = gen3d_testkit::repo().join("container/models");
    let photo = decode_photo(&gen3d_testkit::fixture_bytes("truck.jpg")).unwrap();
    let emb = encoder::encode(&photo);
    let emb_path = dir.path().join("e.g3e");
    std::fs::write(&emb_path, emb.encode()).unwrap();
    let emb = gen3d_media::Embeddings::decode(&std::fs::read(&emb_path).unwrap()).unwrap();
    let onnx = dir.path().join("decoder.onnx");
    std::fs::write(&onnx, decoder_graph::decoder_onnx()).unwrap();
    let decoder = Decoder::builtin();
    let (w, h) = (photo.width(), photo.height());
    let inc = |x, y| Point { x, y, label: PointLabel::Include };
    let prompts = [
        Prompt::new(vec![inc(500.0, 375.0)], None, w, h).unwrap(),
        Prompt::new(vec![inc(900.0, 500.0), Point { x: 1300.0, y: 500.0, label: PointLabel::Exclude }], None, w, h).unwrap(),
        Prompt::new(vec![], Some(PromptBox { x0: 100.0, y0: 250.0, x1: 1700.0, y1: 900.0 }), w, h).unwrap(),
    ];
    for (i, prompt) in prompts.iter().enumerate() {
        let tensors = PromptTensors::new(prompt, w, h);
        let out = decoder.run(&emb, &tensors, None).unwrap();
        let write = |name: &str, v: &[f32]| {
            let p = dir.path().join(format!("{name}{i}.f32"));
            std::fs::write(&p, v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
            p
        };
        let masks = write("masks", &out.masks);
        let iou = write("iou", &out.iou_predictions);
        let case = dir.path().join(format!("case{i}.json"));
        std::fs::write(&case, serde_json::json!({"coords": tensors.point_coords, "labels": tensors.point_labels}).to_string()).unwrap();
        let run = Command::new(&python)
            .arg(root.join("tests/onnxruntime_check.py"))
            .args([&onnx, &emb_path, &case, &masks, &iou])
            .output()
            .expect("python runs");
        assert!(run.status.success(), "onnxruntime failed: {}", String::from_utf8_lossy(&run.stderr));
        let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        eprintln!("prompt {i}: {report}");
        assert!(report["max_logit_diff"].as_f64().unwrap() < 1e-2, "prompt {i}: {report}");
        assert!(report["max_iou_diff"].as_f64().unwrap() < 1e-3, "prompt {i}: {report}");
        assert!(report["sign_agreement"].as_f64().unwrap() > 0.9999, "prompt {i}: {report}");
    }
}
