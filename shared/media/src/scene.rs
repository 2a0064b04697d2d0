//! A photo's scene: the meshes of its objects (each a .glb as the meshing step writes it)
//! merged into one .glb, with one root node per object placed by the object's pose, in
//! the photo's camera frame turned to glTF's axes (the camera at the origin looking down
//! −z, y up). An object without a pose stays where its mesh is.

use serde_json::{Value, json};

use crate::MediaError;

const GLB_MAGIC: u32 = 0x4654_6C67; // "glTF"
const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

/// One object of a scene: its node's name, its mesh .glb and its pose.
pub struct ScenePart<'a> {
    pub name: String,
    pub glb: &'a [u8],
    pub pose: Option<gen3d_domain::Pose>,
}

fn err(part: &str, why: impl std::fmt::Display) -> MediaError {
    MediaError::Glb(format!("{part}: {why}"))
}

/// The JSON document and BIN chunk (empty when absent) of a .glb.
pub fn glb_parts(glb: &[u8]) -> Result<(Value, Vec<u8>), MediaError> {
    split(glb, "the GLB")
}

fn split(glb: &[u8], part: &str) -> Result<(Value, Vec<u8>), MediaError> {
    let word = |at: usize| glb.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok_or_else(|| err(part, "cut short"));
    if word(0)? != GLB_MAGIC || word(16)? != CHUNK_JSON {
        return Err(err(part, "not a GLB with a JSON chunk"));
    }
    let json_len = word(12)? as usize;
    let json = glb.get(20..20 + json_len).ok_or_else(|| err(part, "JSON chunk cut short"))?;
    let doc: Value = serde_json::from_slice(json).map_err(|e| err(part, e))?;
    let at = 20 + json_len;
    let bin = if glb.len() > at {
        let len = word(at)? as usize;
        if word(at + 4)? != CHUNK_BIN {
            return Err(err(part, "second chunk is not BIN"));
        }
        glb.get(at + 8..at + 8 + len).ok_or_else(|| err(part, "BIN chunk cut short"))?.to_vec()
    } else {
        Vec::new()
    };
    Ok((doc, bin))
}

/// `doc[key]` as an array (empty when absent).
fn list(doc: &Value, key: &str) -> Vec<Value> {
    doc.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Adds `by` to the index at `v[key]`, if present.
fn shift(v: &mut Value, key: &str, by: usize) {
    if let Some(i) = v.get(key).and_then(Value::as_u64) {
        v[key] = json!(i as usize + by);
    }
}

/// The column-major glTF matrix that places an object's mesh (glTF axes, y up) in the
/// scene: back to SAM 3D Objects' z-up object frame, then `s·R·p + t` into the camera
/// frame (x right, y down, z forward), then to glTF's camera axes (y up, z backward).
pub fn pose_matrix(pose: &gen3d_domain::Pose) -> [f32; 16] {
    let r = crate::thumbnail::rotation_matrix(pose.rotation);
    // glTF-local (x, y, z) is z-up (x, −z, y): column k of A is the z-up image of axis k.
    let a = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]; // a[col][row]
    let flip = [1.0, -1.0, -1.0]; // camera (OpenCV) -> glTF camera axes
    let mut m = [0.0f32; 16];
    for col in 0..3 {
        for row in 0..3 {
            let rotated: f32 = (0..3).map(|k| r[row][k] * a[col][k]).sum();
            m[col * 4 + row] = flip[row] * pose.scale * rotated;
        }
    }
    for row in 0..3 {
        m[12 + row] = flip[row] * pose.translation[row];
    }
    m[15] = 1.0;
    m
}

