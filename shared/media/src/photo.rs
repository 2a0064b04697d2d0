//! Untrusted photos: their size from the header, their pixels decoded within limits,
//! upright.

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

/// An untrusted photo's upright size from its header alone (format, size and pixel
/// limits checked, EXIF orientation applied), without decoding a pixel: what the API and
/// the embedding service need, in constant memory whatever the file claims. Pixel data
/// is checked where it is decoded (the encoder), and a failure there fails the session.
pub fn photo_size(bytes: &[u8]) -> Result<(u32, u32), MediaError> {
    let mut decoder = checked_decoder(bytes)?;
    let (width, height) = decoder.dimensions();
    let turned = decoder.orientation().ok().is_some_and(|o| {
        use image::metadata::Orientation::{Rotate90, Rotate90FlipH, Rotate270, Rotate270FlipH};
        matches!(o, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
    });
    Ok(if turned { (height, width) } else { (width, height) })
}

/// Decodes an untrusted JPEG/PNG/WebP: size, format and pixel limits are checked from the
/// header before any pixel is allocated.
pub fn decode_photo(bytes: &[u8]) -> Result<Photo, MediaError> {
    let mut decoder = checked_decoder(bytes)?;
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| MediaError::Corrupt(e.to_string()))?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(Photo { rgb: image.into_rgb8() })
}

/// The decoder of an accepted file, its limits set, after every check the header allows.
fn checked_decoder(bytes: &[u8]) -> Result<impl ImageDecoder + '_, MediaError> {
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
    Ok(decoder)
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
    fn size_comes_from_the_header_alone() {
        // A 16-bit RGBA PNG claiming 6000x8000 (384 MB decoded) with the pixel data of
        // one pixel: its size is read without touching (or allocating) pixels.
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&6_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&8_000u32.to_be_bytes());
        bytes[24] = 16; // bit depth
        bytes[25] = 6; // RGBA
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(photo_size(&bytes).unwrap(), (6_000, 8_000));
        assert!(decode_photo(&bytes).is_err(), "no pixels to decode");
        // The same header checks as decoding.
        assert_eq!(photo_size(b"").err(), Some(MediaError::Empty));
        bytes[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(photo_size(&bytes), Err(MediaError::TooManyPixels { .. })));
    }

    #[test]
    fn header_size_is_the_decoded_upright_size_for_every_fixture() {
        let dir = gen3d_testkit::fixture_dir();
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "jpg") {
                continue;
            }
            let bytes = std::fs::read(path).unwrap();
            let photo = decode_photo(&bytes).unwrap();
            assert_eq!(photo_size(&bytes).unwrap(), (photo.width(), photo.height()));
            seen += 1;
        }
        assert!(seen >= 3);
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
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
