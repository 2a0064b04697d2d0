//! The built-in image encoder: the SAM 3 tracker's three embeddings, computed from the
//! pixels without weights. Deterministic.
//!
//! Preprocessing follows SAM 3 (resize to exactly 1008x1008, aspect ratio not kept).
//! Each level (72, 144, 288 cells a side) describes every cell by a small base vector
//! (CIELAB colour, colour of the neighbourhood, luminance texture, position) that is
//! mapped to the contract's channel count by a fixed orthonormal projection, so squared
//! distances between cells are those of the base vectors: the decoder's affinity.

use gen3d_media::{Embeddings, Photo};
use image::RgbImage;
use image::imageops::{self, FilterType};

use crate::rng::splitmix64;

pub const INPUT_SIZE: u32 = 1008;
const BASE_DIM: usize = 9;
/// Colour difference (CIELAB delta-E) that counts as one unit of feature distance.
const COLOUR_UNIT: f32 = 10.0;
/// Lightness counts less than chroma, so shading splits objects less often.
const LIGHTNESS_UNIT: f32 = 20.0;
const CONTEXT_UNIT: f32 = 22.0;
const TEXTURE_UNIT: f32 = 9.0;
/// Feature distance across the whole image width from position alone.
const POSITION_SPAN: f32 = 0.9;

/// Runs the encoder on an upright RGB photo.
pub fn encode(photo: &Photo) -> Embeddings {
    let input = imageops::resize(&photo.rgb, INPUT_SIZE, INPUT_SIZE, FilterType::Triangle);
    let level = |cells: u32, channels: usize, seed: u64| {
        let fine = imageops::resize(&input, cells * 4, cells * 4, FilterType::Triangle);
        let base = base_features(&fine, cells);
        project(&base, cells as usize, channels, seed)
    };
    Embeddings::new(level(72, 256, 0x5a3_0001), level(288, 32, 0x5a3_0002), level(144, 64, 0x5a3_0003))
        .expect("the built-in encoder makes the contract's shapes")
}

/// The encoder's input as SAM 3 preprocesses a photo, for a real (TorchScript) encoder:
/// resized to exactly 1008x1008 (aspect ratio not kept, the same resampling as the
/// built-in encoder), RGB scaled to [0,1] and normalised with mean = std = 0.5, laid out
/// f32 [1,3,1008,1008] (NCHW).
pub fn input_tensor(photo: &Photo) -> Vec<f32> {
    let input = imageops::resize(&photo.rgb, INPUT_SIZE, INPUT_SIZE, FilterType::Triangle);
    let plane = (INPUT_SIZE * INPUT_SIZE) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, pixel) in input.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (f32::from(pixel.0[c]) / 255.0 - 0.5) / 0.5;
        }
    }
    out
}

