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

pub use gen3d_domain::Pose;

/// A reconstructed object: its Gaussian splats in object-local coordinates, and where it
/// sits in the photo's camera frame when the model says.
#[derive(Clone, Debug)]
pub struct Reconstruction {
    pub cloud: SplatCloud,
    pub pose: Option<Pose>,
}

/// SAM 3D Objects: photo + mask (same size, not empty) + seed -> Gaussian splats.
pub trait ObjectReconstructor: Send + Sync {
    fn describe(&self) -> String;
    /// Whether it can take a request now (a worker process may be starting, or down).
    fn ready(&self) -> bool {
        true
    }
    fn reconstruct(&self, photo: &Photo, mask: &Mask, seed: u64) -> Result<SplatCloud, ModelError>;
    /// The splats and the object's pose. By default the pose is estimated from where the
    /// mask lies in the photo ([`pose_from_mask`]).
    fn reconstruct_posed(&self, photo: &Photo, mask: &Mask, seed: u64) -> Result<Reconstruction, ModelError> {
        Ok(Reconstruction { cloud: self.reconstruct(photo, mask, seed)?, pose: pose_from_mask(mask) })
    }
}

/// Depth at which [`pose_from_mask`] places objects (the scene's unit of length).
pub const DEFAULT_DEPTH: f32 = 2.0;

/// A plausible pose when the model gives none: a pinhole camera with a focal length of
/// the photo's longer side (about 53° across it), the object facing the camera at
/// [`DEFAULT_DEPTH`], centred on the mask's bounding box and as large as its longer side.
/// The object-local frame is SAM 3D Objects' (z up, the side seen in the photo towards
/// -y, as the built-in reconstructor lays it out); the camera's is x right, y down, z
/// forward, so the rotation is a quarter turn about x: (x, y, z) -> (x, -z, y).
/// `None` for an empty mask.
pub fn pose_from_mask(mask: &Mask) -> Option<Pose> {
    if mask.coverage() <= 0.0 {
        return None;
    }
    let (x0, y0, x1, y1) = mask.bounds();
    let (w, h) = (mask.width() as f32, mask.height() as f32);
    let f = w.max(h);
    let (cx, cy) = ((x0 + x1) as f32 / 2.0 + 0.5, (y0 + y1) as f32 / 2.0 + 0.5);
    let size = ((x1 - x0 + 1) as f32).max((y1 - y0 + 1) as f32);
    let z = DEFAULT_DEPTH;
    let half = std::f32::consts::FRAC_1_SQRT_2;
    Some(Pose { rotation: [half, half, 0.0, 0.0], translation: [(cx - w / 2.0) / f * z, (cy - h / 2.0) / f * z, z], scale: size / f * z })
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
            ModelEntry::Python(_) => Err("the python backend runs the reconstructor only".into()),
            ModelEntry::Torch { file, dtype } => load_torch_encoder(&model_dir.join(file), manifest.device, *dtype),
        };
        let reconstructor: Loaded<dyn ObjectReconstructor> = match &manifest.reconstructor {
            ModelEntry::Builtin => Ok(Arc::new(BuiltinReconstructor)),
            // The reconstructor's inputs are uint8 and bool: a dtype has nothing to cast.
            ModelEntry::Torch { file, dtype: _ } => load_torch_reconstructor(&model_dir.join(file), manifest.device),
            ModelEntry::Python(entry) => crate::python::PythonReconstructor::start(entry.settings(model_dir))
                .map(|m| m as Arc<dyn ObjectReconstructor>)
                .map_err(|e| e.to_string()),
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
            "reconstructor": match &self.reconstructor {
                Ok(m) => serde_json::json!({ "ready": m.ready(), "backend": m.describe() }),
                Err(e) => serde_json::json!({ "ready": false, "error": e }),
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    /// v rotated by the unit quaternion q = (w, x, y, z).
    fn rotate(q: [f32; 4], v: [f32; 3]) -> [f32; 3] {
        let [w, x, y, z] = q;
        let u = [x, y, z];
        let cross = |a: [f32; 3], b: [f32; 3]| [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
        let t = cross(u, v).map(|c| 2.0 * c);
        let c = cross(u, t);
        std::array::from_fn(|k| v[k] + w * t[k] + c[k])
    }

    #[test]
    fn the_estimated_pose_shows_the_photographed_side_upright() {
        let mut bits = vec![false; 40 * 30];
        for y in 10..20 {
            for x in 5..25 {
                bits[y * 40 + x] = true;
            }
        }
        let pose = pose_from_mask(&Mask::new(40, 30, bits).unwrap()).unwrap();
        let close = |a: [f32; 3], b: [f32; 3]| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-5);
        // The photographed side (-y in the object) faces the camera (-z), up (+z) is up (-y).
        assert!(close(rotate(pose.rotation, [0.0, -1.0, 0.0]), [0.0, 0.0, -1.0]), "{pose:?}");
        assert!(close(rotate(pose.rotation, [0.0, 0.0, 1.0]), [0.0, -1.0, 0.0]), "{pose:?}");
        assert!(close(rotate(pose.rotation, [1.0, 0.0, 0.0]), [1.0, 0.0, 0.0]), "{pose:?}");
        assert!(pose.translation[2] == DEFAULT_DEPTH && pose.scale > 0.0);
    }
}
