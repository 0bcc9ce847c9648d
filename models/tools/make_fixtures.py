"""Reference fixtures for the saliency engine: small random-weight ViT classifiers in the export
styles of the common libraries, an input, and the attention, gradients and maps computed by
PyTorch autograd.

  /usr/bin/python3 models/tools/make_fixtures.py [--out test/fixtures] [--seed 0]

For every style writes <out>/<style>/model.onnx, input.npy (float32, 1 x C x H x W, .npy v1.0)
and reference.json. Deterministic from --seed (the same bytes on every run on this machine).

Every style is checked before it is written: the ONNX graph, run by the NumPy interpreter in
onnx_numpy.py, must give the PyTorch logits, and its Softmax outputs that feed the MatMul with V
must equal the attention probabilities recorded here (the tensors autograd differentiated).

Definitions (computed in float64 from the float32 autograd values; A_b: h x T x T attention
probabilities of block b, G_b = d logit_target / d A_b, p prefix tokens, B blocks):
  last-attn          mean_h A_B[h, 0, p:]
  rollout            Abar_b = mean_h A_b + I, rows divided by their sums; R = Abar_B ... Abar_1;
                     map = R[0, p:]
  grad-rollout       Abar_b = mean_h max(0, G_b * A_b); R = I; for b = 1..B: R <- R + Abar_b R;
                     map = R[0, p:]
  attn-grad-product  S_b[j] = mean_h A_b[h, 0, p+j] G_b[h, 0, p+j];
                     S'_b = S_b - min S_b + eps_b, eps_b = epsilon * (max S_b - min S_b);
                     a block whose range is exactly 0 is skipped; S = prod_b S'_b computed as
                     exp(sum_b log S'_b - max); map = S
Every map is over the patch tokens, row-major, min-max normalised to [0, 1] (a constant map
becomes all zeros).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_numpy  # noqa: E402
import vit  # noqa: E402

EPSILON = 0.01

# ----------------------------------------------------------------------------- recording
_RECORD = None  # list that attention modules append their probability tensors to


def record(attn):
    if _RECORD is not None:
        if attn.requires_grad:
            attn.retain_grad()
        _RECORD.append(attn)
    return attn


# --------------------------------------------------------------------- timm-like (fused qkv)
class FusedAttention(vit.Attention):
    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = record(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class TimmViT(nn.Module):
    """timm VisionTransformer layout: Conv patch embed, [cls, dist?, registers..., patches],
    pre-norm blocks with fused qkv, final norm, head on the class token (DeiT-distilled: mean of
    the head on token 0 and head_dist on token 1)."""

    def __init__(self, img=(32, 32), patch=8, chans=3, classes=5, dim=48, depth=3, heads=3,
                 mlp_ratio=2.0, dist=False, registers=0):
        super().__init__()
        self.grid = (img[0] // patch, img[1] // patch)
        self.patch_embed = nn.Conv2d(chans, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, dim)) if dist else None
        self.reg_token = nn.Parameter(torch.zeros(1, registers, dim)) if registers else None
        self.prefix = 1 + int(dist) + registers
        self.pos_embed = nn.Parameter(torch.zeros(1, self.prefix + self.grid[0] * self.grid[1],
                                                  dim))
        self.blocks = nn.ModuleList()
        for _ in range(depth):
            blk = vit.Block(dim, heads, mlp_ratio)
            fa = FusedAttention(dim, heads)
            blk.attn = fa
            self.blocks.append(blk)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        self.head_dist = nn.Linear(dim, classes) if dist else None

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        B = x.shape[0]
        toks = [self.cls_token.expand(B, -1, -1)]
        if self.dist_token is not None:
            toks.append(self.dist_token.expand(B, -1, -1))
        if self.reg_token is not None:
            toks.append(self.reg_token.expand(B, -1, -1))
        x = torch.cat(toks + [x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        if self.head_dist is not None:
            return (self.head(x[:, 0]) + self.head_dist(x[:, 1])) / 2
        return self.head(x[:, 0])


# ------------------------------------------------------- Hugging Face-like (separate q, k, v)
class HandLayerNorm(nn.Module):
    """LayerNorm written out (mean / sub / pow / mean / add / sqrt / div), as older exports and
    some TF-converted models have it."""

    def __init__(self, dim, eps=1e-12):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        u = x.mean(-1, keepdim=True)
        s = (x - u).pow(2).mean(-1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight * x + self.bias


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class HFSelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.dense = nn.Linear(dim, dim)

    def split(self, x):
        B, N, _ = x.shape
        return x.view(B, N, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = record(nn.functional.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        ctx = ctx.view(ctx.shape[0], ctx.shape[1], -1)
        return self.dense(ctx)


class HFLayer(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.layernorm_before = HandLayerNorm(dim)
        self.attention = HFSelfAttention(dim, heads)
        self.layernorm_after = HandLayerNorm(dim)
        self.intermediate = nn.Linear(dim, hidden)
        self.output = nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attention(self.layernorm_before(x))
        return x + self.output(gelu_tanh(self.intermediate(self.layernorm_after(x))))


class HFViT(nn.Module):
    def __init__(self, img=(24, 24), patch=6, chans=3, classes=5, dim=32, depth=2, heads=2):
        super().__init__()
        self.grid = (img[0] // patch, img[1] // patch)
        self.prefix = 1
        self.patch_embeddings = nn.Conv2d(chans, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.position_embeddings = nn.Parameter(torch.zeros(1, 1 + self.grid[0] * self.grid[1],
                                                            dim))
        self.layer = nn.ModuleList([HFLayer(dim, heads, dim * 2) for _ in range(depth)])
        self.layernorm = HandLayerNorm(dim)
        self.classifier = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embeddings(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.position_embeddings
        for lyr in self.layer:
            x = lyr(x)
        return self.classifier(self.layernorm(x)[:, 0, :])


# --------------------------------------------------------------------------- torchvision
class TorchvisionWrapper(nn.Module):
    """torchvision.models.VisionTransformer; nn.MultiheadAttention runs in training mode (all
    dropouts are 0 and the Dropout modules are replaced by Identity) so that it goes through
    F.multi_head_attention_forward, which computes softmax(q/sqrt(d) @ k^T) @ v, instead of the
    fused _native_multi_head_attention fast path. F.softmax is patched to record its output."""

    def __init__(self):
        super().__init__()
        from torchvision.models import VisionTransformer
        self.m = VisionTransformer(image_size=32, patch_size=8, num_layers=3, num_heads=4,
                                   hidden_dim=64, mlp_dim=128, num_classes=5)
        for name, mod in list(self.m.named_modules()):
            for cname, child in list(mod.named_children()):
                if isinstance(child, nn.Dropout):
                    assert child.p == 0.0
                    setattr(mod, cname, nn.Identity())
        self.grid = (4, 4)
        self.prefix = 1

    def forward(self, x):
        return self.m(x)


_orig_softmax = F.softmax


def _recording_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """F.multi_head_attention_forward (torch 1.13) calls the module-level softmax on
    q/sqrt(d) @ k^T and multiplies the result with v (bmm); patched in while recording."""
    return record(_orig_softmax(input, dim=dim, _stacklevel=_stacklevel, dtype=dtype))


# ------------------------------------------------------------------------------ the styles
STYLES = {
    "timm-fused-qkv": dict(opset=17, make=lambda: TimmViT(img=(32, 32), patch=8, chans=3,
                                                          dim=48, depth=3, heads=3)),
    "hf-separate-qkv": dict(opset=14, make=lambda: HFViT(img=(24, 24), patch=6, chans=3,
                                                         dim=32, depth=2, heads=2)),
    "torchvision-vit": dict(opset=17, make=TorchvisionWrapper, train_mode=True),
    "deit-distilled": dict(opset=17, make=lambda: TimmViT(img=(32, 32), patch=8, chans=3,
                                                          dim=48, depth=3, heads=4, dist=True)),
    "registers": dict(opset=17, make=lambda: TimmViT(img=(28, 28), patch=7, chans=1, dim=32,
                                                     depth=3, heads=2, registers=4)),
    "nonsquare-grid": dict(opset=17, make=lambda: TimmViT(img=(24, 40), patch=8, chans=3,
                                                          dim=48, depth=2, heads=4)),
}


def randomise(model, gen):
    """Random weights larger than the usual training init, so that the attention is far from
    uniform and the maps have structure."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim >= 2 and not any(t in name for t in ("token", "pos", "position", "class_")):
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) * (1.5 / math.sqrt(fan_in)))
            elif p.ndim >= 2:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
            elif "weight" in name and "norm" in name.lower() or name.endswith("ln_1.weight") \
                    or name.endswith("ln_2.weight") or name.endswith("ln.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def minmax(x):
    x = np.asarray(x, np.float64)
    lo, hi = x.min(), x.max()
    if hi - lo == 0:
        return np.zeros_like(x)
    return (x - lo) / (hi - lo)


def compute_maps(A, G, p, epsilon=EPSILON):
    """A, G: lists over blocks of float64 arrays h x T x T (G may be None for class-agnostic
    maps only). Returns the four maps (unnormalised input -> normalised list)."""
    T = A[0].shape[-1]
    maps = {}
    maps["last-attn"] = minmax(A[-1][:, 0, p:].mean(0))
    R = np.eye(T)
    for a in A:
        ab = a.mean(0) + np.eye(T)
        ab = ab / ab.sum(-1, keepdims=True)
        R = ab @ R
    maps["rollout"] = minmax(R[0, p:])
    R = np.eye(T)
    for a, g in zip(A, G):
        ab = np.maximum(0.0, g * a).mean(0)
        R = R + ab @ R
    maps["grad-rollout"] = minmax(R[0, p:])
    logsum = np.zeros(T - p)
    for a, g in zip(A, G):
        s = (a[:, 0, p:] * g[:, 0, p:]).mean(0)
        rng = s.max() - s.min()
        if rng == 0:
            continue
        logsum += np.log(s - s.min() + epsilon * rng)
    maps["attn-grad-product"] = minmax(np.exp(logsum - logsum.max()))
    return {k: v.tolist() for k, v in maps.items()}


def forward_record(model, x):
    global _RECORD
    _RECORD = []
    try:
        logits = model(x)
        return logits, _RECORD
    finally:
        _RECORD = None


def export(model, x, path, opset):
    kwargs = {}
    if model.training:
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
        kwargs["do_constant_folding"] = False
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"],
                      output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, **kwargs)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def write_npy(path, arr):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (tuple(arr.shape),)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1"))
        f.write(arr.tobytes())


