//! The torch backend: TorchScript modules run by libtorch (through `tch`), on CUDA when
//! the manifest's device allows it, else on CPU. The modules' contracts are the real
//! models' (`../shared/contracts.md` sections 1 and 3; `container/models/torch/README.md`):
//!
//! - encoder: `forward(image f32 [1,3,1008,1008])` -> `(image_embed [1,256,72,72],
//!   high_res_feats_0 [1,32,288,288], high_res_feats_1 [1,64,144,144])`, the input
//!   preprocessed as SAM 3 does ([`crate::encoder::input_tensor`]);
//! - reconstructor: `forward(image uint8 [H,W,3], mask bool [H,W], seed int)` ->
//!   `(xyz [N,3], f_dc [N,3] or [N,1,3], opacity [N,1] or [N], scale [N,3], rotation [N,4])`,
//!   Gaussians in the stored-PLY conventions.
//!
//! Every output is checked (count, shapes, finite values) before it is used. libtorch's
//! C++ exceptions, which `tch` raises as panics in most tensor functions, become
//! [`ModelError::Run`], so a bad module fails one request, never the server.

use std::panic::AssertUnwindSafe;
use std::path::Path;

use gen3d_media::{EMBED_SHAPE, Embeddings, HIGH_RES_0_SHAPE, HIGH_RES_1_SHAPE, Mask, Photo, Splat, SplatCloud};
use tch::{CModule, Device, IValue, Kind, Tensor};

use crate::ModelError;
use crate::backend::{ImageEncoder, ObjectReconstructor};
use crate::encoder::{INPUT_SIZE, input_tensor};
use crate::manifest::{DeviceChoice, Dtype};

fn device(choice: DeviceChoice) -> Result<Device, ModelError> {
    match choice {
        DeviceChoice::Auto => Ok(Device::cuda_if_available()),
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Cuda(n) => {
            let count = if tch::Cuda::is_available() { tch::Cuda::device_count() } else { 0 };
            if (n as i64) < count {
                Ok(Device::Cuda(n))
            } else {
                Err(ModelError::Load(format!("device cuda:{n} was asked for, but this machine has {count} CUDA device(s)")))
            }
        }
    }
}

fn kind(dtype: Dtype) -> Kind {
    match dtype {
        Dtype::Float32 => Kind::Float,
        Dtype::Float16 => Kind::Half,
        Dtype::Bfloat16 => Kind::BFloat16,
    }
}

fn device_name(device: Device) -> String {
    match device {
        Device::Cuda(n) => format!("cuda:{n}"),
        _ => "cpu".into(),
    }
}

/// Runs `f` without autograd, turning a libtorch exception (a panic in `tch`) into an error.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, ModelError>) -> Result<T, ModelError> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| tch::no_grad(f))) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            Err(ModelError::Run(format!("{what}: {}", message.as_deref().map_or("libtorch failed", first_line))))
        }
    }
}

/// A loaded TorchScript module, the device it runs on and the file it came from.
struct Module {
    module: CModule,
    device: Device,
    file: String,
}

impl Module {
    fn load(file: &Path, choice: DeviceChoice) -> Result<Self, ModelError> {
        let device = device(choice)?;
        if !file.is_file() {
            return Err(ModelError::Load(format!("{}: no such model file", file.display())));
        }
        let not_loadable = |why: &str| ModelError::Load(format!("{}: not a loadable TorchScript module: {why}", file.display()));
        let mut module = match std::panic::catch_unwind(AssertUnwindSafe(|| CModule::load_on_device(file, device))) {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => return Err(not_loadable(first_line(&e.to_string()))),
            Err(_) => return Err(not_loadable("libtorch failed")),
        };
        module.set_eval();
        Ok(Self { module, device, file: file.display().to_string() })
    }

    fn describe(&self) -> String {
        format!("torch {} {}", device_name(self.device), self.file)
    }

    /// `forward` on `inputs`; its output as exactly `N` tensors, not yet checked.
    fn call<const N: usize>(&self, what: &str, inputs: &[IValue]) -> Result<[Tensor; N], ModelError> {
        let out = self.module.forward_is(inputs).map_err(|e| ModelError::Run(format!("{what}: {}", first_line(&e.to_string()))))?;
        Ok(tensors(out, N, what)?.try_into().expect("tensors() returns exactly N"))
    }
}

/// libtorch's messages carry a C++ backtrace after the first line.
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}

/// The module's output as exactly `count` tensors (a tuple or a list).
fn tensors(output: IValue, count: usize, what: &str) -> Result<Vec<Tensor>, ModelError> {
    let items = match output {
        IValue::Tuple(items) | IValue::GenericList(items) => items,
        IValue::TensorList(ts) => ts.into_iter().map(IValue::Tensor).collect(),
        IValue::Tensor(t) => vec![IValue::Tensor(t)],
        _ => return Err(ModelError::Output(format!("{what} must return a tuple of {count} tensors"))),
    };
    if items.len() != count {
        return Err(ModelError::Output(format!("{what} returned {} values, expected {count} tensors", items.len())));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            IValue::Tensor(t) => Ok(t),
            _ => Err(ModelError::Output(format!("{what} output {i} is not a tensor"))),
        })
        .collect()
}

/// A float output as f32 values on the CPU, after checking its shape and values.
fn values(t: &Tensor, name: &str, shape: &[i64]) -> Result<Vec<f32>, ModelError> {
    if t.size() != shape {
        return Err(ModelError::Output(format!("{name} has shape {:?}, expected {shape:?}", t.size())));
    }
    if !t.is_floating_point() {
        return Err(ModelError::Output(format!("{name} is {:?}, expected a floating-point tensor", t.kind())));
    }
    let flat = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous().view([-1]);
    let v = Vec::<f32>::try_from(&flat).map_err(|e| ModelError::Output(format!("{name}: {e}")))?;
    // A branch-free pass (it vectorises); the slow scan only finds where, once it failed.
    if v.iter().fold(false, |bad, x| bad | !x.is_finite()) {
        let i = v.iter().position(|x| !x.is_finite()).unwrap_or(0);
        return Err(ModelError::Output(format!("{name} has a non-finite value at index {i}")));
    }
    Ok(v)
}

