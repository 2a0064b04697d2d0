"""Builds a Gen3D model directory from the real SAM 3 tracker architecture (transformers'
`Sam3TrackerModel`), with random weights or from a checkpoint.

    python prepare_sam3.py --out DIR [--depth N] [--checkpoint DIR] [--variants fp16,int8]

Written to DIR:
  sam3_image_encoder.pt   TorchScript, Gen3D's encoder contract (torch/README.md):
                          forward(image f32 [1,3,1008,1008], normalised) -> (image_embed
                          [1,256,72,72] with the no-memory embedding added,
                          high_res_feats_0 [1,32,288,288] after conv_s0,
                          high_res_feats_1 [1,64,144,144] after conv_s1)
  sam3_decoder.onnx       the prompt encoder + mask decoder in Gen3D's click-decoder
                          contract (../../../../shared/contracts.md section 2): inputs
                          image_embed, high_res_feats_0/1, point_coords [L,N,2] (1008
                          frame; the caller appends the (0,0)/-1 pad point), point_labels
                          [L,N], mask_input [L,1,288,288], has_mask_input [L]; outputs masks
                          [L,3,288,288] (logits clamped to +-32), iou_predictions [L,3]
  sam3_decoder.fp16.onnx, sam3_decoder.int8.onnx   smaller variants (--variants)
  sam3_decoder.prepare.onnx, sam3_decoder.click.onnx   the same decoder split for the
                          browser (split_decoder.py): prepare runs once per photo on the
                          embeddings, click once per prompt (no mask_input) on prepare's
                          outputs; the same masks at about half the cost per click
  reference/              one photo's encoder input and embeddings, and transformers' own outputs for four
                          prompts given in pixels (clicks, a box, a box plus clicks, clicks
                          plus the previous mask), for tests of Gen3D's prompt encoding
  manifest.json           what the Rust side loads (container/models/src/manifest.rs)

Every export is checked against the transformers model's own forward before anything is
written; on a mismatch the tool prints the differences and exits 1, leaving DIR as it was.

Without --checkpoint the weights are random (seeded): the architecture, shapes, graph and
cost are the real model's; the masks mean nothing. --depth N keeps N of the 32 ViT layers
(tests: a full-size encoder takes a minute per photo on 2 CPU cores and its TorchScript file
is 1.8 GB). Needs torch 2.13 (the libtorch `tch` links), transformers 5.24, onnx and
onnxruntime (`make sam3-models` installs them).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

FRAME = 1008
LOW_RES = 288
# Largest |difference| allowed between an export and transformers' forward. Logits of the
# random-weight decoder are O(1..10); float32 reassociation differs by ~1e-5.
TOLERANCE = {"encoder": 1e-3, "decoder": 1e-3}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Encoder(nn.Module):
    """`Sam3TrackerModel.get_image_embeddings` in Gen3D's output order."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image):
        high_res_0, high_res_1, image_embed = self.model.get_image_embeddings(image)
        return image_embed, high_res_0, high_res_1


class Decoder(nn.Module):
    """The tracker's prompt encoder + mask decoder, one prompt per batch row.

    Points are embedded as given (no internal padding: the caller appends SAM 3's pad
    point); the dense prompt is the embedded previous mask where has_mask_input is 1, the
    learned no-mask embedding elsewhere; the image-wide positional embedding is a constant.
    """

    def __init__(self, model):
        super().__init__()
        self.prompt = model.prompt_encoder
        self.decoder = model.mask_decoder
        self.register_buffer("image_pe", model.get_image_wide_positional_embeddings().detach().clone())

    def forward(self, image_embed, high_res_feats_0, high_res_feats_1, point_coords, point_labels, mask_input, has_mask_input):
        rows = point_coords.shape[0]
        labels = point_labels.to(torch.int64)
        sparse = self.prompt._embed_points(point_coords.unsqueeze(1), labels.unsqueeze(1), pad=False)
        no_mask = self.prompt.no_mask_embed.weight.reshape(1, -1, 1, 1)
        dense = torch.where(has_mask_input.reshape(-1, 1, 1, 1) > 0.5, self.prompt.mask_embed(mask_input), no_mask)
        masks, iou, _, _ = self.decoder(
            image_embeddings=image_embed.expand(rows, -1, -1, -1),
            image_positional_embeddings=self.image_pe.expand(rows, -1, -1, -1),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=True,
            high_resolution_features=[high_res_feats_0.expand(rows, -1, -1, -1), high_res_feats_1.expand(rows, -1, -1, -1)],
        )
        return masks.reshape(rows, 3, LOW_RES, LOW_RES).clamp(-32.0, 32.0), iou.reshape(rows, 3)


