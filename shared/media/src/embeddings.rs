//! The embeddings file (`embeddings.g3e`) the server writes once per photo and the
//! browser downloads: the SAM 3 tracker's three image tensors, stored as float16.
//!
//! ```text
//! "G3DE" | u32 version | u32 header_len | header (JSON) | pad to 4 | data
//! header: {"dtype":"float16","tensors":[{"name","shape","offset"}...], ...}  (offset in elements)
//! version 1: data = f16 little-endian values
//! version 2: data = zlib(low bytes of every value, then high bytes); header adds
//!            "layout":"byte_planes","compression":"zlib"
//! ```
//!
//! Version 2 is what the encoder writes: splitting each f16 into byte planes groups the
//! sign/exponent bytes, which deflate well, away from the noisy low mantissa bytes. The
//! values are bit-identical to version 1; browsers inflate it with the built-in
//! `DecompressionStream("deflate")`.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use half::f16;
use serde::{Deserialize, Serialize};

use crate::MediaError;

pub const EMBED_SHAPE: [usize; 4] = [1, 256, 72, 72];
pub const HIGH_RES_0_SHAPE: [usize; 4] = [1, 32, 288, 288];
pub const HIGH_RES_1_SHAPE: [usize; 4] = [1, 64, 144, 144];

/// Mantissa bits of each float16 the wire format keeps (of 10): see [`Embeddings::encode`].
pub const WIRE_MANTISSA_BITS: u32 = 7;

/// `bits` (a float16) rounded to `keep` mantissa bits, to nearest, ties to even; infinities
/// and NaN unchanged, finite values never rounded up to infinity.
fn round_mantissa(bits: u16, keep: u32) -> u16 {
    let drop = 10 - keep.min(10);
    if drop == 0 || bits & 0x7c00 == 0x7c00 {
        return bits;
    }
    let magnitude = u32::from(bits & 0x7fff);
    let lsb = (magnitude >> drop) & 1;
    let rounded = (magnitude + (1 << (drop - 1)) - 1 + lsb) & !((1u32 << drop) - 1);
    let largest = 0x7bff & !((1u32 << drop) - 1);
    (bits & 0x8000) | rounded.min(largest) as u16
}

const MAGIC: &[u8; 4] = b"G3DE";
const RAW: u32 = 1;
const PLANES: u32 = 2;
const NAMES: [&str; 3] = ["image_embed", "high_res_feats_0", "high_res_feats_1"];
const SHAPES: [[usize; 4]; 3] = [EMBED_SHAPE, HIGH_RES_0_SHAPE, HIGH_RES_1_SHAPE];

/// The encoder's output, f32, NCHW. Built only through [`Embeddings::new`] or
/// [`Embeddings::decode`], so every value has the contract's shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Embeddings {
    image_embed: Vec<f32>,
    high_res_feats_0: Vec<f32>,
    high_res_feats_1: Vec<f32>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    dtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    layout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compression: Option<String>,
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

fn total_elements() -> usize {
    SHAPES.iter().map(|s| numel(s)).sum()
}

impl Embeddings {
    /// The three tensors, refused unless each has its shape's number of values
    /// ([`EMBED_SHAPE`], [`HIGH_RES_0_SHAPE`], [`HIGH_RES_1_SHAPE`]).
    pub fn new(image_embed: Vec<f32>, high_res_feats_0: Vec<f32>, high_res_feats_1: Vec<f32>) -> Result<Self, MediaError> {
        let e = Self { image_embed, high_res_feats_0, high_res_feats_1 };
        e.check_shapes()?;
        Ok(e)
    }

    /// `image_embed`, [`EMBED_SHAPE`].
    pub fn image_embed(&self) -> &[f32] {
        &self.image_embed
    }

    /// `high_res_feats_0`, [`HIGH_RES_0_SHAPE`].
    pub fn high_res_feats_0(&self) -> &[f32] {
        &self.high_res_feats_0
    }

    /// `high_res_feats_1`, [`HIGH_RES_1_SHAPE`].
    pub fn high_res_feats_1(&self) -> &[f32] {
        &self.high_res_feats_1
    }

    fn tensors(&self) -> [&Vec<f32>; 3] {
        [&self.image_embed, &self.high_res_feats_0, &self.high_res_feats_1]
    }

