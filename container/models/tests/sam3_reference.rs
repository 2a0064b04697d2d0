//! Gen3D's prompt encoding against the reference: transformers' own SAM 3 tracker.
//!
//! `torch/prepare_sam3.py` writes, into the model directory's `reference/`, one photo's
//! embeddings and what transformers (`Sam3TrackerProcessor` scaling the pixel prompts,
//! `Sam3TrackerModel.forward` padding and embedding them) gives for four prompts: clicks, a
//! box, a box plus clicks, and clicks plus the previous mask. Here the server's encoding
//! (`PromptTensors`, run by tract on the exported decoder) and the browser's
//! (`web/src/decoder.js`, run in Node.js) must reproduce those outputs.
//!
//! Needs `GEN3D_SAM3_MODELS`, a model directory from `make sam3-test-models` (`make test`
//! sets it), and Node.js for the browser half. Without them the test fails, unless
//! `GEN3D_SKIP` names `sam3` (or `web` for the Node.js half).

use std::path::{Path, PathBuf};
use std::process::Command;

use gen3d_domain::{Point, PointLabel, Prompt, PromptBox};
use gen3d_media::Embeddings;
use gen3d_models::backend::Models;
use gen3d_models::decoder::{Decoder, DecoderOutput, PromptTensors};
use serde_json::Value;

use gen3d_testkit::runs;

/// The SAM 3 model directory, or None when `GEN3D_SKIP=sam3` asks to skip.
fn model_dir() -> Option<PathBuf> {
    if !runs("sam3", "the SAM 3 reference checks") {
        return None;
    }
    let dir = std::env::var_os("GEN3D_SAM3_MODELS")
        .expect("GEN3D_SAM3_MODELS must name a SAM 3 model directory (`make sam3-test-models`; `make test` sets it), or set GEN3D_SKIP=sam3");
    Some(PathBuf::from(dir))
}

fn floats(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

struct Reference {
    dir: PathBuf,
    json: Value,
    embeddings: Embeddings,
}

impl Reference {
    fn open(models: &Path) -> Self {
        let dir = models.join("reference");
        let text = std::fs::read_to_string(dir.join("reference.json")).expect("reference/reference.json");
        let embeddings = Embeddings::new(
            floats(&dir.join("image_embed.f32")),
            floats(&dir.join("high_res_feats_0.f32")),
            floats(&dir.join("high_res_feats_1.f32")),
        )
        .expect("the reference's tensors have the contract's shapes");
        Self { json: serde_json::from_str(&text).unwrap(), dir, embeddings }
    }

    fn size(&self) -> (u32, u32) {
        (self.json["width"].as_u64().unwrap() as u32, self.json["height"].as_u64().unwrap() as u32)
    }

    fn cases(&self) -> &[Value] {
        self.json["cases"].as_array().unwrap()
    }

    fn masks(&self, case: &Value) -> Vec<f32> {
        floats(&self.dir.join(case["masks"].as_str().unwrap()))
    }

    fn iou(case: &Value) -> [f32; 3] {
        let v: Vec<f32> = case["iou_predictions"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        [v[0], v[1], v[2]]
    }

    /// The best candidate of the case `case` names as its previous mask (what the client
    /// passes back as mask_input).
    fn previous(&self, case: &Value) -> Option<Vec<f32>> {
        let name = case["previous"].as_str()?;
        let earlier = self.cases().iter().find(|c| c["name"] == name).unwrap();
        let out = DecoderOutput { masks: self.masks(earlier), iou_predictions: Self::iou(earlier) };
        let plane = 288 * 288;
        let best = out.best();
        Some(out.masks[best * plane..(best + 1) * plane].to_vec())
    }

    fn prompt(&self, case: &Value) -> Prompt {
        let (w, h) = self.size();
        let points = case["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| Point {
                x: p[0].as_f64().unwrap() as f32,
                y: p[1].as_f64().unwrap() as f32,
                label: if p[2] == "include" { PointLabel::Include } else { PointLabel::Exclude },
            })
            .collect();
        let bbox = case["box"].as_array().map(|b| {
            let v: Vec<f32> = b.iter().map(|x| x.as_f64().unwrap() as f32).collect();
            PromptBox { x0: v[0], y0: v[1], x1: v[2], y1: v[3] }
        });
        Prompt::new(points, bbox, w, h).unwrap()
    }
}

fn decoder(models: &Path) -> Decoder {
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(models.join("manifest.json")).unwrap()).unwrap();
    Decoder::from_file(&models.join(manifest["decoder"]["file"].as_str().unwrap())).unwrap()
}

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn the_servers_prompts_give_transformers_masks() {
    let Some(models) = model_dir() else { return };
    let reference = Reference::open(&models);
    let decoder = decoder(&models);
    let (w, h) = reference.size();
    for case in reference.cases() {
        let name = case["name"].as_str().unwrap();
        let tensors = PromptTensors::new(&reference.prompt(case), w, h);
        let previous = reference.previous(case);
        let got = decoder.run(&reference.embeddings, &tensors, previous.as_deref()).unwrap();
        let want = reference.masks(case);
        let diff = largest_difference(&got.masks, &want);
        let iou_diff = largest_difference(&got.iou_predictions, &Reference::iou(case));
        eprintln!("{name}: logits within {diff:.2e}, IoU within {iou_diff:.2e} of transformers");
        assert!(diff <= 1e-3 && iou_diff <= 1e-3, "{name}: the decoder's output is {diff} (logits) / {iou_diff} (IoU) from transformers'");
        // The same full-size mask as the reference logits give, pixel for pixel.
        let reference_out = DecoderOutput { masks: want, iou_predictions: Reference::iou(case) };
        let best = reference_out.best();
        assert_eq!(got.best(), best, "{name}: best candidate");
        let (ours, theirs) = (got.mask(best, w, h).unwrap(), reference_out.mask(best, w, h).unwrap());
        let differing = ours.data().iter().zip(theirs.data()).filter(|(a, b)| a != b).count();
        assert!(differing * 10_000 <= (w * h) as usize, "{name}: {differing} mask pixels differ");

        // The check can fail: SAM 1's encoding (no pad point with a box) is far off.
        if case["box"].is_array() {
            let n = tensors.len();
            let sam1 =
                PromptTensors { point_coords: tensors.point_coords[..2 * (n - 1)].to_vec(), point_labels: tensors.point_labels[..n - 1].to_vec() };
            let off = largest_difference(&decoder.run(&reference.embeddings, &sam1, None).unwrap().masks, &reference.masks(case));
            eprintln!("{name}: SAM 1's encoding would be off by {off:.3}");
            assert!(off > 100.0 * diff.max(1e-5), "{name}: dropping the pad point should change the logits");
        }
    }
}

