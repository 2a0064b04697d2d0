//! The model manifest, `manifest.json` in the model directory (SageMaker unpacks the
//! model artefact to `/opt/ml/model`). It names what runs each model:
//!
//! ```json
//! {
//!   "device": "auto",
//!   "encoder":       { "backend": "torch", "file": "sam3_image_encoder.pt", "dtype": "bfloat16" },
//!   "decoder":       { "file": "sam3_decoder.onnx", "variants": { "fp16": "sam3_decoder.fp16.onnx" },
//!                      "split": { "prepare": "sam3_decoder.prepare.onnx", "click": "sam3_decoder.click.onnx" } },
//!   "reconstructor": { "backend": "builtin" },
//!   "source":        { "weights": "random", "transformers": "5.24.0" }
//! }
//! ```
//!
//! - `device`: `auto` (CUDA when present, else CPU; the default), `cpu`, `cuda`, `cuda:N`.
//! - a model left out is the built-in one; no manifest at all means both built-in.
//! - `file`: a TorchScript module, relative to the model directory.
//! - `decoder.file`: the click decoder as ONNX with Gen3D's decoder contract (the browser
//!   downloads it; the API's mask endpoint runs it); `variants` name smaller copies (fp16,
//!   int8). `split` names the same decoder in two graphs for the browser: `prepare` once
//!   per photo, `click` once per prompt (`torch/split_decoder.py`). Left out: the built-in
//!   decoder.
//! - `source`: free-form provenance written by `torch/prepare_sam3.py` (weights, versions,
//!   the export checks); shown, never interpreted.
//! - `"backend": "python"` (reconstructor only): SAM 3D Objects' official code in a
//!   supervised Python worker (`crate::python`); see [`PythonEntry`].
//! - `dtype`: what the encoder's input is cast to (`float32`, the default, `float16`,
//!   `bfloat16`); outputs are always read back as float32.
//!
//! Unknown fields are refused, so a misspelt key is an error rather than a silent default.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::ModelError;

pub const FILE_NAME: &str = "manifest.json";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub device: DeviceChoice,
    #[serde(default)]
    pub encoder: ModelEntry,
    #[serde(default)]
    pub reconstructor: ModelEntry,
    #[serde(default)]
    pub decoder: Option<DecoderFiles>,
    #[serde(default)]
    pub source: Option<serde_json::Value>,
}

/// The click decoder's ONNX file and its smaller variants, by name.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DecoderFiles {
    pub file: PathBuf,
    #[serde(default)]
    pub variants: BTreeMap<String, PathBuf>,
    #[serde(default)]
    pub split: Option<SplitFiles>,
}

/// The decoder split for the browser: `prepare` runs once per photo on the embeddings,
/// `click` once per prompt on prepare's outputs.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SplitFiles {
    pub prepare: PathBuf,
    pub click: PathBuf,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(tag = "backend", rename_all = "lowercase", deny_unknown_fields)]
pub enum ModelEntry {
    #[default]
    Builtin,
    Torch {
        file: PathBuf,
        #[serde(default)]
        dtype: Dtype,
    },
    /// SAM 3D Objects' official Python code in a supervised worker (reconstructor only).
    Python(PythonEntry),
}

/// `{"backend": "python", "config": "checkpoints/hf/pipeline.yaml", "python":
/// "/opt/sam3d/bin/python", "path": "/opt/sam-3d-objects/notebook", "module": "inference",
/// "startup_secs": 1200, "request_secs": 600, "max_in_flight": 1}`: `config` lies in the
/// model directory; `python` and `path` are the image's.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PythonEntry {
    pub config: PathBuf,
    #[serde(default = "default_python")]
    pub python: PathBuf,
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default = "default_module")]
    pub module: String,
    #[serde(default = "default_startup_secs")]
    pub startup_secs: u64,
    #[serde(default = "default_request_secs")]
    pub request_secs: u64,
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
}

fn default_python() -> PathBuf {
    "python3".into()
}
fn default_module() -> String {
    "inference".into()
}
fn default_startup_secs() -> u64 {
    1200
}
fn default_request_secs() -> u64 {
    600
}
fn default_in_flight() -> usize {
    1
}

impl PythonEntry {
    /// The supervisor's settings, `config` resolved in `model_dir`.
    pub fn settings(&self, model_dir: &Path) -> crate::python::PythonSettings {
        crate::python::PythonSettings {
            python: self.python.clone(),
            path: self.path.clone(),
            module: self.module.clone(),
            config: model_dir.join(&self.config),
            startup: std::time::Duration::from_secs(self.startup_secs),
            request: std::time::Duration::from_secs(self.request_secs),
            max_in_flight: self.max_in_flight,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Cuda(usize),
}

impl<'de> Deserialize<'de> for DeviceChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| serde::de::Error::custom(format!("device {other:?} is not one of auto, cpu, cuda, cuda:N"))),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    #[default]
    Float32,
    Float16,
    Bfloat16,
}

