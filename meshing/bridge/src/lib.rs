//! The `cxx` bridge to Open3D. Kept thin: plain slices in, plain buffers out, every C++
//! exception surfaced as `Err(cxx::Exception)`. Use the safe API in `gen3d-meshing`.
//!
//! **Invariant:** this is the only crate in the workspace that contains `unsafe` (the
//! code `cxx` generates for the declarations below).
#![allow(unsafe_code)] // cxx::bridge expands to extern "C++" glue; see the SAFETY note.

// SAFETY: `cxx` checks the declared signatures against the C++ shim at build time; the
// shim takes only slices by value and returns owned `rust::Vec`s, so no Rust reference
// outlives the call and no C++ object crosses the boundary.
#[cxx::bridge(namespace = "gen3d")]
pub mod ffi {
    /// Screened Poisson reconstruction settings.
    #[derive(Clone, Copy, Debug)]
    struct PoissonParams {
        /// Octree depth (4..=12): resolution 2^depth over the bounding cube.
        depth: u32,
        /// Vertices farther than this many octree cells from every input point are
        /// removed (the unsupported "balloon"); 0 disables.
        trim_voxels: f32,
        /// Quadric decimation target (0 disables).
        target_triangles: u32,
        /// Worker threads (-1: all cores).
        threads: i32,
    }

    /// A triangle mesh as flat buffers: xyz per vertex, rgb (as given) per vertex.
    /// (Open3D's IsWatertight is quadratic, so closedness is checked on the Rust side.)
    #[derive(Debug, Default)]
    struct MeshBuffers {
        positions: Vec<f32>,
        normals: Vec<f32>,
        colors: Vec<f32>,
        indices: Vec<u32>,
    }

    /// A point cloud as flat buffers (normals and colours may be empty).
    #[derive(Debug, Default)]
    struct PointBuffers {
        positions: Vec<f32>,
        normals: Vec<f32>,
        colors: Vec<f32>,
    }

    unsafe extern "C++" {
        // Open3D's Poisson is not safe to run from two threads at once: callers
        // serialise (gen3d-meshing holds a lock around every call).
        include!("gen3d-open3d/include/shim.h");

        /// Poisson surface reconstruction of an oriented, coloured point cloud, then
        /// density trimming, quadric decimation and vertex normals.
        fn poisson_mesh(positions: &[f32], normals: &[f32], colors: &[f32], params: &PoissonParams) -> Result<MeshBuffers>;

        /// Ball pivoting with the given ball radii; needs normals.
        fn ball_pivoting_mesh(positions: &[f32], normals: &[f32], colors: &[f32], radii: &[f32], target_triangles: u32) -> Result<MeshBuffers>;

        /// Alpha shape (Delaunay-based) with parameter `alpha`; the points are joggled by
        /// 1e-4 of their extent so cospherical input does not degenerate.
        fn alpha_shape_mesh(positions: &[f32], colors: &[f32], alpha: f32, target_triangles: u32) -> Result<MeshBuffers>;

        /// Optional clean-up: voxel down-sampling (cell `voxel`, 0 = off; normals and
        /// colours averaged per cell), then statistical outlier removal (`outlier_k`
        /// neighbours, `outlier_std` deviations; 0 = off).
        fn clean_points(positions: &[f32], normals: &[f32], colors: &[f32], voxel: f32, outlier_k: u32, outlier_std: f32) -> Result<PointBuffers>;

        /// Normals from neighbourhoods (hybrid radius/k search); oriented consistently over
        /// a tangent-plane graph of `orient_k` neighbours when `orient_k > 0` (slow).
        fn estimate_normals(positions: &[f32], radius: f32, max_nn: u32, orient_k: u32) -> Result<Vec<f32>>;

        fn open3d_version() -> String;
    }
}

pub use ffi::{
    MeshBuffers, PointBuffers, PoissonParams, alpha_shape_mesh, ball_pivoting_mesh, clean_points, estimate_normals, open3d_version, poisson_mesh,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_linked_version() {
        assert!(open3d_version().starts_with("0."), "{}", open3d_version());
    }

    #[test]
    fn exceptions_become_errors() {
        let params = PoissonParams { depth: 6, trim_voxels: 0.0, target_triangles: 0, threads: 1 };
        let err = poisson_mesh(&[0.0; 6], &[0.0; 3], &[0.0; 6], &params).unwrap_err();
        assert!(err.what().contains("equal-length"), "{}", err.what());
        let err = poisson_mesh(&[0.0; 6], &[0.0; 6], &[0.0; 6], &params).unwrap_err();
        assert!(err.what().contains("too few points"), "{}", err.what());
    }
}
