"""Gen3D's worker around SAM 3D Objects' official inference code.

The Rust server (`gen3d_models::python`) starts this once per worker, with the
environment of the official repository (its `notebook/` directory on PYTHONPATH), and
talks to it over stdin/stdout in frames: a 4-byte big-endian length, then the bytes.

- once, after loading: {"ready": true, "model": ...} or {"ready": false, "error": ...}
- per request, in: {"op": "reconstruct", "width", "height", "seed"}, the RGB image
  (height*width*3 bytes), the mask (height*width bytes, 0 or 1)
- per request, out: {"ok": true, "rotation": [w,x,y,z], "translation": [x,y,z],
  "scale": s} and the splat PLY, or {"ok": false, "error": ...}

The model is called as `notebook/inference.py` shows: `Inference(config, compile=False)`,
then `model(image uint8 HxWx3, mask bool HxW, seed=seed)`, whose output has `gs` (with
`save_ply(path)`), `rotation` [1,4], `translation` [1,3] and `scale` [1,3] (uniform).

Anything the model prints goes to stderr (the server's log): stdout carries frames only.
"""

import argparse
import importlib
import json
import math
import os
import struct
import sys
import tempfile
import traceback


def send(out, payload):
    data = payload if isinstance(payload, (bytes, bytearray)) else json.dumps(payload).encode()
    out.write(struct.pack(">I", len(data)))
    out.write(data)
    out.flush()


def recv(inp):
    head = inp.read(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack(">I", head)
    data = inp.read(n)
    if len(data) < n:
        return None
    return data


def number(x):
    """A float for JSON; a non-finite one as its name, which the server refuses by name."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def flat(value):
    """A tensor, array or list as a flat list of numbers."""
    if hasattr(value, "detach"):
        value = value.detach().float().cpu().numpy()
    if hasattr(value, "reshape"):
        return [number(x) for x in value.reshape(-1)]
    out = []
    for v in value:
        out.extend(flat(v) if isinstance(v, (list, tuple)) or hasattr(v, "reshape") else [number(v)])
    return out


def describe(error):
    text = f"{type(error).__name__}: {error}"
    if "out of memory" in text.lower():
        text = "out of GPU memory: " + text
    return text[:2000]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--module", default="inference")
    args = parser.parse_args()

    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer

    try:
        if not os.path.exists(args.config):
            raise FileNotFoundError(f"the pipeline configuration {args.config} is missing (is the checkpoint in the model directory?)")
        module = importlib.import_module(args.module)
        model = module.Inference(args.config, compile=False)
    except BaseException as e:  # an import error, a missing checkpoint, CUDA missing
        traceback.print_exc()
        send(out, {"ready": False, "error": describe(e)})
        return 1
    import numpy as np

    send(out, {"ready": True, "model": f"{args.module}.Inference({os.path.basename(args.config)})"})
    workdir = tempfile.mkdtemp(prefix="gen3d-sam3d-")
    while True:
        header = recv(inp)
        if header is None:
            return 0
        image_bytes, mask_bytes = recv(inp), recv(inp)
        if image_bytes is None or mask_bytes is None:
            return 0
        try:
            req = json.loads(header)
            width, height, seed = int(req["width"]), int(req["height"]), int(req.get("seed", 0))
            image = np.frombuffer(image_bytes, dtype=np.uint8).reshape(height, width, 3)
            mask = np.frombuffer(mask_bytes, dtype=np.uint8).reshape(height, width) > 0
            output = model(image, mask, seed=seed)
            path = os.path.join(workdir, "splat.ply")
            output["gs"].save_ply(path)
            with open(path, "rb") as f:
                ply = f.read()
            os.remove(path)
            scale = flat(output["scale"])
            reply = {
                "ok": True,
                "rotation": flat(output["rotation"])[:4],
                "translation": flat(output["translation"])[:3],
                "scale": scale[0] if scale else None,
            }
        except BaseException as e:
            traceback.print_exc()
            send(out, {"ok": False, "error": describe(e)})
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                return 1
            continue
        send(out, reply)
        send(out, ply)


if __name__ == "__main__":
    sys.exit(main())
