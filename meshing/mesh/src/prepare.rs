//! Splats to the points, normals and colours meshing takes: faint splats dropped, z-up to
//! y-up.

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

/// Share of normals pointing away from the centroid above which the normals' signs are
/// taken as given: consistently oriented files score well above one half even for
/// shapes that are not star-shaped (a torus scores ~0.7), arbitrary signs score ~0.5.
const CONSISTENT_SHARE: f32 = 0.6;

/// Orients normals in place: kept as given when their signs are consistent, otherwise
/// each pointed away from the centroid (right for star-shaped objects).
fn orient(positions: &[[f32; 3]], normals: &mut [[f32; 3]]) {
    let c = centroid(positions);
    let outward = |p: &[f32; 3], n: &[f32; 3]| (0..3).map(|k| n[k] * (p[k] - c[k])).sum::<f32>();
    let out = positions.iter().zip(normals.iter()).filter(|(p, n)| outward(p, n) > 0.0).count();
    if out as f32 >= CONSISTENT_SHARE * positions.len() as f32 {
        return;
    }
    for (p, n) in positions.iter().zip(normals.iter_mut()) {
        if outward(p, n) < 0.0 {
            *n = n.map(|v| -v);
        }
    }
}

/// Keeps opaque splats, takes normals from orientations (a splat's thinnest axis; its
/// sign is checked by [`orient`]) and converts to y-up.
pub fn prepare(cloud: &SplatCloud) -> Result<PreparedCloud, MeshError> {
    let kept: Vec<&Splat> = cloud.splats.iter().filter(|s| s.alpha() >= MIN_ALPHA).collect();
    if kept.is_empty() {
        return Err(MeshError::NothingOpaque { total: cloud.splats.len(), min_alpha: MIN_ALPHA });
    }
    let positions: Vec<[f32; 3]> = kept.iter().map(|s| s.position).collect();
    let mut normals: Vec<[f32; 3]> = kept.iter().map(|s| splat_normal(s)).collect();
    orient(&positions, &mut normals);
    Ok(PreparedCloud {
        positions: positions.iter().flat_map(|p| to_y_up(*p)).collect(),
        normals: normals.iter().flat_map(|n| to_y_up(*n)).collect(),
        colors: kept.iter().flat_map(|s| s.rgb()).collect(),
    })
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
            let mut normals = normals.clone();
            orient(&cloud.positions, &mut normals);
            normals.into_iter().flatten().collect()
        }
        None => {
            let s = crate::spacing(&positions);
            gen3d_open3d::estimate_normals(&positions, 3.0 * s, 30, 16)
                .map_err(|e| MeshError::Reconstruction(e.what().to_owned()))?
                .into_iter()
                .collect()
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
        let s =
            |pos: [f32; 3], opacity: f32| Splat { position: pos, f_dc: [0.0; 3], opacity, scale: [-3.0, -3.0, -7.0], rotation: [1.0, 0.0, 0.0, 0.0] };
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
