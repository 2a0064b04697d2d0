//! Mesh options: method, triangle target, format and clean-up, checked whenever they are
//! built or read.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Mesh file formats Gen3D writes. GLB is the default: one file, y-up, linear vertex
/// colours, loadable by three.js, Blender and game engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeshFormat {
    /// Binary glTF 2.0: y-up, linear vertex colours (three.js, Blender, engines).
    Glb,
    /// Wavefront OBJ with per-vertex colours (`v x y z r g b`, sRGB).
    Obj,
    /// Binary PLY with per-vertex normals and 8-bit sRGB colours.
    Ply,
    /// Binary STL (geometry only), for slicers.
    Stl,
}

impl MeshFormat {
    pub const ALL: [MeshFormat; 4] = [MeshFormat::Glb, MeshFormat::Obj, MeshFormat::Ply, MeshFormat::Stl];

    pub fn file_name(self) -> &'static str {
        match self {
            MeshFormat::Glb => "mesh.glb",
            MeshFormat::Obj => "mesh.obj",
            MeshFormat::Ply => "mesh.ply",
            MeshFormat::Stl => "mesh.stl",
        }
    }

    pub fn extension(self) -> &'static str {
        &self.file_name()[5..]
    }

    pub fn content_type(self) -> &'static str {
        match self {
            MeshFormat::Glb => "model/gltf-binary",
            MeshFormat::Obj => "model/obj",
            MeshFormat::Ply => "application/octet-stream",
            MeshFormat::Stl => "model/stl",
        }
    }
}

impl FromStr for MeshFormat {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        match s.to_ascii_lowercase().as_str() {
            "glb" => Ok(MeshFormat::Glb),
            "obj" => Ok(MeshFormat::Obj),
            "ply" => Ok(MeshFormat::Ply),
            "stl" => Ok(MeshFormat::Stl),
            other => Err(DomainError::invalid("mesh format", format!("{other:?} (supported: glb, obj, ply, stl)"))),
        }
    }
}

/// Surface reconstruction method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeshMethod {
    /// Screened Poisson reconstruction, trimmed where no splat supports it (default;
    /// closed objects come out watertight).
    Poisson,
    /// Ball pivoting: interpolates the points, keeps sharp detail, may leave holes.
    BallPivoting,
    /// Alpha shape: a tight Delaunay hull of the points; needs no normals, may be open.
    AlphaShape,
}

impl FromStr for MeshMethod {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        match s.to_ascii_lowercase().as_str() {
            "poisson" => Ok(MeshMethod::Poisson),
            "ball_pivoting" | "ball-pivoting" => Ok(MeshMethod::BallPivoting),
            "alpha_shape" | "alpha-shape" => Ok(MeshMethod::AlphaShape),
            other => Err(DomainError::invalid("mesh method", format!("{other:?} (supported: poisson, ball_pivoting, alpha_shape)"))),
        }
    }
}

impl fmt::Display for MeshMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MeshMethod::Poisson => "poisson",
            MeshMethod::BallPivoting => "ball_pivoting",
            MeshMethod::AlphaShape => "alpha_shape",
        })
    }
}

/// How an object's splat becomes a mesh. Carried on the object record so a replayed or
/// redelivered step meshes exactly as first asked. Its fields are private: every value,
/// built in code or read from JSON (a record, a queue message, a request document), has
/// passed [`MeshOptions::new`] and [`MeshOptions::with_cleanup`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MeshOptionsFields")]
pub struct MeshOptions {
    method: MeshMethod,
    /// Upper bound on triangles after decimation.
    target_triangles: u32,
    format: MeshFormat,
    /// Drop points far from their neighbours (statistical outlier removal) first.
    remove_outliers: bool,
    /// Voxel down-sample to about this many points first, when there are more.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_points: Option<u32>,
}

