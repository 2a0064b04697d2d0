"""A stand-in for SAM 3D Objects' official `inference` module (notebook/inference.py),
for tests and benchmarks where the real one cannot run (it needs a CUDA GPU with 32 GB
and the gated checkpoint). Same import path and call shape: `Inference(config_file,
compile=False)`, called with an RGB uint8 HxWx3 image, a bool HxW mask and a seed; the
output has `gs` (with `save_ply(path)`), `rotation` [1,4] (w,x,y,z), `translation` [1,3]
and `scale` [1,3]. It writes a small valid 3DGS splat over the mask.

It misbehaves on cue, for the failure tests: a configuration file containing "broken"
fails to load; seed 1 raises CUDA's out-of-memory error, 2 hangs, 3 exits, 4 is killed
(SIGKILL), 5 writes a file that is not a splat, 6 returns a NaN rotation.
"""
import os
import signal
import time

import numpy as np

class _Gaussians:
    """Splats as an (N, 17) float32 array in the 3DGS vertex layout, or None for junk."""

    def __init__(self, rows):
        self.rows = rows

    def save_ply(self, path):
        if self.rows is None:
            with open(path, "wb") as f:
                f.write(b"ply\nformat ascii 1.0\nthis is not a splat\n")
            return
        props = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
                 "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
        head = "ply\nformat binary_little_endian 1.0\nelement vertex %d\n" % len(self.rows)
        head += "".join("property float %s\n" % p for p in props) + "end_header\n"
        with open(path, "wb") as f:
            f.write(head.encode())
            f.write(self.rows.astype("<f4").tobytes())


def _blob(image, mask):
    """A closed lens-shaped blob over the mask, coloured from the photo: front and back
    halves of an ellipsoid cap in object-local coordinates (about -0.5..0.5)."""
    ys, xs = np.nonzero(mask)
    step = max(1, len(xs) // 10000)
    xs, ys = xs[::step], ys[::step]
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    half = max(x1 - x0, y1 - y0, 1) / 2.0
    u = (xs - (x0 + x1) / 2.0) / half / 2.0
    v = -(ys - (y0 + y1) / 2.0) / half / 2.0
    z = 0.25 * np.sqrt(np.clip(1.0 - (2 * u) ** 2 - (2 * v) ** 2, 0.0, 1.0))
    rgb = image[ys, xs].astype(np.float32) / 255.0
    rows = []
    for sign in (1.0, -1.0):
        r = np.zeros((len(xs), 17), np.float32)
        r[:, 0], r[:, 1], r[:, 2] = u, v, sign * z
        norm = np.sqrt(u * u + v * v + z * z) + 1e-6
        r[:, 3], r[:, 4], r[:, 5] = u / norm, v / norm, sign * z / norm
        r[:, 6:9] = (rgb - 0.5) / 0.28209479
        r[:, 9] = 3.0
        r[:, 10:13] = -5.0
        r[:, 13] = 1.0
        rows.append(r)
    return np.concatenate(rows)


class Inference:
    def __init__(self, config_file, compile=False):
        if "broken" in open(config_file).read():
            raise RuntimeError("CUDA is not available")

    def __call__(self, image, mask, seed=None):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, image.shape
        assert mask.dtype == bool and mask.shape == image.shape[:2], mask.shape
        if seed == 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if seed == 2:
            time.sleep(3600)
        if seed == 3:
            os._exit(3)
        if seed == 4:
            os.kill(os.getpid(), signal.SIGKILL)
        if seed == 5:
            return {"gs": _Gaussians(None), "rotation": [[1, 0, 0, 0]], "translation": [[0, 0, 2]], "scale": [[1, 1, 1]]}
        rotation = [[float("nan"), 0, 0, 0]] if seed == 6 else [[0.7071, 0.7071, 0, 0]]
        return {"gs": _Gaussians(_blob(image, mask)), "rotation": rotation, "translation": [[0.1, -0.2, 2.5]],
                "scale": [[0.8, 0.8, 0.8]], "glb": None}
