//! Runs a click decoder ONNX file (the built-in one, or an exported SAM 3 tracker
//! decoder with the same contract) with tract, a pure-Rust ONNX runtime, so the server
//! and the CLI compute the same masks as the browser's onnxruntime-web.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::Mutex;

use gen3d_domain::{PointLabel, Prompt};
use gen3d_media::{EMBED_SHAPE, Embeddings, HIGH_RES_0_SHAPE, HIGH_RES_1_SHAPE, Mask};
use tract_onnx::prelude::*;

use crate::ModelError;
use crate::decoder_graph::{FRAME, LOW_RES, decoder_onnx};
use crate::split_decoder::SplitDecoder;

type Plan = std::sync::Arc<TypedSimplePlan>;

/// Prompt tensors in the decoder's frame (batch of one label set).
#[derive(Clone, Debug, PartialEq)]
pub struct PromptTensors {
    /// [1, N, 2], in the 1008x1008 frame.
    pub point_coords: Vec<f32>,
    /// [1, N]: 1 include, 0 exclude, 2/3 box corners, -1 padding.
    pub point_labels: Vec<f32>,
}

impl PromptTensors {
    /// Scales pixel coordinates to the 1008 frame; a box becomes two labelled corners
    /// after the clicks, and one (0,0)/-1 padding point ends every prompt, as SAM 3's
    /// predictor does.
    pub fn new(prompt: &Prompt, width: u32, height: u32) -> Self {
        let (sx, sy) = (FRAME / width as f32, FRAME / height as f32);
        let mut coords = Vec::new();
        let mut labels = Vec::new();
        for p in prompt.points() {
            coords.extend_from_slice(&[p.x * sx, p.y * sy]);
            labels.push(match p.label {
                PointLabel::Include => 1.0,
                PointLabel::Exclude => 0.0,
            });
        }
        if let Some(b) = prompt.bbox() {
            coords.extend_from_slice(&[b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy]);
            labels.extend_from_slice(&[2.0, 3.0]);
        }
        // SAM 3 (like SAM 2) always ends the prompt with a pad point, box or not; SAM 1
        // padded only without a box (../shared/contracts.md section 2).
        coords.extend_from_slice(&[0.0, 0.0]);
        labels.push(-1.0);
        Self { point_coords: coords, point_labels: labels }
    }

    pub fn len(&self) -> usize {
        self.point_labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.point_labels.is_empty()
    }
}

/// The decoder's outputs for one label set.
#[derive(Clone, Debug)]
pub struct DecoderOutput {
    /// [3, 288, 288] low-resolution logits.
    pub masks: Vec<f32>,
    pub iou_predictions: [f32; 3],
}

impl DecoderOutput {
    /// The candidate with the highest predicted IoU.
    pub fn best(&self) -> usize {
        (0..3).max_by(|&a, &b| self.iou_predictions[a].total_cmp(&self.iou_predictions[b])).unwrap_or(0)
    }

    /// Candidate `index` upsampled bilinearly to `width x height` and thresholded at 0,
    /// exactly as the browser client does.
    pub fn mask(&self, index: usize, width: u32, height: u32) -> Result<Mask, gen3d_media::MediaError> {
        let n = LOW_RES as usize;
        let plane = &self.masks[index * n * n..(index + 1) * n * n];
        let (sx, sy) = (n as f32 / width as f32, n as f32 / height as f32);
        let mut data = Vec::with_capacity(width as usize * height as usize);
        for y in 0..height {
            let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (n - 1) as f32);
            let y0 = fy.floor() as usize;
            let y1 = (y0 + 1).min(n - 1);
            let wy = fy - y0 as f32;
            for x in 0..width {
                let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (n - 1) as f32);
                let x0 = fx.floor() as usize;
                let x1 = (x0 + 1).min(n - 1);
                let wx = fx - x0 as f32;
                let top = plane[y0 * n + x0] * (1.0 - wx) + plane[y0 * n + x1] * wx;
                let bottom = plane[y1 * n + x0] * (1.0 - wx) + plane[y1 * n + x1] * wx;
                data.push(top * (1.0 - wy) + bottom * wy > 0.0);
            }
        }
        Mask::new(width, height, data)
    }
}

/// The decoder contract's inputs and outputs, in order (`../shared/contracts.md` section 2).
pub const INPUTS: [&str; 7] = ["image_embed", "high_res_feats_0", "high_res_feats_1", "point_coords", "point_labels", "mask_input", "has_mask_input"];
pub const OUTPUTS: [&str; 2] = ["masks", "iou_predictions"];

pub struct Decoder {
    onnx: Vec<u8>,
    /// The parsed graph, shapes still open; each prompt length gets its own plan.
    model: InferenceModel,
    plans: Mutex<HashMap<usize, Plan>>,
    about: String,
    /// The same decoder split for the browser, where the model directory has it.
    split: Option<SplitDecoder>,
}

impl Decoder {
    /// The built-in, weight-free decoder.
    pub fn builtin() -> Self {
        Self::parse(decoder_onnx(), "builtin".into()).expect("the built-in decoder graph is valid ONNX")
    }

    /// A decoder from ONNX bytes with the SAM 3 tracker decoder contract: the inputs and
    /// outputs are checked by name, then one prompt is decoded to check the shapes.
    pub fn from_onnx(onnx: Vec<u8>) -> Result<Self, ModelError> {
        Self::checked(onnx, "onnx".into())
    }

