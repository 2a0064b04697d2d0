//! The embeddings file (`embeddings.g3e`) the server writes once per photo and the
//! browser downloads: the SAM 3 tracker's three image tensors, stored as float16.
//!
//! ```text
//! "G3DE" | u32 version=1 | u32 header_len | header (JSON) | pad to 4 | f16 LE data
//! header: {"dtype":"float16","tensors":[{"name","shape","offset"}...]}  (offset in elements)
//! ```

use half::f16;
use serde::{Deserialize, Serialize};

use crate::MediaError;

pub const EMBED_SHAPE: [usize; 4] = [1, 256, 72, 72];
pub const HIGH_RES_0_SHAPE: [usize; 4] = [1, 32, 288, 288];
pub const HIGH_RES_1_SHAPE: [usize; 4] = [1, 64, 144, 144];

const MAGIC: &[u8; 4] = b"G3DE";
const VERSION: u32 = 1;
const NAMES: [&str; 3] = ["image_embed", "high_res_feats_0", "high_res_feats_1"];
const SHAPES: [[usize; 4]; 3] = [EMBED_SHAPE, HIGH_RES_0_SHAPE, HIGH_RES_1_SHAPE];

/// The encoder's output, f32, NCHW.
#[derive(Clone, Debug, PartialEq)]
pub struct Embeddings {
    pub image_embed: Vec<f32>,
    pub high_res_feats_0: Vec<f32>,
    pub high_res_feats_1: Vec<f32>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    dtype: String,
    tensors: Vec<TensorEntry>,
}

#[derive(Serialize, Deserialize)]
struct TensorEntry {
    name: String,
    shape: Vec<usize>,
    offset: usize,
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

impl Embeddings {
    fn tensors(&self) -> [&Vec<f32>; 3] {
        [&self.image_embed, &self.high_res_feats_0, &self.high_res_feats_1]
    }

    pub fn check_shapes(&self) -> Result<(), MediaError> {
        for ((t, shape), name) in self.tensors().iter().zip(SHAPES).zip(NAMES) {
            if t.len() != numel(&shape) {
                return Err(MediaError::Embeddings(format!("{name} has {} values, expected {shape:?}", t.len())));
            }
        }
        Ok(())
    }

    pub fn encode(&self) -> Vec<u8> {
        self.check_shapes().expect("encoder output has the contract's shapes");
        let mut offset = 0;
        let tensors = NAMES
            .iter()
            .zip(SHAPES)
            .map(|(name, shape)| {
                let entry = TensorEntry { name: (*name).into(), shape: shape.to_vec(), offset };
                offset += numel(&shape);
                entry
            })
            .collect();
        let header = serde_json::to_vec(&Header { dtype: "float16".into(), tensors }).expect("header serialises");
        let mut out = Vec::with_capacity(16 + header.len() + offset * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        while out.len() % 4 != 0 {
            out.push(b' ');
        }
        for t in self.tensors() {
            for &v in t {
                out.extend_from_slice(&f16::from_f32(v).to_le_bytes());
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, MediaError> {
        let bad = |m: &str| MediaError::Embeddings(m.to_owned());
        if bytes.len() < 12 || &bytes[..4] != MAGIC {
            return Err(bad("missing G3DE magic"));
        }
        let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(MediaError::Embeddings(format!("unsupported version {version}")));
        }
        let header_len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        let header_bytes = bytes.get(12..12 + header_len).ok_or_else(|| bad("truncated header"))?;
        let header: Header = serde_json::from_slice(header_bytes).map_err(|e| MediaError::Embeddings(format!("bad header: {e}")))?;
        if header.dtype != "float16" {
            return Err(bad("dtype must be float16"));
        }
        let data_start = (12 + header_len).div_ceil(4) * 4;
        let data = bytes.get(data_start..).ok_or_else(|| bad("truncated data"))?;
        let mut out: Vec<Vec<f32>> = Vec::with_capacity(3);
        for (name, shape) in NAMES.iter().zip(SHAPES) {
            let entry = header.tensors.iter().find(|t| t.name == *name).ok_or_else(|| MediaError::Embeddings(format!("missing tensor {name}")))?;
            if entry.shape != shape {
                return Err(MediaError::Embeddings(format!("{name} has shape {:?}, expected {shape:?}", entry.shape)));
            }
            let range = entry.offset * 2..(entry.offset + numel(&shape)) * 2;
            let raw = data.get(range).ok_or_else(|| MediaError::Embeddings(format!("{name} is truncated")))?;
            out.push(raw.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()).collect());
        }
        let high_res_feats_1 = out.pop().expect("three tensors");
        let high_res_feats_0 = out.pop().expect("three tensors");
        let image_embed = out.pop().expect("three tensors");
        Ok(Self { image_embed, high_res_feats_0, high_res_feats_1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Embeddings {
        let ramp = |n: usize| (0..n).map(|i| ((i % 1000) as f32 - 500.0) / 250.0).collect();
        Embeddings {
            image_embed: ramp(numel(&EMBED_SHAPE)),
            high_res_feats_0: ramp(numel(&HIGH_RES_0_SHAPE)),
            high_res_feats_1: ramp(numel(&HIGH_RES_1_SHAPE)),
        }
    }

    #[test]
    fn round_trips_within_f16_precision() {
        let e = sample();
        let bytes = e.encode();
        assert!(bytes.len() < 11 * 1024 * 1024, "fp16 halves the 21 MB fp32 tensors: {}", bytes.len());
        let back = Embeddings::decode(&bytes).unwrap();
        for (a, b) in e.image_embed.iter().zip(&back.image_embed) {
            assert!((a - b).abs() <= 2e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn rejects_truncated_and_foreign_files() {
        let bytes = sample().encode();
        assert!(Embeddings::decode(&bytes[..bytes.len() - 2]).unwrap_err().to_string().contains("truncated"));
        assert!(Embeddings::decode(b"PK\x03\x04whatever").unwrap_err().to_string().contains("magic"));
    }
}
