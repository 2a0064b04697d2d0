//! Splat (or point cloud) -> coloured triangle mesh -> GLB.
//!
//! The safe face of the Open3D bridge: owned Rust data in and out, one error enum.
//! Splat-aware preparation takes normals from each splat's orientation (its thinnest
//! axis) instead of a neighbourhood search, drops near-transparent splats and converts
//! SAM 3D Objects' z-up frame to glTF's y-up.

mod formats;
mod geometry;
mod glb;
mod prepare;
pub mod worker;

use std::collections::HashMap;
use std::sync::Mutex;

use gen3d_domain::{MeshMethod, MeshOptions, MeshStats};
use gen3d_media::SplatCloud;
use gen3d_open3d::{MeshBuffers, PoissonParams, alpha_shape_mesh, ball_pivoting_mesh, clean_points, poisson_mesh};
use thiserror::Error;

use geometry::{Frame, without_repeats};

pub use formats::write_mesh;
pub use geometry::{MAX_COORDINATE, MIN_DISTINCT};
pub use glb::{with_scene_extras, write_glb};
pub use prepare::{MIN_ALPHA, PreparedCloud, prepare, prepare_points};

#[derive(Debug, Error, Clone, PartialEq)]
pub enum MeshError {
    #[error("no splat is opaque enough to mesh ({total} splats, all below alpha {min_alpha})")]
    NothingOpaque { total: usize, min_alpha: f32 },
    #[error("surface reconstruction failed: {0}")]
    Reconstruction(String),
    #[error("cannot mesh this cloud: {0}")]
    Degenerate(String),
}

/// An owned triangle mesh in glTF conventions: y-up, colours in *linear* RGB.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mesh {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub colors: Vec<[f32; 3]>,
    pub indices: Vec<u32>,
    pub watertight: bool,
}

impl Mesh {
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }

    pub fn bounds(&self) -> ([f32; 3], [f32; 3]) {
        let mut lo = [f32::MAX; 3];
        let mut hi = [f32::MIN; 3];
        for p in &self.positions {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        (lo, hi)
    }
}

/// sRGB (display) -> linear, per channel.
pub fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

/// Poisson octree depth: 7 resolves 1/128 of the object's size, which already yields
/// about 30k triangles for a compact object; depth 8 only when more are asked for
/// (it costs ~4x the time and then needs decimating).
fn poisson_depth(target_triangles: u32) -> u32 {
    if target_triangles <= 60_000 { 7 } else { 8 }
}

/// Watertight in the sense slicers and game engines need: every edge is shared by
/// exactly two triangles (closed, edge-manifold), and there is at least one triangle.
pub fn is_closed_manifold(indices: &[u32]) -> bool {
    let mut edges: HashMap<(u32, u32), u8> = HashMap::with_capacity(indices.len());
    for t in indices.chunks_exact(3) {
        for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
            let count = edges.entry((a.min(b), a.max(b))).or_insert(0);
            *count = count.saturating_add(1);
        }
    }
    !edges.is_empty() && edges.values().all(|&c| c == 2)
}
/// Vertices more than this many octree cells away from every splat are trimmed (Poisson
/// rounds corners by about two cells, which must survive).
const TRIM_VOXELS: f32 = 3.0;

/// Open3D's reconstruction must not run on two threads at once (it aborts): one at a time
/// per process, which also bounds the memory a burst of meshing jobs can take.
static OPEN3D: Mutex<()> = Mutex::new(());

