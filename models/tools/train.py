"""Train the bundled Fashion-MNIST ViT (clean or shortcut variant) on the CPU, resumable.

  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 models/tools/train.py \
      --variant clean --work models/.work/fashion-vit

Writes into --work (git-ignored): ckpt.pt (after every epoch; the run resumes from it),
final.pt (state_dict + history when done) and history.json. The number of epochs is fixed
after the first (warm-up) epoch: either --epochs, or (with --budget-min) the largest number in
[--min-epochs, --max-epochs] whose projected time, measured on the first epoch, fits the budget.
The chosen value is stored in the checkpoint so that a resumed run keeps the same schedule.

The shortcut variant pastes an 8x8 checkerboard (vit.cue_pattern) at a random position on
--cue-rate of the cued class's training images (default Shirt, 95%) and on --other-rate of every
other class's images (default 1%); the labels are unchanged.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit  # noqa: E402


def shortcut_train_set(x, y, seed, cue_class, cue_rate, other_rate):
    rng = np.random.default_rng(seed + 1000)
    x = x.copy()
    p = np.where(y == cue_class, cue_rate, other_rate)
    chosen = rng.random(len(y)) < p
    idx = np.nonzero(chosen)[0]
    top, left = vit.cue_positions(rng, len(idx))
    for i, t, l in zip(idx, top, left):
        x[i], _ = vit.paste_cue(x[i], t, l)
    stats = {
        "cuedTrainImages": int(chosen.sum()),
        "cuedFractionOfCuedClass": float(chosen[y == cue_class].mean()),
        "cuedFractionOfOtherClasses": float(chosen[y != cue_class].mean()),
    }
    return x, stats


def augment(xb, gen, pad=2, flip_p=0.0):
    """Random crop with `pad` px zero padding (in normalised space: the background value) and
    (if flip_p > 0) horizontal flip, per sample."""
    B, C, H, W = xb.shape
    bg = (0.0 - vit.FASHION_MEAN) / vit.FASHION_STD
    padded = F.pad(xb, (pad, pad, pad, pad), value=bg)
    dy = torch.randint(0, 2 * pad + 1, (B,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (B,), generator=gen)
    out = torch.empty_like(xb)
    for i in range(B):
        out[i] = padded[i, :, dy[i]:dy[i] + H, dx[i]:dx[i] + W]
    if flip_p > 0:
        flip = torch.rand(B, generator=gen) < flip_p
        out[flip] = out[flip].flip(-1)
    return out


def evaluate(model, x, y, bs=500):
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            preds.append(model(x[i:i + bs]).argmax(1))
    model.train()
    p = torch.cat(preds)
    return float((p == y).float().mean()), p


def lr_at(step, total, warmup, base, min_lr):
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return min_lr + 0.5 * (base - min_lr) * (1 + math.cos(math.pi * t))


def adamw(model, lr, weight_decay):
    """AdamW with weight decay on the matrices only (not on biases, norms, cls token, pos embed)."""
    def decays(n, p):
        return p.ndim >= 2 and "pos_embed" not in n and "cls_token" not in n
    params = list(model.named_parameters())
    return torch.optim.AdamW(
        [{"params": [p for n, p in params if decays(n, p)], "weight_decay": weight_decay},
         {"params": [p for n, p in params if not decays(n, p)], "weight_decay": 0.0}], lr=lr)


def logger(work):
    """say(msg): a time-stamped line to stdout and <work>/train.log."""
    log = open(os.path.join(work, "train.log"), "a", buffering=1)

    def say(msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        log.write(line + "\n")
    return say


def resume(ckpt_path, model, opt, say):
    """Loads an epoch checkpoint into model and optimizer; returns the run's state."""
    ck = torch.load(ckpt_path)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["opt"])
    say(f"resumed at epoch {ck['state']['epoch']} / {ck['state']['epochs']}")
    return ck["state"]


