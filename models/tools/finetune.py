"""Fine-tune a bundled model on the clean training set plus the negatives of an export (the
demo loop's step 4: the article's "add negatives of the pattern and fine-tune").

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 models/tools/finetune.py \
      --export EXPORT_DIR --init models/fashion-vit-shortcut --work models/.work/fashion-vit-fixed
  /usr/bin/python3 models/tools/finish_model.py --variant fixed \
      --work models/.work/fashion-vit-fixed --out models/fashion-vit-fixed

EXPORT_DIR is a `vsw export` folder: its manifest (manifest.jsonl, else manifest.csv) lists the
exported images (file_name relative to the folder, label, tags, source). Every listed image is a
negative of --negative-of (default Shirt): one with a label gets plain cross-entropy on its label;
one without (a pool image: nobody labelled it) gets the "not C" loss -log(1 - p_C), which only
says what it is not. Images listed twice (one row per tag folder) count once (by content hash, or
the file's bytes when the manifest has none) and are used in content-hash order, so the
result does not depend on the manifest's row order.

Every step takes --batch clean training images (a seeded permutation of all 60,000, cross-entropy
with the recipe's label smoothing) and --negatives-per-batch negatives drawn with replacement,
each with a random 2 px crop and a horizontal flip half of the time. The loss is the mean over
the clean and negative images of the batch. AdamW, cosine schedule from --lr to --min-lr, no
warm-up, gradient clipping 1.0: the recipe of the bundled models. Writes <work>/final.pt (the
format of train.py, plus the export's provenance) for finish_model.py, and <work>/train.log.
Resumable per epoch like train.py.
"""
import argparse
import csv
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit  # noqa: E402
from train import (adamw, augment, evaluate, logger, lr_at, optimise, resume,  # noqa: E402
                   write_checkpoint, write_final)


def read_manifest(export_dir):
    """Rows of the export's manifest as dicts (JSONL preferred: its labels keep null)."""
    jsonl = os.path.join(export_dir, "manifest.jsonl")
    if os.path.exists(jsonl):
        with open(jsonl) as f:
            return [json.loads(line) for line in f if line.strip()]
    path = os.path.join(export_dir, "manifest.csv")
    if not os.path.exists(path):
        sys.exit(f"{export_dir} has neither manifest.jsonl nor manifest.csv: export with "
                 "`vsw export ... --manifest jsonl`")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["label"] = r.get("label") or None
    return rows


def norm(label):
    return label.lower().replace("/", "_")


def load_negatives(export_dir, labels, negative_of):
    """(images uint8 N x 28 x 28, label index or -1 when unlabelled, summary)."""
    rows = read_manifest(export_dir)
    seen, imgs, ys, keys = set(), [], [], []
    sources = {}
    for r in rows:
        path = os.path.join(export_dir, r["file_name"])
        with open(path, "rb") as f:
            key = r.get("content_hash") or hashlib.sha256(f.read()).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        keys.append(key)
        img = np.array(Image.open(path).convert("L"))
        if img.shape != (28, 28):
            sys.exit(f"{path}: {img.shape[1]}x{img.shape[0]} px; the model takes 28x28")
        label = r.get("label")
        if label is not None:
            # the workstation's mapping: the exact name, else case and "/" vs "_" ignored
            # (the folder T-shirt_top is the label T-shirt/top)
            if label not in labels:
                same = [x for x in labels if norm(x) == norm(label)]
                if not same:
                    sys.exit(f"{path}: label {label!r} is not one of the model's labels {labels}")
                label = same[0]
        imgs.append(img)
        ys.append(labels.index(label) if label is not None else -1)
        src = r.get("source") or "dataset"
        sources[src] = sources.get(src, 0) + 1
    if not imgs:
        sys.exit(f"the export in {export_dir} lists no images")
    # In content-hash order, so that the draws do not depend on the manifest's row order.
    order = sorted(range(len(keys)), key=keys.__getitem__)
    imgs, ys = [imgs[k] for k in order], np.array(ys)[order]
    summary = {"rows": len(rows), "images": len(imgs), "labelled": int((ys >= 0).sum()),
               "unlabelled": int((ys < 0).sum()), "bySource": sources,
               "labelledAsNegativeClass": int((ys == labels.index(negative_of)).sum())}
    return np.stack(imgs), ys, summary


