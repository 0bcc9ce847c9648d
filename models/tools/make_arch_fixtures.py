"""Reference fixtures for today's exporters: small random-weight models of timm and Hugging Face
transformers, exported by torch's TorchScript exporter (opset 17) and by its default
torch.export-based exporter ("dynamo"), with the per-block terms and maps of every method computed
by PyTorch autograd on an identical eager copy (timm set_fused_attn(False), HF
attn_implementation="eager").

  .venv/bin/python models/tools/make_arch_fixtures.py [--out test/fixtures] [--only NAME,...]

Needs a venv with torch, timm, transformers, onnx, onnxscript and onnxruntime (README: fixtures).
For every family and exporter writes <out>/<family>-<exporter>/model.onnx, input.npy and
reference.json. Before writing, ONNX Runtime must reproduce the PyTorch logits.

Reference definitions (METHOD.md; float64 from the float32 autograd values; A_b, G_b: heads x T x T
attention probabilities of block b, the softmax outputs in graph order, and d logit_target / d A_b):
  term of block b    class-token models: S_b[j] = mean_h A_b[h, 0, p+j] G_b[h, 0, p+j];
                     models without a class token (p = 0): the received term,
                     S_b[j] = mean_h mean_i A_b[h, i, j] G_b[h, i, j]
  attn-grad-product  S'_b = S_b - min S_b + eps_b, eps_b = epsilon (max S_b - min S_b); product
  last-attn          the last block's term of A alone
  rollout            Abar_b = mean_h A_b + I, rows normalised; start row e_0 (p >= 1) or the mean
                     row (p = 0); map = start . Abar_B ... Abar_1 over the patches
  grad-rollout       Abar_b = mean_h max(0, G_b * A_b); R = prod_b (I + Abar_b) from the same start
Every map is min-max normalised to [0, 1].
"""
import argparse
import copy
import json
import math
import os
import sys
import warnings

import numpy as np
import onnx
import torch

