//! Why a file was refused, in words a user can act on.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MediaError {
    #[error("empty file")]
    Empty,
    #[error("file is {size} bytes, larger than the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("not a supported image (JPEG, PNG or WebP): {0}")]
    NotAnImage(String),
    #[error("image is {width}x{height}, over the limit of {max_side} pixels a side and {max_pixels} pixels in all")]
    TooManyPixels { width: u32, height: u32, max_side: u32, max_pixels: u64 },
    #[error("corrupt or truncated image: {0}")]
    Corrupt(String),
    #[error("mask is {mask_w}x{mask_h} but the photo is {image_w}x{image_h}")]
    MaskSizeMismatch { mask_w: u32, mask_h: u32, image_w: u32, image_h: u32 },
    #[error("mask is empty: no pixel is selected")]
    EmptyMask,
    #[error("invalid ply: {0}")]
    Ply(String),
    #[error("invalid GLB: {0}")]
    Glb(String),
    #[error("invalid embeddings file: {0}")]
    Embeddings(String),
}