    /// [`Decoder::from_onnx`] on a file; every error names the file.
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let named = |e: ModelError| ModelError::Load(format!("{}: {e}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| ModelError::Load(format!("{}: cannot read the decoder: {e}", path.display())))?;
        Self::checked(bytes, format!("onnx {}", path.display())).map_err(named)
    }

    fn parse(onnx: Vec<u8>, about: String) -> Result<Self, ModelError> {
        let model = tract_onnx::onnx()
            .model_for_read(&mut Cursor::new(&onnx))
            .map_err(|e| ModelError::Onnx(format!("not a readable ONNX model: {}", first_line(&format!("{e:#}")))))?;
        Ok(Self { onnx, model, plans: Mutex::new(HashMap::new()), about, split: None })
    }

    fn checked(onnx: Vec<u8>, about: String) -> Result<Self, ModelError> {
        let decoder = Self::parse(onnx, about)?;
        let err = |e: TractError| ModelError::Onnx(format!("{e:#}"));
        let names = |outlets: &[OutletId]| -> Vec<String> {
            outlets.iter().map(|o| decoder.model.outlet_label(*o).unwrap_or(&decoder.model.node(o.node).name).to_string()).collect()
        };
        let inputs = names(decoder.model.input_outlets().map_err(err)?);
        let outputs = names(decoder.model.output_outlets().map_err(err)?);
        if inputs != INPUTS || outputs != OUTPUTS {
            return Err(ModelError::Onnx(format!(
                "not a click decoder with Gen3D's contract: inputs {inputs:?} and outputs {outputs:?}, expected {INPUTS:?} and {OUTPUTS:?}"
            )));
        }
        // One click plus the pad point, on zero embeddings: checks the output shapes.
        let zeros = Embeddings::new(
            vec![0.0; EMBED_SHAPE.iter().product()],
            vec![0.0; HIGH_RES_0_SHAPE.iter().product()],
            vec![0.0; HIGH_RES_1_SHAPE.iter().product()],
        )
        .expect("zeros of the contract's shapes");
        let probe = PromptTensors { point_coords: vec![504.0, 504.0, 0.0, 0.0], point_labels: vec![1.0, -1.0] };
        decoder.run(&zeros, &probe, None)?;
        Ok(decoder)
    }

    pub fn onnx_bytes(&self) -> &[u8] {
        &self.onnx
    }

    /// This decoder with its split form for the browser (`manifest.decoder.split`).
    pub fn with_split(mut self, split: SplitDecoder) -> Self {
        self.split = Some(split);
        self
    }

    /// The split form for the browser, if the model directory has one.
    pub fn split(&self) -> Option<&SplitDecoder> {
        self.split.as_ref()
    }

    /// What it is, for logs and `/ping`: `builtin` or `onnx <file>`.
    pub fn describe(&self) -> String {
        self.about.clone()
    }

    fn plan(&self, n: usize) -> Result<Plan, ModelError> {
        if let Some(plan) = self.plans.lock().map_err(|_| ModelError::Poisoned)?.get(&n) {
            return Ok(plan.clone());
        }
        let err = |e: TractError| ModelError::Onnx(format!("{e:#}"));
        let shapes: [&[usize]; 7] = [&EMBED_SHAPE, &HIGH_RES_0_SHAPE, &HIGH_RES_1_SHAPE, &[1, n, 2], &[1, n], &[1, 1, 288, 288], &[1]];
        let mut model = self.model.clone();
        for (i, shape) in shapes.iter().enumerate() {
            model.set_input_fact(i, f32::fact(shape.to_vec()).into()).map_err(err)?;
        }
        let plan = model.into_optimized().map_err(err)?.into_runnable().map_err(err)?;
        self.plans.lock().map_err(|_| ModelError::Poisoned)?.insert(n, plan.clone());
        Ok(plan)
    }

    /// Runs the decoder for one label set, optionally with the previous low-res logits.
    pub fn run(&self, embeddings: &Embeddings, prompt: &PromptTensors, previous: Option<&[f32]>) -> Result<DecoderOutput, ModelError> {
        let n = prompt.len();
        let plan = self.plan(n)?;
        let err = |e: TractError| ModelError::Onnx(format!("{e:#}"));
        let tensor = |shape: &[usize], data: &[f32]| Tensor::from_shape(shape, data).map_err(err);
        let plane = (LOW_RES * LOW_RES) as usize;
        let zeros = vec![0f32; plane];
        let (mask_input, has_mask) = match previous {
            Some(p) if p.len() == plane => (p, 1.0),
            Some(p) => {
                return Err(ModelError::Input(format!("previous mask has {} values, expected {plane}", p.len())));
            }
            None => (&zeros[..], 0.0),
        };
        let inputs: TVec<TValue> = tvec![
            tensor(&EMBED_SHAPE, embeddings.image_embed())?.into(),
            tensor(&HIGH_RES_0_SHAPE, embeddings.high_res_feats_0())?.into(),
            tensor(&HIGH_RES_1_SHAPE, embeddings.high_res_feats_1())?.into(),
            tensor(&[1, n, 2], &prompt.point_coords)?.into(),
            tensor(&[1, n], &prompt.point_labels)?.into(),
            tensor(&[1, 1, 288, 288], mask_input)?.into(),
            tensor(&[1], &[has_mask])?.into(),
        ];
        let outputs = plan.run(inputs).map_err(err)?;
        let masks = outputs[0].to_plain_array_view::<f32>().map_err(err)?;
        let iou = outputs[1].to_plain_array_view::<f32>().map_err(err)?;
        if masks.shape() != [1, 3, 288, 288] || iou.shape() != [1, 3] {
            return Err(ModelError::Onnx(format!("decoder returned shapes {:?} and {:?}", masks.shape(), iou.shape())));
        }
        let iou: Vec<f32> = iou.iter().copied().collect();
        Ok(DecoderOutput { masks: masks.iter().copied().collect(), iou_predictions: [iou[0], iou[1], iou[2]] })
    }
}

/// tract's messages can run to many lines of graph context.
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}