DECODER_INPUTS = ["image_embed", "high_res_feats_0", "high_res_feats_1", "point_coords", "point_labels", "mask_input", "has_mask_input"]
DECODER_OUTPUTS = ["masks", "iou_predictions"]


def build(checkpoint, depth, seed):
    from transformers import Sam3TrackerConfig, Sam3TrackerModel

    if checkpoint:
        if depth:
            raise SystemExit("--depth reduces a random-weight model; a checkpoint brings its own depth")
        try:
            model = Sam3TrackerModel.from_pretrained(checkpoint)
        except Exception as e:  # noqa: BLE001 - any load failure is the checkpoint's
            raise SystemExit(f"{checkpoint}: not a SAM 3 tracker checkpoint for transformers' Sam3TrackerModel: {str(e).splitlines()[0]}")
        source = {"weights": "checkpoint", "checkpoint": os.path.abspath(checkpoint)}
    else:
        torch.manual_seed(seed)
        config = Sam3TrackerConfig()
        backbone = config.vision_config.backbone_config
        if depth:
            if not 1 <= depth <= backbone.num_hidden_layers:
                raise SystemExit(f"--depth must be 1..{backbone.num_hidden_layers}")
            backbone.num_hidden_layers = depth
            backbone.global_attn_indexes = [i for i in backbone.global_attn_indexes if i < depth] or [depth - 1]
        model = Sam3TrackerModel(config)
        # transformers initialises every layer from N(0, 0.02): the random decoder's logits
        # are then all within +-0.03, so any encoding error would hide below the threshold.
        # PyTorch's own default initialisation gives logits of a real model's size.
        for part in (model.prompt_encoder, model.mask_decoder):
            for module in part.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        source = {"weights": "random", "seed": seed, "init": "transformers; prompt encoder and mask decoder: PyTorch defaults"}
    model.eval()
    import transformers

    backbone = model.config.vision_config.backbone_config
    source.update(
        {
            "architecture": "transformers Sam3TrackerModel",
            "transformers": transformers.__version__,
            "torch": torch.__version__.split("+")[0],
            "vit_layers": backbone.num_hidden_layers,
            "parameters": sum(p.numel() for p in model.parameters()),
        }
    )
    return model, source