    /// Always `Ok` for a value of this type (its constructors check); kept for callers
    /// that assert it.
    pub fn check_shapes(&self) -> Result<(), MediaError> {
        for ((t, shape), name) in self.tensors().iter().zip(SHAPES).zip(NAMES) {
            if t.len() != numel(&shape) {
                return Err(MediaError::Embeddings(format!("{name} has {} values, expected {shape:?}", t.len())));
            }
        }
        Ok(())
    }

    /// The values as f16 bit patterns, tensor after tensor.
    fn half_bits(&self) -> Vec<u16> {
        self.tensors().iter().flat_map(|t| t.iter().map(|&v| round_mantissa(f16::from_f32(v).to_bits(), WIRE_MANTISSA_BITS))).collect()
    }

    /// Version 2 (byte planes, zlib): what the server stores and sends. The float16 values
    /// keep [`WIRE_MANTISSA_BITS`] of their 10 mantissa bits (rounded to nearest even):
    /// the zeroed low bits make the low byte plane deflate, which brings real-architecture
    /// SAM 3 features under 8 MB (docs/benchmarks.md) at 99.99% of mask pixels unchanged.
    pub fn encode(&self) -> Vec<u8> {
        let bits = self.half_bits();
        let mut planes = Vec::with_capacity(bits.len() * 2);
        planes.extend(bits.iter().map(|b| (b & 0xff) as u8));
        planes.extend(bits.iter().map(|b| (b >> 8) as u8));
        let mut z = ZlibEncoder::new(Vec::with_capacity(bits.len()), Compression::new(4));
        z.write_all(&planes).expect("writing to memory cannot fail");
        let data = z.finish().expect("writing to memory cannot fail");
        self.with_header(PLANES, Some(("byte_planes", "zlib")), &data)
    }

    /// Version 1 (raw little-endian f16, the same rounded values): still read, written for
    /// tools that want it flat.
    pub fn encode_raw(&self) -> Vec<u8> {
        let data: Vec<u8> = self.half_bits().iter().flat_map(|b| b.to_le_bytes()).collect();
        self.with_header(RAW, None, &data)
    }

