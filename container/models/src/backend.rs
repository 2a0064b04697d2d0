//! The two server-side models behind one interface each, whatever runs them: the built-in
//! weight-free models, or TorchScript modules through libtorch (feature `torch`). The
//! inference container loads them once at start ([`Models::load`]) from the model
//! directory's manifest ([`crate::manifest`]).

use std::path::Path;
use std::sync::Arc;

use gen3d_media::{Embeddings, Mask, Photo, SplatCloud};

use crate::decoder::Decoder;
use crate::manifest::{DecoderFiles, Manifest, ModelEntry};
use crate::split_decoder::SplitDecoder;
use crate::{ModelError, encoder, reconstructor};

/// SAM 3's image encoder: photo -> the tracker's three embeddings.
pub trait ImageEncoder: Send + Sync {
    /// What runs it, for logs and `/ping` (`builtin`, `torch cpu sam3_image_encoder.pt`).
    fn describe(&self) -> String;
    fn encode(&self, photo: &Photo) -> Result<Embeddings, ModelError>;
}

/// SAM 3D Objects: photo + mask (same size, not empty) + seed -> Gaussian splats.
pub trait ObjectReconstructor: Send + Sync {
    fn describe(&self) -> String;
    fn reconstruct(&self, photo: &Photo, mask: &Mask, seed: u64) -> Result<SplatCloud, ModelError>;
}

pub struct BuiltinEncoder;

impl ImageEncoder for BuiltinEncoder {
    fn describe(&self) -> String {
        "builtin".into()
    }

    fn encode(&self, photo: &Photo) -> Result<Embeddings, ModelError> {
        Ok(encoder::encode(photo))
    }
}

pub struct BuiltinReconstructor;

impl ObjectReconstructor for BuiltinReconstructor {
    fn describe(&self) -> String {
        "builtin".into()
    }

    fn reconstruct(&self, photo: &Photo, mask: &Mask, seed: u64) -> Result<SplatCloud, ModelError> {
        Ok(reconstructor::reconstruct(photo, mask, seed))
    }
}

/// A model as loaded at start: ready, or the reason it could not be loaded. A model that
/// failed to load fails only the requests that need it; the server keeps serving the rest.
pub type Loaded<T> = Result<Arc<T>, String>;

/// A model directory's models, loaded once: the container's two, and the click decoder
/// that the browser downloads and the API's mask endpoint runs.
#[derive(Clone)]
pub struct Models {
    pub encoder: Loaded<dyn ImageEncoder>,
    pub reconstructor: Loaded<dyn ObjectReconstructor>,
    pub decoder: Loaded<Decoder>,
}

impl Models {
    /// The built-in models (no model directory needed).
    pub fn builtin() -> Self {
        Self { encoder: Ok(Arc::new(BuiltinEncoder)), reconstructor: Ok(Arc::new(BuiltinReconstructor)), decoder: Ok(Arc::new(Decoder::builtin())) }
    }

    /// Loads what `model_dir/manifest.json` names; no manifest means the built-in models.
    /// Never fails as a whole: each model is ready or carries its load error, so a bad
    /// file costs only the tasks that need that model.
    pub fn load(model_dir: &Path) -> Self {
        let manifest = match Manifest::read(model_dir) {
            Ok(m) => m,
            Err(e) => {
                let reason = e.to_string();
                return Self { encoder: Err(reason.clone()), reconstructor: Err(reason.clone()), decoder: Err(reason) };
            }
        };
        let encoder: Loaded<dyn ImageEncoder> = match &manifest.encoder {
            ModelEntry::Builtin => Ok(Arc::new(BuiltinEncoder)),
            ModelEntry::Torch { file, dtype } => load_torch_encoder(&model_dir.join(file), manifest.device, *dtype),
        };
        let reconstructor: Loaded<dyn ObjectReconstructor> = match &manifest.reconstructor {
            ModelEntry::Builtin => Ok(Arc::new(BuiltinReconstructor)),
            // The reconstructor's inputs are uint8 and bool: a dtype has nothing to cast.
            ModelEntry::Torch { file, dtype: _ } => load_torch_reconstructor(&model_dir.join(file), manifest.device),
        };
        let decoder = match &manifest.decoder {
            None => Ok(Arc::new(Decoder::builtin())),
            Some(files) => load_decoder(model_dir, files),
        };
        Self { encoder, reconstructor, decoder }
    }

    /// Whether every model loaded.
    pub fn all_ready(&self) -> bool {
        self.encoder.is_ok() && self.reconstructor.is_ok() && self.decoder.is_ok()
    }

    /// Each model that failed to load, with its reason (one line each).
    pub fn errors(&self) -> Vec<String> {
        [("encoder", self.encoder.as_ref().err()), ("reconstructor", self.reconstructor.as_ref().err()), ("decoder", self.decoder.as_ref().err())]
            .into_iter()
            .filter_map(|(name, e)| e.map(|e| format!("{name}: {e}")))
            .collect()
    }

    /// One line per model: what runs it, or why it is not available.
    pub fn status(&self) -> serde_json::Value {
        fn one(describe: Result<String, &String>) -> serde_json::Value {
            match describe {
                Ok(d) => serde_json::json!({ "ready": true, "backend": d }),
                Err(e) => serde_json::json!({ "ready": false, "error": e }),
            }
        }
        serde_json::json!({
            "encoder": one(self.encoder.as_ref().map(|m| m.describe())),
            "reconstructor": one(self.reconstructor.as_ref().map(|m| m.describe())),
            "decoder": one(self.decoder.as_ref().map(|m| m.describe())),
        })
    }
}

/// The model directory's decoder, with its split form for the browser when it names one.
fn load_decoder(model_dir: &Path, files: &DecoderFiles) -> Loaded<Decoder> {
    let decoder = Decoder::from_file(&model_dir.join(&files.file)).map_err(|e| e.to_string())?;
    let decoder = match &files.split {
        Some(split) => {
            decoder.with_split(SplitDecoder::from_files(&model_dir.join(&split.prepare), &model_dir.join(&split.click)).map_err(|e| e.to_string())?)
        }
        None => decoder,
    };
    Ok(Arc::new(decoder))
}

#[cfg(feature = "torch")]
fn load_torch_encoder(file: &Path, device: crate::manifest::DeviceChoice, dtype: crate::manifest::Dtype) -> Loaded<dyn ImageEncoder> {
    crate::torch::TorchEncoder::load(file, device, dtype).map(|m| Arc::new(m) as Arc<dyn ImageEncoder>).map_err(|e| e.to_string())
}

#[cfg(feature = "torch")]
fn load_torch_reconstructor(file: &Path, device: crate::manifest::DeviceChoice) -> Loaded<dyn ObjectReconstructor> {
    crate::torch::TorchReconstructor::load(file, device).map(|m| Arc::new(m) as Arc<dyn ObjectReconstructor>).map_err(|e| e.to_string())
}

#[cfg(not(feature = "torch"))]
fn load_torch_encoder(file: &Path, _: crate::manifest::DeviceChoice, _: crate::manifest::Dtype) -> Loaded<dyn ImageEncoder> {
    Err(not_built(file))
}

#[cfg(not(feature = "torch"))]
fn load_torch_reconstructor(file: &Path, _: crate::manifest::DeviceChoice) -> Loaded<dyn ObjectReconstructor> {
    Err(not_built(file))
}

#[cfg(not(feature = "torch"))]
fn not_built(file: &Path) -> String {
    format!("{}: the torch backend is not in this build (build gen3d-inference with `--features torch`)", file.display())
}