def make_style(style, spec, out_dir, seed):
    gen = torch.Generator().manual_seed(seed * 100 + sorted(STYLES).index(style))
    torch.manual_seed(seed)
    model = spec["make"]()
    randomise(model, gen)
    if spec.get("train_mode"):
        model.train()
        F.softmax = _recording_softmax
    else:
        model.eval()
    try:
        C = model.m.conv_proj.in_channels if hasattr(model, "m") else None
        if C is None:
            pe = model.patch_embed if hasattr(model, "patch_embed") else model.patch_embeddings
            C = pe.in_channels
            patch = pe.kernel_size[0]
        else:
            patch = model.m.patch_size
        H, W = model.grid[0] * patch, model.grid[1] * patch
        x = torch.randn((1, C, H, W), generator=gen)
        os.makedirs(out_dir, exist_ok=True)
        onnx_path = os.path.join(out_dir, "model.onnx")
        m = export(model, x, onnx_path, spec["opset"])

        with torch.no_grad():
            logits0, _ = forward_record(model, x)
        logits0 = logits0[0].numpy()
        order = np.argsort(-logits0.astype(np.float64), kind="stable")
        targets = {}
        A_ref = None
        for name, idx in (("top1", int(order[0])), ("top2", int(order[1]))):
            logits, attn = forward_record(model, x)
            logits[0, idx].backward()
            heads = attn[0].shape[0] if attn[0].dim() == 3 else attn[0].shape[1]
            A = [a.detach().reshape(-1, a.shape[-2], a.shape[-1]).numpy() for a in attn]
            G = [a.grad.reshape(-1, a.shape[-2], a.shape[-1]).numpy() for a in attn]
            A_ref = A
            blocks = [{"clsAttention": a[:, 0, :].astype(np.float64).tolist(),
                       "clsGradient": g[:, 0, :].astype(np.float64).tolist()}
                      for a, g in zip(A, G)]
            maps = compute_maps([a.astype(np.float64) for a in A],
                                [g.astype(np.float64) for g in G], model.prefix)
            targets[name] = {"index": idx, "blocks": blocks, "maps": maps}
            model.zero_grad(set_to_none=True)
    finally:
        F.softmax = _orig_softmax

    # ---- check the graph against PyTorch
    soft = onnx_numpy.softmax_outputs(m)
    assert len(soft) == len(A_ref), (style, len(soft), len(A_ref))
    res = onnx_numpy.run(m, {"input": x.numpy()}, soft)
    err_logits = np.abs(res["logits"][0] - logits0).max() / max(1e-6, np.abs(logits0).max())
    err_attn = max(np.abs(res[s].reshape(a.shape) - a).max() for s, a in zip(soft, A_ref))
    assert err_logits < 1e-4, (style, err_logits)
    assert err_attn < 1e-5, (style, err_attn)
    # a batch of 2 through the dynamic axis
    res2 = onnx_numpy.run(m, {"input": np.concatenate([x.numpy(), x.numpy()])})
    assert np.abs(res2["logits"][1] - logits0).max() / max(1e-6, np.abs(logits0).max()) < 1e-4

    ref = {
        "style": style,
        "opset": spec["opset"],
        "inputShape": list(x.shape),
        "prefixTokens": model.prefix,
        "grid": list(model.grid),
        "numBlocks": len(A_ref),
        "numHeads": heads,
        "numClasses": int(len(logits0)),
        "logits": logits0.astype(np.float64).tolist(),
        "targets": targets,
        "epsilon": EPSILON,
        "epsilonMode": "relative",
        "negatives": "shift",
        "check": {"onnxLogitsMaxRelErr": float(err_logits),
                  "onnxSoftmaxMaxAbsErr": float(err_attn),
                  "softmaxNodes": soft},
        "generator": "models/tools/make_fixtures.py",
    }
    write_npy(os.path.join(out_dir, "input.npy"), x.numpy())
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(f"{style}: T={A_ref[0].shape[-1]} blocks={len(A_ref)} heads={heads} "
          f"logits err {err_logits:.1e} softmax err {err_attn:.1e} "
          f"top1 {targets['top1']['index']} top2 {targets['top2']['index']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                  "test", "fixtures"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    vit.setup_threads(1)
    for style, spec in STYLES.items():
        if args.only and style not in args.only:
            continue
        make_style(style, spec, os.path.join(args.out, style), args.seed)


if __name__ == "__main__":
    main()
