//! Mesh quality on splats of known shapes: close to the true surface (symmetric Chamfer
//! distance), closed where the shape is closed, coloured like the splats.

mod common;

use common::shapes::{chamfer, colour_at, Shape};
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
fn ball_pivoting_stays_close_to_the_surface() {
    let cloud = Shape::Sphere.splats(20_000, 3);
    for method in [MeshMethod::BallPivoting] {
        let options = MeshOptions::new(method, 30_000, gen3d_domain::MeshFormat::Glb).unwrap();
        let (mesh, stats) = mesh_splats(&cloud, &options).unwrap();
        assert!(stats.triangles > 1_000 && stats.triangles <= 30_000, "{method:?}: {stats:?}");
        let c = chamfer(Shape::Sphere, &mesh.positions, 3_000);
        assert!(c < 0.015, "{method:?}: chamfer {c}");
    }
}
