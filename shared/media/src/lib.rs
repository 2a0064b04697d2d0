//! File formats: decoding untrusted photos and masks with limits, the 3DGS splat PLY,
//! and the embeddings file the browser downloads. Pure functions over bytes.

mod embeddings;
mod error;
mod mask;
mod photo;
mod points;
mod scene;
mod splat;
mod thumbnail;

pub use embeddings::{EMBED_SHAPE, Embeddings, HIGH_RES_0_SHAPE, HIGH_RES_1_SHAPE};
pub use error::MediaError;
pub use mask::Mask;
pub use photo::{MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS, MAX_PHOTO_SIDE, Photo, decode_photo, photo_size};
pub use points::PointCloud;
pub use scene::{ScenePart, glb_bytes, glb_parts, pose_matrix, scene_glb};
pub use splat::{SH_C0, Splat, SplatCloud};
pub use thumbnail::{OBJECT_THUMBNAIL_SIDE, PHOTO_THUMBNAIL_SIDE, photo_thumbnail, splat_thumbnail};
