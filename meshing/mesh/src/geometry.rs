//! Guards around Open3D's reconstruction. Degenerate clouds crash or hang it (Poisson
//! segfaults on thousands of identical points and on coordinates near ±3e38; ball
//! pivoting spins for minutes on the same input) or come back as NaN vertices (extents
//! near 1e-30 or 1e20). So every cloud is checked first, with an error that says what is
//! wrong, and meshed in a unit frame: centred on its bounding box and scaled to unit
//! size, then mapped back.

use std::collections::HashSet;

use crate::{Mesh, MeshError, PreparedCloud};

/// The largest coordinate magnitude accepted: beyond it the mapped-back mesh could leave
/// float32's range.
pub const MAX_COORDINATE: f32 = 1e30;
/// The fewest distinct positions a surface can be made from.
pub const MIN_DISTINCT: usize = 4;

/// Maps a cloud into a box of unit size around the origin, and its mesh back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Frame {
    centre: [f64; 3],
    scale: f64,
}

impl Frame {
    /// Checks the positions (finite, in range, enough distinct ones, not all on a line)
    /// and returns the unit frame of their bounding box.
    pub(crate) fn fit(positions: &[[f32; 3]]) -> Result<Self, MeshError> {
        let bad = positions.iter().filter(|p| p.iter().any(|c| !c.is_finite())).count();
        if bad > 0 {
            return Err(MeshError::Degenerate(format!("{bad} of {} points have a coordinate that is not a finite number", positions.len())));
        }
        let largest = positions.iter().flatten().fold(0f32, |m, c| m.max(c.abs()));
        if largest > MAX_COORDINATE {
            return Err(MeshError::Degenerate(format!("a coordinate of {largest:e} is out of range (at most {MAX_COORDINATE:e})")));
        }
        // -0.0 and 0.0 are one position.
        let distinct: HashSet<[u32; 3]> = positions.iter().map(|p| p.map(|c| (c + 0.0).to_bits())).collect();
        if distinct.len() < MIN_DISTINCT {
            return Err(MeshError::Degenerate(format!(
                "only {} distinct positions among {} points; a surface needs at least {MIN_DISTINCT}",
                distinct.len(),
                positions.len()
            )));
        }
        let mut lo = [f64::MAX; 3];
        let mut hi = [f64::MIN; 3];
        for p in positions {
            for k in 0..3 {
                lo[k] = lo[k].min(f64::from(p[k]));
                hi[k] = hi[k].max(f64::from(p[k]));
            }
        }
        let frame = Self { centre: [0, 1, 2].map(|k| 0.5 * (lo[k] + hi[k])), scale: (0..3).map(|k| hi[k] - lo[k]).fold(0.0, f64::max) };
        let [_, middle, largest] = spread(positions, &frame);
        if middle <= 1e-12 * largest {
            return Err(MeshError::Degenerate(format!("all {} points lie on one line; a surface needs a second direction", positions.len())));
        }
        Ok(frame)
    }

    pub(crate) fn to_unit(self, p: [f32; 3]) -> [f32; 3] {
        [0, 1, 2].map(|k| ((f64::from(p[k]) - self.centre[k]) / self.scale) as f32)
    }

    /// Maps a mesh made in the unit frame back; refuses non-finite vertices.
    pub(crate) fn restore(&self, mesh: &mut Mesh) -> Result<(), MeshError> {
        if mesh.positions.iter().flatten().any(|c| !c.is_finite()) {
            return Err(MeshError::Reconstruction("the reconstruction returned vertices that are not finite numbers".into()));
        }
        for p in &mut mesh.positions {
            *p = [0, 1, 2].map(|k| (f64::from(p[k]) * self.scale + self.centre[k]) as f32);
        }
        if mesh.positions.iter().flatten().any(|c| !c.is_finite()) {
            return Err(MeshError::Degenerate("the mesh does not fit float32 coordinates at this cloud's scale".into()));
        }
        Ok(())
    }
}

/// The covariance eigenvalues (ascending) of the points in `frame`'s unit coordinates.
fn spread(positions: &[[f32; 3]], frame: &Frame) -> [f64; 3] {
    let n = positions.len() as f64;
    let unit: Vec<[f64; 3]> = positions.iter().map(|p| frame.to_unit(*p).map(f64::from)).collect();
    let mean = [0, 1, 2].map(|k| unit.iter().map(|p| p[k]).sum::<f64>() / n);
    let mut c = [[0f64; 3]; 3];
    for p in &unit {
        for i in 0..3 {
            for j in 0..3 {
                c[i][j] += (p[i] - mean[i]) * (p[j] - mean[j]) / n;
            }
        }
    }
    symmetric_eigenvalues(c)
}

