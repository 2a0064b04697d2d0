//! Mesh quality on splats of known shapes: close to the true surface (symmetric Chamfer
//! distance), closed where the shape is closed, coloured like the splats.

mod common;

use common::shapes::{Shape, chamfer, colour_at};
use gen3d_domain::{MeshMethod, MeshOptions};
use gen3d_meshing::{mesh_splats, srgb_to_linear};

/// Chamfer bound: 1% of the objects' ~0.8 size.
const MAX_CHAMFER: f32 = 0.008;
/// Linear-colour tolerance away from the colour seam.
const COLOUR_TOLERANCE: f32 = 0.06;

fn check(shape: Shape) {
    let cloud = shape.splats(30_000, 7);
    let (mesh, stats) = mesh_splats(&cloud, &MeshOptions::standard()).unwrap();
    let c = chamfer(shape, &mesh.positions, 4_000);
    assert!(c < MAX_CHAMFER, "{shape:?}: chamfer {c}");
    assert!(stats.watertight, "{shape:?} is closed, so must its mesh be: {stats:?}");
    assert!(stats.triangles <= u64::from(MeshOptions::DEFAULT_TRIANGLES));
    let mut checked = 0;
    for (p, col) in mesh.positions.iter().zip(&mesh.colors) {
        let z_up = [p[0], -p[2], p[1]];
        if z_up[2].abs() < 0.05 {
            continue; // near the seam between the two colours
        }
        let want = colour_at(z_up).map(srgb_to_linear);
        for k in 0..3 {
            assert!((col[k] - want[k]).abs() < COLOUR_TOLERANCE, "{shape:?}: colour {col:?} vs {want:?} at {z_up:?}");
        }
        checked += 1;
    }
    assert!(checked > mesh.positions.len() / 2);
}

#[test]
fn sphere() {
    check(Shape::Sphere);
}

#[test]
fn rounded_box() {
    check(Shape::Box);
}

#[test]
fn torus_keeps_its_hole() {
    check(Shape::Torus);
}

#[test]
fn ball_pivoting_and_alpha_shape_stay_close_to_the_surface() {
    let cloud = Shape::Sphere.splats(20_000, 3);
    for method in [MeshMethod::BallPivoting, MeshMethod::AlphaShape] {
        let options = MeshOptions::new(method, 30_000, gen3d_domain::MeshFormat::Glb).unwrap();
        let (mesh, stats) = mesh_splats(&cloud, &options).unwrap();
        assert!(stats.triangles > 1_000 && stats.triangles <= 30_000, "{method:?}: {stats:?}");
        let c = chamfer(Shape::Sphere, &mesh.positions, 3_000);
        assert!(c < 0.015, "{method:?}: chamfer {c}");
    }
}

#[test]
fn down_sampling_and_outlier_removal() {
    // 60k splats plus 300 stray ones far from the surface.
    let mut cloud = Shape::Sphere.splats(60_000, 5);
    let stray = Shape::Sphere.splats(300, 6).splats.into_iter().map(|mut s| {
        s.position = s.position.map(|c| c * 1.2);
        s
    });
    cloud.splats.extend(stray);
    let cleaned = MeshOptions::standard().with_cleanup(true, Some(15_000)).unwrap();
    let (mesh, stats) = mesh_splats(&cloud, &cleaned).unwrap();
    assert!(stats.watertight, "{stats:?}");
    let worst = mesh.positions.iter().map(|p| ((p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt() - 0.4).abs()).fold(0.0f32, f32::max);
    assert!(worst < 0.03, "strays removed: worst vertex {worst} off the sphere");

    // The clean-up itself: strays go, the cloud shrinks to about max_points.
    let p = gen3d_meshing::prepare(&cloud).unwrap();
    let b = gen3d_open3d::clean_points(&p.positions, &p.normals, &p.colors, 0.011, 20, 2.0).unwrap();
    let n = b.positions.len() / 3;
    assert!((8_000..30_000).contains(&n), "{n} points after down-sampling 60k");
    let far = b.positions.chunks(3).filter(|q| (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).sqrt() > 0.44).count();
    assert!(far < 10, "{far} stray points survived");
    assert_eq!(b.normals.len(), b.positions.len());
}
