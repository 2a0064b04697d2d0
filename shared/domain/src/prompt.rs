//! What the user clicked: include/exclude points and an optional box, in the pixel
//! coordinates of the photo as displayed (EXIF orientation applied).

use serde::{Deserialize, Serialize};

use crate::DomainError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointLabel {
    Include,
    Exclude,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
    pub label: PointLabel,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromptBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

/// A validated prompt: at least one include point or a box, every coordinate inside the
/// image, at most [`Prompt::MAX_POINTS`] points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    points: Vec<Point>,
    #[serde(rename = "box", default, skip_serializing_if = "Option::is_none")]
    bbox: Option<PromptBox>,
}

impl Prompt {
    pub const MAX_POINTS: usize = 64;

    pub fn new(points: Vec<Point>, bbox: Option<PromptBox>, width: u32, height: u32) -> Result<Self, DomainError> {
        let invalid = |reason: String| DomainError::invalid("prompt", reason);
        if points.len() > Self::MAX_POINTS {
            return Err(invalid(format!("{} points, at most {} allowed", points.len(), Self::MAX_POINTS)));
        }
        if bbox.is_none() && !points.iter().any(|p| p.label == PointLabel::Include) {
            return Err(invalid("needs at least one include point or a box".into()));
        }
        let (w, h) = (width as f32, height as f32);
        let inside = |x: f32, y: f32| x.is_finite() && y.is_finite() && (0.0..w).contains(&x) && (0.0..h).contains(&y);
        for p in &points {
            if !inside(p.x, p.y) {
                return Err(invalid(format!("point ({}, {}) is outside the {width}x{height} image", p.x, p.y)));
            }
        }
        if let Some(b) = bbox {
            if !(inside(b.x0, b.y0) && b.x1.is_finite() && b.y1.is_finite()) || b.x1 > w || b.y1 > h {
                return Err(invalid(format!("box ({}, {}, {}, {}) is outside the {width}x{height} image", b.x0, b.y0, b.x1, b.y1)));
            }
            if b.x1 - b.x0 < 2.0 || b.y1 - b.y0 < 2.0 {
                return Err(invalid("box must have x0 < x1 and y0 < y1, at least 2 pixels apart".into()));
            }
        }
        Ok(Self { points, bbox })
    }

    /// Re-checks a prompt that was deserialised (e.g. from a stored record) against the image.
    pub fn revalidate(self, width: u32, height: u32) -> Result<Self, DomainError> {
        Self::new(self.points, self.bbox, width, height)
    }

    pub fn points(&self) -> &[Point] {
        &self.points
    }

    pub fn bbox(&self) -> Option<PromptBox> {
        self.bbox
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(x: f32, y: f32) -> Point {
        Point { x, y, label: PointLabel::Include }
    }

    #[test]
    fn accepts_points_inside() {
        assert!(Prompt::new(vec![inc(0.0, 0.0), inc(99.5, 49.0)], None, 100, 50).is_ok());
    }

    #[test]
    fn rejects_points_outside_and_exclude_only() {
        let err = Prompt::new(vec![inc(100.0, 10.0)], None, 100, 50).unwrap_err();
        assert_eq!(err.to_string(), "invalid prompt: point (100, 10) is outside the 100x50 image");
        let exc = Point { x: 1.0, y: 1.0, label: PointLabel::Exclude };
        assert!(Prompt::new(vec![exc], None, 100, 50).is_err());
        assert!(Prompt::new(vec![inc(f32::NAN, 1.0)], None, 100, 50).is_err());
    }

    #[test]
    fn box_alone_is_a_prompt() {
        let b = PromptBox { x0: 10.0, y0: 10.0, x1: 60.0, y1: 40.0 };
        assert!(Prompt::new(vec![], Some(b), 100, 50).is_ok());
        let flipped = PromptBox { x0: 60.0, y0: 10.0, x1: 10.0, y1: 40.0 };
        assert!(Prompt::new(vec![], Some(flipped), 100, 50).is_err());
    }
}
