//! The built-in reconstructor: image + mask -> Gaussian splats in SAM 3D Objects' output
//! layout (object-local, within [-0.5,0.5]^3, z-up, SH degree 0), without weights.
//!
//! It *inflates the silhouette*: the mask's distance transform gives a height field
//! `h = k * sqrt(d * (2*dmax - d))` (a sphere for a disc), splats are placed on the front
//! (`y = -h`, coloured from the photo) and back (`y = +h`, shaded) surfaces and on a wall
//! around the rim, so the surface is closed. Each splat's smallest axis is the surface
//! normal, as a trained 3DGS model's flat splats are.

use gen3d_media::{Mask, Photo, Splat, SplatCloud};

use crate::rng::unit;

/// Front-surface samples aimed for; the total is about twice this plus the rim.
const TARGET_FRONT_SAMPLES: f32 = 22_000.0;
const INFLATION: f32 = 0.75;
const OPACITY_LOGIT: f32 = 4.0;
const BACK_SHADE: f32 = 0.85;

struct Grid {
    w: usize,
    h: usize,
    inside: Vec<bool>,
    rgb: Vec<[f32; 3]>,
}

impl Grid {
    fn at(&self, x: isize, y: isize) -> bool {
        x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h && self.inside[y as usize * self.w + x as usize]
    }
}

/// Samples the mask's bounding box on a grid of `step` pixels per cell, with a one-cell
/// empty border; colours are cell means over the masked pixels.
fn sample(photo: &Photo, mask: &Mask) -> (Grid, f32) {
    let (x0, y0, x1, y1) = mask.bounds();
    let area = mask.data().iter().filter(|&&b| b).count() as f32;
    let step = (area / TARGET_FRONT_SAMPLES).sqrt().max(1.0);
    let gw = (((x1 - x0 + 1) as f32 / step).ceil() as usize) + 2;
    let gh = (((y1 - y0 + 1) as f32 / step).ceil() as usize) + 2;
    let mut inside = vec![false; gw * gh];
    let mut rgb = vec![[0f32; 3]; gw * gh];
    for gy in 1..gh - 1 {
        for gx in 1..gw - 1 {
            let px0 = x0 as f32 + (gx - 1) as f32 * step;
            let py0 = y0 as f32 + (gy - 1) as f32 * step;
            let (mut sum, mut n, mut covered) = ([0f32; 3], 0u32, 0u32);
            let samples = step.ceil().clamp(1.0, 4.0) as u32;
            for sy in 0..samples {
                for sx in 0..samples {
                    let px = (px0 + (sx as f32 + 0.5) * step / samples as f32) as u32;
                    let py = (py0 + (sy as f32 + 0.5) * step / samples as f32) as u32;
                    if px > x1 || py > y1 {
                        continue;
                    }
                    n += 1;
                    if mask.get(px, py) {
                        covered += 1;
                        let c = photo.rgb.get_pixel(px, py).0;
                        for k in 0..3 {
                            sum[k] += f32::from(c[k]) / 255.0;
                        }
                    }
                }
            }
            if n > 0 && covered * 2 >= n {
                inside[gy * gw + gx] = true;
                rgb[gy * gw + gx] = sum.map(|s| s / covered as f32);
            }
        }
    }
    (Grid { w: gw, h: gh, inside, rgb }, step)
}

/// Euclidean-ish distance to the outside (chamfer 3-4, in cells).
fn distance(grid: &Grid) -> Vec<f32> {
    let (w, h) = (grid.w, grid.h);
    let big = 1e9f32;
    let mut d: Vec<f32> = grid.inside.iter().map(|&i| if i { big } else { 0.0 }).collect();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if d[i] == 0.0 {
                continue;
            }
            let mut best = d[i];
            if x > 0 {
                best = best.min(d[i - 1] + 3.0);
            }
            if y > 0 {
                best = best.min(d[i - w] + 3.0);
                if x > 0 {
                    best = best.min(d[i - w - 1] + 4.0);
                }
                if x + 1 < w {
                    best = best.min(d[i - w + 1] + 4.0);
                }
            }
            d[i] = best;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            if d[i] == 0.0 {
                continue;
            }
            let mut best = d[i];
            if x + 1 < w {
                best = best.min(d[i + 1] + 3.0);
            }
            if y + 1 < h {
                best = best.min(d[i + w] + 3.0);
                if x + 1 < w {
                    best = best.min(d[i + w + 1] + 4.0);
                }
                if x > 0 {
                    best = best.min(d[i + w - 1] + 4.0);
                }
            }
            d[i] = best;
        }
    }
    d.iter().map(|v| v / 3.0).collect()
}

fn normalize(v: [f32; 3]) -> [f32; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-12);
    v.map(|c| c / n)
}

/// The quaternion (w,x,y,z) turning the local z axis onto `n`.
fn rotation_to(n: [f32; 3]) -> [f32; 4] {
    if n[2] < -0.999_999 {
        return [0.0, 1.0, 0.0, 0.0];
    }
    let q = [1.0 + n[2], -n[1], n[0], 0.0];
    let len = q.iter().map(|c| c * c).sum::<f32>().sqrt();
    q.map(|c| c / len)
}