    fn with_header(&self, version: u32, packing: Option<(&str, &str)>, data: &[u8]) -> Vec<u8> {
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
        let header = Header { dtype: "float16".into(), layout: packing.map(|p| p.0.into()), compression: packing.map(|p| p.1.into()), tensors };
        let header = serde_json::to_vec(&header).expect("header serialises");
        let mut out = Vec::with_capacity(16 + header.len() + data.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        while out.len() % 4 != 0 {
            out.push(b' ');
        }
        out.extend_from_slice(data);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, MediaError> {
        let bad = |m: &str| MediaError::Embeddings(m.to_owned());
        if bytes.len() < 12 || &bytes[..4] != MAGIC {
            return Err(bad("missing G3DE magic"));
        }
        let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
        if version != RAW && version != PLANES {
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
        let bits = if version == PLANES { inflate_planes(data)? } else { data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect() };
        let mut out: Vec<Vec<f32>> = Vec::with_capacity(3);
        for (name, shape) in NAMES.iter().zip(SHAPES) {
            let entry = header.tensors.iter().find(|t| t.name == *name).ok_or_else(|| MediaError::Embeddings(format!("missing tensor {name}")))?;
            if entry.shape != shape {
                return Err(MediaError::Embeddings(format!("{name} has shape {:?}, expected {shape:?}", entry.shape)));
            }
            let raw = bits.get(entry.offset..entry.offset + numel(&shape)).ok_or_else(|| MediaError::Embeddings(format!("{name} is truncated")))?;
            out.push(raw.iter().map(|&b| f16::from_bits(b).to_f32()).collect());
        }
        let high_res_feats_1 = out.pop().expect("three tensors");
        let high_res_feats_0 = out.pop().expect("three tensors");
        let image_embed = out.pop().expect("three tensors");
        Ok(Self { image_embed, high_res_feats_0, high_res_feats_1 })
    }
}

/// Inflates version 2 data back to f16 bit patterns, reading no more than the contract's
/// element count (a stream that inflates further is refused, not buffered).
fn inflate_planes(data: &[u8]) -> Result<Vec<u16>, MediaError> {
    let n = total_elements();
    let mut planes = Vec::with_capacity(n * 2);
    ZlibDecoder::new(data)
        .take(n as u64 * 2 + 1)
        .read_to_end(&mut planes)
        .map_err(|e| MediaError::Embeddings(format!("corrupt or truncated data: {e}")))?;
    if planes.len() != n * 2 {
        let what = if planes.len() < n * 2 { "truncated" } else { "longer than its tensors" };
        return Err(MediaError::Embeddings(format!("data is {what}: {} bytes inflated, expected {}", planes.len(), n * 2)));
    }
    let (low, high) = planes.split_at(n);
    Ok(low.iter().zip(high).map(|(&l, &h)| u16::from(l) | (u16::from(h) << 8)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Embeddings {
        let ramp = |n: usize| (0..n).map(|i| ((i % 1000) as f32 - 500.0) / 250.0).collect();
        Embeddings::new(ramp(numel(&EMBED_SHAPE)), ramp(numel(&HIGH_RES_0_SHAPE)), ramp(numel(&HIGH_RES_1_SHAPE))).unwrap()
    }

    #[test]
    fn wrong_shapes_are_refused_when_built() {
        let err = Embeddings::new(vec![0.0; 3], vec![0.0; numel(&HIGH_RES_0_SHAPE)], vec![0.0; numel(&HIGH_RES_1_SHAPE)]).unwrap_err();
        assert!(err.to_string().contains("image_embed has 3 values"), "{err}");
    }

    #[test]
    fn round_trips_within_f16_precision() {
        let e = sample();
        let bytes = e.encode();
        assert!(bytes.len() < 11 * 1024 * 1024, "fp16 halves the 21 MB fp32 tensors: {}", bytes.len());
        let back = Embeddings::decode(&bytes).unwrap();
        for (a, b) in e.image_embed.iter().zip(&back.image_embed) {
            // float16's rounding (half a unit in the 11th bit), then 7 mantissa bits' (half a
            // unit in the 8th).
            assert!((a - b).abs() <= a.abs() * (2f32.powi(-8) + 2f32.powi(-11)) + 1e-7, "{a} vs {b}");
        }
    }

    #[test]
    fn mantissa_rounding_is_to_nearest_even_and_stays_finite() {
        let r = |v: f32| f16::from_bits(round_mantissa(f16::from_f32(v).to_bits(), 7)).to_f32();
        assert_eq!(r(1.0), 1.0);
        assert_eq!(r(1.0 + 3.0 / 1024.0), 1.0); // steps of 8/1024 in [1, 2): down
        assert_eq!(r(1.0 + 5.0 / 1024.0), 1.0 + 8.0 / 1024.0); // up
        assert_eq!(r(1.0 + 4.0 / 1024.0), 1.0); // a tie goes to the even neighbour
        assert_eq!(r(1.0 + 12.0 / 1024.0), 1.0 + 16.0 / 1024.0); // a tie goes to the even neighbour
        assert_eq!(r(-1.0 - 5.0 / 1024.0), -1.0 - 8.0 / 1024.0); // the sign is kept
        assert_eq!(r(1.0 - 1.0 / 2048.0), 1.0); // carries into the exponent
        assert_eq!(r(65504.0), 65280.0); // the largest finite value stays finite
        assert!(r(f32::INFINITY).is_infinite() && r(f32::NAN).is_nan());
    }

    #[test]
    fn byte_planes_are_bit_identical_to_raw_and_smaller() {
        let e = sample();
        let (planes, raw) = (e.encode(), e.encode_raw());
        assert_eq!(u32::from_le_bytes(planes[4..8].try_into().unwrap()), 2);
        assert!(planes.len() < raw.len() / 2, "{} vs {}", planes.len(), raw.len());
        assert_eq!(Embeddings::decode(&planes).unwrap(), Embeddings::decode(&raw).unwrap());
    }

    #[test]
    fn refuses_corrupt_compressed_data() {
        let mut bytes = sample().encode();
        let n = bytes.len();
        bytes[n / 2..n / 2 + 64].fill(0xAB);
        assert!(Embeddings::decode(&bytes).unwrap_err().to_string().contains("corrupt"));
    }

    #[test]
    fn rejects_truncated_and_foreign_files() {
        let raw = sample().encode_raw();
        assert!(Embeddings::decode(&raw[..raw.len() - 2]).unwrap_err().to_string().contains("truncated"));
        let bytes = sample().encode();
        assert!(Embeddings::decode(&bytes[..bytes.len() - 2]).unwrap_err().to_string().contains("truncated"));
        assert!(Embeddings::decode(b"PK\x03\x04whatever").unwrap_err().to_string().contains("magic"));
    }
}
