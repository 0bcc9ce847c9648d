"""Realistic timm models for the engine bench (random weights, seed 0, not committed): Swin-T
(swin_tiny_patch4_window7_224, 28M parameters) and VOLO-D1 (volo_d1_224, 27M), with explicit
attention (set_fused_attn(False)). Also their attn-grad-product by PyTorch autograd in batches, as
METHOD.md reads these models, for the bench's PyTorch column (torch_saliency_bench.py).

  .venv/bin/python models/tools/timm_bench_models.py swin-t .bench/swin-t

Needs a Python with torch, timm, onnx and onnxscript (the venv of make_arch_fixtures.py). Writes
<dir>/model.onnx: Swin by the TorchScript exporter (opset 17), VOLO by the default dynamo
exporter (the TorchScript one cannot write its Col2Im).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timm_import import timm  # noqa: E402  (explicit attention; torchvision worked around)

NAMES = {'swin-t': 'swin_tiny_patch4_window7_224', 'volo-d1': 'volo_d1_224'}


def build(name, seed=0):
    torch.manual_seed(seed)
    return timm.create_model(NAMES[name], pretrained=False, num_classes=1000).eval()


class AttentionRecorder:
    """Keeps every softmax output (the attention probabilities) with its gradient."""

    def __init__(self):
        self.tensors = []

    def __enter__(self):
        self._saved = torch.Tensor.softmax, torch.nn.functional.softmax
        rec = self

        def wrap(fn):
            def recorded(*a, **k):
                out = fn(*a, **k)
                if out.requires_grad and not any(out is t for t in rec.tensors):
                    out.retain_grad()
                    rec.tensors.append(out)
                return out
            return recorded
        torch.Tensor.softmax, torch.nn.functional.softmax = (wrap(f) for f in self._saved)
        return self

    def __exit__(self, *exc):
        torch.Tensor.softmax, torch.nn.functional.softmax = self._saved


def block_layouts(name, model, attention):
    """Per recorded attention: None (outlook attention, 5-D: skipped), 'cls' (class attention: one
    query) or the window layout (H, W, window, shift) of a block with no class-token query."""
    if name == 'swin-t':
        return [(b.input_resolution[0], b.input_resolution[1], b.window_size[0], b.shift_size[0])
                for layer in model.layers for b in layer.blocks]
    out = []
    for a in attention:
        side = int(round(a.shape[-1] ** 0.5))
        out.append(None if a.ndim == 5 else 'cls' if a.shape[-2] == 1 else (side, side, side, 0))
    return out


def term(x, layout, batch):
    """x: A*G of one block, [batch*windows, heads, queries, keys] -> [batch, H, W] on its own grid."""
    if layout == 'cls':
        n = x.shape[-1] - 1
        side = int(round(n ** 0.5))
        return x[:, :, 0, 1:].mean(1).reshape(batch, side, side)
    H, W, w, s = layout
    received = x.mean((1, 2)).reshape(batch, H // w, W // w, w, w)  # windows row-major, positions
    grid = received.permute(0, 1, 3, 2, 4).reshape(batch, H, W)
    return torch.roll(grid, (s, s), (1, 2)) if s else grid


def saliency(name, model, x, eps=0.01):
    """The attn-grad-product map of the top-1 class of every image, by autograd."""
    with AttentionRecorder() as rec:
        logits = model(x)
    layouts = block_layouts(name, model, rec.tensors)
    target = logits.argmax(1)
    logits.gather(1, target[:, None]).sum().backward()
    terms = [term(a * a.grad, lay, x.shape[0]) for a, lay in zip(rec.tensors, layouts) if lay is not None]
    final = terms[-1].shape[1:]
    logsum = 0
    for s in terms:
        s = torch.nn.functional.adaptive_avg_pool2d(s[:, None], final)[:, 0].flatten(1)
        lo = s.min(1, keepdim=True).values
        rng = s.max(1, keepdim=True).values - lo
        logsum = logsum + torch.where(rng > 0, torch.log(s - lo + eps * rng), torch.zeros_like(s))
    S = torch.exp(logsum - logsum.max(1, keepdim=True).values)
    lo, hi = S.min(1, keepdim=True).values, S.max(1, keepdim=True).values
    model.zero_grad(set_to_none=True)
    return ((S - lo) / (hi - lo).clamp_min(1e-30)).detach()


def export(name, out_dir):
    import onnx
    model = build(name)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, 'model.onnx')
    x = torch.zeros(1, 3, 224, 224)
    names = dict(input_names=['input'], output_names=['logits'])
    if name == 'volo-d1':
        torch.onnx.export(model, (x,), path, dynamo=True, external_data=False,
                          dynamic_shapes=({0: torch.export.Dim('batch', min=1, max=64)},), **names)
    else:
        torch.onnx.export(model, (x,), path, dynamo=False, opset_version=17,
                          dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, **names)
    onnx.checker.check_model(path)
    print(f'wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)')


if __name__ == '__main__':
    export(sys.argv[1], sys.argv[2])
