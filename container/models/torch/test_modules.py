"""Small TorchScript modules with the real models' input/output contracts, for testing
and benchmarking Gen3D's torch backend (`gen3d-models` feature `torch`) without the real
checkpoints (../../../../shared/contracts.md sections 1 and 3).

    python test_modules.py make OUT_DIR     # modules, manifest.json, reference outputs
    python test_modules.py bench OUT_DIR N  # median forward latency of the encoder, ms

Written by `make OUT_DIR`:
  sam3_image_encoder.pt   forward(image f32 [1,3,1008,1008], normalised as SAM 3 does)
                          -> (image_embed [1,256,72,72], high_res_feats_0 [1,32,288,288],
                              high_res_feats_1 [1,64,144,144])
                          A ViT-style patch embedding (14x14, stride 14) and a neck that
                          upsamples 2x and 4x, like the SAM 3 tracker neck, with fixed
                          random weights.
  sam3d_objects.pt        forward(image uint8 [H,W,3], mask bool [H,W], seed int)
                          -> (xyz [N,3], f_dc [N,3], opacity [N,1], scale [N,3],
                              rotation [N,4]): Gaussians in the stored-PLY conventions
                          (logit opacity, log sigma, quaternion w,x,y,z), object-local in
                          [-0.5,0.5]^3, z up. Lifts the masked pixels; the seed jitters
                          them, so equal seeds give equal splats.
  sam1_shaped_encoder.pt  an encoder with SAM 1's [1,256,64,64] output: a wrong module
  manifest.json           the two good modules, for the torch backend
  reference/*.bin         inputs and the modules' outputs from Python (raw little-endian
                          arrays; shapes in reference/reference.json)
"""

import ctypes
import json
import math
import os
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

class TinySam3Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, 256, kernel_size=14, stride=14)
        self.proj = nn.Conv2d(256, 256, kernel_size=1)
        self.no_mem_embed = nn.Parameter(torch.randn(1, 256, 1, 1) * 0.02)
        self.up1 = nn.ConvTranspose2d(256, 64, kernel_size=2, stride=2)
        self.up0 = nn.ConvTranspose2d(64, 32, kernel_size=2, stride=2)

    def forward(self, image: torch.Tensor):
        if image.shape != (1, 3, 1008, 1008):
            raise ValueError("image must be [1,3,1008,1008]")
        tokens = F.gelu(self.patch(image))
        image_embed = self.proj(tokens) + self.no_mem_embed
        high_res_feats_1 = F.gelu(self.up1(tokens))
        high_res_feats_0 = self.up0(high_res_feats_1)
        return image_embed, high_res_feats_0, high_res_feats_1


class Sam1ShapedEncoder(nn.Module):
    def forward(self, image: torch.Tensor):
        pooled = F.adaptive_avg_pool2d(image, (64, 64)).mean(dim=1, keepdim=True)
        return pooled.repeat(1, 256, 1, 1), torch.zeros(1, 32, 256, 256), torch.zeros(1, 64, 128, 128)


class TinySam3dObjects(nn.Module):
    def __init__(self, max_splats: int = 30000):
        super().__init__()
        self.max_splats = max_splats
        self.depth = nn.Linear(3, 1)

    def forward(self, image: torch.Tensor, mask: torch.Tensor, seed: int):
        if image.dim() != 3 or image.size(2) != 3 or image.dtype != torch.uint8:
            raise ValueError("image must be uint8 [H,W,3]")
        if mask.shape != image.shape[:2] or mask.dtype != torch.bool:
            raise ValueError("mask must be bool [H,W], the image's size")
        pixels = torch.nonzero(mask)
        ys, xs = pixels[:, 0], pixels[:, 1]
        n = ys.numel()
        if n == 0:
            raise ValueError("mask is empty")
        index = torch.arange(n, dtype=torch.int64)
        # A seeded, deterministic shuffle (integer hashing, the same on every device).
        keys = (index * 2654435761 + (seed % 1000003) * 40503 + 12345) % 2147483647
        keep = torch.argsort(keys)[: self.max_splats]
        ys, xs = ys[keep], xs[keep]
        rgb = image[ys, xs].to(torch.float32) / 255.0
        x0, x1 = xs.min().item(), xs.max().item()
        y0, y1 = ys.min().item(), ys.max().item()
        extent = float(max(x1 - x0, y1 - y0) + 1)
        u = (xs.to(torch.float32) - (x0 + x1) / 2.0) / extent
        v = ((y0 + y1) / 2.0 - ys.to(torch.float32)) / extent
        jitter = ((keys[keep] % 1009).to(torch.float32) / 1009.0 - 0.5) / extent
        depth = torch.tanh(self.depth(rgb).squeeze(1)) * 0.2
        xyz = torch.stack([u + jitter, depth, v - jitter], dim=1).clamp(-0.5, 0.5)
        m = xyz.size(0)
        f_dc = (rgb - 0.5) / 0.28209479177387814
        opacity = torch.full([m, 1], 2.0)
        scale = torch.full([m, 3], math.log(0.75 / extent))
        rotation = torch.zeros(m, 4)
        rotation[:, 0] = 1.0
        return xyz, f_dc, opacity, scale, rotation