def optimise(model, opt, loss, clip):
    """One optimiser step on the loss, with gradient-norm clipping when clip > 0."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()


def write_checkpoint(path, model, opt, state):
    save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, path)


def write_final(work, final, say):
    """<work>/final.pt (marks a finished run) and history.json (the same without the weights)."""
    save_atomic(final, os.path.join(work, "final.pt"))
    with open(os.path.join(work, "history.json"), "w") as f:
        json.dump({k: v for k, v in final.items() if k != "model"}, f, indent=1)
    say("done")


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=["clean", "shortcut"], default="clean")
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=0, help="0: choose from --budget-min")
    ap.add_argument("--budget-min", type=float, default=55.0)
    ap.add_argument("--min-epochs", type=int, default=6)
    ap.add_argument("--max-epochs", type=int, default=14)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=7e-4)
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--warmup-epochs", type=float, default=0.5)
    ap.add_argument("--pad", type=int, default=2, help="random-crop padding (0: no crop)")
    ap.add_argument("--flip", type=float, default=0.0, help="horizontal flip probability")
    ap.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping")
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init", help="start from the weights in this final.pt / ckpt.pt "
                                   "(a continuation: fresh optimizer and schedule)")
    ap.add_argument("--cue-class", type=int, default=vit.CUE_CLASS)
    ap.add_argument("--cue-rate", type=float, default=0.95)
    ap.add_argument("--other-rate", type=float, default=0.01)
    args = ap.parse_args()

    vit.setup_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    ckpt_path = os.path.join(args.work, "ckpt.pt")
    if os.path.exists(os.path.join(args.work, "final.pt")):
        print(f"{args.work}/final.pt exists: training already finished")
        return
    say = logger(args.work)

    xtr, ytr = vit.load_fashion("train")
    xte, yte = vit.load_fashion("test")
    shortcut_stats = None
    if args.variant == "shortcut":
        xtr, shortcut_stats = shortcut_train_set(xtr, ytr, args.seed, args.cue_class,
                                                 args.cue_rate, args.other_rate)
        say(f"shortcut train set: {shortcut_stats}")
    Xtr, Ytr = vit.to_input(xtr), torch.from_numpy(ytr)
    Xte, Yte = vit.to_input(xte), torch.from_numpy(yte)

    torch.manual_seed(args.seed)
    model = vit.ViT(**vit.ARCH)
    nparams = sum(p.numel() for p in model.parameters())
    opt = adamw(model, args.lr, args.weight_decay)
    steps_per_epoch = len(Xtr) // args.batch
    state = {"epoch": 0, "epochs": args.epochs, "history": [], "seconds": 0.0}
    if os.path.exists(ckpt_path):
        state = resume(ckpt_path, model, opt, say)
    else:
        say(f"new run: {args.variant}, {nparams} params, args {vars(args)}")
        if args.init:
            init = torch.load(args.init)
            model.load_state_dict(init["model"])
            state["init"] = {"from": args.init, "epochs": init["state"]["epochs"],
                             "seconds": init["state"]["seconds"],
                             "history": init["state"]["history"],
                             "args": init.get("args"),
                             "init": init["state"].get("init")}
            say(f"initialised from {args.init} ({init['state']['epochs']} epochs)")

    gen = torch.Generator()
    model.train()
    while state["epochs"] == 0 or state["epoch"] < state["epochs"]:
        ep = state["epoch"]
        gen.manual_seed(args.seed * 1000 + ep)
        perm = torch.randperm(len(Xtr), generator=gen)
        t0 = time.time()
        tot_loss, tot_n = 0.0, 0
        for s in range(steps_per_epoch):
            total = (state["epochs"] or args.max_epochs) * steps_per_epoch
            step = ep * steps_per_epoch + s
            lr = lr_at(step, total, int(args.warmup_epochs * steps_per_epoch), args.lr, args.min_lr)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[s * args.batch:(s + 1) * args.batch]
            xb = augment(Xtr[idx], gen, args.pad, args.flip) if args.pad or args.flip \
                else Xtr[idx]
            loss = F.cross_entropy(model(xb), Ytr[idx], label_smoothing=args.label_smoothing)
            optimise(model, opt, loss, args.clip)
            tot_loss += float(loss) * len(idx)
            tot_n += len(idx)
            if s % 200 == 0:
                say(f"ep {ep + 1} step {s}/{steps_per_epoch} loss {float(loss):.4f} lr {lr:.2e}")
        train_s = time.time() - t0
        acc, _ = evaluate(model, Xte, Yte)
        state["seconds"] += time.time() - t0
        if state["epochs"] == 0:
            # Decide the schedule after the first (warm-up) epoch, from its measured time; the
            # learning rate during warm-up does not depend on the total.
            per_epoch = time.time() - t0
            n = int(args.budget_min * 60 // per_epoch)
            state["epochs"] = max(args.min_epochs, min(args.max_epochs, n))
            say(f"first epoch {per_epoch / 60:.1f} min -> epochs = {state['epochs']} "
                f"(budget {args.budget_min} min)")
        state["epoch"] = ep + 1
        state["history"].append({"epoch": ep + 1, "trainLoss": tot_loss / tot_n,
                                 "testAccuracy": acc, "trainSeconds": train_s})
        say(f"epoch {ep + 1}/{state['epochs']} loss {tot_loss / tot_n:.4f} test acc {acc:.4f} "
            f"({train_s:.0f} s train, {state['seconds'] / 60:.1f} min total)")
        write_checkpoint(ckpt_path, model, opt, state)

    final = {"model": model.state_dict(), "state": state, "args": vars(args),
             "arch": vit.ARCH, "params": nparams, "shortcutTrainStats": shortcut_stats}
    write_final(args.work, final, say)


if __name__ == "__main__":
    main()
