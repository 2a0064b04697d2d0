//! Synthetic splat clouds of known shapes (z-up, as SAM 3D Objects writes them) and
//! distances to their true surfaces, for quality tests and the meshing benchmark.
#![allow(dead_code)]

use gen3d_media::{Splat, SplatCloud};

#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Radius 0.4.
    Sphere,
    /// Half-extents 0.35 x 0.25 x 0.2.
    Box,
    /// Major radius 0.3, minor 0.12, around the z axis.
    Torus,
}

const BOX: [f32; 3] = [0.35, 0.25, 0.2];
const TORUS: (f32, f32) = (0.3, 0.12);

fn next(state: &mut u64) -> f32 {
    *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    ((*state >> 40) as f32) / (1u64 << 24) as f32
}

fn quat_to(n: [f32; 3]) -> [f32; 4] {
    if n[2] < -0.9999 {
        return [0.0, 1.0, 0.0, 0.0];
    }
    let q = [1.0 + n[2], -n[1], n[0], 0.0];
    let l = q.iter().map(|c| c * c).sum::<f32>().sqrt();
    q.map(|c| c / l)
}

/// The colour the surface has at a point (z-up): red on top, blue below.
pub fn colour_at(p: [f32; 3]) -> [f32; 3] {
    if p[2] > 0.0 { [0.85, 0.15, 0.1] } else { [0.1, 0.2, 0.85] }
}

impl Shape {
    /// A point and outward normal on the surface from two uniform numbers (plus a third).
    fn sample(self, u: f32, v: f32, w: f32) -> ([f32; 3], [f32; 3]) {
        let tau = std::f32::consts::TAU;
        match self {
            Shape::Sphere => {
                let z = 1.0 - 2.0 * u;
                let r = (1.0 - z * z).max(0.0).sqrt();
                let n = [r * (tau * v).cos(), r * (tau * v).sin(), z];
                (n.map(|c| c * 0.4), n)
            }
            Shape::Box => {
                let [a, b, c] = BOX;
                let areas = [b * c, b * c, a * c, a * c, a * b, a * b];
                let total: f32 = areas.iter().sum();
                let mut pick = w * total;
                let mut face = 0;
                while face < 5 && pick > areas[face] {
                    pick -= areas[face];
                    face += 1;
                }
                let (s, t) = (2.0 * u - 1.0, 2.0 * v - 1.0);
                let sign = if face % 2 == 0 { 1.0 } else { -1.0 };
                match face / 2 {
                    0 => ([sign * a, s * b, t * c], [sign, 0.0, 0.0]),
                    1 => ([s * a, sign * b, t * c], [0.0, sign, 0.0]),
                    _ => ([s * a, t * b, sign * c], [0.0, 0.0, sign]),
                }
            }
            Shape::Torus => {
                let (big, small) = TORUS;
                // Area-uniform: accept theta with density ~ (R + r cos theta) via the third number.
                let theta = tau * u;
                let phi = tau * v;
                let _ = w;
                let n = [theta.cos() * phi.cos(), theta.cos() * phi.sin(), theta.sin()];
                let ring = big + small * theta.cos();
                ([ring * phi.cos(), ring * phi.sin(), small * theta.sin()], n)
            }
        }
    }

    /// Distance from `p` to the true surface.
    pub fn distance(self, p: [f32; 3]) -> f32 {
        match self {
            Shape::Sphere => ((p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt() - 0.4).abs(),
            Shape::Box => {
                let q: Vec<f32> = (0..3).map(|k| p[k].abs() - BOX[k]).collect();
                let outside = q.iter().map(|v| v.max(0.0).powi(2)).sum::<f32>().sqrt();
                let inside = q.iter().copied().fold(f32::MIN, f32::max).min(0.0);
                (outside + inside).abs()
            }
            Shape::Torus => {
                let (big, small) = TORUS;
                let ring = (p[0] * p[0] + p[1] * p[1]).sqrt() - big;
                ((ring * ring + p[2] * p[2]).sqrt() - small).abs()
            }
        }
    }

    /// `n` splats on the surface, coloured by [`colour_at`], thinnest axis along the normal.
    pub fn splats(self, n: usize, seed: u64) -> SplatCloud {
        let mut state = seed;
        let mut splats = Vec::with_capacity(n);
        while splats.len() < n {
            let (u, v, w) = (next(&mut state), next(&mut state), next(&mut state));
            if let Shape::Torus = self {
                // rejection sampling for area-uniform theta
                let (big, small) = TORUS;
                let theta = std::f32::consts::TAU * u;
                if w > (big + small * theta.cos()) / (big + small) {
                    continue;
                }
            }
            let (p, normal) = self.sample(u, v, w);
            splats.push(Splat {
                position: p,
                f_dc: Splat::f_dc_for(colour_at(p)),
                opacity: 4.0,
                scale: [-5.0, -5.0, -8.0],
                rotation: quat_to(normal),
            });
        }
        SplatCloud { splats }
    }

    /// Surface samples (z-up) for the surface-to-mesh half of the Chamfer distance.
    pub fn surface_points(self, n: usize) -> Vec<[f32; 3]> {
        self.splats(n, 99).splats.into_iter().map(|s| s.position).collect()
    }
}

/// Symmetric Chamfer distance between mesh vertices (y-up, as meshed) and the true
/// surface: mean vertex-to-surface distance plus mean surface-sample-to-nearest-vertex.
pub fn chamfer(shape: Shape, vertices_y_up: &[[f32; 3]], samples: usize) -> f32 {
    let z_up: Vec<[f32; 3]> = vertices_y_up.iter().map(|v| [v[0], -v[2], v[1]]).collect();
    let to_surface = z_up.iter().map(|&p| shape.distance(p)).sum::<f32>() / z_up.len() as f32;
    // Nearest vertex through a uniform grid.
    let cell = 0.02f32;
    let key = |p: [f32; 3]| p.map(|c| (c / cell).floor() as i32);
    let mut grid: std::collections::HashMap<[i32; 3], Vec<usize>> = std::collections::HashMap::new();
    for (i, &p) in z_up.iter().enumerate() {
        grid.entry(key(p)).or_default().push(i);
    }
    let surface = shape.surface_points(samples);
    let mut sum = 0.0;
    for s in &surface {
        let k = key(*s);
        let mut best = f32::MAX;
        for r in 1..=8 {
            for dx in -r..=r {
                for dy in -r..=r {
                    for dz in -r..=r {
                        if let Some(ids) = grid.get(&[k[0] + dx, k[1] + dy, k[2] + dz]) {
                            for &i in ids {
                                let d = (0..3).map(|c| (z_up[i][c] - s[c]).powi(2)).sum::<f32>().sqrt();
                                best = best.min(d);
                            }
                        }
                    }
                }
            }
            if best <= r as f32 * cell {
                break;
            }
        }
        sum += best;
    }
    to_surface + sum / surface.len() as f32
}