fn dims(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// SAM 3's image encoder as a TorchScript module.
pub struct TorchEncoder {
    module: Module,
    dtype: Kind,
}

impl TorchEncoder {
    pub fn load(file: &Path, device: DeviceChoice, dtype: Dtype) -> Result<Self, ModelError> {
        Ok(Self { module: Module::load(file, device)?, dtype: kind(dtype) })
    }

    /// Runs the module on a preprocessed input (f32 [1,3,1008,1008], as
    /// [`input_tensor`] makes it).
    pub fn run(&self, input: &[f32]) -> Result<Embeddings, ModelError> {
        let side = INPUT_SIZE as usize;
        if input.len() != 3 * side * side {
            return Err(ModelError::Input(format!("encoder input has {} values, expected 3x{side}x{side}", input.len())));
        }
        guarded("encoder", || {
            let [embed, hr0, hr1] = self.forward(&Tensor::from_slice(input).view([1, 3, side as i64, side as i64]))?;
            Embeddings::new(
                values(&embed, "image_embed", &dims(&EMBED_SHAPE))?,
                values(&hr0, "high_res_feats_0", &dims(&HIGH_RES_0_SHAPE))?,
                values(&hr1, "high_res_feats_1", &dims(&HIGH_RES_1_SHAPE))?,
            )
            .map_err(|e| ModelError::Run(format!("encoder output: {e}")))
        })
    }

    /// The module's own call: the input moved to the device and cast to the manifest's
    /// dtype, the three outputs as they come (not yet checked). For benchmarks; the server
    /// uses [`TorchEncoder::run`].
    pub fn forward(&self, input: &Tensor) -> Result<[Tensor; 3], ModelError> {
        self.module.call("encoder", &[IValue::Tensor(input.to_device(self.module.device).to_kind(self.dtype))])
    }
}

impl ImageEncoder for TorchEncoder {
    fn describe(&self) -> String {
        self.module.describe()
    }

    fn encode(&self, photo: &Photo) -> Result<Embeddings, ModelError> {
        self.run(&input_tensor(photo))
    }
}

/// SAM 3D Objects as a TorchScript module (its inputs are uint8 and bool: no dtype).
pub struct TorchReconstructor {
    module: Module,
}

impl TorchReconstructor {
    pub fn load(file: &Path, device: DeviceChoice) -> Result<Self, ModelError> {
        Ok(Self { module: Module::load(file, device)? })
    }

    /// The module's own call on image (uint8 [H,W,3]) and mask (bool [H,W]) tensors: the
    /// five outputs as they come (not yet checked). For benchmarks; the server uses
    /// [`ObjectReconstructor::reconstruct`].
    pub fn forward(&self, image: &Tensor, mask: &Tensor, seed: u64) -> Result<[Tensor; 5], ModelError> {
        let device = self.module.device;
        // The seed's bits as TorchScript's int (i64).
        self.module
            .call("reconstructor", &[IValue::Tensor(image.to_device(device)), IValue::Tensor(mask.to_device(device)), IValue::Int(seed as i64)])
    }
}

impl ObjectReconstructor for TorchReconstructor {
    fn describe(&self) -> String {
        self.module.describe()
    }

    fn reconstruct(&self, photo: &Photo, mask: &Mask, seed: u64) -> Result<SplatCloud, ModelError> {
        let (w, h) = (photo.width(), photo.height());
        if (mask.width(), mask.height()) != (w, h) {
            return Err(ModelError::Input(format!("mask is {}x{} but the photo is {w}x{h}", mask.width(), mask.height())));
        }
        guarded("reconstructor", || {
            let image = Tensor::from_slice(photo.rgb.as_raw()).view([i64::from(h), i64::from(w), 3]);
            let mask = Tensor::from_slice(mask.data()).view([i64::from(h), i64::from(w)]);
            let [xyz, f_dc, opacity, scale, rotation] = self.forward(&image, &mask, seed)?;
            let n = xyz.size().first().copied().unwrap_or(0);
            if n == 0 {
                return Err(ModelError::Output("reconstructor returned no splats".into()));
            }
            if n as usize > SplatCloud::MAX_SPLATS {
                return Err(ModelError::Output(format!("reconstructor returned {n} splats, more than {}", SplatCloud::MAX_SPLATS)));
            }
            let xyz = values(&xyz, "xyz", &[n, 3])?;
            let f_dc = values(&f_dc.reshape([n, -1]), "f_dc", &[n, 3])?;
            let opacity = values(&opacity.reshape([n, -1]), "opacity", &[n, 1])?;
            let scale = values(&scale, "scale", &[n, 3])?;
            let rotation = values(&rotation, "rotation", &[n, 4])?;
            let splats = (0..n as usize)
                .map(|i| Splat {
                    position: [xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]],
                    f_dc: [f_dc[3 * i], f_dc[3 * i + 1], f_dc[3 * i + 2]],
                    opacity: opacity[i],
                    scale: [scale[3 * i], scale[3 * i + 1], scale[3 * i + 2]],
                    rotation: [rotation[4 * i], rotation[4 * i + 1], rotation[4 * i + 2], rotation[4 * i + 3]],
                })
                .collect();
            Ok(SplatCloud { splats })
        })
    }
}
