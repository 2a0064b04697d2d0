//! An object's pose in the photo's camera frame.

use serde::{Deserialize, Serialize};

/// Where an object sits in the photo's camera frame, as SAM 3D Objects gives it: the
/// object-local geometry (the splat and the mesh) is rotated by `rotation` (a unit
/// quaternion, w x y z), scaled uniformly by `scale` and moved by `translation`. The
/// camera looks along +z with x to the right and y down (OpenCV's convention).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    pub rotation: [f32; 4],
    pub translation: [f32; 3],
    pub scale: f32,
}

impl Pose {
    /// Finite numbers, a unit rotation (within 1e-3), a positive scale.
    pub fn is_valid(&self) -> bool {
        let all = self.rotation.iter().chain(&self.translation).chain(std::iter::once(&self.scale));
        let norm = self.rotation.iter().map(|x| x * x).sum::<f32>().sqrt();
        all.into_iter().all(|x| x.is_finite()) && (norm - 1.0).abs() < 1e-3 && self.scale > 0.0
    }
}