def write_bin(path, tensor):
    t = tensor.detach().contiguous().cpu()
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    with open(path, "wb") as f:
        f.write(ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()))


def reference_inputs():
    """The encoder's input (uniform in [-1,1], as normalised pixels are) and a 960x720
    photo-like image with an elliptical mask, plus the seed."""
    g = torch.Generator().manual_seed(1)
    enc_in = torch.rand(1, 3, 1008, 1008, generator=g) * 2.0 - 1.0
    h, w = 720, 960
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    image = torch.stack([xx * 255 // w, yy * 255 // h, (xx + yy) % 256], dim=2).to(torch.uint8)
    mask = ((xx - 480.0) / 300.0) ** 2 + ((yy - 360.0) / 210.0) ** 2 <= 1.0
    return enc_in, image, mask, 7


def make(out):
    torch.manual_seed(0)
    os.makedirs(os.path.join(out, "reference"), exist_ok=True)
    encoder = torch.jit.script(TinySam3Encoder().eval())
    encoder.save(os.path.join(out, "sam3_image_encoder.pt"))
    torch.jit.script(Sam1ShapedEncoder().eval()).save(os.path.join(out, "sam1_shaped_encoder.pt"))
    reconstructor = torch.jit.script(TinySam3dObjects().eval())
    reconstructor.save(os.path.join(out, "sam3d_objects.pt"))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(
            {
                "device": "auto",
                "encoder": {"backend": "torch", "file": "sam3_image_encoder.pt"},
                "reconstructor": {"backend": "torch", "file": "sam3d_objects.pt"},
            },
            f,
            indent=2,
        )

    # Reference outputs, from the saved files as loaded back (what the server loads).
    encoder = torch.jit.load(os.path.join(out, "sam3_image_encoder.pt"))
    reconstructor = torch.jit.load(os.path.join(out, "sam3d_objects.pt"))
    enc_in, image, mask, seed = reference_inputs()
    ref = os.path.join(out, "reference")
    shapes = {}

    def record(name, tensor):
        write_bin(os.path.join(ref, name + ".bin"), tensor)
        shapes[name] = {"shape": list(tensor.shape), "dtype": str(tensor.dtype).replace("torch.", "")}

    with torch.no_grad():
        record("encoder_input", enc_in)
        for name, t in zip(["image_embed", "high_res_feats_0", "high_res_feats_1"], encoder(enc_in)):
            record(name, t)
        record("image", image)
        record("mask", mask)
        for name, t in zip(["xyz", "f_dc", "opacity", "scale", "rotation"], reconstructor(image, mask, seed)):
            record(name, t)
    with open(os.path.join(ref, "reference.json"), "w") as f:
        json.dump({"seed": seed, "torch": torch.__version__, "tensors": shapes}, f, indent=2)


def bench(out, runs):
    """Median latency of each module from Python on the reference inputs, as the Rust
    benchmark runs them (eval, no_grad, outputs copied out as float32 host bytes)."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    encoder = torch.jit.load(os.path.join(out, "sam3_image_encoder.pt"), map_location=device).eval()
    reconstructor = torch.jit.load(os.path.join(out, "sam3d_objects.pt"), map_location=device).eval()
    enc_in, image, mask, seed = reference_inputs()

    def median_ms(call):
        # Each output ends as float32 bytes in host memory, as the Rust backend returns
        # it (a server must get them out of the tensor to write them).
        times = []
        for i in range(runs + 1):
            t = time.perf_counter()
            for o in call():
                o = o.to(device="cpu", dtype=torch.float32).contiguous()
                ctypes.string_at(o.data_ptr(), o.numel() * 4)
            if i > 0:
                times.append((time.perf_counter() - t) * 1e3)
        return statistics.median(times)

    with torch.no_grad():
        x = enc_in.to(device)
        encoder_ms = median_ms(lambda: encoder(x))
        img, m = image.to(device), mask.to(device)
        reconstructor_ms = median_ms(lambda: reconstructor(img, m, seed))
    print(json.dumps({"device": str(device), "encoder_ms": encoder_ms, "reconstructor_ms": reconstructor_ms, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "bench":
        bench(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
