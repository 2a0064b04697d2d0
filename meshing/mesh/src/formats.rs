//! OBJ, PLY and STL writers (GLB is in `glb.rs`). Colours are stored as sRGB where the
//! format has no colour-space notion (OBJ, PLY), as tools display them directly.

use gen3d_domain::MeshFormat;

use crate::{Mesh, write_glb};

fn linear_to_srgb(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.003_130_8 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 }
}

/// Serialises `mesh` in `format`.
pub fn write_mesh(mesh: &Mesh, format: MeshFormat) -> Vec<u8> {
    match format {
        MeshFormat::Glb => write_glb(mesh),
        MeshFormat::Obj => write_obj(mesh),
        MeshFormat::Ply => write_ply(mesh),
        MeshFormat::Stl => write_stl(mesh),
    }
}

fn write_obj(mesh: &Mesh) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::with_capacity(mesh.positions.len() * 64 + mesh.indices.len() * 12);
    s.push_str("# gen3d mesh: y-up, per-vertex sRGB colours (v x y z r g b)\n");
    for (i, p) in mesh.positions.iter().enumerate() {
        let c = mesh.colors.get(i).map(|c| c.map(linear_to_srgb)).unwrap_or([0.8; 3]);
        let _ = writeln!(s, "v {} {} {} {:.4} {:.4} {:.4}", p[0], p[1], p[2], c[0], c[1], c[2]);
    }
    for n in &mesh.normals {
        let _ = writeln!(s, "vn {} {} {}", n[0], n[1], n[2]);
    }
    let with_normals = mesh.normals.len() == mesh.positions.len();
    for t in mesh.indices.chunks_exact(3) {
        let (a, b, c) = (t[0] + 1, t[1] + 1, t[2] + 1);
        let _ = if with_normals { writeln!(s, "f {a}//{a} {b}//{b} {c}//{c}") } else { writeln!(s, "f {a} {b} {c}") };
    }
    s.into_bytes()
}

fn write_ply(mesh: &Mesh) -> Vec<u8> {
    let header = format!(
        "ply\nformat binary_little_endian 1.0\ncomment gen3d mesh, y-up, sRGB colours\nelement vertex {}\nproperty float x\nproperty float y\nproperty float z\n\
         property float nx\nproperty float ny\nproperty float nz\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n\
         element face {}\nproperty list uchar int vertex_indices\nend_header\n",
        mesh.positions.len(),
        mesh.indices.len() / 3
    );
    let mut out = header.into_bytes();
    for (i, p) in mesh.positions.iter().enumerate() {
        let n = mesh.normals.get(i).copied().unwrap_or([0.0; 3]);
        for v in p.iter().chain(&n) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let c = mesh.colors.get(i).copied().unwrap_or([0.8; 3]);
        out.extend(c.map(|v| (linear_to_srgb(v) * 255.0).round() as u8));
    }
    for t in mesh.indices.chunks_exact(3) {
        out.push(3);
        for &i in t {
            out.extend_from_slice(&(i as i32).to_le_bytes());
        }
    }
    out
}

fn write_stl(mesh: &Mesh) -> Vec<u8> {
    let triangles = mesh.indices.len() / 3;
    let mut out = Vec::with_capacity(84 + triangles * 50);
    let mut header = [0u8; 80];
    let text = b"gen3d mesh (binary STL, y-up, units: object-local)";
    header[..text.len()].copy_from_slice(text);
    out.extend_from_slice(&header);
    out.extend_from_slice(&(triangles as u32).to_le_bytes());
    for t in mesh.indices.chunks_exact(3) {
        let [a, b, c] = [t[0], t[1], t[2]].map(|i| mesh.positions[i as usize]);
        let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
        let n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
        let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-20);
        for x in n.map(|x| x / len).iter().chain(&a).chain(&b).chain(&c) {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.extend_from_slice(&0u16.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tetra() -> Mesh {
        Mesh {
            positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            normals: vec![[0.0, 0.0, 1.0]; 4],
            colors: vec![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.214, 0.214, 0.214]],
            indices: vec![0, 2, 1, 0, 1, 3, 1, 2, 3, 2, 0, 3],
            watertight: true,
        }
    }

    #[test]
    fn obj_has_vertices_colours_and_one_based_faces() {
        let obj = String::from_utf8(write_mesh(&tetra(), MeshFormat::Obj)).unwrap();
        assert_eq!(obj.lines().filter(|l| l.starts_with("v ")).count(), 4);
        assert!(obj.contains("v 0 0 1 0.5"), "linear 0.214 is sRGB ~0.5: {obj}");
        assert!(obj.contains("f 1//1 3//3 2//2"));
    }

    #[test]
    fn ply_and_stl_sizes_match_their_layouts() {
        let m = tetra();
        let ply = write_mesh(&m, MeshFormat::Ply);
        let end = ply.windows(11).position(|w| w == b"end_header\n").unwrap() + 11;
        assert_eq!(ply.len() - end, 4 * (24 + 3) + 4 * 13);
        let stl = write_mesh(&m, MeshFormat::Stl);
        assert_eq!(stl.len(), 84 + 4 * 50);
        assert_eq!(u32::from_le_bytes(stl[80..84].try_into().unwrap()), 4);
    }
}
