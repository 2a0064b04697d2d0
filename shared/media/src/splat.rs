//! The 3D Gaussian Splatting PLY as SAM 3D Objects writes it: one binary little-endian
//! `vertex` element of float32 properties `x y z nx ny nz f_dc_0..2 [f_rest_*] opacity
//! scale_0..2 rot_0..3`. Gen3D writes SH degree 0 (17 floats, 68 bytes per splat).

use crate::MediaError;

/// The zeroth spherical-harmonics basis constant: RGB = 0.5 + SH_C0 * f_dc.
pub const SH_C0: f32 = 0.282_094_8;

/// One Gaussian, in the file's conventions (opacity a logit, scale log-sigma,
/// rotation an unnormalised quaternion w,x,y,z).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Splat {
    pub position: [f32; 3],
    pub f_dc: [f32; 3],
    pub opacity: f32,
    pub scale: [f32; 3],
    pub rotation: [f32; 4],
}

impl Splat {
    /// Display colour in sRGB [0,1].
    pub fn rgb(&self) -> [f32; 3] {
        self.f_dc.map(|c| (0.5 + SH_C0 * c).clamp(0.0, 1.0))
    }

    pub fn alpha(&self) -> f32 {
        1.0 / (1.0 + (-self.opacity).exp())
    }

