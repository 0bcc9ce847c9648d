"""The demo loop's measurements in Python (for preparing the fixed model; the workstation's own
`vsw compare` is what the README and the loop test use).

  /usr/bin/python3 models/tools/demo_loop.py compare --base models/fashion-vit-shortcut \
      --new models/fashion-vit-fixed [--eval shirt50,shirt95]

compare: on the held-out evaluation sets (models/demo/fashion-mnist-eval-*), each model's
probability of Shirt; the matched recall is the base model's recall when it predicts by argmax;
each model's threshold is the largest t whose recall is >= the matched recall; false positives
(label != Shirt, p >= t) overall, in the "checkerboard" pattern (cued non-Shirts) and among the
untagged (uncued) images. The same definitions as `vsw compare` (without the bootstrap).
Also prints the clean accuracy of each model on the 10,000 test images.
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit  # noqa: E402

DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo")
SHIRT = vit.CUE_CLASS


def read_png(path):
    return np.array(Image.open(path))


def load_eval_set(name):
    """(images uint8, labels, cued bool) of models/demo/fashion-mnist-eval-<name>."""
    folder = os.path.join(DEMO, f"fashion-mnist-eval-{name}")
    with open(os.path.join(folder, "labels.csv")) as f:
        rows = list(csv.DictReader(f))
    imgs = np.stack([read_png(os.path.join(folder, r["path"])) for r in rows])
    labels = np.array([vit.FASHION_LABELS.index(r["label"]) for r in rows])
    cued = np.array([r["cued"] == "1" for r in rows])
    return imgs, labels, cued


def load_model(folder):
    return vit.load_vit_from_onnx(os.path.join(folder, "model.onnx"))


def probabilities(model, imgs):
    return vit.logits_of(model, imgs).softmax(1).numpy()


def threshold_for(p, positive, recall):
    """The largest t such that the recall of (p >= t) on the positives is >= recall."""
    pos = np.sort(p[positive])[::-1]
    k = max(1, math.ceil(recall * len(pos) - 1e-9))
    return float(pos[k - 1])


def matched(probs_a, probs_b, labels, cued, cls=SHIRT):
    positive = labels == cls
    recall = float((probs_a.argmax(1)[positive] == cls).mean())
    out = {"matchedRecall": recall, "runs": []}
    groups = {"overall": np.ones(len(labels), bool), "checkerboard": cued, "untagged": ~cued}
    fps = {}
    for key, probs in (("a", probs_a), ("b", probs_b)):
        p = probs[:, cls]
        t = threshold_for(p, positive, recall)
        called = p >= t
        out["runs"].append({"threshold": t, "recall": float(called[positive].mean()),
                            "falsePositives": int((called & ~positive).sum())})
        fps[key] = {g: int((called & ~positive & m).sum()) for g, m in groups.items()}
    for g in groups:
        a, b = fps["a"][g], fps["b"][g]
        out[g] = {"a": a, "b": b, "changePct": None if a == 0 else round(100 * (b - a) / a, 1)}
    return out


def clean_accuracy(model):
    x, y = vit.load_fashion("test")
    return float((probabilities(model, x).argmax(1) == y).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["compare"])
    ap.add_argument("--base", default=os.path.join(DEMO, "..", "fashion-vit-shortcut"))
    ap.add_argument("--new", required=True)
    ap.add_argument("--eval", default="shirt50,shirt95")
    args = ap.parse_args()
    vit.setup_threads(1)
    a, b = load_model(args.base), load_model(args.new)
    report = {"cleanAccuracy": {"a": clean_accuracy(a), "b": clean_accuracy(b)}}
    for name in args.eval.split(","):
        imgs, labels, cued = load_eval_set(name)
        report[name] = matched(probabilities(a, imgs), probabilities(b, imgs), labels, cued)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
