//! Plain (coloured) point-cloud PLYs, as photogrammetry and scanning tools write them:
//! a binary little-endian `vertex` element with `x y z`, optionally `nx ny nz` and
//! `red green blue` (8-bit or float). Other properties and a `face` element are ignored.

use crate::MediaError;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PointCloud {
    pub positions: Vec<[f32; 3]>,
    pub normals: Option<Vec<[f32; 3]>>,
    /// sRGB in [0,1].
    pub colors: Option<Vec<[f32; 3]>>,
}

fn size_of(ty: &str) -> Option<usize> {
    Some(match ty {
        "char" | "int8" | "uchar" | "uint8" => 1,
        "short" | "int16" | "ushort" | "uint16" => 2,
        "int" | "int32" | "uint" | "uint32" | "float" | "float32" => 4,
        "double" | "float64" => 8,
        _ => return None,
    })
}

fn read_value(ty: &str, b: &[u8]) -> f64 {
    match ty {
        "char" | "int8" => f64::from(b[0] as i8),
        "uchar" | "uint8" => f64::from(b[0]),
        "short" | "int16" => f64::from(i16::from_le_bytes([b[0], b[1]])),
        "ushort" | "uint16" => f64::from(u16::from_le_bytes([b[0], b[1]])),
        "int" | "int32" => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        "uint" | "uint32" => f64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        "float" | "float32" => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        _ => f64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
    }
}

impl PointCloud {
    pub const MAX_POINTS: usize = 4_000_000;

    pub fn read_ply(bytes: &[u8]) -> Result<Self, MediaError> {
        let bad = |m: String| MediaError::Ply(m);
        let marker = b"end_header\n";
        let end = bytes.windows(marker.len()).take(64 * 1024).position(|w| w == marker).ok_or_else(|| bad("no end_header line".into()))?;
        let header = std::str::from_utf8(&bytes[..end]).map_err(|_| bad("header is not text".into()))?;
        let body = &bytes[end + marker.len()..];
        let mut lines = header.lines();
        if lines.next() != Some("ply") {
            return Err(bad("missing 'ply' magic".into()));
        }
        let (mut count, mut props, mut in_vertex, mut seen_vertex) = (None, Vec::<(String, String)>::new(), false, false);
        for line in lines {
            let w: Vec<&str> = line.split_whitespace().collect();
            match w.as_slice() {
                ["format", "binary_little_endian", _] => {}
                ["format", other, ..] => {
                    return Err(bad(format!("format {other} is not supported (binary_little_endian only)")));
                }
                ["element", "vertex", n] if !seen_vertex => {
                    count = Some(n.parse::<usize>().map_err(|_| bad(format!("bad vertex count {n:?}")))?);
                    in_vertex = true;
                    seen_vertex = true;
                }
                ["element", ..] => {
                    if !seen_vertex {
                        return Err(bad("the vertex element must come first".into()));
                    }
                    in_vertex = false;
                }
                ["property", "list", ..] if in_vertex => {
                    return Err(bad("list properties on vertices are not supported".into()));
                }
                ["property", ty, name] if in_vertex => {
                    size_of(ty).ok_or_else(|| bad(format!("unknown property type {ty}")))?;
                    props.push(((*ty).to_owned(), (*name).to_owned()));
                }
                _ => {}
            }
        }
        let count = count.ok_or_else(|| bad("no vertex element".into()))?;
        if count == 0 {
            return Err(bad("zero points".into()));
        }
        if count > Self::MAX_POINTS {
            return Err(bad(format!("{count} points, over the limit of {}", Self::MAX_POINTS)));
        }
        let offsets: Vec<usize> = props
            .iter()
            .scan(0, |o, (ty, _)| {
                let at = *o;
                *o += size_of(ty).unwrap_or(0);
                Some(at)
            })
            .collect();
        let stride: usize = props.iter().map(|(ty, _)| size_of(ty).unwrap_or(0)).sum();
        if body.len() < count * stride {
            return Err(bad(format!("truncated: {count} points need {} bytes, file has {}", count * stride, body.len())));
        }
        let find = |name: &str| props.iter().position(|(_, n)| n == name);
        let column = |names: [&str; 3]| -> Option<[usize; 3]> { Some([find(names[0])?, find(names[1])?, find(names[2])?]) };
        let pos = column(["x", "y", "z"]).ok_or_else(|| bad("missing x, y or z".into()))?;
        let nrm = column(["nx", "ny", "nz"]);
        let col = column(["red", "green", "blue"]);
        let get = |row: &[u8], i: usize| read_value(&props[i].0, &row[offsets[i]..]);
        let mut cloud = PointCloud {
            positions: Vec::with_capacity(count),
            normals: nrm.map(|_| Vec::with_capacity(count)),
            colors: col.map(|_| Vec::with_capacity(count)),
        };
        for (r, row) in body.chunks_exact(stride.max(1)).take(count).enumerate() {
            let p = pos.map(|i| get(row, i) as f32);
            if p.iter().any(|v| !v.is_finite()) {
                return Err(bad(format!("point {r} has a non-finite coordinate")));
            }
            cloud.positions.push(p);
            if let (Some(n), Some(out)) = (nrm, cloud.normals.as_mut()) {
                out.push(n.map(|i| get(row, i) as f32).map(|v| if v.is_finite() { v } else { 0.0 }));
            }
            if let (Some(c), Some(out)) = (col, cloud.colors.as_mut()) {
                let scale = if props[c[0]].0.starts_with('u') || props[c[0]].0 == "char" { 255.0 } else { 1.0 };
                out.push(c.map(|i| (get(row, i) / scale).clamp(0.0, 1.0) as f32));
            }
        }
        // All-zero normals (as 3DGS files carry) are no normals.
        if cloud.normals.as_ref().is_some_and(|n| n.iter().all(|v| *v == [0.0; 3])) {
            cloud.normals = None;
        }
        Ok(cloud)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_uchar_colours_and_skips_faces() {
        let mut bytes = b"ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n".to_vec();
        for (p, c) in [([1.0f32, 2.0, 3.0], [255u8, 0, 51]), ([4.0, 5.0, 6.0], [0, 255, 0])] {
            for v in p {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            bytes.extend_from_slice(&c);
        }
        let cloud = PointCloud::read_ply(&bytes).unwrap();
        assert_eq!(cloud.positions, vec![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(cloud.colors.unwrap()[0], [1.0, 0.0, 0.2]);
        assert!(cloud.normals.is_none());
        assert!(PointCloud::read_ply(&bytes[..bytes.len() - 3]).unwrap_err().to_string().contains("truncated"));
    }
}
