//! The fuzz targets: one function per parser of untrusted bytes, each taking arbitrary
//! bytes. A target must never panic; where a parser accepts, the target also checks what
//! the accepted value promises (sizes within limits, round trips).
//!
//! `fuzz/fuzz_targets/<name>.rs` runs each under libFuzzer (`make fuzz`, nightly);
//! `tests/bounded.rs` runs each over `fuzz/corpus/<name>/` plus generated mutations on
//! the stable toolchain (CI). [`TARGETS`] lists them for both.

use gen3d_domain::{Point, Prompt, PromptBox, QueueMessage};
use gen3d_media::{Embeddings, MAX_PHOTO_PIXELS, MAX_PHOTO_SIDE, Mask, SplatCloud, decode_photo, photo_size};
use gen3d_ports::TaskRequest;

/// A target: its name (the corpus directory and the libFuzzer binary) and its function.
pub type Target = (&'static str, fn(&[u8]));

pub const TARGETS: [Target; 9] = [
    ("photo", photo),
    ("mask_png", mask_png),
    ("splat_ply", splat_ply),
    ("embeddings", embeddings),
    ("queue_message", queue_message),
    ("request_document", request_document),
    ("local_token", local_token),
    ("prompt_json", prompt_json),
    ("email", email),
];

/// Photo header, then the whole decode: the header's size is the decoded size.
pub fn photo(data: &[u8]) {
    let Ok((w, h)) = photo_size(data) else { return };
    assert!(w >= 1 && h >= 1 && w <= MAX_PHOTO_SIDE && h <= MAX_PHOTO_SIDE && u64::from(w) * u64::from(h) <= MAX_PHOTO_PIXELS);
    if let Ok(p) = decode_photo(data) {
        assert_eq!((p.width(), p.height()), (w, h), "header and decoded sizes differ");
    }
}

/// A mask PNG for a photo whose size the first 4 bytes give (1 to 4096 a side).
pub fn mask_png(data: &[u8]) {
    let Some((size, png)) = data.split_first_chunk::<4>() else { return };
    let w = u32::from(u16::from_le_bytes([size[0], size[1]])) % 4096 + 1;
    let h = u32::from(u16::from_le_bytes([size[2], size[3]])) % 4096 + 1;
    if let Ok(mask) = Mask::decode_png(png, w, h) {
        let again = Mask::decode_png(&mask.encode_png(), w, h).expect("an encoded mask decodes");
        assert!(again == mask, "mask PNG round trip");
    }
}

/// A 3DGS splat PLY: what is read writes and reads back the same.
pub fn splat_ply(data: &[u8]) {
    if let Ok(cloud) = SplatCloud::read_ply(data) {
        assert!(cloud.splats.len() <= SplatCloud::MAX_SPLATS);
        let again = SplatCloud::read_ply(&cloud.write_ply()).expect("a written splat file reads");
        assert_eq!(again.splats.len(), cloud.splats.len());
    }
}

/// The embeddings file (`embeddings.g3e`).
pub fn embeddings(data: &[u8]) {
    if let Ok(e) = Embeddings::decode(data) {
        // The wire format drops mantissa bits, so compare after one trip (NaNs included).
        let once = e.encode();
        let again = Embeddings::decode(&once).expect("encoded embeddings decode");
        assert!(again.encode() == once, "embeddings round trip");
    }
}

/// Queue bodies: Gen3D messages, S3 events, SageMaker notifications, SNS envelopes.
pub fn queue_message(data: &[u8]) {
    let Ok(body) = std::str::from_utf8(data) else { return };
    if let Ok(QueueMessage::EmbedRequested(m)) = QueueMessage::parse(body) {
        let again = QueueMessage::parse(&QueueMessage::EmbedRequested(m.clone()).to_body()).expect("a sent message parses");
        assert!(matches!(again, QueueMessage::EmbedRequested(n) if n == m));
    }
    let _ = QueueMessage::is_s3_test_event(body);
}

/// The inference request document the GPU container reads, and its key check.
pub fn request_document(data: &[u8]) {
    if let Ok(request) = serde_json::from_slice::<TaskRequest>(data) {
        let _ = request.check_keys();
        let _ = request.output();
    }
}

/// A bearer token of the local account scheme: never accepted when forged.
pub fn local_token(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let auth = gen3d_intake::LocalAuth::new(vec![7; 32]);
    assert!(auth.verify(token).is_err(), "a token not signed by this secret was accepted: {token:?}");
}

/// The API's prompt body: points and a box, checked against a 1800x1200 photo.
pub fn prompt_json(data: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        points: Vec<Point>,
        #[serde(rename = "box", default)]
        bbox: Option<PromptBox>,
    }
    if let Ok(body) = serde_json::from_slice::<Body>(data) {
        let _ = Prompt::new(body.points, body.bbox, 1800, 1200);
    }
}

/// Email addresses (sign-up): parsed ones are lower case and re-parse to themselves.
pub fn email(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(e) = gen3d_domain::EmailAddress::parse(raw) {
        assert_eq!(gen3d_domain::EmailAddress::parse(e.as_str()).expect("reparses"), e);
    }
}
