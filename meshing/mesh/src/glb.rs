//! A binary glTF 2.0 writer (Open3D 0.16's own puts the buffer in the JSON chunk as
//! base64 and writes a wrong index `max`). One buffer in the BIN chunk; accessors carry
//! exact min/max; colours are linear, as glTF requires. The container itself (header,
//! chunks) is `gen3d_media::glb_bytes`, shared with the scene GLB.

use serde_json::json;

use crate::Mesh;

const FLOAT: u32 = 5126;
const UNSIGNED_INT: u32 = 5125;
const ARRAY_BUFFER: u32 = 34962;
const ELEMENT_ARRAY_BUFFER: u32 = 34963;

fn min_max(values: &[[f32; 3]]) -> (Vec<f32>, Vec<f32>) {
    let mut lo = [f32::MAX; 3];
    let mut hi = [f32::MIN; 3];
    for v in values {
        for k in 0..3 {
            lo[k] = lo[k].min(v[k]);
            hi[k] = hi[k].max(v[k]);
        }
    }
    (lo.to_vec(), hi.to_vec())
}

/// Serialises `mesh` as a .glb file.
pub fn write_glb(mesh: &Mesh) -> Vec<u8> {
    assert!(!mesh.positions.is_empty() && !mesh.indices.is_empty(), "a mesh to write has triangles");
    let vertex_count = mesh.positions.len();
    let mut bin: Vec<u8> = Vec::new();
    let mut views = Vec::new();
    let mut push_view = |bin: &mut Vec<u8>, data: Vec<u8>, target: u32| {
        while !bin.len().is_multiple_of(4) {
            bin.push(0);
        }
        views.push(json!({"buffer": 0, "byteOffset": bin.len(), "byteLength": data.len(), "target": target}));
        bin.extend_from_slice(&data);
        views.len() - 1
    };
    let floats = |v: &[[f32; 3]]| v.iter().flatten().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
    let pos_view = push_view(&mut bin, floats(&mesh.positions), ARRAY_BUFFER);
    let nrm_view = push_view(&mut bin, floats(&mesh.normals), ARRAY_BUFFER);
    let col_view = push_view(&mut bin, floats(&mesh.colors), ARRAY_BUFFER);
    let idx_view = push_view(&mut bin, mesh.indices.iter().flat_map(|i| i.to_le_bytes()).collect(), ELEMENT_ARRAY_BUFFER);
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }

    let (pmin, pmax) = min_max(&mesh.positions);
    let (nmin, nmax) = min_max(&mesh.normals);
    let (cmin, cmax) = min_max(&mesh.colors);
    let imin = mesh.indices.iter().copied().min().unwrap_or(0);
    let imax = mesh.indices.iter().copied().max().unwrap_or(0);
    let mut attributes = serde_json::Map::new();
    attributes.insert("POSITION".into(), json!(0));
    let has_normals = mesh.normals.len() == vertex_count;
    let has_colors = mesh.colors.len() == vertex_count;
    let doc = json!({
        "asset": {"version": "2.0", "generator": "gen3d"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "object"}],
        "meshes": [{"name": "object", "primitives": [{
            "attributes": {
                "POSITION": 0,
                "NORMAL": if has_normals { json!(1) } else { json!(null) },
                "COLOR_0": if has_colors { json!(2) } else { json!(null) },
            },
            "indices": 3,
            "mode": 4,
            "material": 0
        }]}],
        "materials": [{"name": "vertex-colour", "pbrMetallicRoughness": {"baseColorFactor": [1.0, 1.0, 1.0, 1.0], "metallicFactor": 0.0, "roughnessFactor": 0.9}}],
        "buffers": [{"byteLength": bin.len()}],
        "bufferViews": views,
        "accessors": [
            {"bufferView": pos_view, "componentType": FLOAT, "count": vertex_count, "type": "VEC3", "min": pmin, "max": pmax},
            {"bufferView": nrm_view, "componentType": FLOAT, "count": mesh.normals.len(), "type": "VEC3", "min": nmin, "max": nmax},
            {"bufferView": col_view, "componentType": FLOAT, "count": mesh.colors.len(), "type": "VEC3", "min": cmin, "max": cmax},
            {"bufferView": idx_view, "componentType": UNSIGNED_INT, "count": mesh.indices.len(), "type": "SCALAR", "min": [imin], "max": [imax]}
        ]
    });
    // Drop attributes the mesh lacks (null entries are not valid glTF).
    let mut doc = doc;
    if let Some(attrs) = doc.pointer_mut("/meshes/0/primitives/0/attributes").and_then(|a| a.as_object_mut()) {
        attrs.retain(|_, v| !v.is_null());
    }
    gen3d_media::glb_bytes(&doc, &bin)
}

/// `glb` with `extras` set on its scene (`scenes[0].extras`; three.js's GLTFLoader puts
/// it in the scene's `userData`). The geometry is untouched.
pub fn with_scene_extras(glb: &[u8], extras: serde_json::Value) -> Result<Vec<u8>, String> {
    let (mut doc, bin) = gen3d_media::glb_parts(glb).map_err(|e| e.to_string())?;
    let scene = doc.pointer_mut("/scenes/0").and_then(|s| s.as_object_mut()).ok_or("the GLB has no scene")?;
    scene.insert("extras".into(), extras);
    Ok(gen3d_media::glb_bytes(&doc, &bin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_extras_are_added_and_the_geometry_kept() {
        let mesh = Mesh {
            positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            normals: vec![[0.0, 0.0, 1.0]; 3],
            colors: vec![[1.0, 0.0, 0.0]; 3],
            indices: vec![0, 1, 2],
            watertight: false,
        };
        let glb = write_glb(&mesh);
        let out = with_scene_extras(&glb, json!({"gen3d": {"pose": {"scale": 2.0}}})).unwrap();
        let (doc, buffers, _) = gltf::import_slice(&out).expect("still a valid GLB");
        assert_eq!(doc.meshes().count(), 1);
        assert_eq!(buffers[0].len(), gltf::import_slice(&glb).unwrap().1[0].len(), "the BIN chunk is kept");
        let len = u32::from_le_bytes(out[12..16].try_into().unwrap()) as usize;
        let json: serde_json::Value = serde_json::from_slice(&out[20..20 + len]).unwrap();
        assert_eq!(json["scenes"][0]["extras"]["gen3d"]["pose"]["scale"], 2.0);
        assert_eq!(u32::from_le_bytes(out[8..12].try_into().unwrap()) as usize, out.len());
        assert!(with_scene_extras(b"nope", json!({})).is_err());
    }
}
