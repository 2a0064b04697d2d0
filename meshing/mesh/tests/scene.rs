//! The scene GLB (`gen3d_media::scene_glb`) over meshes as this crate writes them: one
//! valid .glb that `gltf` loads, one root node per object with its pose, every object's
//! geometry kept.

use gen3d_domain::Pose;
use gen3d_media::{ScenePart, scene_glb};
use gen3d_meshing::{Mesh, with_scene_extras, write_glb};

/// A triangle whose first vertex is at `at` (glTF-local axes).
fn triangle(at: [f32; 3], colour: [f32; 3]) -> Vec<u8> {
    let mesh = Mesh {
        positions: vec![at, [at[0] + 0.1, at[1], at[2]], [at[0], at[1] + 0.1, at[2]]],
        normals: vec![[0.0, 0.0, 1.0]; 3],
        colors: vec![colour; 3],
        indices: vec![0, 1, 2],
        watertight: false,
    };
    // As the pipeline stores it: with its pose in the scene's extras.
    with_scene_extras(&write_glb(&mesh), serde_json::json!({"gen3d": {}})).unwrap()
}

#[test]
fn one_posed_node_per_object_and_every_mesh_kept() {
    let a = triangle([0.0, 0.0, 0.0], [1.0, 0.0, 0.0]);
    let b = triangle([0.2, 0.0, 0.0], [0.0, 0.0, 1.0]);
    let c = triangle([0.0, 0.3, 0.0], [0.0, 1.0, 0.0]);
    let h = std::f32::consts::FRAC_1_SQRT_2;
    let pose = |x: f32| Some(Pose { rotation: [h, h, 0.0, 0.0], translation: [x, 0.0, 2.0], scale: 1.0 });
    let parts = [
        ScenePart { name: "Left".into(), glb: &a, pose: pose(-0.5) },
        ScenePart { name: "Right".into(), glb: &b, pose: pose(0.5) },
        ScenePart { name: "Unposed".into(), glb: &c, pose: None },
    ];
    let glb = scene_glb(&parts).unwrap();
    let (doc, buffers, _) = gltf::import_slice(&glb).expect("the scene is a valid GLB");
    let scene = doc.default_scene().unwrap();
    let roots: Vec<_> = scene.nodes().collect();
    assert_eq!(roots.iter().map(|n| n.name().unwrap()).collect::<Vec<_>>(), ["Left", "Right", "Unposed"]);
    assert_eq!(doc.meshes().count(), 3);
    // Each root's child holds that object's own triangle: its first vertex, placed.
    let placed: Vec<[f32; 3]> = roots
        .iter()
        .map(|root| {
            let m = root.transform().matrix();
            let child = root.children().next().expect("the object's mesh node");
            let prim = child.mesh().unwrap().primitives().next().unwrap();
            let p = prim.reader(|b| Some(&buffers[b.index()])).read_positions().unwrap().next().unwrap();
            std::array::from_fn(|r| (0..3).map(|k| m[k][r] * p[k]).sum::<f32>() + m[3][r])
        })
        .collect();
    let near = |a: [f32; 3], b: [f32; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
    assert!(near(placed[0], [-0.5, 0.0, -2.0]), "{placed:?}");
    assert!(near(placed[1], [0.5 + 0.2, 0.0, -2.0]), "{placed:?}");
    assert!(near(placed[2], [0.0, 0.3, 0.0]), "an object without a pose stays as it is: {placed:?}");
    // Colours come through per object (the second object's are blue).
    let colour = doc
        .meshes()
        .nth(1)
        .unwrap()
        .primitives()
        .next()
        .unwrap()
        .reader(|b| Some(&buffers[b.index()]))
        .read_colors(0)
        .unwrap()
        .into_rgb_f32()
        .next()
        .unwrap();
    assert_eq!(colour, [0.0, 0.0, 1.0]);
}
