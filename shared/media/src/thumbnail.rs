//! Thumbnails: a photo's (a JPEG for the library) and an object's (a PNG drawn from its
//! splat as the photo's camera saw it, for the object's card and its mail).

use std::io::Cursor;

use gen3d_domain::Pose;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{ImageFormat, Rgba, RgbaImage};

use crate::{Photo, SplatCloud};

/// The longest side of a photo's thumbnail.
pub const PHOTO_THUMBNAIL_SIDE: u32 = 320;
/// The side of an object's (square) thumbnail.
pub const OBJECT_THUMBNAIL_SIDE: u32 = 256;

/// The photo scaled to fit [`PHOTO_THUMBNAIL_SIDE`] (never enlarged), as a JPEG.
pub fn photo_thumbnail(photo: &Photo) -> Vec<u8> {
    let (w, h) = (photo.width(), photo.height());
    let scale = (PHOTO_THUMBNAIL_SIDE as f32 / w.max(h) as f32).min(1.0);
    let (tw, th) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    let small = image::imageops::resize(&photo.rgb, tw, th, FilterType::Triangle);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 82).encode_image(&small).expect("encoding a JPEG in memory cannot fail");
    out
}

/// The splat drawn as the photo's camera saw it (the pose's rotation; without a pose,
/// from the front: −y, z up), orthographic, fitted to a transparent square of
/// [`OBJECT_THUMBNAIL_SIDE`] px: each splat a soft disc of its size, far ones first.
/// `None` when the cloud has no visible splat.
pub fn splat_thumbnail(cloud: &SplatCloud, pose: Option<&Pose>) -> Option<Vec<u8>> {
    let rotation = pose.filter(|p| p.is_valid()).map(|p| rotation_matrix(p.rotation));
    // Camera frame: x right, y down, z away from the camera.
    let to_camera = |p: [f32; 3]| match &rotation {
        Some(r) => std::array::from_fn(|row| (0..3).map(|k| r[row][k] * p[k]).sum::<f32>()),
        None => [p[0], -p[2], p[1]], // the front view of a z-up object
    };
    let mut drawn: Vec<([f32; 3], f32, [f32; 3], f32)> = cloud
        .splats
        .iter()
        .filter(|s| s.alpha() > 0.05 && s.position.iter().all(|c| c.is_finite()))
        .map(|s| {
            let radius = s.scale.iter().map(|l| l.exp()).fold(0.0f32, f32::max);
            (to_camera(s.position), radius, s.rgb(), s.alpha())
        })
        .collect();
    if drawn.is_empty() {
        return None;
    }
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for (p, ..) in &drawn {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let side = OBJECT_THUMBNAIL_SIDE as f32;
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-6);
    let px = side * 0.88 / extent; // pixels per unit, with a margin
    let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    drawn.sort_by(|a, b| b.0[2].total_cmp(&a.0[2])); // far first
    let mut img = RgbaImage::new(OBJECT_THUMBNAIL_SIDE, OBJECT_THUMBNAIL_SIDE);
    // A splat is at least a pixel and a half across, so sparse clouds still read as solid.
    let min_radius = (side / 170.0).max(1.5);
    for (p, radius, rgb, alpha) in drawn {
        let (cx, cy) = ((p[0] - centre[0]) * px + side / 2.0, (p[1] - centre[1]) * px + side / 2.0);
        let r = (radius * px * 1.5).clamp(min_radius, side / 8.0);
        let (x0, x1) = ((cx - r).floor().max(0.0) as u32, ((cx + r).ceil() as u32).min(OBJECT_THUMBNAIL_SIDE - 1));
        let (y0, y1) = ((cy - r).floor().max(0.0) as u32, ((cy + r).ceil() as u32).min(OBJECT_THUMBNAIL_SIDE - 1));
        for y in y0..=y1 {
            for x in x0..=x1 {
                let d2 = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)) / (r * r);
                if d2 <= 1.0 {
                    blend(img.get_pixel_mut(x, y), rgb, alpha * (1.0 - d2 * d2));
                }
            }
        }
    }
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).expect("encoding a PNG in memory cannot fail");
    Some(out.into_inner())
}

