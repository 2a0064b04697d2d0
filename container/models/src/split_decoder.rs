//! The click decoder split in two for the browser (`torch/split_decoder.py`): `prepare`
//! runs once per photo on the embeddings, `click` once per prompt on prepare's outputs
//! and the prompt. Same masks as the one-graph decoder, about half the work per click.
//! The server never runs them (its `POST …/masks` runs the one-graph file with tract);
//! here they are read, their inputs and outputs checked by name, and served.

use std::io::Cursor;
use std::path::Path;

use tract_onnx::prelude::*;

use crate::ModelError;

/// `prepare`'s inputs and outputs, in order.
pub const PREPARE_INPUTS: [&str; 3] = ["image_embed", "high_res_feats_0", "high_res_feats_1"];
pub const PREPARE_OUTPUTS: [&str; 13] = ["k1", "v1", "q1", "z", "k2", "v2", "q2", "k2_pe", "q2_pe", "pe_k3", "up1", "s1", "s0"];
/// `click`'s outputs are the decoder contract's, for one prompt without a previous mask.
pub const CLICK_OUTPUTS: [&str; 2] = ["masks", "iou_predictions"];

/// The two graphs' bytes, as the browser downloads them.
pub struct SplitDecoder {
    pub prepare: Vec<u8>,
    pub click: Vec<u8>,
}

impl SplitDecoder {
    /// Reads both files and checks their graphs' names; every error names the file.
    pub fn from_files(prepare: &Path, click: &Path) -> Result<Self, ModelError> {
        let click_inputs: Vec<&str> = PREPARE_OUTPUTS.iter().copied().chain(["point_coords", "point_labels"]).collect();
        Ok(Self { prepare: read_checked(prepare, &PREPARE_INPUTS, &PREPARE_OUTPUTS)?, click: read_checked(click, &click_inputs, &CLICK_OUTPUTS)? })
    }
}

fn read_checked(path: &Path, inputs: &[&str], outputs: &[&str]) -> Result<Vec<u8>, ModelError> {
    let fail = |what: String| ModelError::Load(format!("{}: {what}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the split decoder: {e}")))?;
    let proto = tract_onnx::onnx().proto_model_for_read(&mut Cursor::new(&bytes)).map_err(|e| fail(format!("not a readable ONNX model: {e:#}")))?;
    let graph = proto.graph.ok_or_else(|| fail("an ONNX model without a graph".into()))?;
    let constants: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let got_inputs: Vec<&str> = graph.input.iter().map(|v| v.name.as_str()).filter(|n| !constants.contains(n)).collect();
    let got_outputs: Vec<&str> = graph.output.iter().map(|v| v.name.as_str()).collect();
    if got_inputs != inputs || got_outputs != outputs {
        return Err(fail(format!(
            "not this part of the split decoder: inputs {got_inputs:?} and outputs {got_outputs:?}, expected {inputs:?} and {outputs:?}"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_that_are_not_the_split_graphs() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.onnx");
        std::fs::write(&garbage, b"\x08\x07not onnx at all").unwrap();
        let err = SplitDecoder::from_files(&garbage, &garbage).err().expect("garbage refused").to_string();
        assert!(err.contains("garbage.onnx"), "{err}");
        // The one-graph decoder is valid ONNX, but not the prepare graph.
        let whole = dir.path().join("decoder.onnx");
        std::fs::write(&whole, crate::decoder_graph::decoder_onnx()).unwrap();
        let err = SplitDecoder::from_files(&whole, &whole).err().expect("the wrong graph refused").to_string();
        assert!(err.contains("decoder.onnx: not this part of the split decoder"), "{err}");
        assert!(err.contains("expected [\"image_embed\", \"high_res_feats_0\", \"high_res_feats_1\"]"), "{err}");
        let missing = SplitDecoder::from_files(&dir.path().join("nope.onnx"), &whole).err().expect("missing refused").to_string();
        assert!(missing.contains("nope.onnx: cannot read the split decoder"), "{missing}");
    }
}