warnings.filterwarnings('ignore')
torch.set_num_threads(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timm_import import timm  # noqa: E402  (explicit attention; torchvision worked around)
import onnxruntime as ort  # noqa: E402
import transformers  # noqa: E402

EPSILON = 0.01
SIZE = 32


def families():
    """name -> (constructor, prefix tokens, note). Constructors are called under a fixed seed."""
    vt = timm.models.vision_transformer
    return {
        'timm-gap-vit': (lambda: vt.VisionTransformer(
            img_size=SIZE, patch_size=8, embed_dim=48, depth=3, num_heads=3, class_token=False,
            global_pool='avg', num_classes=5), 0, 'timm ViT, class_token=False, global_pool=avg'),
        'timm-eva02': (lambda: timm.models.eva.Eva(
            img_size=SIZE, patch_size=8, embed_dim=48, depth=2, num_heads=3, use_rot_pos_emb=True,
            swiglu_mlp=True, scale_mlp=True, ref_feat_shape=(4, 4), global_pool='token', num_classes=5), 1,
            'timm EVA-02 layout: rotary embeddings, SwiGLU'),
        'timm-beit': (lambda: timm.models.beit.Beit(
            img_size=SIZE, patch_size=8, embed_dim=48, depth=2, num_heads=3, use_rel_pos_bias=True,
            global_pool='token', num_classes=5), 1, 'timm BEiT, relative position bias, token head'),
        'hf-vit': (lambda: transformers.ViTForImageClassification(transformers.ViTConfig(
            image_size=SIZE, patch_size=8, hidden_size=48, num_hidden_layers=2, num_attention_heads=3,
            intermediate_size=96, num_labels=5, attn_implementation='eager')), 1,
            'HF ViTForImageClassification'),
        'hf-deit': (lambda: transformers.DeiTForImageClassificationWithTeacher(transformers.DeiTConfig(
            image_size=SIZE, patch_size=8, hidden_size=48, num_hidden_layers=2, num_attention_heads=3,
            intermediate_size=96, num_labels=5, attn_implementation='eager')), 2,
            'HF DeiTForImageClassificationWithTeacher'),
        'timm-swin': (lambda: timm.models.swin_transformer.SwinTransformer(
            img_size=SIZE, patch_size=2, window_size=4, embed_dim=24, depths=(2, 2), num_heads=(2, 4),
            num_classes=5), 'windowed', 'timm SwinTransformer: 2 stages, 4x4 windows, shifted blocks'),
        'hf-swin': (lambda: transformers.SwinForImageClassification(transformers.SwinConfig(
            image_size=28, patch_size=2, window_size=4, embed_dim=24, depths=[2, 2], num_heads=[2, 4],
            num_labels=5, attn_implementation='eager')), 'windowed',
            'HF SwinForImageClassification at 28x28: 14x14 and 7x7 grids padded to whole windows'),
        'timm-vit-fp16': (lambda: vt.VisionTransformer(
            img_size=SIZE, patch_size=8, embed_dim=48, depth=2, num_heads=3, num_classes=5), 1,
            'timm ViT exported in float16 (the reference: the same float16-rounded weights in float32)'),
        'timm-volo': (lambda: timm.models.volo.VOLO(
            layers=(1, 1), img_size=64, patch_size=8, embed_dims=(24, 48), num_heads=(2, 3),
            downsamples=(True, False), outlook_attention=(True, False), post_layers=('ca',), num_classes=5),
            'windowed', 'timm VOLO: an outlooker (8x8), a transformer block and a class-attention block (4x4), '
            'token-label head'),
        'timm-cait': (lambda: timm.models.cait.Cait(
            img_size=SIZE, patch_size=8, embed_dim=48, depth=2, num_heads=3, depth_token_only=2,
            num_classes=5), 'windowed',
            'timm CaiT: 2 talking-heads self-attention blocks (no class token), then 2 class-attention '
            'blocks; A of a talking-heads block is the mix after the softmax (proj_w), what multiplies V'),
        # Fused attention ops (the engine rewrites them into primitives before explaining):
        'bert-vit': (lambda: BertStyleViT(), 1,
                     'a ViT written the way BERT is (q/k/v linears, Div by sqrt(d)), the pattern ORT\'s '
                     'transformer optimizer fuses; exported by the TorchScript exporter, then optimised'),
        'timm-vit-sdpa': (lambda: vt.VisionTransformer(
            img_size=SIZE, patch_size=8, embed_dim=48, depth=2, num_heads=3, num_classes=5), 1,
            'timm ViT with fused attention (scaled_dot_product_attention), dynamo exporter at opset 23: '
            'ONNX Attention'),
        'gqa-vit': (lambda: BertStyleViT(dim=64, heads=4, kv_heads=2, causal=True), 0,
                    'a ViT with grouped key/value heads (4 query heads, 2 key/value heads) and a causal '
                    'mask, as GroupQueryAttention computes (it is causal only); its attention replaced by '
                    'com.microsoft GroupQueryAttention by graph surgery (no exporter writes it for a ViT); '
                    'average-pooled, since a causal class token would see only itself'),
    }


class BertSelfAttention(torch.nn.Module):
    """BERT's self-attention: separate q/k/v linears, scores divided by sqrt(d). kv_heads < heads:
    grouped key/value heads; causal: the upper triangle masked."""

    def __init__(self, dim, heads, kv_heads, causal):
        super().__init__()
        self.heads, self.kv_heads, self.d, self.causal = heads, kv_heads, dim // heads, causal
        self.query = torch.nn.Linear(dim, dim)
        self.key = torch.nn.Linear(dim, kv_heads * self.d)
        self.value = torch.nn.Linear(dim, kv_heads * self.d)
        self.dense = torch.nn.Linear(dim, dim)

    def split(self, t, heads):
        return t.view(t.shape[0], t.shape[1], heads, self.d).permute(0, 2, 1, 3)

    def forward(self, x):
        q = self.split(self.query(x), self.heads)
        k, v = self.split(self.key(x), self.kv_heads), self.split(self.value(x), self.kv_heads)
        if self.kv_heads != self.heads:  # (written only where needed: ORT's fusion wants the plain pattern)
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)
        if self.causal:
            n = scores.shape[-1]
            scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float('-inf'))
        p = torch.softmax(scores, dim=-1)
        c = torch.matmul(p, v).permute(0, 2, 1, 3).contiguous()
        return self.dense(c.view(c.shape[0], c.shape[1], self.heads * self.d))


