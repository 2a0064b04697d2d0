"""Exports SAM 3's image encoder (tracker path) as the TorchScript module Gen3D's torch
backend loads (`manifest.json` "encoder"). See README.md in this folder.

    python export_sam3_encoder.py --checkpoint sam3.pt --out model/ [--dtype bfloat16]

Needs: the `sam3` package (github.com/facebookresearch/sam3, installed with `pip install -e .`),
the gated checkpoint `facebook/sam3` (sam3.pt), torch matching the server's libtorch (2.13)
and, for bfloat16/float16, a CUDA GPU. NOT run in this project's CI (no weights here):
its output contract is the one `test_modules.py` builds and the Rust tests check.

The module: forward(image f32 [1,3,1008,1008], normalised with mean = std = 0.5, resized
to 1008x1008 without keeping the aspect ratio) -> (image_embed [1,256,72,72],
high_res_feats_0 [1,32,288,288], high_res_feats_1 [1,64,144,144]), exactly what
`SAM3InteractiveImagePredictor.set_image` stores in `_features` (no_mem_embed included).
"""

import argparse
import json
import os

import torch


class TrackerImageEncoder(torch.nn.Module):
    """The part of `SAM3InteractiveImagePredictor.set_image` after the transforms."""

    def __init__(self, tracker):
        super().__init__()
        self.tracker = tracker
        self.sizes = [(288, 288), (144, 144), (72, 72)]

    def forward(self, image):
        backbone_out = self.tracker.forward_image(image)
        _, vision_feats, _, _ = self.tracker._prepare_backbone_features(backbone_out)
        vision_feats[-1] = vision_feats[-1] + self.tracker.no_mem_embed
        feats = [
            feat.permute(1, 2, 0).reshape(1, -1, h, w)
            for feat, (h, w) in zip(vision_feats[::-1], self.sizes[::-1])
        ][::-1]
        return feats[2], feats[0], feats[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="sam3.pt from facebook/sam3")
    parser.add_argument("--out", required=True, help="the model directory to write")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    args = parser.parse_args()

    from sam3.model_builder import build_sam3_image_model

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = build_sam3_image_model(
        checkpoint_path=args.checkpoint,
        load_from_HF=False,
        device=device,
        eval_mode=True,
        enable_inst_interactivity=True,
        compile=False,
    )
    tracker = model.inst_interactive_predictor.model
    if getattr(tracker, "backbone", None) is None:
        # The interactive tracker shares the detector's vision backbone.
        tracker.backbone = model.backbone
    dtype = getattr(torch, args.dtype)
    encoder = TrackerImageEncoder(tracker).eval().to(device=device, dtype=dtype)
    example = torch.zeros(1, 3, 1008, 1008, device=device, dtype=dtype)
    with torch.no_grad():
        traced = torch.jit.trace(encoder, example, check_trace=False)
        outputs = traced(example)
    shapes = [list(o.shape) for o in outputs]
    assert shapes == [[1, 256, 72, 72], [1, 32, 288, 288], [1, 64, 144, 144]], shapes

    os.makedirs(args.out, exist_ok=True)
    traced.save(os.path.join(args.out, "sam3_image_encoder.pt"))
    manifest_path = os.path.join(args.out, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {"device": "auto"}
    manifest["encoder"] = {"backend": "torch", "file": "sam3_image_encoder.pt", "dtype": args.dtype}
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {args.out}/sam3_image_encoder.pt ({args.dtype}, traced on {device}) and manifest.json")


if __name__ == "__main__":
    main()