/// [`MeshOptions`] as JSON holds it, before its checks.
#[derive(Deserialize)]
struct MeshOptionsFields {
    method: MeshMethod,
    target_triangles: u32,
    format: MeshFormat,
    #[serde(default)]
    remove_outliers: bool,
    #[serde(default)]
    max_points: Option<u32>,
}

impl TryFrom<MeshOptionsFields> for MeshOptions {
    type Error = DomainError;
    fn try_from(f: MeshOptionsFields) -> Result<Self, DomainError> {
        MeshOptions::new(f.method, f.target_triangles, f.format)?.with_cleanup(f.remove_outliers, f.max_points)
    }
}

impl MeshOptions {
    pub const MIN_TRIANGLES: u32 = 1_000;
    pub const MAX_TRIANGLES: u32 = 2_000_000;
    pub const DEFAULT_TRIANGLES: u32 = 50_000;
    /// The fewest points a voxel down-sample may aim for.
    pub const MIN_POINTS: u32 = 1_000;

    pub fn new(method: MeshMethod, target_triangles: u32, format: MeshFormat) -> Result<Self, DomainError> {
        if !(Self::MIN_TRIANGLES..=Self::MAX_TRIANGLES).contains(&target_triangles) {
            return Err(DomainError::invalid(
                "target triangles",
                format!("{target_triangles} is outside {}..={}", Self::MIN_TRIANGLES, Self::MAX_TRIANGLES),
            ));
        }
        Ok(Self { method, target_triangles, format, remove_outliers: false, max_points: None })
    }

    pub fn standard() -> Self {
        Self {
            method: MeshMethod::Poisson,
            target_triangles: Self::DEFAULT_TRIANGLES,
            format: MeshFormat::Glb,
            remove_outliers: false,
            max_points: None,
        }
    }

    /// The same options with the optional clean-up steps.
    pub fn with_cleanup(mut self, remove_outliers: bool, max_points: Option<u32>) -> Result<Self, DomainError> {
        if let Some(m) = max_points
            && m < Self::MIN_POINTS
        {
            return Err(DomainError::invalid("max points", format!("{m} is below {}", Self::MIN_POINTS)));
        }
        self.remove_outliers = remove_outliers;
        self.max_points = max_points;
        Ok(self)
    }

    pub fn method(&self) -> MeshMethod {
        self.method
    }

    /// Upper bound on triangles after decimation.
    pub fn target_triangles(&self) -> u32 {
        self.target_triangles
    }

    /// The primary format (every format is written).
    pub fn format(&self) -> MeshFormat {
        self.format
    }

    /// Drop points far from their neighbours (statistical outlier removal) first.
    pub fn remove_outliers(&self) -> bool {
        self.remove_outliers
    }

    /// Voxel down-sample to about this many points first, when there are more.
    pub fn max_points(&self) -> Option<u32> {
        self.max_points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_cannot_bypass_the_checks() {
        let ok = r#"{"method":"poisson","target_triangles":20000,"format":"glb"}"#;
        let parsed: MeshOptions = serde_json::from_str(ok).unwrap();
        assert_eq!(parsed, MeshOptions::new(MeshMethod::Poisson, 20_000, MeshFormat::Glb).unwrap());
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            r#"{"method":"poisson","target_triangles":20000,"format":"glb","remove_outliers":false}"#
        );
        for bad in [
            r#"{"method":"poisson","target_triangles":5,"format":"glb"}"#,
            r#"{"method":"poisson","target_triangles":4294967295,"format":"glb"}"#,
            r#"{"method":"poisson","target_triangles":20000,"format":"glb","max_points":10}"#,
        ] {
            let err = serde_json::from_str::<MeshOptions>(bad).unwrap_err().to_string();
            assert!(err.contains("target triangles") || err.contains("max points"), "{bad}: {err}");
        }
        let with = MeshOptions::standard().with_cleanup(true, Some(5_000)).unwrap();
        assert_eq!(serde_json::from_str::<MeshOptions>(&serde_json::to_string(&with).unwrap()).unwrap(), with, "a round trip keeps everything");
    }
}
