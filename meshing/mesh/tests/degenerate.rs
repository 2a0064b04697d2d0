//! Hostile geometry (issue 16): clouds that crashed, hung or silently broke Open3D's
//! reconstruction get a clear error, or a good mesh, and never take the process down.

mod common;

use common::shapes::Shape;
use gen3d_domain::{MeshFormat, MeshMethod, MeshOptions};
use gen3d_media::{PointCloud, SplatCloud};
use gen3d_meshing::{MeshError, mesh_point_cloud, mesh_splats};

const METHODS: [MeshMethod; 3] = [MeshMethod::Poisson, MeshMethod::BallPivoting, MeshMethod::AlphaShape];

fn options(method: MeshMethod) -> MeshOptions {
    MeshOptions::new(method, 5_000, MeshFormat::Glb).unwrap()
}

fn degenerate(result: Result<impl std::fmt::Debug, MeshError>) -> String {
    match result {
        Err(e @ MeshError::Degenerate(_)) => e.to_string(),
        other => panic!("expected a clear refusal, got {other:?}"),
    }
}

#[test]
fn identical_points_are_refused_not_crashed_on() {
    // Was: a segfault in Poisson (3 of 3 runs), ball pivoting still running at 300 s.
    let points = PointCloud { positions: vec![[0.25, -0.5, 1.0]; 5_000], normals: None, colors: None };
    for method in METHODS {
        let err = degenerate(mesh_point_cloud(&points, &options(method)));
        assert!(err.contains("only 1 distinct positions among 5000 points"), "{method:?}: {err}");
    }
    let mut splats = Shape::Sphere.splats(5_000, 1);
    for s in &mut splats.splats {
        s.position = [0.1, 0.2, 0.3];
    }
    assert!(degenerate(mesh_splats(&splats, &options(MeshMethod::Poisson))).contains("only 1 distinct"));
}

#[test]
fn coordinates_out_of_range_are_refused() {
    // Was: a segfault in Poisson near +-3e38.
    let mut splats = Shape::Sphere.splats(5_000, 2);
    for s in &mut splats.splats {
        s.position = s.position.map(|c| (c * 7.5e19) * 1e19); // up to 3e38
    }
    assert!(degenerate(mesh_splats(&splats, &options(MeshMethod::Poisson))).contains("out of range"));
}

fn scaled(cloud: &SplatCloud, factor: f32) -> SplatCloud {
    let mut cloud = cloud.clone();
    for s in &mut cloud.splats {
        s.position = s.position.map(|c| c * factor);
    }
    cloud
}

#[test]
fn tiny_and_huge_objects_mesh_like_unit_ones() {
    // Was: exit 0, "watertight", every vertex NaN and the triangle target ignored.
    let cloud = Shape::Sphere.splats(5_000, 3);
    for factor in [1e-30f32, 1e20] {
        for method in [MeshMethod::Poisson, MeshMethod::BallPivoting] {
            let (mesh, stats) = mesh_splats(&scaled(&cloud, factor), &options(method)).unwrap_or_else(|e| panic!("{factor} {method:?}: {e}"));
            assert!(mesh.positions.iter().flatten().all(|c| c.is_finite()), "{factor} {method:?}: non-finite vertices");
            assert!(stats.triangles > 1_000 && stats.triangles <= 5_000, "{factor} {method:?}: {stats:?}");
            // Radius 0.4 times the factor, within 15%.
            let (lo, hi) = mesh.bounds();
            for k in 0..3 {
                let half = (hi[k] - lo[k]) / 2.0 / factor;
                assert!((half - 0.4).abs() < 0.06, "{factor} {method:?}: axis {k} half-extent {half}");
            }
        }
    }
}

#[test]
fn points_on_a_line_are_refused() {
    let points = PointCloud { positions: (0..2_000).map(|i| [i as f32 * 1e-3, 0.5, -(i as f32) * 2e-3]).collect(), normals: None, colors: None };
    assert!(degenerate(mesh_point_cloud(&points, &options(MeshMethod::BallPivoting))).contains("lie on one line"));
}
