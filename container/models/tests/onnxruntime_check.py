"""Runs the Gen3D decoder ONNX file in onnxruntime (the engine behind onnxruntime-web)
and compares its outputs with tract's. Called by tests/onnxruntime_parity.rs.

usage: onnxruntime_check.py DECODER.onnx EMBEDDINGS.g3e CASE.json TRACT_MASKS.f32 TRACT_IOU.f32
"""
import json
import struct
import sys
import zlib

import numpy as np
import onnxruntime as ort

decoder, emb_path, case_path, masks_path, iou_path = sys.argv[1:6]
emb = open(emb_path, "rb").read()
assert emb[:4] == b"G3DE", "not an embeddings file"
header_len = struct.unpack("<I", emb[8:12])[0]
header = json.loads(emb[12 : 12 + header_len])
body = emb[(12 + header_len + 3) // 4 * 4 :]
version = struct.unpack("<I", emb[4:8])[0]
if version == 2:  # byte planes (all low bytes, then all high bytes), zlib
    planes = np.frombuffer(zlib.decompress(body), dtype=np.uint8)
    n = planes.size // 2
    data = (planes[:n].astype(np.uint16) | (planes[n:].astype(np.uint16) << 8)).view("<f2")
else:
    data = np.frombuffer(body, dtype="<f2")
feeds = {}
for t in header["tensors"]:
    n = int(np.prod(t["shape"]))
    feeds[t["name"]] = data[t["offset"] : t["offset"] + n].astype(np.float32).reshape(t["shape"])
case = json.load(open(case_path))
n = len(case["labels"])
feeds["point_coords"] = np.array(case["coords"], dtype=np.float32).reshape(1, n, 2)
feeds["point_labels"] = np.array(case["labels"], dtype=np.float32).reshape(1, n)
feeds["mask_input"] = np.zeros((1, 1, 288, 288), np.float32)
feeds["has_mask_input"] = np.zeros((1,), np.float32)

session = ort.InferenceSession(decoder, providers=["CPUExecutionProvider"])
masks, iou = session.run(["masks", "iou_predictions"], feeds)
tract_masks = np.fromfile(masks_path, dtype="<f4").reshape(masks.shape)
tract_iou = np.fromfile(iou_path, dtype="<f4").reshape(iou.shape)
mask_diff = float(np.abs(masks - tract_masks).max())
iou_diff = float(np.abs(iou - tract_iou).max())
agreement = float(((masks > 0) == (tract_masks > 0)).mean())
print(json.dumps({"onnxruntime": ort.__version__, "max_logit_diff": mask_diff, "max_iou_diff": iou_diff, "sign_agreement": agreement}))