impl Manifest {
    /// Reads and checks `model_dir/manifest.json`; a missing manifest is the built-in models.
    pub fn read(model_dir: &Path) -> Result<Self, ModelError> {
        let path = model_dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(ModelError::Manifest(format!("cannot read {}: {e}", path.display()))),
        };
        let manifest: Self = serde_json::from_str(&text).map_err(|e| ModelError::Manifest(format!("{}: {e}", path.display())))?;
        let mut files: Vec<(String, &Path)> = Vec::new();
        for (name, entry) in [("encoder", &manifest.encoder), ("reconstructor", &manifest.reconstructor)] {
            match entry {
                ModelEntry::Torch { file, .. } => files.push((format!("{name}.file"), file)),
                ModelEntry::Python(p) => files.push((format!("{name}.config"), &p.config)),
                ModelEntry::Builtin => {}
            }
        }
        if let Some(decoder) = &manifest.decoder {
            files.push(("decoder.file".into(), &decoder.file));
            files.extend(decoder.variants.iter().map(|(k, v)| (format!("decoder.variants.{k}"), v.as_path())));
            if let Some(split) = &decoder.split {
                files.push(("decoder.split.prepare".into(), &split.prepare));
                files.push(("decoder.split.click".into(), &split.click));
            }
        }
        for (name, file) in files {
            if !file.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(ModelError::Manifest(format!(
                    "{}: {name} {:?} must be a path inside the model directory",
                    path.display(),
                    file.display()
                )));
            }
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(json: Option<&str>, expect: Result<Manifest, &str>) {
        let dir = tempfile::tempdir().unwrap();
        if let Some(json) = json {
            std::fs::write(dir.path().join(FILE_NAME), json).unwrap();
        }
        match (Manifest::read(dir.path()), expect) {
            (Ok(got), Ok(want)) => {
                assert_eq!((got.device, got.encoder, got.reconstructor, got.decoder), (want.device, want.encoder, want.reconstructor, want.decoder))
            }
            (Err(got), Err(want)) => assert!(got.to_string().contains(want), "{got} does not contain {want:?}"),
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    }

    fn torch(file: &str, dtype: Dtype) -> ModelEntry {
        ModelEntry::Torch { file: file.into(), dtype }
    }

    #[test]
    fn manifests() {
        check(None, Ok(Manifest::default()));
        check(Some("{}"), Ok(Manifest::default()));
        check(
            Some(r#"{"device":"cuda:1","encoder":{"backend":"torch","file":"e.pt","dtype":"bfloat16"}}"#),
            Ok(Manifest { device: DeviceChoice::Cuda(1), encoder: torch("e.pt", Dtype::Bfloat16), ..Default::default() }),
        );
        check(
            Some(r#"{"device":"cpu","reconstructor":{"backend":"torch","file":"models/r.pt"}}"#),
            Ok(Manifest { device: DeviceChoice::Cpu, reconstructor: torch("models/r.pt", Dtype::Float32), ..Default::default() }),
        );
        check(
            Some(r#"{"decoder":{"file":"d.onnx","variants":{"fp16":"d16.onnx"}},"source":{"weights":"random"}}"#),
            Ok(Manifest {
                decoder: Some(DecoderFiles {
                    file: "d.onnx".into(),
                    variants: [("fp16".to_string(), PathBuf::from("d16.onnx"))].into(),
                    split: None,
                }),
                ..Default::default()
            }),
        );
        check(
            Some(r#"{"decoder":{"file":"d.onnx","split":{"prepare":"p.onnx","click":"c.onnx"}}}"#),
            Ok(Manifest {
                decoder: Some(DecoderFiles {
                    file: "d.onnx".into(),
                    variants: BTreeMap::new(),
                    split: Some(SplitFiles { prepare: "p.onnx".into(), click: "c.onnx".into() }),
                }),
                ..Default::default()
            }),
        );
        check(Some("{not json"), Err("manifest.json: key must be a string"));
        check(Some(r#"{"backend":"torch"}"#), Err("unknown field `backend`"));
        check(Some(r#"{"encoder":{"backend":"onnx"}}"#), Err("unknown variant `onnx`"));
        check(Some(r#"{"encoder":{"backend":"torch"}}"#), Err("missing field `file`"));
        check(Some(r#"{"encoder":{"backend":"torch","file":"e.pt","dtpye":"float16"}}"#), Err("unknown field `dtpye`"));
        check(Some(r#"{"device":"tpu"}"#), Err("device \"tpu\" is not one of auto, cpu, cuda, cuda:N"));
        check(Some(r#"{"encoder":{"backend":"torch","file":"../e.pt"}}"#), Err("must be a path inside the model directory"));
        check(Some(r#"{"encoder":{"backend":"torch","file":"/etc/e.pt"}}"#), Err("must be a path inside the model directory"));
        check(Some(r#"{"decoder":{"file":"../d.onnx"}}"#), Err("decoder.file \"../d.onnx\" must be a path inside"));
        check(Some(r#"{"decoder":{"file":"d.onnx","variants":{"int8":"/d.onnx"}}}"#), Err("decoder.variants.int8"));
        check(Some(r#"{"decoder":{"file":"d.onnx","dtype":"float16"}}"#), Err("unknown field `dtype`"));
        check(Some(r#"{"decoder":{"file":"d.onnx","split":{"prepare":"p.onnx"}}}"#), Err("missing field `click`"));
        check(Some(r#"{"decoder":{"file":"d.onnx","split":{"prepare":"p.onnx","click":"../c.onnx"}}}"#), Err("decoder.split.click"));
        check(
            Some(r#"{"reconstructor":{"backend":"python","config":"hf/pipeline.yaml","python":"/opt/sam3d/bin/python","request_secs":60}}"#),
            Ok(Manifest {
                reconstructor: ModelEntry::Python(PythonEntry {
                    config: "hf/pipeline.yaml".into(),
                    python: "/opt/sam3d/bin/python".into(),
                    path: None,
                    module: "inference".into(),
                    startup_secs: 1200,
                    request_secs: 60,
                    max_in_flight: 1,
                }),
                ..Default::default()
            }),
        );
        check(Some(r#"{"reconstructor":{"backend":"python"}}"#), Err("missing field `config`"));
        check(Some(r#"{"reconstructor":{"backend":"python","config":"p.yaml","timeout":5}}"#), Err("unknown field `timeout`"));
        check(Some(r#"{"reconstructor":{"backend":"python","config":"../p.yaml"}}"#), Err("reconstructor.config"));
    }
}