/// Eigenvalues of a symmetric 3x3 matrix, ascending (the trigonometric closed form).
fn symmetric_eigenvalues(a: [[f64; 3]; 3]) -> [f64; 3] {
    let off = a[0][1].powi(2) + a[0][2].powi(2) + a[1][2].powi(2);
    let mut e = if off == 0.0 {
        [a[0][0], a[1][1], a[2][2]]
    } else {
        let q = (a[0][0] + a[1][1] + a[2][2]) / 3.0;
        let p = (((a[0][0] - q).powi(2) + (a[1][1] - q).powi(2) + (a[2][2] - q).powi(2) + 2.0 * off) / 6.0).sqrt();
        let b = |i: usize, j: usize| (a[i][j] - if i == j { q } else { 0.0 }) / p;
        let det = b(0, 0) * (b(1, 1) * b(2, 2) - b(1, 2) * b(2, 1)) - b(0, 1) * (b(1, 0) * b(2, 2) - b(1, 2) * b(2, 0))
            + b(0, 2) * (b(1, 0) * b(2, 1) - b(1, 1) * b(2, 0));
        let phi = (det / 2.0).clamp(-1.0, 1.0).acos() / 3.0;
        let largest = q + 2.0 * p * phi.cos();
        let smallest = q + 2.0 * p * (phi + 2.0 * std::f64::consts::PI / 3.0).cos();
        [largest, 3.0 * q - largest - smallest, smallest]
    };
    e.sort_by(f64::total_cmp);
    e
}

/// Drops exact repeats of a position (the first one's normal and colour are kept):
/// repeated points give Open3D's reconstructions nothing and can stall ball pivoting.
pub(crate) fn without_repeats(cloud: PreparedCloud) -> PreparedCloud {
    let mut seen = HashSet::new();
    let mut out = PreparedCloud { positions: Vec::new(), normals: Vec::new(), colors: Vec::new() };
    for i in 0..cloud.positions.len() / 3 {
        let p = &cloud.positions[3 * i..3 * i + 3];
        if seen.insert([p[0], p[1], p[2]].map(|c| (c + 0.0).to_bits())) {
            out.positions.extend_from_slice(p);
            out.normals.extend_from_slice(&cloud.normals[3 * i..3 * i + 3]);
            out.colors.extend_from_slice(&cloud.colors[3 * i..3 * i + 3]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube(scale: f32, offset: f32) -> Vec<[f32; 3]> {
        let mut v = Vec::new();
        for i in 0..8 {
            v.push([0, 1, 2].map(|k| offset + scale * ((i >> k) & 1) as f32));
        }
        v
    }

    #[test]
    fn eigenvalues_of_known_matrices() {
        assert_eq!(symmetric_eigenvalues([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]), [1.0, 2.0, 3.0]);
        // [[2,1,0],[1,2,0],[0,0,5]]: 1, 3, 5.
        let e = symmetric_eigenvalues([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 5.0]]);
        for (got, want) in e.iter().zip([1.0, 3.0, 5.0]) {
            assert!((got - want).abs() < 1e-12, "{e:?}");
        }
    }

    #[test]
    fn refuses_what_cannot_be_a_surface() {
        let err = |points: &[[f32; 3]]| Frame::fit(points).err().expect("refused").to_string();
        assert!(err(&vec![[0.5, 0.5, 0.5]; 5000]).contains("only 1 distinct positions among 5000 points"));
        assert!(err(&[[0.0, 0.0, 0.0], [-0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).contains("only 3 distinct"));
        let line: Vec<[f32; 3]> = (0..100).map(|i| [i as f32, 2.0 * i as f32, -(i as f32)]).collect();
        assert!(err(&line).contains("all 100 points lie on one line"));
        let mut huge = cube(1.0, 0.0);
        huge[3] = [3e38, 0.0, 0.0];
        assert!(err(&huge).contains("a coordinate of 3e38 is out of range"));
        let mut nan = cube(1.0, 0.0);
        nan[0][1] = f32::NAN;
        nan[5][2] = f32::INFINITY;
        assert!(err(&nan).contains("2 of 8 points have a coordinate that is not a finite number"));
        // A flat cloud is fine: a card, a sheet of paper.
        let plane: Vec<[f32; 3]> = (0..100).map(|i| [(i % 10) as f32, (i / 10) as f32, 0.0]).collect();
        assert!(Frame::fit(&plane).is_ok());
    }

    #[test]
    fn unit_frame_round_trips_at_any_scale() {
        for (scale, offset) in [(1e-30, 0.0), (1e-30, 1e-29), (1e20, -3e20), (1.0, 1.0)] {
            let points = cube(scale, offset);
            let frame = Frame::fit(&points).unwrap();
            let unit: Vec<[f32; 3]> = points.iter().map(|p| frame.to_unit(*p)).collect();
            for p in &unit {
                assert!(p.iter().all(|c| c.abs() <= 0.5 + 1e-6), "{scale} {offset}: {p:?}");
            }
            let mut mesh = Mesh { positions: unit, ..Mesh::default() };
            frame.restore(&mut mesh).unwrap();
            for (got, want) in mesh.positions.iter().zip(&points) {
                for k in 0..3 {
                    assert!((got[k] - want[k]).abs() <= 1e-6 * scale.max(offset.abs()), "{scale} {offset}: {got:?} vs {want:?}");
                }
            }
        }
        let frame = Frame::fit(&cube(1.0, 0.0)).unwrap();
        let mut nan = Mesh { positions: vec![[f32::NAN, 0.0, 0.0]], ..Mesh::default() };
        assert!(frame.restore(&mut nan).unwrap_err().to_string().contains("not finite"));
    }

    #[test]
    fn repeats_are_dropped_keeping_the_first() {
        let cloud = PreparedCloud {
            positions: vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0, -0.0, 0.0, 0.0],
            normals: vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0],
            colors: vec![0.1; 9],
        };
        let out = without_repeats(cloud);
        assert_eq!(out.positions, vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(out.normals, vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    }
}
