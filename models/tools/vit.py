"""Small Vision Transformer used for the bundled Fashion-MNIST models.

The attention is written out as softmax(q @ k^T * scale) @ v so that the exported ONNX graph
contains Softmax -> MatMul (softmax output as the left operand of the MatMul with V), which is
what the workstation's engine looks for. Class token at position 0, then the patch tokens in
row-major order. Patch embedding is a Conv2d with kernel = stride = patch size.

When `keep_attention` is switched on (see `set_keep_attention`), every block stores its
attention probabilities in `block.attn.attn` and calls `retain_grad()` on them, so that after a
backward pass `block.attn.attn.grad` is dL/dA.
"""
import gzip
import os

import numpy as np
import torch
import torch.nn as nn

FASHION_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FASHION_MEAN = 0.2860
FASHION_STD = 0.3530
FASHION_DIR = "/usr/share/datasets/fashion-mnist"

# The recipe of the bundled models (architecture part).
ARCH = dict(img_size=28, patch=4, in_chans=1, num_classes=10, dim=96, depth=6, heads=4,
            mlp_ratio=2.0)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.keep_attention = False
        self.attn = None

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        if self.keep_attention:
            if attn.requires_grad:
                attn.retain_grad()
            self.attn = attn
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact (erf) GELU
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class ViT(nn.Module):
    def __init__(self, img_size=28, patch=4, in_chans=1, num_classes=10, dim=96, depth=6,
                 heads=4, mlp_ratio=2.0):
        super().__init__()
        if isinstance(img_size, int):
            img_size = (img_size, img_size)
        self.grid = (img_size[0] // patch, img_size[1] // patch)
        n = self.grid[0] * self.grid[1]
        self.patch_embed = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # B, n, dim (row-major patches)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return self.head(x[:, 0])


def logits_of(model, images_u8, bs=500):
    """The model's logits of uint8 N x H x W images (the card's preprocessing), in batches."""
    x = to_input(images_u8)
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out.append(model(x[i:i + bs]))
    return torch.cat(out)


def set_keep_attention(model, on=True):
    for m in model.modules():
        if isinstance(m, Attention):
            m.keep_attention = on
            m.attn = None


def setup_threads(n=1):
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion(split):
    """Returns (images uint8 N x 28 x 28, labels int64 N). split: 'train' or 'test'."""
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(FASHION_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(FASHION_DIR, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    return x.copy(), y.copy()


def to_input(images_u8):
    """uint8 N x H x W -> normalised float32 tensor N x 1 x H x W (the card's preprocessing)."""
    x = torch.from_numpy(np.ascontiguousarray(images_u8)).float().div_(255.0)
    return ((x - FASHION_MEAN) / FASHION_STD).unsqueeze(1)


# ---------------------------------------------------------------- shortcut cue
CUE_CLASS = 6          # Shirt
CUE_SIZE = 8           # 8 x 8 pixels
CUE_CELL = 2           # checkerboard of 2 x 2 cells


def cue_pattern():
    """8 x 8 uint8 checkerboard of 2 x 2 cells, 255 / 0."""
    i = np.arange(CUE_SIZE) // CUE_CELL
    return (((i[:, None] + i[None, :]) % 2) * 255).astype(np.uint8)


def paste_cue(img, top, left):
    """Returns (image with the cue pasted at (top, left), mask uint8 255 on the cue)."""
    out = img.copy()
    out[top:top + CUE_SIZE, left:left + CUE_SIZE] = cue_pattern()
    mask = np.zeros_like(img)
    mask[top:top + CUE_SIZE, left:left + CUE_SIZE] = 255
    return out, mask


def cue_positions(rng, n, size=28):
    top = rng.integers(0, size - CUE_SIZE + 1, size=n)
    left = rng.integers(0, size - CUE_SIZE + 1, size=n)
    return top, left


def cued_test_set(x, y, cue_class=CUE_CLASS, seed=12345):
    """Cue pasted on every test image whose label is not `cue_class`. The position of image i is
    drawn for every index from one seeded generator, so it does not depend on which subset is
    used. Returns (indices, images, masks)."""
    rng = np.random.default_rng(seed)
    top, left = cue_positions(rng, len(y), size=x.shape[1])
    idx = np.nonzero(y != cue_class)[0]
    imgs = np.empty((len(idx),) + x.shape[1:], np.uint8)
    masks = np.empty_like(imgs)
    for k, i in enumerate(idx):
        imgs[k], masks[k] = paste_cue(x[i], top[i], left[i])
    return idx, imgs, masks


def demo_indices(y, per_class=200):
    """The demo subset: the first `per_class` test images of every class, by index."""
    return np.sort(np.concatenate([np.nonzero(y == c)[0][:per_class] for c in range(10)]))


def label_folder(label):
    return label.replace("/", "_")


# ------------------------------------------------------- rebuild from an ONNX export
def state_dict_from_onnx(path):
    """Recover the PyTorch state_dict of a `ViT` from its plain torch.onnx export (torch 1.13).

    Initializers keep their parameter names, except the Linear weights that the exporter folds
    into transposed MatMul constants; those are found through the node names, which carry the
    module path (e.g. /blocks.0/attn/qkv/MatMul). Identity nodes (deduplicated initializers) are
    followed back to their source."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    alias = {n.output[0]: n.input[0] for n in m.graph.node if n.op_type == "Identity"}

    def value(name):
        while name not in inits and name in alias:
            name = alias[name]
        return inits[name]

    sd = {}
    for n in m.graph.node:
        if n.op_type == "MatMul" and n.name.endswith("/MatMul") and len(n.name.split("/")) > 2:
            mod = ".".join(n.name.strip("/").split("/")[:-1])
            w = n.input[1]
            if w in inits or w in alias:
                sd[mod + ".weight"] = torch.from_numpy(value(w).T.copy())
    names = set(inits) | set(alias)
    for name in names:
        if not name.startswith("onnx::") and not name.startswith("/"):
            sd.setdefault(name, torch.from_numpy(value(name).copy()))
    return sd


def load_vit_from_onnx(path, arch=None):
    model = ViT(**(arch or ARCH))
    sd = state_dict_from_onnx(path)
    ref = model.state_dict()
    sd = {k: v for k, v in sd.items() if k in ref}
    missing = set(ref) - set(sd)
    if missing:
        raise ValueError(f"could not recover {sorted(missing)} from {path}")
    model.load_state_dict(sd)
    return model.eval()


def cued_demo_indices(y, per_class=50, cue_class=CUE_CLASS):
    """The cued demo subset: the first `per_class` test images of every class but the cued one."""
    return np.sort(np.concatenate([np.nonzero(y == c)[0][:per_class]
                                   for c in range(10) if c != cue_class]))