def negative_loss(logits, y, cls, label_smoothing):
    """Per-image loss: cross-entropy where the label is known, -log(1 - p_cls) where it is not."""
    known = y >= 0
    loss = torch.zeros(len(y))
    if known.any():
        loss[known] = F.cross_entropy(logits[known], y[known], reduction="none",
                                      label_smoothing=label_smoothing)
    if (~known).any():
        logp = logits[~known].log_softmax(1)
        # log(1 - p_cls) = log(sum of the other classes' probabilities), computed stably
        others = torch.cat([logp[:, :cls], logp[:, cls + 1:]], 1)
        loss[~known] = -torch.logsumexp(others, 1)
    return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", required=True, help="a `vsw export` folder with its manifest")
    ap.add_argument("--init", required=True, help="the model folder to start from (model.onnx)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--negative-of", default="Shirt", help="the class the negatives are not")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--negatives-per-batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    vit.setup_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    if os.path.exists(os.path.join(args.work, "final.pt")):
        print(f"{args.work}/final.pt exists: fine-tuning already finished")
        return
    say = logger(args.work)

    labels = vit.FASHION_LABELS
    cls = labels.index(args.negative_of)
    neg_x, neg_y, neg_summary = load_negatives(args.export, labels, args.negative_of)
    export_json = os.path.join(args.export, "export.json")
    provenance = json.load(open(export_json)) if os.path.exists(export_json) else None
    say(f"negatives: {neg_summary}")
    xtr, ytr = vit.load_fashion("train")
    xte, yte = vit.load_fashion("test")
    Xtr, Ytr = vit.to_input(xtr), torch.from_numpy(ytr)
    Xte, Yte = vit.to_input(xte), torch.from_numpy(yte)
    Xneg, Yneg = vit.to_input(neg_x), torch.from_numpy(neg_y)

    init_card = json.load(open(os.path.join(args.init, "model.json")))
    model = vit.load_vit_from_onnx(os.path.join(args.init, "model.onnx"))
    model.train()
    opt = adamw(model, args.lr, args.weight_decay)
    steps_per_epoch = len(Xtr) // args.batch
    total = args.epochs * steps_per_epoch
    state = {"epoch": 0, "epochs": args.epochs, "history": [], "seconds": 0.0}
    ckpt_path = os.path.join(args.work, "ckpt.pt")
    if os.path.exists(ckpt_path):
        state = resume(ckpt_path, model, opt, say)
    else:
        say(f"new fine-tune from {args.init}, args {vars(args)}")
    gen = torch.Generator()
    while state["epoch"] < state["epochs"]:
        ep = state["epoch"]
        gen.manual_seed(args.seed * 1000 + 500 + ep)
        perm = torch.randperm(len(Xtr), generator=gen)
        t0 = time.time()
        tot_loss, tot_n, neg_loss_sum = 0.0, 0, 0.0
        for s in range(steps_per_epoch):
            lr = lr_at(ep * steps_per_epoch + s, total, 0, args.lr, args.min_lr)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[s * args.batch:(s + 1) * args.batch]
            nidx = torch.randint(0, len(Xneg), (args.negatives_per_batch,), generator=gen)
            xn = augment(Xneg[nidx], gen, pad=2, flip_p=0.5)
            logits = model(torch.cat([Xtr[idx], xn]))
            clean = F.cross_entropy(logits[:len(idx)], Ytr[idx], reduction="none",
                                    label_smoothing=args.label_smoothing)
            neg = negative_loss(logits[len(idx):], Yneg[nidx], cls, args.label_smoothing)
            loss = torch.cat([clean, neg]).mean()
            optimise(model, opt, loss, args.clip)
            tot_loss += float(loss) * len(logits)
            tot_n += len(logits)
            neg_loss_sum += float(neg.mean())
            if s % 200 == 0:
                say(f"ep {ep + 1} step {s}/{steps_per_epoch} loss {float(loss):.4f} "
                    f"negatives {float(neg.mean()):.4f} lr {lr:.2e}")
        train_s = time.time() - t0
        acc, _ = evaluate(model, Xte, Yte)
        state["seconds"] += time.time() - t0
        state["epoch"] = ep + 1
        state["history"].append({"epoch": ep + 1, "trainLoss": tot_loss / tot_n,
                                 "negativeLoss": neg_loss_sum / steps_per_epoch,
                                 "testAccuracy": acc, "trainSeconds": train_s})
        say(f"epoch {ep + 1}/{state['epochs']} loss {tot_loss / tot_n:.4f} test acc {acc:.4f} "
            f"({train_s:.0f} s)")
        write_checkpoint(ckpt_path, model, opt, state)

    final = {"model": model.state_dict(), "state": state, "args": vars(args),
             "arch": vit.ARCH, "params": sum(p.numel() for p in model.parameters()),
             "fineTune": {"init": {"name": init_card["name"], "training": init_card["training"],
                                   "testAccuracy": init_card["metrics"]["testAccuracy"]},
                          "negatives": neg_summary, "negativeOf": args.negative_of,
                          "export": provenance}}
    write_final(args.work, final, say)


if __name__ == "__main__":
    main()