/// One .glb of every part: each part's buffers, views, accessors, materials, meshes and
/// nodes appended (indices shifted), and one root node per part, named and posed.
pub fn scene_glb(parts: &[ScenePart<'_>]) -> Result<Vec<u8>, MediaError> {
    if parts.is_empty() {
        return Err(MediaError::Glb("a scene needs at least one object".into()));
    }
    let mut bin = Vec::new();
    let (mut views, mut accessors, mut materials, mut meshes, mut nodes, mut roots) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    for part in parts {
        let (doc, part_bin) = split(part.glb, &part.name)?;
        for unsupported in ["images", "textures", "samplers", "skins", "animations", "cameras"] {
            if !list(&doc, unsupported).is_empty() {
                return Err(err(&part.name, format!("has {unsupported}; a scene takes vertex-coloured meshes")));
            }
        }
        if list(&doc, "buffers").len() > 1 {
            return Err(err(&part.name, "has more than one buffer"));
        }
        while !bin.len().is_multiple_of(4) {
            bin.push(0);
        }
        let (bin_at, view_at, accessor_at, material_at, mesh_at, node_at) =
            (bin.len(), views.len(), accessors.len(), materials.len(), meshes.len(), nodes.len());
        bin.extend_from_slice(&part_bin);
        for mut v in list(&doc, "bufferViews") {
            v["buffer"] = json!(0);
            v["byteOffset"] = json!(v.get("byteOffset").and_then(Value::as_u64).unwrap_or(0) as usize + bin_at);
            views.push(v);
        }
        for mut a in list(&doc, "accessors") {
            shift(&mut a, "bufferView", view_at);
            accessors.push(a);
        }
        materials.extend(list(&doc, "materials"));
        for mut m in list(&doc, "meshes") {
            for p in m.get_mut("primitives").and_then(Value::as_array_mut).into_iter().flatten() {
                if let Some(attrs) = p.get_mut("attributes").and_then(Value::as_object_mut) {
                    for i in attrs.values_mut() {
                        *i = json!(i.as_u64().unwrap_or(0) as usize + accessor_at);
                    }
                }
                shift(p, "indices", accessor_at);
                shift(p, "material", material_at);
            }
            meshes.push(m);
        }
        for mut n in list(&doc, "nodes") {
            shift(&mut n, "mesh", mesh_at);
            if let Some(children) = n.get_mut("children").and_then(Value::as_array_mut) {
                children.iter_mut().for_each(|c| *c = json!(c.as_u64().unwrap_or(0) as usize + node_at));
            }
            nodes.push(n);
        }
        let scene = doc.get("scene").and_then(Value::as_u64).unwrap_or(0) as usize;
        let children: Vec<usize> = doc
            .pointer(&format!("/scenes/{scene}/nodes"))
            .and_then(Value::as_array)
            .ok_or_else(|| err(&part.name, "has no scene"))?
            .iter()
            .map(|i| i.as_u64().unwrap_or(0) as usize + node_at)
            .collect();
        let mut root = json!({"name": part.name, "children": children});
        if let Some(pose) = part.pose.filter(gen3d_domain::Pose::is_valid) {
            root["matrix"] = json!(pose_matrix(&pose));
            root["extras"] = json!({"pose": pose});
        }
        roots.push(root);
    }
    let first_root = nodes.len();
    nodes.extend(roots);
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let doc = json!({
        "asset": {"version": "2.0", "generator": "gen3d scene"},
        "scene": 0,
        "scenes": [{"name": "photo", "nodes": (first_root..nodes.len()).collect::<Vec<_>>()}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": materials,
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": bin.len()}],
    });
    Ok(glb_bytes(&doc, &bin))
}

/// A .glb file: the header, `doc` as the JSON chunk (padded with spaces), then `bin` as
/// the BIN chunk (padded with zeros; none when empty).
pub fn glb_bytes(doc: &Value, bin: &[u8]) -> Vec<u8> {
    let mut json_bytes = serde_json::to_vec(doc).expect("a JSON value serialises");
    while !json_bytes.len().is_multiple_of(4) {
        json_bytes.push(b' ');
    }
    let mut bin = bin.to_vec();
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let total = 12 + 8 + json_bytes.len() + if bin.is_empty() { 0 } else { 8 + bin.len() };
    let mut out = Vec::with_capacity(total);
    for word in [GLB_MAGIC, 2, total as u32, json_bytes.len() as u32, CHUNK_JSON] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&json_bytes);
    if !bin.is_empty() {
        out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
        out.extend_from_slice(&CHUNK_BIN.to_le_bytes());
        out.extend_from_slice(&bin);
    }
    out
}

#[cfg(test)]
mod tests {
    use gen3d_domain::Pose;

    use super::*;

    fn apply(m: &[f32; 16], p: [f32; 3]) -> [f32; 3] {
        std::array::from_fn(|row| (0..3).map(|k| m[k * 4 + row] * p[k]).sum::<f32>() + m[12 + row])
    }

    fn close(a: [f32; 3], b: [f32; 3]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    #[test]
    fn an_identity_pose_only_changes_axes() {
        let pose = Pose { rotation: [1.0, 0.0, 0.0, 0.0], translation: [0.5, 0.25, 3.0], scale: 2.0 };
        let m = pose_matrix(&pose);
        // glTF-local +y is z-up +z, which the camera frame keeps (z forward) and glTF's
        // camera axes turn to −z: "up" in the object points away from the camera.
        assert!(close(apply(&m, [0.0, 1.0, 0.0]), [0.5, -0.25, -5.0]));
        // glTF-local +z is z-up −y, camera-frame −y (up in the photo), glTF +y.
        assert!(close(apply(&m, [0.0, 0.0, 1.0]), [0.5, 1.75, -3.0]));
        assert!(close(apply(&m, [0.0, 0.0, 0.0]), [0.5, -0.25, -3.0]), "the origin lands at the translation, in glTF axes");
    }

    #[test]
    fn the_built_in_pose_stands_the_object_up_facing_the_camera() {
        // A quarter turn about x (the built-in reconstructor's pose): the object's z-up
        // "up" becomes the camera's −y, which is glTF's +y.
        let h = std::f32::consts::FRAC_1_SQRT_2;
        let m = pose_matrix(&Pose { rotation: [h, h, 0.0, 0.0], translation: [0.0, 0.0, 2.0], scale: 1.0 });
        assert!(close(apply(&m, [0.0, 1.0, 0.0]), [0.0, 1.0, -2.0]), "{:?}", apply(&m, [0.0, 1.0, 0.0]));
        assert!(close(apply(&m, [1.0, 0.0, 0.0]), [1.0, 0.0, -2.0]));
    }

    #[test]
    fn refuses_what_is_not_a_glb() {
        let parts = [ScenePart { name: "Object 1".into(), glb: b"not a glb", pose: None }];
        assert!(matches!(scene_glb(&parts), Err(MediaError::Glb(m)) if m.starts_with("Object 1: ")));
        assert!(scene_glb(&[]).is_err());
    }
}
