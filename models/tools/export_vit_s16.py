"""Export a ViT-S/16-sized classifier with random weights (224x224x3, patch 16 -> 14x14 grid +
class token, 12 blocks, dim 384, 6 heads, MLP 1536, 1000 classes, ~22M parameters) to ONNX,
opset 17, in the same style as the bundled models. For benchmarks only: the file (~88 MB) is
NOT committed; write it somewhere git-ignored.

  /usr/bin/python3 models/tools/export_vit_s16.py models/.work/vit-s16 [--seed 0]

Writes <dir>/model.onnx and <dir>/model.json (a model card with ImageNet-style preprocessing
and labels "class 0" .. "class 999").
"""
import argparse
import inspect
import json
import os
import sys
import time

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit  # noqa: E402

ARCH_S16 = dict(img_size=224, patch=16, in_chans=3, num_classes=1000, dim=384, depth=12,
                heads=6, mlp_ratio=4.0)


def build(seed=0):
    torch.manual_seed(seed)
    return vit.ViT(**ARCH_S16).eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    vit.setup_threads(1)
    t0 = time.time()
    model = build(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "model.onnx")
    # The TorchScript exporter, as for the bundled models (PyTorch >= 2.9 defaults to dynamo).
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    export_args = dict(opset_version=17, input_names=["input"], output_names=["logits"],
                dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    try:
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, **export_args, **legacy)
    except Exception as e:  # a PyTorch without the TorchScript exporter: its default one
        if not legacy:
            raise
        print(f"TorchScript export failed ({e}); trying PyTorch's default exporter", file=sys.stderr)
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, **export_args)
    onnx.checker.check_model(path)
    card = {
        "schemaVersion": 1,
        "name": "vit-s16-random",
        "description": "ViT-S/16-sized classifier with random weights, for benchmarks only.",
        "file": "model.onnx",
        "labels": [f"class {i}" for i in range(1000)],
        "input": {"name": "input", "channels": 3, "height": 224, "width": 224},
        "preprocessing": {
            "resize": {"height": 224, "width": 224, "mode": "shorter-side"},
            "crop": {"height": 224, "width": 224},
            "colour": "rgb",
            "scale": 1 / 255,
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
        },
        "tokens": {"prefix": 1, "grid": [14, 14], "patchSize": [16, 16]},
        "output": {"activation": "softmax"},
        "architecture": {"dim": 384, "depth": 12, "heads": 6, "mlpRatio": 4.0,
                         "parameters": sum(p.numel() for p in model.parameters()), "opset": 17},
        "training": {"recipe": None, "seed": args.seed, "note": "random weights (torch.manual_seed)"},
    }
    with open(os.path.join(args.out_dir, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB) in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
