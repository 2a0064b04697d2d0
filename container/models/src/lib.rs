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
//! [`backend::Models`] puts each behind a trait, so the inference container runs these or
//! real checkpoints exported to TorchScript ([`torch`], feature `torch`), as the model
//! directory's [`manifest`] says.
//!
//! They stand in for the real checkpoints, which cannot be downloaded here; see README.

pub mod backend;
pub mod decoder;
pub mod decoder_graph;
pub mod encoder;
pub mod manifest;
mod onnx;
pub mod python;
pub mod reconstructor;
mod rng;
pub mod split_decoder;
#[cfg(feature = "torch")]
pub mod torch;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("onnx runtime: {0}")]
    Onnx(String),
    #[error("bad model input: {0}")]
    Input(String),
    #[error("model state poisoned by an earlier panic")]
    Poisoned,
    #[error("model manifest: {0}")]
    Manifest(String),
    #[error("loading a model: {0}")]
    Load(String),
    #[error("running a model: {0}")]
    Run(String),
    #[error("model output: {0}")]
    Output(String),
}
