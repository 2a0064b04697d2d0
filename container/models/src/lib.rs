//! Built-in, weight-free models with exactly the interfaces of the real ones
//! (`../shared/contracts.md` sections 1-4):
//!
//! - [`encoder::encode`]: photo -> `image_embed` [1,256,72,72], `high_res_feats_0`
//!   [1,32,288,288], `high_res_feats_1` [1,64,144,144] (SAM 3 tracker image embeddings);
//! - [`decoder_graph::decoder_onnx`]: the click decoder as an ONNX file with the SAM 3
//!   tracker decoder contract, run here by [`decoder::Decoder`] (tract) and in the browser
//!   by onnxruntime-web;
//! - [`reconstructor::reconstruct`]: image + mask -> Gaussian splats (SAM 3D Objects).
//!
//! They stand in for the real checkpoints, which cannot be downloaded here; see README.

pub mod decoder;
pub mod decoder_graph;
pub mod encoder;
mod onnx;
pub mod reconstructor;
mod rng;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("onnx runtime: {0}")]
    Onnx(String),
    #[error("bad model input: {0}")]
    Input(String),
    #[error("model state poisoned by an earlier panic")]
    Poisoned,
}
