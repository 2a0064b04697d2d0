use gen3d_media::{PointCloud, Splat, SplatCloud};

use crate::MeshError;

/// Splats fainter than this contribute nothing visible and are dropped.
pub const MIN_ALPHA: f32 = 0.1;

/// Flat xyz buffers ready for the bridge, in glTF's y-up frame; colours sRGB [0,1].
pub struct PreparedCloud {
    pub positions: Vec<f32>,
    pub normals: Vec<f32>,
    pub colors: Vec<f32>,
}

/// Column `axis` of the rotation matrix of quaternion (w,x,y,z): the direction of the
/// splat's local axis `axis` in the object frame.
fn rotation_axis(q: [f32; 4], axis: usize) -> [f32; 3] {
    let n = q.iter().map(|c| c * c).sum::<f32>().sqrt().max(1e-12);
    let [w, x, y, z] = q.map(|c| c / n);
    match axis {
        0 => [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + w * z), 2.0 * (x * z - w * y)],
        1 => [2.0 * (x * y - w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z + w * x)],
        _ => [2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y)],
    }
}

/// The splat's normal: its thinnest axis.
fn splat_normal(s: &Splat) -> [f32; 3] {
    let axis = (0..3).min_by(|&a, &b| s.scale[a].total_cmp(&s.scale[b])).unwrap_or(2);
    rotation_axis(s.rotation, axis)
}

/// z-up (SAM 3D Objects) -> y-up (glTF): (x, y, z) -> (x, z, -y).
fn to_y_up(v: [f32; 3]) -> [f32; 3] {
    [v[0], v[2], -v[1]]
}

/// Keeps opaque splats, takes normals from orientations (pointed away from the
/// centroid, since a splat's axis has no sign) and converts to y-up.
pub fn prepare(cloud: &SplatCloud) -> Result<PreparedCloud, MeshError> {
    let kept: Vec<&Splat> = cloud.splats.iter().filter(|s| s.alpha() >= MIN_ALPHA).collect();
    if kept.is_empty() {
        return Err(MeshError::NothingOpaque { total: cloud.splats.len(), min_alpha: MIN_ALPHA });
    }
    let mut centroid = [0f64; 3];
    for s in &kept {
        for k in 0..3 {
            centroid[k] += f64::from(s.position[k]);
        }
    }
    let centroid = centroid.map(|c| (c / kept.len() as f64) as f32);
    let mut out = PreparedCloud { positions: Vec::with_capacity(kept.len() * 3), normals: Vec::with_capacity(kept.len() * 3), colors: Vec::with_capacity(kept.len() * 3) };
    for s in kept {
        let mut n = splat_normal(s);
        let outward: f32 = (0..3).map(|k| n[k] * (s.position[k] - centroid[k])).sum();
        if outward < 0.0 {
            n = n.map(|c| -c);
        }
        out.positions.extend_from_slice(&to_y_up(s.position));
        out.normals.extend_from_slice(&to_y_up(n));
        out.colors.extend_from_slice(&s.rgb());
    }
    Ok(out)
}

fn centroid(points: &[[f32; 3]]) -> [f32; 3] {
    let mut c = [0f64; 3];
    for p in points {
        for k in 0..3 {
            c[k] += f64::from(p[k]);
        }
    }
    c.map(|v| (v / points.len().max(1) as f64) as f32)
}

/// A plain point cloud as it is (its up axis is unknown, so no conversion): normals
/// from the file (pointed away from the centroid) or estimated from neighbourhoods
/// and oriented consistently; colours default to light grey.
pub fn prepare_points(cloud: &PointCloud) -> Result<PreparedCloud, MeshError> {
    if cloud.positions.is_empty() {
        return Err(MeshError::NothingOpaque { total: 0, min_alpha: 0.0 });
    }
    let positions: Vec<f32> = cloud.positions.iter().flatten().copied().collect();
    let normals: Vec<f32> = match &cloud.normals {
        Some(normals) => {
            let c = centroid(&cloud.positions);
            cloud
                .positions
                .iter()
                .zip(normals)
                .flat_map(|(p, n)| {
                    let outward: f32 = (0..3).map(|k| n[k] * (p[k] - c[k])).sum();
                    if outward < 0.0 { n.map(|v| -v) } else { *n }
                })
                .collect()
        }
        None => {
            let s = crate::spacing(&positions);
            gen3d_open3d::estimate_normals(&positions, 3.0 * s, 30, 16).map_err(|e| MeshError::Reconstruction(e.what().to_owned()))?.into_iter().collect()
        }
    };
    let colors: Vec<f32> = match &cloud.colors {
        Some(c) => c.iter().flatten().copied().collect(),
        None => vec![0.8; positions.len()],
    };
    Ok(PreparedCloud { positions, normals, colors })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_rotation_axes_are_the_basis() {
        let q = [1.0, 0.0, 0.0, 0.0];
        assert_eq!(rotation_axis(q, 0), [1.0, 0.0, 0.0]);
        assert_eq!(rotation_axis(q, 1), [0.0, 1.0, 0.0]);
        assert_eq!(rotation_axis(q, 2), [0.0, 0.0, 1.0]);
    }

    #[test]
    fn normals_point_outward_and_transparent_splats_drop() {
        let s = |pos: [f32; 3], opacity: f32| Splat { position: pos, f_dc: [0.0; 3], opacity, scale: [-3.0, -3.0, -7.0], rotation: [1.0, 0.0, 0.0, 0.0] };
        // Two splats on the z axis with local-z normals: the lower one must flip.
        let cloud = SplatCloud { splats: vec![s([0.0, 0.0, 0.4], 3.0), s([0.0, 0.0, -0.4], 3.0), s([0.3, 0.0, 0.0], -5.0)] };
        let p = prepare(&cloud).unwrap();
        assert_eq!(p.positions.len(), 6, "the transparent splat is dropped");
        // y-up: z=+0.4 becomes y=+0.4 with normal +y; z=-0.4 gets normal -y.
        assert_eq!(&p.positions[..3], &[0.0, 0.4, -0.0]);
        assert_eq!(&p.normals[..3], &[0.0, 1.0, -0.0]);
        assert_eq!(&p.normals[3..], &[0.0, -1.0, 0.0]);
        let none = SplatCloud { splats: vec![s([0.0; 3], -9.0)] };
        assert!(matches!(prepare(&none), Err(MeshError::NothingOpaque { total: 1, .. })));
    }
}