def photo_tensor(path):
    """A photo as SAM 3's predictor preprocesses it (torchvision's Resize on the decoded
    image, which for a PIL image is PIL's antialiased bilinear resize to 8-bit, then
    ToTensor and Normalize with mean = std = 0.5): exactly 1008x1008, aspect ratio not kept.
    Gen3D's server does the same in Rust (gen3d_models::encoder::input_tensor)."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    resized = image.resize((FRAME, FRAME), Image.BILINEAR)
    rgb = torch.from_numpy(np.asarray(resized, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    return (rgb - 0.5) / 0.5, image.size


def max_diff(a, b):
    return float((torch.as_tensor(a).float() - torch.as_tensor(b).float()).abs().max())


def export_encoder(model, pixels, work):
    log("tracing the encoder ...")
    wrapper = Encoder(model).eval()
    t0 = time.time()
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, torch.randn(1, 3, FRAME, FRAME), check_trace=False)
    path = os.path.join(work, "sam3_image_encoder.pt")
    traced.save(path)
    log(f"  traced in {time.time() - t0:.0f} s, {os.path.getsize(path) / 1e6:.1f} MB")
    # The check: the saved module, reloaded, on a photo it was not traced with, against
    # transformers' own get_image_embeddings.
    with torch.no_grad():
        t0 = time.time()
        reference = model.get_image_embeddings(pixels)
        eager_s = time.time() - t0
        module = torch.jit.load(path)
        t0 = time.time()
        ours = module(pixels)
        traced_s = time.time() - t0
    diffs = {
        "image_embed": max_diff(ours[0], reference[2]),
        "high_res_feats_0": max_diff(ours[1], reference[0]),
        "high_res_feats_1": max_diff(ours[2], reference[1]),
    }
    log(f"  one photo on {torch.get_num_threads()} CPU threads: transformers eager {eager_s:.1f} s, the traced module {traced_s:.1f} s")
    return [r.detach() for r in (reference[2], reference[0], reference[1])], diffs, {"eager_seconds": round(eager_s, 2), "traced_seconds": round(traced_s, 2), "threads": torch.get_num_threads()}


def export_decoder(model, embeddings, work):
    log("exporting the decoder to ONNX ...")
    wrapper = Decoder(model).eval()
    rows, n = 2, 3
    example = (
        *embeddings,
        torch.rand(rows, n, 2) * FRAME,
        torch.tensor([[1.0, 0.0, -1.0], [2.0, 3.0, -1.0]]),
        torch.zeros(rows, 1, LOW_RES, LOW_RES),
        torch.zeros(rows),
    )
    path = os.path.join(work, "sam3_decoder.onnx")
    dynamic = {"point_coords": {0: "L", 1: "N"}, "point_labels": {0: "L", 1: "N"}, "mask_input": {0: "L"}, "has_mask_input": {0: "L"}, "masks": {0: "L"}, "iou_predictions": {0: "L"}}
    torch.onnx.export(
        wrapper, example, path, input_names=DECODER_INPUTS, output_names=DECODER_OUTPUTS,
        dynamic_axes=dynamic, opset_version=17, dynamo=False, do_constant_folding=True,
    )
    log(f"  {os.path.getsize(path) / 1e6:.1f} MB")
    return path


def export_split(model, embeddings, work):
    import split_decoder

    log("exporting the split decoder (prepare once per photo, click per prompt) to ONNX ...")
    prepare = split_decoder.Prepare(model).eval()
    click = split_decoder.Click(model).eval()
    paths = {name: os.path.join(work, f"sam3_decoder.{name}.onnx") for name in ("prepare", "click")}
    with torch.no_grad():
        cache = prepare(*embeddings)
        torch.onnx.export(prepare, tuple(embeddings), paths["prepare"], input_names=split_decoder.PREPARE_INPUTS,
                          output_names=split_decoder.PREPARE_OUTPUTS, opset_version=17, dynamo=False, do_constant_folding=True)
        example = (torch.tensor([[[500.0, 400.0], [100.0, 80.0], [0.0, 0.0]]]), torch.tensor([[1.0, 0.0, -1.0]]))
        torch.onnx.export(click, (*cache, *example), paths["click"], input_names=split_decoder.CLICK_INPUTS,
                          output_names=split_decoder.CLICK_OUTPUTS, dynamic_axes={"point_coords": {1: "N"}, "point_labels": {1: "N"}},
                          opset_version=17, dynamo=False, do_constant_folding=True)
    for name, path in paths.items():
        log(f"  {name}: {os.path.getsize(path) / 1e6:.1f} MB")
    return paths


def check_split(paths, embeddings, results, width, height):
    """The split pair in onnxruntime against transformers' outputs for every reference
    prompt without a previous mask."""
    import onnxruntime as ort

    prepare = ort.InferenceSession(paths["prepare"], providers=["CPUExecutionProvider"])
    click = ort.InferenceSession(paths["click"], providers=["CPUExecutionProvider"])
    names = [o.name for o in prepare.get_outputs()]
    cache = dict(zip(names, prepare.run(None, {"image_embed": embeddings[0].numpy(), "high_res_feats_0": embeddings[1].numpy(), "high_res_feats_1": embeddings[2].numpy()})))
    diffs = {}
    for case, want_masks, want_iou in results:
        if case["previous"]:
            continue
        coords, labels = gen3d_tensors(case, width, height)
        got_masks, got_iou = click.run(None, {**cache, "point_coords": coords, "point_labels": labels})
        diffs[f"split_{case['name']}"] = max(max_diff(got_masks[0], want_masks), max_diff(got_iou[0], want_iou))
    return diffs


def reference_cases(width, height):
    """Prompts in photo pixels, the way a user gives them."""
    cx, cy = width * 0.5, height * 0.55
    box = [width * 0.2, height * 0.25, width * 0.8, height * 0.9]
    return [
        {"name": "clicks", "points": [[cx, cy, "include"], [width * 0.1, height * 0.1, "exclude"]], "box": None, "previous": None},
        {"name": "box", "points": [], "box": box, "previous": None},
        {"name": "box_and_clicks", "points": [[cx, cy, "include"], [width * 0.25, height * 0.3, "exclude"]], "box": box, "previous": None},
        {"name": "clicks_and_previous_mask", "points": [[cx, cy, "include"]], "box": None, "previous": "clicks"},
    ]


def transformers_forward(model, processor, width, height, embeddings, case, previous_logits):
    """transformers' own path: its processor scales the pixel prompts, its forward pads
    and embeds them (`Sam3TrackerModel.forward` with image_embeddings)."""
    kwargs = {}
    if case["points"]:
        kwargs["input_points"] = [[[[x, y] for x, y, _ in case["points"]]]]
        kwargs["input_labels"] = [[[1 if label == "include" else 0 for _, _, label in case["points"]]]]
    if case["box"]:
        kwargs["input_boxes"] = [[case["box"]]]
    inputs = processor(original_sizes=[[height, width]], return_tensors="pt", **kwargs)
    forward = {k: inputs[k] for k in ("input_points", "input_labels", "input_boxes") if k in inputs}
    if previous_logits is not None:
        forward["input_masks"] = previous_logits[None, None]
    with torch.no_grad():
        out = model(image_embeddings=[embeddings[1], embeddings[2], embeddings[0]], multimask_output=True, **forward)
    return out.pred_masks.reshape(3, LOW_RES, LOW_RES).clamp(-32, 32), out.iou_scores.reshape(3), forward


def gen3d_tensors(case, width, height):
    """Gen3D's prompt encoding (web/src/decoder.js, container/models/src/decoder.rs),
    restated to check the export; the Rust and browser tests check those two against
    reference/ in turn."""
    sx, sy = FRAME / width, FRAME / height
    coords = [[x * sx, y * sy] for x, y, _ in case["points"]]
    labels = [1.0 if label == "include" else 0.0 for _, _, label in case["points"]]
    if case["box"]:
        x0, y0, x1, y1 = case["box"]
        coords += [[x0 * sx, y0 * sy], [x1 * sx, y1 * sy]]
        labels += [2.0, 3.0]
    coords.append([0.0, 0.0])
    labels.append(-1.0)
    return np.array([coords], np.float32), np.array([labels], np.float32)


def check_decoder(model, path, embeddings, width, height):
    import onnxruntime as ort

    processor = coordinate_processor()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {"image_embed": embeddings[0].numpy(), "high_res_feats_0": embeddings[1].numpy(), "high_res_feats_1": embeddings[2].numpy()}
    results, diffs, previous = [], {}, {}
    for case in reference_cases(width, height):
        prev = previous.get(case["previous"]) if case["previous"] else None
        want_masks, want_iou, _ = transformers_forward(model, processor, width, height, embeddings, case, prev)
        coords, labels = gen3d_tensors(case, width, height)
        mask_input = np.zeros((1, 1, LOW_RES, LOW_RES), np.float32) if prev is None else prev.numpy()[None, None]
        got_masks, got_iou = session.run(None, {**feeds, "point_coords": coords, "point_labels": labels, "mask_input": mask_input, "has_mask_input": np.array([0.0 if prev is None else 1.0], np.float32)})
        diffs[case["name"]] = max(max_diff(got_masks[0], want_masks), max_diff(got_iou[0], want_iou))
        if case["box"]:
            # For the record: SAM 1's rule (no pad point when there is a box) is not SAM 3's.
            sam1, _ = session.run(None, {**feeds, "point_coords": coords[:, :-1], "point_labels": labels[:, :-1], "mask_input": mask_input, "has_mask_input": np.array([0.0], np.float32)})
            changed = float(((sam1[0] > 0) != (want_masks.numpy() > 0)).mean())
            log(f"  (SAM 1's encoding of {case['name']}: logits off by up to {max_diff(sam1[0], want_masks):.3f}, {changed * 100:.2f}% of mask pixels differ)")
        best = int(torch.argmax(want_iou))
        previous[case["name"]] = want_masks[best].clone()
        results.append((case, want_masks, want_iou))
    # Rows are independent: two prompts in one call give each one's own answer.
    coords0, labels0 = gen3d_tensors(reference_cases(width, height)[0], width, height)
    coords1, labels1 = gen3d_tensors({"points": [[1.0, 2.0, "include"], [3.0, 4.0, "exclude"]], "box": None}, width, height)
    batched, _ = session.run(None, {**feeds, "point_coords": np.concatenate([coords0, coords1]), "point_labels": np.concatenate([labels0, labels1]), "mask_input": np.zeros((2, 1, LOW_RES, LOW_RES), np.float32), "has_mask_input": np.zeros(2, np.float32)})
    diffs["two_rows"] = max_diff(batched[0], results[0][1])
    return results, diffs


def coordinate_processor():
    """transformers' `Sam3TrackerProcessor` for its prompt scaling only (given
    original_sizes, it never touches its image processor, which needs torchvision)."""
    from transformers import Sam3TrackerProcessor

    processor = object.__new__(Sam3TrackerProcessor)
    processor.target_size = FRAME
    processor.point_pad_value = -10
    return processor


def variants(path, names, embeddings, work):
    """Smaller copies of the decoder, with their mask agreement against fp32 on one click."""
    import onnx
    import onnxruntime as ort

    out = {}
    feeds = {"image_embed": embeddings[0].numpy(), "high_res_feats_0": embeddings[1].numpy(), "high_res_feats_1": embeddings[2].numpy(),
             "point_coords": np.array([[[500.0, 520.0], [0.0, 0.0]]], np.float32), "point_labels": np.array([[1.0, -1.0]], np.float32),
             "mask_input": np.zeros((1, 1, LOW_RES, LOW_RES), np.float32), "has_mask_input": np.zeros(1, np.float32)}
    base = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)[0] > 0
    for name in names:
        target = os.path.join(work, f"sam3_decoder.{name}.onnx")
        if name == "fp16":
            from onnxruntime.transformers.float16 import convert_float_to_float16

            model = convert_float_to_float16(onnx.load(path), keep_io_types=True)
            onnx.save(model, target)
        elif name == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(path, target, weight_type=QuantType.QInt8)
        else:
            raise SystemExit(f"--variants: unknown variant {name!r} (fp16, int8)")
        got = ort.InferenceSession(target, providers=["CPUExecutionProvider"]).run(None, feeds)[0] > 0
        agreement = float((got == base).mean())
        out[name] = {"file": os.path.basename(target), "mask_agreement_vs_fp32": round(agreement, 5), "bytes": os.path.getsize(target)}
        log(f"  {name}: {out[name]['bytes'] / 1e6:.1f} MB, {agreement * 100:.2f}% of mask pixels as fp32")
    return out


def write_reference(work, embeddings, results, width, height, photo, pixels):
    ref = os.path.join(work, "reference")
    os.makedirs(ref)
    pixels.numpy().astype("<f4").tofile(os.path.join(ref, "encoder_input.f32"))
    for name, tensor in zip(["image_embed", "high_res_feats_0", "high_res_feats_1"], embeddings):
        tensor.numpy().astype("<f4").tofile(os.path.join(ref, f"{name}.f32"))
    cases = []
    for case, masks, iou in results:
        masks.numpy().astype("<f4").tofile(os.path.join(ref, f"{case['name']}.masks.f32"))
        cases.append({**case, "iou_predictions": [float(v) for v in iou], "masks": f"{case['name']}.masks.f32"})
    with open(os.path.join(ref, "reference.json"), "w") as f:
        json.dump({"photo": os.path.basename(photo), "width": width, "height": height, "cases": cases,
                   "about": "transformers' Sam3TrackerProcessor + Sam3TrackerModel.forward on these embeddings"}, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="model directory to write (replaced only when every check passes)")
    parser.add_argument("--depth", type=int, default=0, help="ViT layers to keep (random weights only; 0 = all 32)")
    parser.add_argument("--checkpoint", help="a transformers Sam3TrackerModel checkpoint directory (config.json + weights)")
    parser.add_argument("--variants", default="fp16,int8", help="smaller decoder copies: fp16, int8 (comma-separated, or empty)")
    parser.add_argument("--photo", default=os.path.join(os.path.dirname(__file__), "../../../../shared/fixtures/images/truck.jpg"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not os.path.isfile(args.photo):
        raise SystemExit(f"{args.photo}: no such photo (--photo)")

    t_start = time.time()
    model, source = build(args.checkpoint, args.depth, args.seed)
    log(f"SAM 3 tracker, {source['weights']} weights, {source['vit_layers']} ViT layers, {source['parameters'] / 1e6:.1f} M parameters")
    pixels, (width, height) = photo_tensor(args.photo)
    parent = os.path.dirname(os.path.abspath(args.out)) or "."
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".sam3-", dir=parent)
    try:
        embeddings, enc_diffs, enc_times = export_encoder(model, pixels, work)
        decoder_path = export_decoder(model, embeddings, work)
        results, dec_diffs = check_decoder(model, decoder_path, embeddings, width, height)
        split_paths = export_split(model, embeddings, work)
        dec_diffs.update(check_split(split_paths, embeddings, results, width, height))
        failed = False
        for part, diffs in (("encoder", enc_diffs), ("decoder", dec_diffs)):
            for name, d in diffs.items():
                ok = d <= TOLERANCE[part]
                failed |= not ok
                log(f"  {part} {name}: largest difference from transformers {d:.2e} {'ok' if ok else 'MISMATCH (tolerance %.0e)' % TOLERANCE[part]}")
        if failed:
            log("an export does not match transformers' forward: nothing written")
            return 1
        names = [v for v in args.variants.split(",") if v]
        decoder_variants = variants(decoder_path, names, embeddings, work)
        write_reference(work, embeddings, results, width, height, args.photo, pixels)
        source["checks"] = {"encoder": enc_diffs, "decoder": dec_diffs, "encoder_cpu": enc_times}
        manifest = {
            "device": "auto",
            "encoder": {"backend": "torch", "file": "sam3_image_encoder.pt", "dtype": "float32"},
            "decoder": {
                "file": "sam3_decoder.onnx",
                "variants": {k: v["file"] for k, v in decoder_variants.items()},
                "split": {name: os.path.basename(path) for name, path in split_paths.items()},
            },
            "reconstructor": {"backend": "builtin"},
            "source": {**source, "decoder_variants": decoder_variants},
        }
        with open(os.path.join(work, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
        if os.path.exists(args.out):
            shutil.rmtree(args.out)
        os.rename(work, args.out)
        log(f"wrote {args.out} in {time.time() - t_start:.0f} s")
        return 0
    finally:
        if os.path.exists(work):
            shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
