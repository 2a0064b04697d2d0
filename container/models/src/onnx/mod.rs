//! Writing ONNX models from Rust.

pub mod graph;
mod proto;