class BertStyleBlock(torch.nn.Module):
    def __init__(self, dim, heads, kv_heads, causal):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(dim)
        self.attn = BertSelfAttention(dim, heads, kv_heads, causal)
        self.ln2 = torch.nn.LayerNorm(dim)
        self.fc1 = torch.nn.Linear(dim, 2 * dim)
        self.fc2 = torch.nn.Linear(2 * dim, dim)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x))))


class BertStyleViT(torch.nn.Module):
    """A pre-norm ViT with a class token whose attention is written as BERT's."""

    def __init__(self, dim=48, heads=3, kv_heads=None, causal=False, depth=2, patch=8):
        super().__init__()
        n = (SIZE // patch) ** 2
        # Causal attention would leave a leading class token seeing only itself: average-pool instead.
        self.class_token = not causal
        self.patch = torch.nn.Conv2d(3, dim, patch, patch)
        self.cls = torch.nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = torch.nn.Parameter(torch.zeros(1, n + 1, dim))
        self.blocks = torch.nn.ModuleList(
            [BertStyleBlock(dim, heads, kv_heads or heads, causal) for _ in range(depth)])
        self.norm = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, 5)

    def forward(self, x):
        t = self.patch(x).flatten(2).transpose(1, 2)
        if self.class_token:
            t = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], 1) + self.pos
        else:
            t = t + self.pos[:, 1:]
        for b in self.blocks:
            t = b(t)
        t = self.norm(t)
        return self.head(t[:, 0] if self.class_token else t.mean(1))


def swin_blocks(model):
    """Per block (H, W, window rows, window cols, shift rows, shift cols), from the modules."""
    m = model.model
    if hasattr(m, 'swin'):
        return [(b.input_resolution[0], b.input_resolution[1], b.window_size, b.window_size, b.shift_size,
                 b.shift_size) for layer in m.swin.encoder.layers for b in layer.blocks]
    return [(b.input_resolution[0], b.input_resolution[1], b.window_size[0], b.window_size[1], b.shift_size[0],
             b.shift_size[1]) for layer in m.layers for b in layer.blocks]