#[test]
fn the_browsers_prompts_equal_the_servers() {
    let Some(models) = model_dir() else { return };
    if !runs("web", "checking the browser's prompt encoding") {
        return;
    }
    let reference = Reference::open(&models);
    let (w, h) = reference.size();
    let cases: Vec<Value> = reference
        .cases()
        .iter()
        .map(|case| {
            let prompt = reference.prompt(case);
            let points: Vec<Value> = prompt
                .points()
                .iter()
                .map(|p| serde_json::json!({ "x": p.x, "y": p.y, "label": if p.label == PointLabel::Include { "include" } else { "exclude" } }))
                .collect();
            let bbox = prompt.bbox().map(|b| serde_json::json!({ "x0": b.x0, "y0": b.y0, "x1": b.x1, "y1": b.y1 }));
            serde_json::json!({ "points": points, "box": bbox })
        })
        .collect();
    let web = gen3d_testkit::repo().join("web");
    let script = "import { DecoderClient } from './src/decoder.js';\n\
        const { cases, w, h } = JSON.parse(process.env.GEN3D_CASES);\n\
        console.log(JSON.stringify(cases.map((c) => DecoderClient.tensors(c.points, c.box, w, h))));";
    let out = Command::new("node")
        .current_dir(&web)
        .args(["--input-type=module", "-e", script])
        .env("GEN3D_CASES", serde_json::json!({ "cases": cases, "w": w, "h": h }).to_string())
        .output()
        .expect("node runs (install Node.js, or set GEN3D_SKIP=web)");
    assert!(out.status.success(), "node: {}", String::from_utf8_lossy(&out.stderr));
    let browser: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for (case, js) in reference.cases().iter().zip(&browser) {
        let rust = PromptTensors::new(&reference.prompt(case), w, h);
        let list = |v: &Value| -> Vec<f32> { v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect() };
        let (coords, labels) = (list(&js["coords"]), list(&js["labels"]));
        assert_eq!(labels, rust.point_labels, "{}: the browser's labels", case["name"]);
        assert!(largest_difference(&coords, &rust.point_coords) < 1e-3, "{}: the browser's coordinates {coords:?}", case["name"]);
    }
}

#[test]
fn the_model_directory_loads_its_decoder_and_bad_files_are_named() {
    let Some(models) = model_dir() else { return };
    let loaded = Models::load(&models);
    let decoder = loaded.decoder.as_ref().expect("the decoder loads");
    assert!(decoder.describe().ends_with("sam3_decoder.onnx"), "{}", decoder.describe());
    assert_eq!(decoder.onnx_bytes(), std::fs::read(models.join("sam3_decoder.onnx")).unwrap(), "the served bytes are the file's");

    // A copy with a missing decoder, a corrupt one, and one with another contract.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(models.join("manifest.json"), copy.path().join("manifest.json")).unwrap();
    let reason = |dir: &Path| Models::load(dir).decoder.err().expect("the decoder must fail to load");
    let missing = reason(copy.path());
    assert!(missing.contains("sam3_decoder.onnx") && missing.contains("cannot read"), "{missing}");

    let bytes = std::fs::read(models.join("sam3_decoder.onnx")).unwrap();
    std::fs::write(copy.path().join("sam3_decoder.onnx"), &bytes[..bytes.len() / 3]).unwrap();
    let corrupt = reason(copy.path());
    assert!(corrupt.contains("sam3_decoder.onnx") && corrupt.contains("not a readable ONNX model"), "{corrupt}");

    // The same graph with an input renamed (transformers' own export names them so).
    let renamed = replace_all(&bytes, b"point_coords", b"input_points");
    std::fs::write(copy.path().join("sam3_decoder.onnx"), renamed).unwrap();
    let other = reason(copy.path());
    assert!(other.contains("sam3_decoder.onnx") && other.contains("not a click decoder with Gen3D's contract"), "{other}");
}

/// `bytes` with every `from` replaced by `to` (same length, so the protobuf stays valid).
fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut count = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            count += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(count > 0, "no {:?} in the file", String::from_utf8_lossy(from));
    out
}