fn srgb_to_linear(c: u8) -> f32 {
    let c = f32::from(c) / 255.0;
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

fn lab(rgb: [u8; 3], table: &[f32; 256]) -> [f32; 3] {
    let [r, g, b] = rgb.map(|c| table[c as usize]);
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
    let f = |t: f32| {
        if t > 0.008_856 { t.cbrt() } else { 7.787 * t + 16.0 / 116.0 }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Base vectors [cells*cells][BASE_DIM] from an image of 4x4 pixels per cell.
fn base_features(fine: &RgbImage, cells: u32) -> Vec<[f32; BASE_DIM]> {
    let table: [f32; 256] = std::array::from_fn(|i| srgb_to_linear(i as u8));
    let n = cells as usize;
    let mut colour = vec![[0f32; 3]; n * n];
    let mut texture = vec![0f32; n * n];
    for cy in 0..cells {
        for cx in 0..cells {
            let mut sum = [0f32; 3];
            let mut sum_l2 = 0f32;
            for dy in 0..4 {
                for dx in 0..4 {
                    let v = lab(fine.get_pixel(cx * 4 + dx, cy * 4 + dy).0, &table);
                    for k in 0..3 {
                        sum[k] += v[k];
                    }
                    sum_l2 += v[0] * v[0];
                }
            }
            let i = cy as usize * n + cx as usize;
            colour[i] = sum.map(|s| s / 16.0);
            texture[i] = (sum_l2 / 16.0 - colour[i][0] * colour[i][0]).max(0.0).sqrt();
        }
    }
    let context = box_blur(&colour, n, (n / 24).max(1));
    (0..n * n)
        .map(|i| {
            let (x, y) = ((i % n) as f32 + 0.5, (i / n) as f32 + 0.5);
            let c = colour[i];
            let s = context[i];
            [
                c[0] / LIGHTNESS_UNIT,
                c[1] / COLOUR_UNIT,
                c[2] / COLOUR_UNIT,
                s[0] / (2.0 * CONTEXT_UNIT),
                s[1] / CONTEXT_UNIT,
                s[2] / CONTEXT_UNIT,
                texture[i] / TEXTURE_UNIT,
                x / n as f32 * POSITION_SPAN,
                y / n as f32 * POSITION_SPAN,
            ]
        })
        .collect()
}

/// Mean over a (2r+1)^2 window, clamped at the borders.
fn box_blur(values: &[[f32; 3]], n: usize, r: usize) -> Vec<[f32; 3]> {
    let pass = |src: &[[f32; 3]], horizontal: bool| -> Vec<[f32; 3]> {
        let mut out = vec![[0f32; 3]; n * n];
        for a in 0..n {
            for b in 0..n {
                let lo = b.saturating_sub(r);
                let hi = (b + r).min(n - 1);
                let mut acc = [0f32; 3];
                for t in lo..=hi {
                    let v = if horizontal { src[a * n + t] } else { src[t * n + a] };
                    for k in 0..3 {
                        acc[k] += v[k];
                    }
                }
                let cnt = (hi - lo + 1) as f32;
                let idx = if horizontal { a * n + b } else { b * n + a };
                out[idx] = acc.map(|s| s / cnt);
            }
        }
        out
    };
    let h = pass(values, true);
    pass(&h, false)
}

/// A `channels x BASE_DIM` matrix with orthonormal columns.
fn orthonormal(channels: usize, seed: u64) -> Vec<[f32; BASE_DIM]> {
    let mut state = seed;
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(BASE_DIM);
    while cols.len() < BASE_DIM {
        let mut v: Vec<f64> = (0..channels).map(|_| (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64 - 0.5).collect();
        for c in &cols {
            let d: f64 = v.iter().zip(c).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(c).for_each(|(a, b)| *a -= d * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-6 {
            cols.push(v.into_iter().map(|a| a / norm).collect());
        }
    }
    (0..channels).map(|r| std::array::from_fn(|k| cols[k][r] as f32)).collect()
}

/// NCHW tensor [1, channels, n, n] = Q * base.
fn project(base: &[[f32; BASE_DIM]], n: usize, channels: usize, seed: u64) -> Vec<f32> {
    let q = orthonormal(channels, seed);
    let plane = n * n;
    let mut out = vec![0f32; channels * plane];
    for (ch, row) in q.iter().enumerate() {
        let dst = &mut out[ch * plane..(ch + 1) * plane];
        for (d, b) in dst.iter_mut().zip(base) {
            *d = row.iter().zip(b).map(|(w, x)| w * x).sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_preserves_distances() {
        let q = orthonormal(32, 7);
        for i in 0..BASE_DIM {
            for j in 0..BASE_DIM {
                let d: f32 = q.iter().map(|r| r[i] * r[j]).sum();
                assert!((d - if i == j { 1.0 } else { 0.0 }).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn lab_of_white_and_red() {
        let table: [f32; 256] = std::array::from_fn(|i| srgb_to_linear(i as u8));
        let w = lab([255, 255, 255], &table);
        assert!((w[0] - 100.0).abs() < 0.1 && w[1].abs() < 0.5 && w[2].abs() < 0.5, "{w:?}");
        let r = lab([255, 0, 0], &table);
        assert!((r[0] - 53.2).abs() < 0.5 && (r[1] - 80.1).abs() < 1.0, "{r:?}");
    }
}