/// Reconstructs one object. `photo` and `mask` must be the same size (checked by caller).
pub fn reconstruct(photo: &Photo, mask: &Mask, seed: u64) -> SplatCloud {
    let (grid, _step) = sample(photo, mask);
    let dist = distance(&grid);
    let dmax = dist.iter().copied().fold(0.0f32, f32::max).max(0.5);
    let height: Vec<f32> = dist
        .iter()
        .zip(&grid.inside)
        .map(|(&d, &inside)| if inside { INFLATION * ((d + 0.5) * (2.0 * dmax - d).max(0.5)).sqrt() } else { 0.0 })
        .collect();
    let (w, hgt) = (grid.w as isize, grid.h as isize);
    let hv = |x: isize, y: isize| {
        if grid.at(x, y) { height[(y * w + x) as usize] } else { 0.0 }
    };

    let mut rng = seed ^ 0x3d5f_0b1e_c7a2_9e41;
    let mut raw: Vec<([f32; 3], [f32; 3], [f32; 3])> = Vec::new(); // (position, normal, rgb) in cell units
    for y in 0..hgt {
        for x in 0..w {
            if !grid.at(x, y) {
                continue;
            }
            let i = (y * w + x) as usize;
            let h = height[i];
            let hx = (hv(x + 1, y) - hv(x - 1, y)) * 0.5;
            let hz = -(hv(x, y + 1) - hv(x, y - 1)) * 0.5; // z is image-up
            let jx = (unit(&mut rng) - 0.5) * 0.5;
            let jz = (unit(&mut rng) - 0.5) * 0.5;
            let (px, pz) = (x as f32 + jx, -(y as f32) + jz);
            let rgb = grid.rgb[i];
            raw.push(([px, -h, pz], normalize([-hx, -1.0, -hz]), rgb));
            raw.push(([px, h, pz], normalize([-hx, 1.0, -hz]), rgb.map(|c| c * BACK_SHADE)));
            // Rim wall: a column of splats between back and front at boundary cells.
            let outward = [
                (!grid.at(x + 1, y)) as i32 as f32 - (!grid.at(x - 1, y)) as i32 as f32,
                (!grid.at(x, y - 1)) as i32 as f32 - (!grid.at(x, y + 1)) as i32 as f32,
            ];
            if outward != [0.0, 0.0] || !grid.at(x + 1, y + 1) || !grid.at(x - 1, y - 1) || !grid.at(x + 1, y - 1) || !grid.at(x - 1, y + 1) {
                let layers = (2.0 * h).ceil() as i32;
                for k in 1..layers {
                    let t = -h + 2.0 * h * k as f32 / layers as f32;
                    let n = normalize([outward[0], t / h.max(1e-3) * 0.5, outward[1]]);
                    raw.push(([px, t, pz], n, rgb.map(|c| c * (0.5 + 0.5 * (1.0 - (t / h.max(1e-3)).abs()) * 0.15 + 0.425))));
                }
            }
        }
    }

    // Object-local frame: centred, largest extent 1.
    let mut lo = [f32::MAX; 3];
    let mut hi = [f32::MIN; 3];
    for (p, _, _) in &raw {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let centre: [f32; 3] = std::array::from_fn(|k| (lo[k] + hi[k]) * 0.5);
    let extent = (0..3).map(|k| hi[k] - lo[k]).fold(1e-6f32, f32::max);
    let scale = 0.98 / extent;
    let tangent = (0.7 * scale).ln();
    let thin = (0.1 * scale).ln();
    let splats = raw
        .into_iter()
        .map(|(p, n, rgb)| Splat {
            position: std::array::from_fn(|k| (p[k] - centre[k]) * scale),
            f_dc: Splat::f_dc_for(rgb.map(|c| c.clamp(0.0, 1.0))),
            opacity: OPACITY_LOGIT,
            scale: [tangent, tangent, thin],
            rotation: rotation_to(n),
        })
        .collect();
    SplatCloud { splats }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbImage;

    fn disc(size: u32) -> (Photo, Mask) {
        let c = size as f32 / 2.0;
        let r = size as f32 * 0.4;
        let data = (0..size * size).map(|i| ((i % size) as f32 + 0.5 - c).hypot((i / size) as f32 + 0.5 - c) < r).collect();
        (Photo { rgb: RgbImage::from_pixel(size, size, image::Rgb([200, 40, 40])) }, Mask::new(size, size, data).unwrap())
    }

    #[test]
    fn a_disc_inflates_to_a_ball_in_the_unit_cube() {
        let (photo, mask) = disc(120);
        let cloud = reconstruct(&photo, &mask, 1);
        assert!(cloud.splats.len() > 10_000, "{}", cloud.splats.len());
        let mut hi = [f32::MIN; 3];
        let mut lo = [f32::MAX; 3];
        for s in &cloud.splats {
            for k in 0..3 {
                assert!((-0.5..=0.5).contains(&s.position[k]), "{:?}", s.position);
                hi[k] = hi[k].max(s.position[k]);
                lo[k] = lo[k].min(s.position[k]);
            }
            let [w, x, y, z] = s.rotation;
            assert!(((w * w + x * x + y * y + z * z) - 1.0).abs() < 1e-4);
            assert!(s.scale[2] < s.scale[0], "the normal axis is the thinnest");
        }
        let ext: Vec<f32> = (0..3).map(|k| hi[k] - lo[k]).collect();
        // Width (x) and height (z) equal; depth (y) comparable: a ball, not a pancake.
        assert!((ext[0] - ext[2]).abs() < 0.05, "{ext:?}");
        assert!(ext[1] > 0.6 * ext[0], "{ext:?}");
        let front = cloud.splats.iter().filter(|s| s.position[1] < -0.2).count();
        assert!(front > 1000);
        let rgb = cloud.splats.iter().find(|s| s.position[1] < -0.3).unwrap().rgb();
        assert!((rgb[0] - 200.0 / 255.0).abs() < 0.02, "front is the photo's colour: {rgb:?}");
    }

    #[test]
    fn same_seed_same_splats() {
        let (photo, mask) = disc(60);
        assert_eq!(reconstruct(&photo, &mask, 7), reconstruct(&photo, &mask, 7));
        assert_ne!(reconstruct(&photo, &mask, 7), reconstruct(&photo, &mask, 8));
    }
}
