"""Imports timm with explicit attention (set_fused_attn(False)), working around a torchvision wheel
built for CUDA against a CPU torch: it fails on import when it registers its fake kernels, and
timm needs none of its ops, so the two it registers unconditionally are declared first.

  from timm_import import timm  (models/tools on sys.path)
"""
import sys

import torch

try:
    import torchvision  # noqa: F401  (timm imports it)
except RuntimeError:
    _lib = torch.library.Library('torchvision', 'DEF')
    _lib.define('nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
    _lib.define('qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor')
    for _name in [k for k in sys.modules if k.startswith('torchvision')]:
        del sys.modules[_name]

import timm  # noqa: E402
from timm.layers import set_fused_attn  # noqa: E402

set_fused_attn(False)
__all__ = ['timm']