/// `src` over `dst` (straight alpha).
fn blend(dst: &mut Rgba<u8>, rgb: [f32; 3], alpha: f32) {
    let da = f32::from(dst[3]) / 255.0;
    let out_a = alpha + da * (1.0 - alpha);
    if out_a <= 0.0 {
        return;
    }
    for k in 0..3 {
        let d = f32::from(dst[k]) / 255.0;
        dst[k] = (((rgb[k] * alpha + d * da * (1.0 - alpha)) / out_a) * 255.0).round() as u8;
    }
    dst[3] = (out_a * 255.0).round() as u8;
}

/// The rotation matrix of a quaternion (w, x, y, z), normalised.
pub(crate) fn rotation_matrix(q: [f32; 4]) -> [[f32; 3]; 3] {
    let n = q.iter().map(|c| c * c).sum::<f32>().sqrt();
    let [w, x, y, z] = q.map(|c| c / n);
    [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - w * z), 2.0 * (x * z + w * y)],
        [2.0 * (x * y + w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - w * x)],
        [2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Splat;

    fn splat(position: [f32; 3], rgb: [f32; 3]) -> Splat {
        Splat { position, f_dc: Splat::f_dc_for(rgb), opacity: 6.0, scale: [-4.0; 3], rotation: [1.0, 0.0, 0.0, 0.0] }
    }

    /// A z-up column: red on top (z = 1), blue below (z = 0), a green splat behind the
    /// red one (further along +y, away from a front view from −y).
    fn column() -> SplatCloud {
        let mut splats = Vec::new();
        for i in 0..=20 {
            let z = i as f32 / 20.0;
            splats.push(splat([0.0, 0.0, z], if z > 0.5 { [1.0, 0.0, 0.0] } else { [0.0, 0.0, 1.0] }));
        }
        splats.push(splat([0.0, 0.5, 1.0], [0.0, 1.0, 0.0]));
        SplatCloud { splats }
    }

    fn decode(png: &[u8]) -> RgbaImage {
        image::load_from_memory(png).unwrap().to_rgba8()
    }

    #[test]
    fn the_front_view_stands_the_object_up_near_in_front() {
        let img = decode(&splat_thumbnail(&column(), None).unwrap());
        assert_eq!(img.dimensions(), (OBJECT_THUMBNAIL_SIDE, OBJECT_THUMBNAIL_SIDE));
        let at = |y: u32| *img.get_pixel(OBJECT_THUMBNAIL_SIDE / 2, y);
        assert!(at(30)[0] > 200 && at(30)[1] < 60, "red on top, in front of the green: {:?}", at(30));
        assert!(at(OBJECT_THUMBNAIL_SIDE - 30)[2] > 200, "blue below: {:?}", at(OBJECT_THUMBNAIL_SIDE - 30));
        assert_eq!(img.get_pixel(5, OBJECT_THUMBNAIL_SIDE / 2)[3], 0, "the background is transparent");
    }

    #[test]
    fn the_pose_turns_the_view() {
        let h = std::f32::consts::FRAC_1_SQRT_2;
        // The built-in reconstructor's pose (a quarter turn about x) is the front view.
        let built_in = Pose { rotation: [h, h, 0.0, 0.0], translation: [0.0, 0.0, 2.0], scale: 1.0 };
        assert_eq!(splat_thumbnail(&column(), Some(&built_in)), splat_thumbnail(&column(), None));
        // The opposite quarter turn shows the column upside down: red at the bottom.
        let flipped = Pose { rotation: [h, -h, 0.0, 0.0], ..built_in };
        let img = decode(&splat_thumbnail(&column(), Some(&flipped)).unwrap());
        let bottom = *img.get_pixel(OBJECT_THUMBNAIL_SIDE / 2, OBJECT_THUMBNAIL_SIDE - 30);
        assert!(bottom[0] > 200 && bottom[2] < 60, "{bottom:?}");
    }

    #[test]
    fn nothing_visible_draws_nothing() {
        let mut cloud = column();
        cloud.splats.iter_mut().for_each(|s| s.opacity = -9.0);
        assert!(splat_thumbnail(&cloud, None).is_none());
    }

    #[test]
    fn photo_thumbnails_fit_and_keep_the_aspect() {
        let photo = Photo { rgb: image::RgbImage::from_pixel(1600, 900, image::Rgb([200, 30, 30])) };
        let small = image::load_from_memory(&photo_thumbnail(&photo)).unwrap();
        assert_eq!((small.width(), small.height()), (320, 180));
        let tiny = Photo { rgb: image::RgbImage::new(100, 50) };
        assert_eq!(image::load_from_memory(&photo_thumbnail(&tiny)).unwrap().width(), 100, "never enlarged");
    }
}
