//! End-to-end checks of the meshing crate: a splat sphere becomes a closed, coloured
//! mesh, and the GLB written for it is structurally valid and loads with `gltf`.

use gen3d_domain::MeshOptions;
use gen3d_media::{Splat, SplatCloud};
use gen3d_meshing::{mesh_splats, srgb_to_linear, write_glb};

/// Splats on a sphere of radius 0.4 (Fibonacci lattice), z-up, normals along the radius,
/// the upper half red and the lower half blue.
fn sphere(n: usize) -> SplatCloud {
    let golden = std::f32::consts::PI * (3.0 - 5f32.sqrt());
    let splats = (0..n)
        .map(|i| {
            let z = 1.0 - 2.0 * (i as f32 + 0.5) / n as f32;
            let r = (1.0 - z * z).sqrt();
            let t = golden * i as f32;
            let dir = [r * t.cos(), r * t.sin(), z];
            // quaternion turning local z onto dir
            let q = [1.0 + dir[2], -dir[1], dir[0], 0.0];
            let len = q.iter().map(|c: &f32| c * c).sum::<f32>().sqrt();
            let rotation = if len < 1e-4 { [0.0, 1.0, 0.0, 0.0] } else { q.map(|c| c / len) };
            let rgb = if z > 0.0 { [0.9, 0.1, 0.1] } else { [0.1, 0.1, 0.9] };
            Splat { position: dir.map(|c| c * 0.4), f_dc: Splat::f_dc_for(rgb), opacity: 4.0, scale: [-4.5, -4.5, -8.0], rotation }
        })
        .collect();
    SplatCloud { splats }
}

#[test]
fn a_splat_sphere_meshes_closed_round_and_coloured() {
    let (mesh, stats) = mesh_splats(&sphere(20_000), &MeshOptions::standard()).unwrap();
    assert!(stats.triangles > 1_000 && stats.triangles <= u64::from(MeshOptions::DEFAULT_TRIANGLES), "{stats:?}");
    assert!(stats.watertight, "a sphere must come out closed");
    // Every vertex lies near the true surface.
    let worst = mesh.positions.iter().map(|p| ((p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt() - 0.4).abs()).fold(0.0f32, f32::max);
    assert!(worst < 0.02, "max distance to the sphere {worst}");
    // y-up: the red (z-up) half is now at +y; colours are linear.
    let top = mesh.positions.iter().zip(&mesh.colors).filter(|(p, _)| p[1] > 0.2).map(|(_, c)| *c).collect::<Vec<_>>();
    assert!(!top.is_empty());
    for c in &top {
        assert!((c[0] - srgb_to_linear(0.9)).abs() < 0.08 && c[2] < 0.05, "top is linear red: {c:?}");
    }
}

#[test]
fn glb_is_structurally_valid_and_loads() {
    let (mesh, _) = mesh_splats(&sphere(8_000), &MeshOptions::standard()).unwrap();
    let bytes = write_glb(&mesh);
    // Header and chunks.
    assert_eq!(&bytes[0..4], b"glTF");
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize, bytes.len());
    let json_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    assert_eq!(&bytes[16..20], b"JSON");
    assert_eq!(&bytes[20 + json_len + 4..20 + json_len + 8], b"BIN\0");
    let doc: serde_json::Value = serde_json::from_slice(&bytes[20..20 + json_len]).unwrap();
    assert!(doc["buffers"][0].get("uri").is_none(), "the buffer lives in the BIN chunk");
    let idx = &doc["accessors"][3];
    assert_eq!(idx["max"][0].as_u64().unwrap() as usize, mesh.positions.len() - 1, "index max is exact");

    let (gltf, buffers, _) = gltf::import_slice(&bytes).expect("gltf crate loads it");
    let prim = gltf.meshes().next().unwrap().primitives().next().unwrap();
    let reader = prim.reader(|b| Some(&buffers[b.index()]));
    let positions: Vec<[f32; 3]> = reader.read_positions().unwrap().collect();
    let indices: Vec<u32> = reader.read_indices().unwrap().into_u32().collect();
    let colors: Vec<[f32; 3]> = reader.read_colors(0).unwrap().into_rgb_f32().collect();
    assert_eq!(positions.len(), mesh.positions.len());
    assert_eq!(colors, mesh.colors);
    assert!(indices.len() / 3 > 1_000);
    assert!(indices.iter().all(|&i| (i as usize) < positions.len()));
    // Accessor bounds match the data.
    let acc = gltf.accessors().next().unwrap();
    let max = acc.max().unwrap();
    let real_max = positions.iter().map(|p| p[0]).fold(f32::MIN, f32::max);
    assert_eq!(max[0].as_f64().unwrap() as f32, real_max);
}
