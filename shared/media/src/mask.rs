//! Binary masks at the photo's resolution, as PNG.

use std::io::Cursor;

use image::{GrayImage, ImageReader, Luma};

use crate::MediaError;

/// A binary mask at the photo's resolution, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    data: Vec<bool>,
}

impl Mask {
    /// Builds a mask; `MediaError::EmptyMask` if nothing is selected.
    pub fn new(width: u32, height: u32, data: Vec<bool>) -> Result<Self, MediaError> {
        assert_eq!(data.len(), width as usize * height as usize, "mask data must match its size");
        if !data.iter().any(|&b| b) {
            return Err(MediaError::EmptyMask);
        }
        Ok(Self { width, height, data })
    }

    /// Decodes a mask PNG: a binary/greyscale image (selected where > 127) or, when the
    /// image has an alpha channel, the alpha channel (SAM 3D Objects' RGBA convention).
    /// Its size must equal the photo's.
    pub fn decode_png(bytes: &[u8], image_w: u32, image_h: u32) -> Result<Self, MediaError> {
        if bytes.is_empty() {
            return Err(MediaError::Empty);
        }
        let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| MediaError::NotAnImage(e.to_string()))?;
        if reader.format() != Some(image::ImageFormat::Png) {
            return Err(MediaError::NotAnImage("a mask must be a PNG".into()));
        }
        let mut decoder = reader.into_decoder().map_err(|e| MediaError::Corrupt(e.to_string()))?;
        let (w, h) = image::ImageDecoder::dimensions(&decoder);
        if (w, h) != (image_w, image_h) {
            return Err(MediaError::MaskSizeMismatch { mask_w: w, mask_h: h, image_w, image_h });
        }
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(u64::from(w) * u64::from(h) * 8 + 1024);
        image::ImageDecoder::set_limits(&mut decoder, limits).map_err(|e| MediaError::Corrupt(e.to_string()))?;
        let image = image::DynamicImage::from_decoder(decoder).map_err(|e| MediaError::Corrupt(e.to_string()))?;
        let data: Vec<bool> = if image.color().has_alpha() {
            image.to_luma_alpha8().pixels().map(|p| p.0[1] > 127).collect()
        } else {
            image.to_luma8().pixels().map(|p| p.0[0] > 127).collect()
        };
        Self::new(w, h, data)
    }

    /// A binary greyscale PNG (0 or 255).
    pub fn encode_png(&self) -> Vec<u8> {
        let image = GrayImage::from_fn(self.width, self.height, |x, y| Luma([if self.get(x, y) { 255 } else { 0 }]));
        let mut out = Vec::new();
        image.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).expect("encoding a png in memory cannot fail");
        out
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        self.data[(y * self.width + x) as usize]
    }

    pub fn data(&self) -> &[bool] {
        &self.data
    }

    /// Fraction of pixels selected.
    pub fn coverage(&self) -> f64 {
        self.data.iter().filter(|&&b| b).count() as f64 / self.data.len() as f64
    }

    /// (x0, y0, x1, y1) inclusive bounds of the selection.
    pub fn bounds(&self) -> (u32, u32, u32, u32) {
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..self.height {
            for x in 0..self.width {
                if self.get(x, y) {
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x);
                    y1 = y1.max(y);
                }
            }
        }
        (x0, y0, x1, y1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn round_trips_and_reads_alpha_masks() {
        let mask = Mask::new(4, 3, vec![false, true, true, false, false, true, false, false, false, false, false, true]).unwrap();
        assert_eq!(Mask::decode_png(&mask.encode_png(), 4, 3).unwrap(), mask);

        let rgba = RgbaImage::from_fn(4, 3, |x, y| Rgba([200, 10, 10, if mask.get(x, y) { 255 } else { 0 }]));
        let mut bytes = Vec::new();
        rgba.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        assert_eq!(Mask::decode_png(&bytes, 4, 3).unwrap(), mask);
    }

    #[test]
    fn rejects_wrong_size_and_empty() {
        let mask = Mask::new(4, 3, vec![true; 12]).unwrap();
        assert_eq!(Mask::decode_png(&mask.encode_png(), 5, 3).unwrap_err().to_string(), "mask is 4x3 but the photo is 5x3");
        let empty = GrayImage::new(4, 3);
        let mut bytes = Vec::new();
        empty.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        assert_eq!(Mask::decode_png(&bytes, 4, 3), Err(MediaError::EmptyMask));
    }
}
