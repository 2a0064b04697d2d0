use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

use crate::MediaError;

/// Uploads larger than this are refused before decoding.
pub const MAX_PHOTO_BYTES: usize = 40 * 1024 * 1024;
/// Longest side accepted (decompression bombs are refused from the header alone).
pub const MAX_PHOTO_SIDE: u32 = 12_000;
/// Pixel count accepted (48 MP covers today's phone cameras).
pub const MAX_PHOTO_PIXELS: u64 = 48_000_000;

/// A decoded photo, upright (EXIF orientation applied), 8-bit RGB.
pub struct Photo {
    pub rgb: RgbImage,
}

impl Photo {
    pub fn width(&self) -> u32 {
        self.rgb.width()
    }

    pub fn height(&self) -> u32 {
        self.rgb.height()
    }
}

/// Decodes an untrusted JPEG/PNG/WebP: size, format and pixel limits are checked from the
/// header before any pixel is allocated.
pub fn decode_photo(bytes: &[u8]) -> Result<Photo, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(MediaError::TooLarge { size: bytes.len(), limit: MAX_PHOTO_BYTES });
    }
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| MediaError::NotAnImage(e.to_string()))?;
    match reader.format() {
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png | image::ImageFormat::WebP) => {}
        Some(other) => return Err(MediaError::NotAnImage(format!("{other:?} is not accepted"))),
        None => return Err(MediaError::NotAnImage("unrecognised file signature".into())),
    }
    if reader.format() == Some(image::ImageFormat::Jpeg) && !has_jpeg_end(bytes) {
        // The JPEG decoder fills a cut-off scan with grey instead of failing.
        return Err(MediaError::Corrupt("JPEG has no end-of-image marker (the file is cut off)".into()));
    }
    let mut decoder = reader.into_decoder().map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 || width > MAX_PHOTO_SIDE || height > MAX_PHOTO_SIDE || u64::from(width) * u64::from(height) > MAX_PHOTO_PIXELS {
        return Err(MediaError::TooManyPixels { width, height, max_side: MAX_PHOTO_SIDE, max_pixels: MAX_PHOTO_PIXELS });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_PHOTO_SIDE);
    limits.max_image_height = Some(MAX_PHOTO_SIDE);
    limits.max_alloc = Some(MAX_PHOTO_PIXELS * 8);
    decoder.set_limits(limits).map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| MediaError::Corrupt(e.to_string()))?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(Photo { rgb: image.into_rgb8() })
}

/// Whether the JPEG's end-of-image marker (FF D9) is near the end. Inside entropy-coded
/// data 0xFF is always stuffed (FF 00), so FF D9 only occurs as a marker.
fn has_jpeg_end(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        RgbImage::new(width, height).write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn decodes_a_png() {
        let photo = decode_photo(&png(7, 5)).unwrap();
        assert_eq!((photo.width(), photo.height()), (7, 5));
    }

    #[test]
    fn rejects_junk_and_truncation() {
        assert_eq!(decode_photo(b"").err(), Some(MediaError::Empty));
        assert!(matches!(decode_photo(b"hello, world"), Err(MediaError::NotAnImage(_))));
        let bytes = png(64, 64);
        assert!(matches!(decode_photo(&bytes[..bytes.len() / 2]), Err(MediaError::Corrupt(_))));
    }

    #[test]
    fn refuses_a_decompression_bomb_from_its_header() {
        // A PNG header claiming 50000x50000 pixels: refused without allocating them.
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        match decode_photo(&bytes) {
            Err(MediaError::TooManyPixels { width: 50_000, height: 50_000, .. }) => {}
            Err(MediaError::Corrupt(_)) => {} // the CRC check may trip first; either way no allocation
            other => panic!("unexpected {:?}", other.map(|p| p.width())),
        }
    }
}