def windowed_term(x, H, W, wh, ww, sy, sx):
    """x: windows x heads x N x N (A or A*G) -> received term on the H x W grid (METHOD.md): windows
    cut from the map padded to whole windows and rolled by -s; padding dropped."""
    received = x.mean(axis=(1, 2))  # windows x N
    Hp, Wp = -(-H // wh) * wh, -(-W // ww) * ww
    per_row = Wp // ww
    out = np.zeros((H, W))
    for w in range(received.shape[0]):
        for n in range(received.shape[1]):
            row = (w // per_row) * wh + n // ww
            col = (w % per_row) * ww + n % ww
            r, c = (row + sy) % Hp, (col + sx) % Wp
            if r < H and c < W:
                out[r, c] = received[w, n]
    return out


def pool(t, to):
    ry, rx = t.shape[0] // to[0], t.shape[1] // to[1]
    return t.reshape(to[0], ry, to[1], rx).mean(axis=(1, 3))


def block_layouts(model, att):
    """Per recorded attention: ('skipped',) for outlook attention (5-D), ('class-row', H, W) for
    class attention (one query), else ('windowed', H, W, wh, ww, sy, sx) (global: one window)."""
    swin = iter(swin_blocks(model)) if 'Swin' in type(model.model).__name__ else None
    out = []
    for a in att:
        if a.ndim == 5:
            out.append(('skipped',))
        elif a.shape[-2] == 1:
            side = int(round((a.shape[-1] - 1) ** 0.5))
            out.append(('class-row', side, side))
        elif swin is not None:
            out.append(('windowed',) + next(swin))
        else:
            side = int(round(a.shape[-1] ** 0.5))
            out.append(('windowed', side, side, side, side, 0, 0))
    return out


def layout_term(x, layout):
    """x: the recorded tensor (A or A*G, batch first) -> the block's term on its grid, or None."""
    if layout[0] == 'skipped':
        return None
    if layout[0] == 'class-row':
        return x[0, :, 0, 1:].mean(axis=0).reshape(layout[1], layout[2])
    return windowed_term(x, *layout[1:])


def windowed_maps(att, grads, layout):
    terms = [layout_term(a * g, b) for a, g, b in zip(att, grads, layout)]
    final = [t for t in terms if t is not None][-1].shape
    logs = np.zeros(final)
    for s in terms:
        if s is None:
            continue
        s = pool(s, final)
        rng = s.max() - s.min()
        if rng == 0:
            continue
        logs += np.log(s - s.min() + EPSILON * rng)
    product = np.exp(logs - logs.max())
    last = [layout_term(a, b) for a, b in zip(att, layout) if b[0] != 'skipped'][-1]
    return terms, {'attn-grad-product': normalise(product).ravel(), 'last-attn': normalise(last).ravel()}


class Logits(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        y = self.model(x)
        return y.logits if hasattr(y, 'logits') else y


class AttnDropRecorder:
    """Records what each attention module's attn_drop returns: the tensor that multiplies V. For
    talking-heads attention (CaiT) that is the heads' mix after the softmax, not the softmax itself."""

    def __init__(self, model):
        self.tensors = []
        self._modules = [m for name, m in model.named_modules() if name.endswith('attn.attn_drop')]
        self._hooks = []

    def _record(self, _module, _inputs, out):
        out = out * 1.0  # a tensor of its own, so that its gradient is the product's alone
        out.retain_grad()
        self.tensors.append(out)
        return out

    def __enter__(self):
        self._hooks = [m.register_forward_hook(self._record) for m in self._modules]
        return self

    def __exit__(self, *exc):
        for h in self._hooks:
            h.remove()


class SoftmaxRecorder:
    """Records every softmax output (the attention probabilities, in graph order)."""

    def __init__(self):
        self.tensors = []
        self._saved = []

    def __enter__(self):
        recorder = self
        originals = (torch.Tensor.softmax, torch.softmax, torch.nn.functional.softmax)

        def wrap(fn):
            def recorded(*args, **kwargs):
                out = fn(*args, **kwargs)
                # F.softmax calls Tensor.softmax: record each tensor once.
                if not any(out is t for t in recorder.tensors):
                    if out.requires_grad:
                        out.retain_grad()
                    recorder.tensors.append(out)
                return out
            return recorded

        self._saved = originals
        torch.Tensor.softmax = wrap(originals[0])
        torch.softmax = wrap(originals[1])
        torch.nn.functional.softmax = wrap(originals[2])
        return self

    def __exit__(self, *exc):
        torch.Tensor.softmax, torch.softmax, torch.nn.functional.softmax = self._saved


def normalise(v):
    lo, hi = v.min(), v.max()
    return np.zeros_like(v) if hi - lo <= 0 else (v - lo) / (hi - lo)


def term(a, g, p):
    """a, g: heads x T x T float64 (g may be None: A alone)."""
    x = a * g if g is not None else a
    if p > 0:
        return x[:, 0, p:].mean(axis=0)
    return x.mean(axis=(0, 1))


def maps_of(att, grads, p):
    T = att[0].shape[-1]
    start = np.zeros(T)
    if p > 0:
        start[0] = 1
    else:
        start[:] = 1 / T
    terms = [term(a, g, p) for a, g in zip(att, grads)]
    logs = np.zeros(T - p)
    for s in terms:
        rng = s.max() - s.min()
        if rng == 0:
            continue
        logs += np.log(s - s.min() + EPSILON * rng)
    product = np.exp(logs - logs.max())
    row = start.copy()
    for a in reversed(att):
        m = a.mean(axis=0) + np.eye(T)
        row = row @ (m / m.sum(axis=1, keepdims=True))
    rollout = row[p:]
    row = start.copy()
    for a, g in reversed(list(zip(att, grads))):
        row = row + row @ np.maximum(a * g, 0).mean(axis=0)
    grad_rollout = row[p:]
    return terms, {
        'attn-grad-product': normalise(product),
        'last-attn': normalise(term(att[-1], None, p)),
        'rollout': normalise(rollout),
        'grad-rollout': normalise(grad_rollout),
    }


def strip_provenance(path):
    """Drops the doc strings and metadata torch's exporters write (stack traces with this machine's
    paths); the graph's function is unchanged."""
    m = onnx.load(path)
    for n in m.graph.node:
        n.doc_string = ''
        del n.metadata_props[:]
    for v in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        v.doc_string = ''
        del v.metadata_props[:]
    m.graph.doc_string = ''
    m.doc_string = ''
    del m.graph.metadata_props[:]
    del m.metadata_props[:]
    onnx.save(m, path)


def ort_optimize(path, op):
    """ORT's transformer optimizer (model_type='vit'), writing com.microsoft Attention or
    MultiHeadAttention; it also fuses SkipLayerNormalization and BiasGelu."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model
    options = FusionOptions('vit')
    options.use_multi_head_attention = op == 'MultiHeadAttention'
    heads, hidden = 3, 48
    optimized = optimize_model(path, model_type='vit', num_heads=heads, hidden_size=hidden,
                               optimization_options=options)
    optimized.save_model_to_file(path)
    fused = [n.op_type for n in onnx.load(path).graph.node if n.domain == 'com.microsoft']
    assert op in fused, f'the optimizer wrote no {op} ({fused})'


def gqa_surgery(path, heads, kv_heads):
    """Replaces each block's attention (from the q/k/v projections to the context the output linear
    reads) by one com.microsoft GroupQueryAttention node, then drops the nodes nothing reads."""
    m = onnx.load(path)
    g = m.graph
    h = onnx.helper
    producers = {o: n for n in g.node for o in n.output}
    blocks = sorted({n.name.split('/')[2] for n in g.node if n.name.startswith('/model/blocks.')})
    new_nodes = []
    for b in blocks:
        q, k, v = (f'/model/{b}/attn/{p}/Add_output_0' for p in ('query', 'key', 'value'))
        dense = next(n for n in g.node if n.name == f'/model/{b}/attn/dense/MatMul')
        context = dense.input[0]
        assert all(t in producers for t in (q, k, v, context)), b
        # seqlens_k (batch,) = tokens - 1 and total_sequence_length = tokens, as int32, from q's shape.
        names = {k_: f'/model/{b}/attn/gqa_{k_}' for k_ in ('shape', 'batch', 'tokens', 'total', 'last', 'seqlens')}
        new_nodes += [
            h.make_node('Shape', [q], [names['shape']]),
            h.make_node('Gather', [names['shape'], 'gqa_zero'], [names['batch']], axis=0),
            h.make_node('Gather', [names['shape'], 'gqa_one'], [names['tokens']], axis=0),
            h.make_node('Cast', [names['tokens']], [names['total']], to=onnx.TensorProto.INT32),
            h.make_node('Sub', [names['total'], 'gqa_one32'], [names['last']]),
            h.make_node('Expand', [names['last'], names['batch'] + '_1d'], [names['seqlens']]),
            h.make_node('Unsqueeze', [names['batch'], 'gqa_axes0'], [names['batch'] + '_1d']),
            h.make_node('GroupQueryAttention', [q, k, v, '', '', names['seqlens'], names['total']], [context],
                        name=f'/model/{b}/attn/GroupQueryAttention', domain='com.microsoft', num_heads=heads,
                        kv_num_heads=kv_heads),
        ]
        g.node.remove(producers[context])
    g.initializer.extend([
        onnx.numpy_helper.from_array(np.array(0, np.int64), 'gqa_zero'),
        onnx.numpy_helper.from_array(np.array(1, np.int64), 'gqa_one'),
        onnx.numpy_helper.from_array(np.array(1, np.int32), 'gqa_one32'),
        onnx.numpy_helper.from_array(np.array([0], np.int64), 'gqa_axes0'),
    ])
    g.node.extend(new_nodes)
    m.opset_import.append(h.make_opsetid('com.microsoft', 1))
    # Drop what no longer reaches an output, then put the nodes back in topological order.
    producer = {o: n for n in g.node for o in n.output}
    live, stack = [], [o.name for o in g.output]
    while stack:
        n = producer.get(stack.pop())
        if n is not None and all(n is not m for m in live):
            live.append(n)
            stack.extend(i for i in n.input if i)
    made, ordered, pending = {i.name for i in g.input} | {t.name for t in g.initializer} | {''}, [], live
    while pending:
        ready = [n for n in pending if all(i in made for i in n.input)]
        assert ready, 'cycle'
        for n in ready:
            ordered.append(n)
            made.update(n.output)
        pending = [n for n in pending if n not in ready]
    del g.node[:]
    g.node.extend(ordered)
    used = {i for n in g.node for i in n.input}
    kept = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)
    del g.value_info[:]
    onnx.save(m, path)


def export(model, x, path, exporter):
    if exporter in ('ortattention', 'ortmha', 'gqa'):
        export(model, x, path, 'ts')
        if exporter == 'gqa':
            attn = model.model.blocks[0].attn
            gqa_surgery(path, attn.heads, attn.kv_heads)
        else:
            ort_optimize(path, 'Attention' if exporter == 'ortattention' else 'MultiHeadAttention')
        return
    if exporter == 'opset23':  # timm's fused attention: scaled_dot_product_attention -> ONNX Attention
        fused = copy.deepcopy(model)
        for module in fused.modules():
            if hasattr(module, 'fused_attn'):
                module.fused_attn = True
        torch.onnx.export(fused, (x,), path, dynamo=True, opset_version=23, input_names=['pixel_values'],
                          output_names=['logits'], external_data=False,
                          dynamic_shapes=({0: torch.export.Dim('batch', min=1, max=64)},))
        strip_provenance(path)
        assert any(n.op_type == 'Attention' for n in onnx.load(path).graph.node), 'no ONNX Attention written'
        return
    if exporter == 'ts':
        torch.onnx.export(model, (x,), path, dynamo=False, opset_version=17, input_names=['pixel_values'],
                          output_names=['logits'],
                          dynamic_axes={'pixel_values': {0: 'batch'}, 'logits': {0: 'batch'}})
    else:
        torch.onnx.export(model, (x,), path, dynamo=True, input_names=['pixel_values'], output_names=['logits'],
                          dynamic_shapes=({0: torch.export.Dim('batch', min=1, max=64)},), external_data=False)
    strip_provenance(path)


def make(name, out, exporter):
    build, p, note = families()[name]
    torch.manual_seed(0)
    model = Logits(build()).eval()
    # Noise on every weight, so that no block is trivially flat (zero-initialised class tokens).
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.02)
    size = {'timm-volo': 64, 'hf-swin': 28}.get(name, SIZE)
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    d = os.path.join(out, f'{name}-{exporter}')
    os.makedirs(d, exist_ok=True)
    float16 = name.endswith('-fp16')
    if float16:  # the float32 reference runs the float16-rounded weights
        with torch.no_grad():
            model = model.half().float()
        export(copy.deepcopy(model).half(), x.half(), os.path.join(d, 'model.onnx'), exporter)
    else:
        export(model, x, os.path.join(d, 'model.onnx'), exporter)
    model.eval()  # the TorchScript exporter restores the mode it found: keep eval (no drop path)
    np.save(os.path.join(d, 'input.npy'), x.numpy().astype(np.float32))

    logits = model(x).detach().numpy()[0].astype(np.float64)
    feed = x.half().numpy() if float16 else x.numpy()
    onnx_logits = ort.InferenceSession(os.path.join(d, 'model.onnx')).run(None, {'pixel_values': feed})[0][0]
    err = np.abs(onnx_logits.astype(np.float64) - logits).max()
    assert err < (2e-2 if float16 else 1e-4), f'{name} {exporter}: ONNX Runtime logits differ from PyTorch by {err}'

    order = np.argsort(-logits)
    targets = {}
    for label, index in (('top1', int(order[0])), ('top2', int(order[1]))):
        with (AttnDropRecorder(model) if name == 'timm-cait' else SoftmaxRecorder()) as rec:
            y = model(x)
        y[0, index].backward()
        if p == 'windowed':  # every window of the one image: windows x heads x N x N
            att = [t.detach().double().numpy() for t in rec.tensors]
            grads = [t.grad.double().numpy() for t in rec.tensors]
            layout = block_layouts(model, att)
            terms, maps = windowed_maps(att, grads, layout)
        else:
            att = [t.detach().double().numpy()[0] for t in rec.tensors]
            grads = [t.grad.double().numpy()[0] for t in rec.tensors]
            terms, maps = maps_of(att, grads, p)
        blocks = []
        for k, (a, g, s) in enumerate(zip(att, grads, terms)):
            if p == 'windowed':
                kind = {'skipped': 'skipped', 'class-row': 'class-row'}.get(layout[k][0], 'received')
                grid = None if s is None else list(np.shape(s))
                block = {'kind': kind, 'grid': grid, 'term': None if s is None else np.ravel(s).tolist()}
                blocks.append(block)
                continue
            block = {'kind': 'class-row' if p > 0 else 'received', 'term': np.ravel(s).tolist()}
            if p > 0:
                block['clsAttention'] = a[:, 0, :].tolist()
                block['clsGradient'] = g[:, 0, :].tolist()
            blocks.append(block)
        targets[label] = {'index': index, 'blocks': blocks, 'maps': {k: v.tolist() for k, v in maps.items()}}
        model.zero_grad()
    # (per image: heads x T x T; windowed: the first block that is not outlook attention, 5-D)
    first = att[0] if p != 'windowed' else next(a for a in att if a.ndim == 4)
    heads, tokens = first.shape[-3], first.shape[-1]
    if p == 'windowed':
        grid = list([t for t in terms if t is not None][-1].shape)
    else:
        side = int(round((tokens - p) ** 0.5))
        grid = [side, side]
    ref = {
        'family': name,
        'exporter': exporter,
        'note': note,
        'prefixTokens': 0 if p == 'windowed' else p,
        'windowed': p == 'windowed',
        'grid': grid,
        'numBlocks': len(att),
        'numHeads': heads,
        'numClasses': int(logits.shape[0]),
        'logits': logits.tolist(),
        'targets': targets,
        'epsilon': EPSILON,
        'epsilonMode': 'relative',
        'negatives': 'shift',
        'onnxLogitsMaxError': float(err),
        **({'float16': True, 'float16Logits': onnx_logits.astype(np.float64).tolist()} if float16 else {}),
        'generator': f'make_arch_fixtures.py (torch {torch.__version__}, timm {timm.__version__}, '
                     f'transformers {transformers.__version__})',
    }
    with open(os.path.join(d, 'reference.json'), 'w') as f:
        json.dump(ref, f, separators=(',', ':'))
    size = os.path.getsize(os.path.join(d, 'model.onnx'))
    print(f'{name}-{exporter}: {len(att)} blocks, {heads} heads, {tokens} tokens, model {size} bytes, '
          f'ONNX logits error {err:.2e}')


EXPORTERS = {
    # torch's TorchScript exporter cannot write VOLO's Col2Im (opset 17 has none): dynamo only.
    'timm-volo': ('dynamo',),
    'bert-vit': ('ortattention', 'ortmha'),
    'timm-vit-sdpa': ('opset23',),
    'gqa-vit': ('gqa',),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join('test', 'fixtures'))
    ap.add_argument('--only', default='')
    args = ap.parse_args()
    names = args.only.split(',') if args.only else list(families())
    for name in names:
        # torch's TorchScript exporter cannot write VOLO's Col2Im (opset 17 has none): dynamo only.
        for exporter in EXPORTERS.get(name, ('ts', 'dynamo')):
            make(name, args.out, exporter)


if __name__ == '__main__':
    main()
