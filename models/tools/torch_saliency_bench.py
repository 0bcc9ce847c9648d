"""Time the attention-gradient-product saliency computed by PyTorch autograd, as a baseline for
the workstation's engine.

  /usr/bin/python3 models/tools/torch_saliency_bench.py --model fashion-vit --batch 32
  /usr/bin/python3 models/tools/torch_saliency_bench.py --model vit-s16 --batch 8 --threads 1

fashion-vit: the bundled model, rebuilt in PyTorch from the weights in
models/fashion-vit/model.onnx (input: the demo images, cycled). vit-s16: the random-weight
ViT-S/16 of export_vit_s16.py (same seed, built directly; input: random normal images).
swin-t, volo-d1: the timm models of timm_bench_models.py (same seed; needs a Python with timm),
their maps as METHOD.md reads them (received terms per window put back on the grid, outlook
attention left out, class rows of class attention, pooled onto the last grid).
One iteration = forward with the attention probabilities kept (retain_grad), backward of the
top-1 logit of every image, S_b = mean_h A_b[:, 0, p:] * G_b[:, 0, p:], shift + relative epsilon
(0.01), log-space product over the blocks, min-max normalisation. Prints one JSON line:
{"imagesPerSecond", "batch", "threads", "model", "iterations", "secondsPerIteration", ...}.
"""
import argparse
import json
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--model", choices=["fashion-vit", "vit-s16", "swin-t", "volo-d1"], default="fashion-vit")
ap.add_argument("--batch", type=int, default=16)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--iterations", type=int, default=0, help="0: as many as fit in --seconds")
ap.add_argument("--seconds", type=float, default=10.0)
ap.add_argument("--warmup", type=int, default=2)
ap.add_argument("--device", default="cpu", help="cpu or cuda (PyTorch's CUDA autograd, timed with synchronize)")
args = ap.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vit  # noqa: E402


def saliency(model, x, eps=0.01):
    vit.set_keep_attention(model, True)
    x = x.clone()
    logits = model(x)
    target = logits.argmax(1)
    logits.gather(1, target[:, None]).sum().backward()
    logsum = None
    for blk in model.blocks:
        A = blk.attn.attn
        s = (A[:, :, 0, 1:] * A.grad[:, :, 0, 1:]).mean(1)  # batch x n
        lo = s.min(1, keepdim=True).values
        rng = s.max(1, keepdim=True).values - lo
        term = torch.log(s - lo + eps * rng)
        term = torch.where(rng > 0, term, torch.zeros_like(term))
        logsum = term if logsum is None else logsum + term
    S = torch.exp(logsum - logsum.max(1, keepdim=True).values)
    lo = S.min(1, keepdim=True).values
    hi = S.max(1, keepdim=True).values
    maps = torch.where(hi > lo, (S - lo) / (hi - lo).clamp_min(1e-30), torch.zeros_like(S))
    model.zero_grad(set_to_none=True)
    return maps.detach()


def main():
    vit.setup_threads(args.threads)
    if args.model == "fashion-vit":
        model = vit.load_vit_from_onnx(os.path.join(HERE, "..", "fashion-vit", "model.onnx"))
        try:
            xte, yte = vit.load_fashion("test")
            imgs = xte[vit.demo_indices(yte)]
            x = vit.to_input(np.resize(imgs, (args.batch,) + imgs.shape[1:]))
        except FileNotFoundError:
            # No Fashion-MNIST files here: noise images time the same arithmetic.
            x = torch.randn(args.batch, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    elif args.model == "vit-s16":
        from export_vit_s16 import build
        model = build(0)
        x = torch.randn(args.batch, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    else:
        import timm_bench_models
        model = timm_bench_models.build(args.model)
        x = torch.randn(args.batch, 3, 224, 224, generator=torch.Generator().manual_seed(0))
        global saliency
        saliency = lambda m, inputs: timm_bench_models.saliency(args.model, m, inputs)  # noqa: E731
    model.eval()
    model.to(args.device)
    x = x.to(args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    for p in model.parameters():
        p.requires_grad_(False)  # only the attention gradients are needed
    x.requires_grad_(False)
    # the attention needs a graph: make the patch-embedding output require grad
    next(model.parameters()).requires_grad_(True)
    for _ in range(args.warmup):
        saliency(model, x)
    sync()
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        saliency(model, x)
        sync()
        n += 1
        el = time.perf_counter() - t0
        if (args.iterations and n >= args.iterations) or (not args.iterations and el >= args.seconds):
            break
    cpu = time.process_time() - c0  # CPU time: steadier than wall time on a shared machine
    print(json.dumps({"imagesPerSecond": round(n * args.batch / el, 2), "batch": args.batch,
                      "cpuSecondsPerImage": round(cpu / (n * args.batch), 5),
                      "threads": args.threads, "model": args.model, "iterations": n,
                      "secondsPerIteration": round(el / n, 4), "torch": torch.__version__,
                      "device": args.device}))


if __name__ == "__main__":
    main()
