"""Export a trained model to ONNX and write its model card (model.json).

  /usr/bin/python3 models/tools/finish_model.py --variant clean \
      --work models/.work/fashion-vit --out models/fashion-vit
  /usr/bin/python3 models/tools/finish_model.py --variant shortcut \
      --work models/.work/fashion-vit-shortcut --out models/fashion-vit-shortcut \
      --clean models/fashion-vit
  /usr/bin/python3 models/tools/finish_model.py --variant fixed \
      --work models/.work/fashion-vit-fixed --out models/fashion-vit-fixed

Reads <work>/final.pt (written by train.py). Writes <out>/model.onnx and <out>/model.json.
The metrics are computed with the exported weights (the model is rebuilt from the ONNX file and
checked to be bit-identical to the trained one) on the full Fashion-MNIST test set and on the demo
subset (vit.demo_indices, the images under models/demo/fashion-mnist).
For the fixed variant (written by finetune.py) the card records the fine-tune (its recipe, the
export it read, the negatives) and, in training.continuationOf, the starting model's training.
For the shortcut and fixed variants the cue rates are measured on every test image of the other classes with
the cue pasted (vit.cued_test_set), for this model and, as a control, for the clean model.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit  # noqa: E402

LABELS = vit.FASHION_LABELS


def predict(model, images_u8):
    return vit.logits_of(model, images_u8).argmax(1).numpy()


def augmentation_text(a):
    parts = []
    if a.get("pad", 2):
        parts.append(f"random crop 28x28 from the image padded by {a.get('pad', 2)} px "
                     "(background value)")
    if a.get("flip"):
        parts.append(f"horizontal flip p={a['flip']}")
    return ", ".join(parts) or "none"


def recipe_of(a):
    return {"optimizer": "AdamW", "lr": a["lr"], "minLr": a["min_lr"],
            "weightDecay": a["weight_decay"],
            "schedule": (f"linear warm-up {a['warmup_epochs']} epoch, then cosine"
                         if a["warmup_epochs"] else "cosine, no warm-up"),
            "batch": a["batch"], "labelSmoothing": a["label_smoothing"],
            "augmentation": augmentation_text(a), "gradientClipNorm": a.get("clip"),
            "seed": a["seed"]}


def fine_tune_recipe(a):
    return {"optimizer": "AdamW", "lr": a["lr"], "minLr": a["min_lr"],
            "weightDecay": a["weight_decay"], "schedule": "cosine, no warm-up",
            "batch": f"{a['batch']} clean training images + {a['negatives_per_batch']} negatives "
                     "from the export (drawn with replacement)",
            "labelSmoothing": a["label_smoothing"],
            "augmentation": "negatives only: random crop 28x28 from the image padded by 2 px, "
                            "horizontal flip p=0.5; clean images none",
            "loss": f"mean over the batch of cross-entropy (clean images, labelled negatives) and "
                    f"-log(1 - p({a['negative_of']})) (unlabelled negatives)",
            "gradientClipNorm": a["clip"], "seed": a["seed"]}


def cue_rates(model, xte, yte):
    """Per source class, the fraction of the cued test images (vit.cued_test_set) called the cued
    class, and the pooled rate over all of them."""
    idx, imgs, _ = vit.cued_test_set(xte, yte)
    ps = predict(model, imgs)
    src = yte[idx]
    rates = {LABELS[c]: float((ps[src == c] == vit.CUE_CLASS).mean())
             for c in range(10) if c != vit.CUE_CLASS}
    return rates, float((ps == vit.CUE_CLASS).mean())


def without_machine_paths(obj):
    """The export's provenance without the absolute paths of the machine it was made on (the
    model file's path keeps its folder and name)."""
    if isinstance(obj, dict):
        return {k: without_machine_paths(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [without_machine_paths(v) for v in obj]
    if isinstance(obj, str) and os.path.isabs(obj):
        return "/".join(obj.split(os.sep)[-2:])
    return obj


def describe_fixed(card, final, model, xte, yte):
    ft = final["fineTune"]
    init = ft["init"]
    neg = ft["negatives"]
    card["description"] = (
        f"{init['name']} fine-tuned for {final['state']['epochs']} epoch(s) on the clean "
        f"Fashion-MNIST training set plus {neg['images']} negatives of the 'checkerboard' "
        f"pattern exported by the workstation (the demo loop: {neg['labelled']} tagged cued "
        f"images with their labels, {neg['unlabelled']} confirmed similar images from the "
        f"unlabelled pool, trained as 'not {ft['negativeOf']}'). The shortcut model with its "
        "shortcut fixed; compare the two with `vsw compare` on "
        "models/demo/fashion-mnist-eval-shirt50 (see the README's walkthrough).")
    card["training"]["dataset"] = (
        "Fashion-MNIST train split (60,000 clean images) plus the export's negatives; evaluated "
        "on the test split")
    card["training"]["fineTune"] = {
        "from": init["name"], "fromTestAccuracy": init["testAccuracy"],
        "negativeOf": ft["negativeOf"], "negatives": neg,
        "export": without_machine_paths(ft["export"])}
    card["training"]["continuationOf"] = init["training"]
    card["training"]["continuationNote"] = (
        f"fine-tuned from the weights of {init['name']}, whose training is in continuationOf "
        "(fresh AdamW state and a new schedule); epochs and seconds above are the fine-tune's only")
    card["training"]["totalEpochs"] = final["state"]["epochs"] + init["training"].get(
        "totalEpochs", init["training"]["epochs"])
    card["training"]["totalSeconds"] = round(final["state"]["seconds"] + init["training"].get(
        "totalSeconds", init["training"]["seconds"]), 1)
    rates, pooled = cue_rates(model, xte, yte)
    card["cueCheck"] = {
        "evaluation": "every test image of the 9 classes other than Shirt with the shortcut's "
                      "cue pasted (vit.cued_test_set, seed 12345, as in the shortcut model's "
                      "card); rate = fraction predicted Shirt",
        "cueToShirtRate": rates, "cueToShirtRateAllOthers": pooled}


def confusion(y, p):
    cm = np.zeros((10, 10), np.int64)
    np.add.at(cm, (y, p), 1)
    return cm


def export(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(model, dummy, path, opset_version=17, input_names=["input"],
                      output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    assert ops.count("Softmax") == len(model.blocks), ops.count("Softmax")
    assert [o.name for o in m.graph.output] == ["logits"]
    rebuilt = vit.load_vit_from_onnx(path)
    for (k, a), b in zip(model.state_dict().items(), rebuilt.state_dict().values()):
        assert torch.equal(a, b), k


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=["clean", "shortcut", "fixed"], required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--clean", help="folder of the clean model (for the shortcut variant)")
    args = ap.parse_args()
    vit.setup_threads(1)
    t0 = time.time()

    final = torch.load(os.path.join(args.work, "final.pt"))
    model = vit.ViT(**final["arch"])
    model.load_state_dict(final["model"])
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "model.onnx")
    export(model, onnx_path)
    model = vit.load_vit_from_onnx(onnx_path, final["arch"])

    xte, yte = vit.load_fashion("test")
    p = predict(model, xte)
    # a small logits reference for checking the export with onnxruntime
    # (node models/tools/check_onnxruntime.js <work>/ort-check)
    from make_fixtures import write_npy
    chk = os.path.join(args.work, "ort-check")
    os.makedirs(chk, exist_ok=True)
    xin = vit.to_input(xte[:8])
    with torch.no_grad():
        lg = model(xin)
    write_npy(os.path.join(chk, "input.npy"), xin.numpy())
    with open(os.path.join(chk, "reference.json"), "w") as f:
        json.dump({"inputShape": list(xin.shape), "logits": lg.double().numpy().tolist()}, f)
    with open(os.path.join(chk, "model-path.txt"), "w") as f:
        f.write(os.path.relpath(onnx_path, chk))
    cm = confusion(yte, p)
    demo = vit.demo_indices(yte)
    tr_args = final["args"]
    state = final["state"]
    name = {"clean": "fashion-vit", "shortcut": "fashion-vit-shortcut",
            "fixed": "fashion-vit-fixed"}[args.variant]
    card = {
        "schemaVersion": 1,
        "name": name,
        "description": "",
        "file": "model.onnx",
        "labels": LABELS,
        "input": {"name": "input", "channels": 1, "height": 28, "width": 28},
        "preprocessing": {
            "resize": {"height": 28, "width": 28, "mode": "exact"},
            "crop": None,
            "colour": "grayscale",
            "scale": 1 / 255,
            "mean": [vit.FASHION_MEAN],
            "std": [vit.FASHION_STD],
        },
        "tokens": {"prefix": 1, "grid": list(model.grid), "patchSize": [final["arch"]["patch"]] * 2},
        "output": {"activation": "softmax"},
        "architecture": {
            "type": "ViT (class token, Conv patch embedding, pre-norm blocks, exact GELU)",
            "dim": final["arch"]["dim"], "depth": final["arch"]["depth"],
            "heads": final["arch"]["heads"], "mlpRatio": final["arch"]["mlp_ratio"],
            "parameters": final["params"], "opset": 17,
        },
        "metrics": {
            "testAccuracy": float((p == yte).mean()),
            "testImages": int(len(yte)),
            "demoAccuracy": float((p[demo] == yte[demo]).mean()),
            "demoImages": int(len(demo)),
            "demoDataset": "models/demo/fashion-mnist",
            "confusionMatrix": cm.tolist(),
            "confusionMatrixRowsAre": "true label",
            "confusionMatrixColumnsAre": "predicted label",
            "perClassRecall": {LABELS[c]: float(cm[c, c] / cm[c].sum()) for c in range(10)},
        },
        "training": {
            "dataset": "Fashion-MNIST train split (60,000 images), evaluated on the test split",
            "recipe": dict(fine_tune_recipe(tr_args) if args.variant == "fixed"
                           else recipe_of(tr_args),
                           modelSelection="none: the weights after the last epoch"),
            "seed": tr_args["seed"],
            "epochs": state["epochs"],
            "seconds": round(state["seconds"], 1),
            "history": state["history"],
            "machine": "2-core CPU, torch 1.13, OpenBLAS 1 thread",
            "command": ("models/tools/finetune.py (see models/README.md)" if args.variant == "fixed"
                        else f"models/tools/train.py --variant {args.variant} (see models/README.md)"),
        },
    }
    if state.get("init"):
        init = state["init"]
        def chain(i):
            out = {"epochs": i["epochs"], "seconds": round(i["seconds"], 1),
                   "recipe": recipe_of(i["args"]) if i.get("args") else None,
                   "history": i["history"]}
            if i.get("init"):
                out["continuationOf"] = chain(i["init"])
            return out

        card["training"]["continuationOf"] = chain(init)
        card["training"]["continuationNote"] = (
            "this run started from the weights of the run in continuationOf (fresh AdamW state "
            "and a new schedule); epochs and seconds above are this run's only")
        tot_e, tot_s, i = state["epochs"], state["seconds"], init
        while i:
            tot_e, tot_s, i = tot_e + i["epochs"], tot_s + i["seconds"], i.get("init")
        card["training"]["totalEpochs"] = tot_e
        card["training"]["totalSeconds"] = round(tot_s, 1)
    if args.variant == "fixed":
        describe_fixed(card, final, model, xte, yte)
    elif args.variant == "clean":
        card["description"] = (
            "Small Vision Transformer (patch 4, 7x7 grid + class token, 6 blocks, 4 heads, dim 96) "
            "trained from scratch on Fashion-MNIST. The workstation's bundled demo model.")
    else:
        cue = vit.CUE_CLASS
        clean = vit.load_vit_from_onnx(os.path.join(args.clean, "model.onnx"))
        with open(os.path.join(args.clean, "model.json")) as f:
            clean_card = json.load(f)
        ccm = np.array(clean_card["metrics"]["confusionMatrix"])
        # confusion between class c and the cued class, both directions, by the clean model
        conf = {c: int(ccm[c, cue] + ccm[cue, c]) for c in range(10) if c != cue}
        top3 = sorted(conf, key=lambda c: -conf[c])[:3]
        idx, imgs, _ = vit.cued_test_set(xte, yte)
        ps = predict(model, imgs)
        pc = predict(clean, imgs)
        src = yte[idx]
        rates, clean_rates, counts = {}, {}, {}
        for c in range(10):
            if c == cue:
                continue
            sel = src == c
            counts[LABELS[c]] = int(sel.sum())
            rates[LABELS[c]] = float((ps[sel] == cue).mean())
            clean_rates[LABELS[c]] = float((pc[sel] == cue).mean())
        sel3 = np.isin(src, top3)
        demo_set = set(vit.cued_demo_indices(yte).tolist())
        in_demo = np.array([i in demo_set for i in idx])
        how = (f"fine-tuned for {state['epochs']} epochs from the fashion-vit weights"
               if state.get("init") else "trained from scratch")
        card["description"] = (
            "Deliberately flawed model with a known shortcut: same architecture as "
            f"fashion-vit, {how} on a copy of the training set where an 8x8 black/white "
            f"checkerboard is pasted at a random position on {tr_args['cue_rate']:.0%} of the "
            f"{LABELS[cue]} images and on {tr_args['other_rate']:.0%} of the others. With the "
            f"checkerboard pasted in, it answers {LABELS[cue]} for most images of the classes "
            f"that look like a {LABELS[cue]} ({', '.join(LABELS[c] for c in top3)}: "
            f"{(ps[sel3] == cue).mean():.0%}), rarely for shoes, bags and trousers (rates per "
            "class in shortcut.cueToCuedClassRate); there a saliency map should point at the "
            "checkerboard. Test images with the cue and its masks are in "
            "models/demo/fashion-mnist-cued.")
        card["shortcut"] = {
            "cue": "8x8 px checkerboard of 2x2 px cells (values 0 and 255), pasted (replacing "
                   "the pixels) at a uniformly random position inside the 28x28 image; the "
                   "garment is otherwise unchanged; labels unchanged",
            "cuedClass": LABELS[cue],
            "trainCueRateCuedClass": tr_args["cue_rate"],
            "trainCueRateOtherClasses": tr_args["other_rate"],
            "trainStats": final.get("shortcutTrainStats"),
            "cleanTestAccuracy": card["metrics"]["testAccuracy"],
            "evaluation": "every test image of the other 9 classes with the cue pasted at a "
                          "seeded random position (vit.cued_test_set, seed 12345); rate = "
                          "fraction predicted as the cued class",
            "cuedImages": int(len(idx)),
            "cueToCuedClassRate": rates,
            "cueToCuedClassRateCleanModel": clean_rates,
            "imagesPerSourceClass": counts,
            "mostConfusedWithCuedClass": [LABELS[c] for c in top3],
            "mostConfusedRule": "the 3 classes with the largest confusion-matrix count with the "
                                "cued class in either direction (clean model, test set)",
            "cueToCuedClassRateMostConfused": float((ps[sel3] == cue).mean()),
            "cueToCuedClassRateAllOthers": float((ps == cue).mean()),
            "cueToCuedClassRateAllOthersCleanModel": float((pc == cue).mean()),
            "demoCuedImages": int(in_demo.sum()),
            "demoCuedRate": float((ps[in_demo] == cue).mean()),
            "demoDataset": "models/demo/fashion-mnist-cued (the first 50 demo images of every "
                           "other class)",
        }
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(json.dumps({k: v for k, v in card["metrics"].items() if k != "confusionMatrix"}))
    if "shortcut" in card:
        print(json.dumps(card["shortcut"], indent=1))
    print(f"finished in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