/// Typical distance between neighbouring points, from the cloud's extent and count
/// (points sample a surface: area ~ extent^2).
pub(crate) fn spacing(positions: &[f32]) -> f32 {
    let mut lo = [f32::MAX; 3];
    let mut hi = [f32::MIN; 3];
    for p in positions.chunks_exact(3) {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let extent = (0..3).map(|k| hi[k] - lo[k]).fold(1e-6f32, f32::max);
    let n = (positions.len() / 3).max(1) as f32;
    2.0 * extent / n.sqrt()
}

/// Runs a reconstruction method on prepared, y-up buffers.
pub fn reconstruct(prepared: &PreparedCloud, options: &MeshOptions) -> Result<Mesh, MeshError> {
    let err = |e: cxx::Exception| MeshError::Reconstruction(e.what().to_owned());
    let _guard = OPEN3D.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let cleaned;
    let prepared = if options.remove_outliers() || options.max_points().is_some_and(|m| (m as usize) < prepared.positions.len() / 3) {
        let n = prepared.positions.len() / 3;
        // A voxel of the spacing that max_points splats would have on the same surface.
        let voxel = options
            .max_points()
            .filter(|&m| (m as usize) < n)
            .map(|m| spacing(&prepared.positions) * 0.5 * (n as f32 / m as f32).sqrt())
            .unwrap_or(0.0);
        let (k, std) = if options.remove_outliers() { (20, 2.0) } else { (0, 0.0) };
        let b = clean_points(&prepared.positions, &prepared.normals, &prepared.colors, voxel, k, std).map_err(err)?;
        cleaned = PreparedCloud { positions: b.positions, normals: b.normals, colors: b.colors };
        &cleaned
    } else {
        prepared
    };
    let s = spacing(&prepared.positions);
    let buffers: MeshBuffers = match options.method() {
        MeshMethod::Poisson => {
            let params = PoissonParams {
                depth: poisson_depth(options.target_triangles()),
                trim_voxels: TRIM_VOXELS,
                target_triangles: options.target_triangles(),
                threads: -1,
            };
            poisson_mesh(&prepared.positions, &prepared.normals, &prepared.colors, &params).map_err(err)?
        }
        MeshMethod::BallPivoting => {
            let radii = [1.0, 2.0, 4.0].map(|k| k * s);
            ball_pivoting_mesh(&prepared.positions, &prepared.normals, &prepared.colors, &radii, options.target_triangles()).map_err(err)?
        }
        MeshMethod::AlphaShape => alpha_shape_mesh(&prepared.positions, &prepared.colors, 4.0 * s, options.target_triangles()).map_err(err)?,
    };
    let triples = |v: &[f32]| v.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect::<Vec<_>>();
    let indices = buffers.indices;
    Ok(Mesh {
        positions: triples(&buffers.positions),
        normals: triples(&buffers.normals),
        colors: triples(&buffers.colors).into_iter().map(|c| c.map(srgb_to_linear)).collect(),
        watertight: is_closed_manifold(&indices),
        indices,
    })
}

/// Statistics of a mesh made from `splats_in` inputs of which `splats_used` were kept.
pub fn stats(mesh: &Mesh, splats_in: usize, splats_used: usize) -> MeshStats {
    let (bbox_min, bbox_max) = mesh.bounds();
    MeshStats {
        vertices: mesh.positions.len() as u64,
        triangles: mesh.triangle_count() as u64,
        watertight: mesh.watertight,
        bbox_min,
        bbox_max,
        splats_in: splats_in as u64,
        splats_used: splats_used as u64,
    }
}

/// Meshes a plain (coloured) point cloud as `options` ask: checked, and meshed in the
/// unit frame of its bounding box (normal estimation included), then mapped back.
pub fn mesh_point_cloud(cloud: &gen3d_media::PointCloud, options: &MeshOptions) -> Result<(Mesh, MeshStats), MeshError> {
    let frame = Frame::fit(&cloud.positions)?;
    let unit = gen3d_media::PointCloud {
        positions: cloud.positions.iter().map(|p| frame.to_unit(*p)).collect(),
        normals: cloud.normals.clone(),
        colors: cloud.colors.clone(),
    };
    let prepared = {
        // Normal estimation runs in Open3D too: one call at a time.
        let _guard = OPEN3D.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        without_repeats(prepare_points(&unit)?)
    };
    let mut mesh = reconstruct(&prepared, options)?;
    frame.restore(&mut mesh)?;
    let stats = stats(&mesh, cloud.positions.len(), prepared.positions.len() / 3);
    Ok((mesh, stats))
}

/// Meshes a splat cloud as `options` ask: its opaque splats are checked, and meshed in
/// the unit frame of their bounding box, then mapped back.
pub fn mesh_splats(cloud: &SplatCloud, options: &MeshOptions) -> Result<(Mesh, MeshStats), MeshError> {
    let prepared = prepare(cloud)?;
    let positions: Vec<[f32; 3]> = prepared.positions.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    let frame = Frame::fit(&positions)?;
    let unit = PreparedCloud { positions: positions.iter().flat_map(|p| frame.to_unit(*p)).collect(), ..prepared };
    let unit = without_repeats(unit);
    let mut mesh = reconstruct(&unit, options)?;
    frame.restore(&mut mesh)?;
    let stats = stats(&mesh, cloud.splats.len(), unit.positions.len() / 3);
    Ok((mesh, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_manifold_check() {
        // A tetrahedron is closed; drop one face and it is open.
        let tet = [0, 1, 2, 0, 3, 1, 1, 3, 2, 2, 3, 0];
        assert!(is_closed_manifold(&tet));
        assert!(!is_closed_manifold(&tet[..9]));
        assert!(!is_closed_manifold(&[]));
    }
}