    /// The f_dc coefficients that display as `rgb` (sRGB [0,1]).
    pub fn f_dc_for(rgb: [f32; 3]) -> [f32; 3] {
        rgb.map(|c| (c - 0.5) / SH_C0)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SplatCloud {
    pub splats: Vec<Splat>,
}

const PROPERTIES: [&str; 17] =
    ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"];

impl SplatCloud {
    /// Files with more splats than this are refused (SAM 3D Objects writes well under 1M).
    pub const MAX_SPLATS: usize = 4_000_000;

    pub fn write_ply(&self) -> Vec<u8> {
        let mut header = format!("ply\nformat binary_little_endian 1.0\nelement vertex {}\n", self.splats.len());
        for p in PROPERTIES {
            header.push_str("property float ");
            header.push_str(p);
            header.push('\n');
        }
        header.push_str("end_header\n");
        let mut out = Vec::with_capacity(header.len() + self.splats.len() * 68);
        out.extend_from_slice(header.as_bytes());
        for s in &self.splats {
            let values = [
                s.position[0],
                s.position[1],
                s.position[2],
                0.0,
                0.0,
                0.0,
                s.f_dc[0],
                s.f_dc[1],
                s.f_dc[2],
                s.opacity,
                s.scale[0],
                s.scale[1],
                s.scale[2],
                s.rotation[0],
                s.rotation[1],
                s.rotation[2],
                s.rotation[3],
            ];
            for v in values {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Reads a 3DGS PLY (any SH degree; extra properties are skipped).
    pub fn read_ply(bytes: &[u8]) -> Result<Self, MediaError> {
        let bad = |m: String| MediaError::Ply(m);
        let header_end = find(bytes, b"end_header\n").ok_or_else(|| bad("no end_header line (not a ply, or truncated header)".into()))?;
        let header = std::str::from_utf8(&bytes[..header_end]).map_err(|_| bad("header is not text".into()))?;
        let body = &bytes[header_end + b"end_header\n".len()..];
        let mut lines = header.lines();
        if lines.next() != Some("ply") {
            return Err(bad("missing 'ply' magic".into()));
        }
        let mut count: Option<usize> = None;
        let mut props: Vec<String> = Vec::new();
        let mut in_vertex = false;
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["format", "binary_little_endian", "1.0"] => {}
                ["format", other, ..] => {
                    return Err(bad(format!("format {other} is not supported (binary_little_endian only)")));
                }
                ["comment", ..] | ["obj_info", ..] | [] => {}
                ["element", "vertex", n] => {
                    let n: usize = n.parse().map_err(|_| bad(format!("bad vertex count {n:?}")))?;
                    count = Some(n);
                    in_vertex = true;
                }
                ["element", name, n] => {
                    if *n != "0" {
                        return Err(bad(format!("unexpected element {name:?}: a splat file has only vertices")));
                    }
                    in_vertex = false;
                }
                ["property", ty, name] if in_vertex => {
                    if !matches!(*ty, "float" | "float32") {
                        return Err(bad(format!("property {name} is {ty}; a splat file has float properties only")));
                    }
                    props.push((*name).to_owned());
                }
                ["property", ..] => {}
                _ => return Err(bad(format!("unexpected header line {line:?}"))),
            }
        }
        let count = count.ok_or_else(|| bad("no vertex element".into()))?;
        if count == 0 {
            return Err(bad("zero splats".into()));
        }
        if count > Self::MAX_SPLATS {
            return Err(bad(format!("{count} splats, over the limit of {}", Self::MAX_SPLATS)));
        }
        let index = |name: &str| props.iter().position(|p| p == name).ok_or_else(|| bad(format!("missing property {name}")));
        let idx: Vec<usize> =
            ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
                .iter()
                .map(|n| index(n))
                .collect::<Result<_, _>>()?;
        let stride = props.len() * 4;
        if body.len() < count * stride {
            return Err(bad(format!("truncated: {count} splats need {} bytes, file has {}", count * stride, body.len())));
        }
        let mut splats = Vec::with_capacity(count);
        for (row, chunk) in body.chunks_exact(stride).take(count).enumerate() {
            let f = |i: usize| f32::from_le_bytes(chunk[i * 4..i * 4 + 4].try_into().expect("4-byte slice"));
            let v: Vec<f32> = idx.iter().map(|&i| f(i)).collect();
            if let Some(bad_value) = v.iter().find(|x| !x.is_finite()) {
                return Err(bad(format!("splat {row} has a non-finite value ({bad_value})")));
            }
            splats.push(Splat {
                position: [v[0], v[1], v[2]],
                f_dc: [v[3], v[4], v[5]],
                opacity: v[6],
                scale: [v[7], v[8], v[9]],
                rotation: [v[10], v[11], v[12], v[13]],
            });
        }
        Ok(Self { splats })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).take(64 * 1024).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud() -> SplatCloud {
        let s = Splat {
            position: [0.1, -0.2, 0.3],
            f_dc: Splat::f_dc_for([1.0, 0.5, 0.0]),
            opacity: 2.0,
            scale: [-4.0, -4.0, -6.0],
            rotation: [1.0, 0.0, 0.0, 0.0],
        };
        SplatCloud { splats: vec![s, Splat { position: [0.0; 3], ..s }] }
    }

    #[test]
    fn writes_the_17_property_layout_and_reads_it_back() {
        let bytes = cloud().write_ply();
        let header_len = find(&bytes, b"end_header\n").unwrap() + 11;
        let header = std::str::from_utf8(&bytes[..header_len]).unwrap();
        assert_eq!(header.matches("property float").count(), 17);
        assert_eq!(bytes.len() - header_len, 2 * 68);
        let back = SplatCloud::read_ply(&bytes).unwrap();
        assert_eq!(back, cloud());
        let rgb = back.splats[0].rgb();
        assert!((rgb[0] - 1.0).abs() < 1e-6 && (rgb[1] - 0.5).abs() < 1e-6 && rgb[2].abs() < 1e-6);
    }

    #[test]
    fn rejects_bad_files() {
        let good = cloud().write_ply();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"hello".to_vec(), "no end_header"),
            (good[..good.len() - 10].to_vec(), "truncated"),
            (String::from_utf8_lossy(&good).replace("element vertex 2", "element vertex 0").into_bytes(), "zero splats"),
            (String::from_utf8_lossy(&good).replace("binary_little_endian", "ascii").into_bytes(), "not supported"),
            (b"ply\nformat binary_little_endian 1.0\nelement vertex 1\nproperty float x\nend_header\n\0\0\0\0".to_vec(), "missing property y"),
        ];
        for (bytes, expected) in cases {
            let err = SplatCloud::read_ply(&bytes).unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
        let mut nan = good.clone();
        let at = nan.len() - 68;
        nan[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(SplatCloud::read_ply(&nan).unwrap_err().to_string().contains("non-finite"));
    }
}
