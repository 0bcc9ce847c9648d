"""A minimal NumPy interpreter for the ONNX operators that the ViT exports in this repository use.

Used to check, without onnxruntime, that an exported graph computes the same logits as PyTorch
and that the Softmax outputs in the graph are the attention probabilities a fixture records.
Float32 throughout, like an ONNX runtime. Not a general ONNX runtime.

  run(model_or_path, {"input": x}, extra_outputs=[names]) -> dict name -> array
"""
import math

import numpy as np
import onnx
from onnx import numpy_helper

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _attrs(node):
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, onnx.TensorProto):
            v = numpy_helper.to_array(v)
        elif isinstance(v, bytes):
            v = v.decode()
        out[a.name] = v
    return out


def _conv(x, w, b, a):
    strides = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("Conv with groups/dilations")
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh = (h - kh) // strides[0] + 1
    ow = (wd - kw) // strides[1] + 1
    out = np.zeros((n, o, oh, ow), np.float32)
    for ky in range(kh):
        for kx in range(kw):
            patch = x[:, :, ky:ky + strides[0] * oh:strides[0], kx:kx + strides[1] * ow:strides[1]]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, ky, kx]).astype(np.float32)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def _reshape(x, shape, allowzero=0):
    shape = [int(s) for s in shape]
    if not allowzero:
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape)


def _slice(x, starts, ends, axes=None, steps=None):
    axes = list(range(len(starts))) if axes is None else [int(a) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    sl = [slice(None)] * x.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        sl[ax] = slice(int(s), int(min(max(e, -2 ** 62), 2 ** 62)), int(st))
    return x[tuple(sl)]


def _softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)


def _layernorm(x, scale, bias, a):
    axis = a.get("axis", -1)
    eps = a.get("epsilon", 1e-5)
    axes = tuple(range(axis % x.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + np.float32(eps))
    y = y * scale
    if bias is not None:
        y = y + bias
    return y.astype(np.float32)


_DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}


def _eval(op, ins, a, nout):
    if op == "Identity" or op == "Dropout":
        return [ins[0]] + ([np.ones_like(ins[0], dtype=bool)] if nout > 1 else [])
    if op == "Constant":
        return [a["value"]]
    if op == "Conv":
        return [_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)]
    if op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal"):
        x, y = ins
        f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
             "Pow": np.power, "Equal": np.equal}[op]
        r = f(x, y)
        if op == "Div" and np.issubdtype(x.dtype, np.integer):
            r = x // y
        if op != "Equal":
            r = r.astype(x.dtype)
        return [r]
    if op == "MatMul":
        return [np.matmul(ins[0], ins[1]).astype(np.float32)]
    if op == "Gemm":
        A, B = ins[0], ins[1]
        if a.get("transA", 0):
            A = A.T
        if a.get("transB", 0):
            B = B.T
        y = a.get("alpha", 1.0) * (A @ B)
        if len(ins) > 2 and ins[2] is not None:
            y = y + a.get("beta", 1.0) * ins[2]
        return [y.astype(np.float32)]
    if op == "Softmax":
        return [_softmax(ins[0], a.get("axis", -1))]
    if op == "LayerNormalization":
        return [_layernorm(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)]
    if op == "Erf":
        return [_erf(ins[0]).astype(ins[0].dtype)]
    if op == "Tanh":
        return [np.tanh(ins[0])]
    if op == "Sqrt":
        return [np.sqrt(ins[0])]
    if op == "Neg":
        return [-ins[0]]
    if op == "Relu":
        return [np.maximum(ins[0], 0)]
    if op == "ReduceMean":
        axes = a.get("axes")
        if axes is None and len(ins) > 1:
            axes = ins[1]
        axes = None if axes is None else tuple(int(v) for v in axes)
        return [ins[0].mean(axis=axes, keepdims=bool(a.get("keepdims", 1))).astype(ins[0].dtype)]
    if op == "Reshape":
        return [_reshape(ins[0], ins[1], a.get("allowzero", 0))]
    if op == "Flatten":
        ax = a.get("axis", 1)
        return [ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)]
    if op == "Transpose":
        return [np.transpose(ins[0], a.get("perm"))]
    if op == "Shape":
        return [np.array(ins[0].shape, np.int64)]
    if op == "Gather":
        return [np.take(ins[0], ins[1], axis=a.get("axis", 0))]
    if op == "Unsqueeze":
        axes = a.get("axes", ins[1] if len(ins) > 1 else None)
        x = ins[0]
        for ax in sorted(int(v) % (x.ndim + len(axes)) for v in axes):
            x = np.expand_dims(x, ax)
        return [x]
    if op == "Squeeze":
        axes = a.get("axes", ins[1] if len(ins) > 1 else None)
        if axes is None:
            return [np.squeeze(ins[0])]
        return [np.squeeze(ins[0], axis=tuple(int(v) for v in axes))]
    if op == "Concat":
        return [np.concatenate(ins, axis=a["axis"])]
    if op == "Slice":
        return [_slice(ins[0], ins[1], ins[2], ins[3] if len(ins) > 3 else None,
                       ins[4] if len(ins) > 4 else None)]
    if op == "Split":
        axis = a.get("axis", 0)
        split = a.get("split", ins[1] if len(ins) > 1 and ins[1] is not None else None)
        if split is None:
            return list(np.split(ins[0], nout, axis=axis))
        return list(np.split(ins[0], np.cumsum(split)[:-1], axis=axis))
    if op == "ConstantOfShape":
        v = a.get("value", np.zeros(1, np.float32))
        return [np.full([int(s) for s in ins[0]], v.reshape(-1)[0], dtype=v.dtype)]
    if op == "Expand":
        shape = np.broadcast_shapes(ins[0].shape, tuple(int(s) for s in ins[1]))
        return [np.broadcast_to(ins[0], shape).copy()]
    if op == "Where":
        return [np.where(ins[0], ins[1], ins[2])]
    if op == "Cast":
        return [ins[0].astype(_DTYPES[a["to"]])]
    if op == "Range":
        return [np.arange(ins[0], ins[1], ins[2]).astype(ins[0].dtype)]
    raise NotImplementedError(op)


def run(model, feeds, extra_outputs=()):
    if isinstance(model, str):
        model = onnx.load(model)
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update({k: np.asarray(v) for k, v in feeds.items()})
    for node in model.graph.node:
        ins = [env[n] if n else None for n in node.input]
        outs = _eval(node.op_type, ins, _attrs(node), len(node.output))
        for name, val in zip(node.output, outs):
            if name:
                env[name] = val
    names = [o.name for o in model.graph.output] + list(extra_outputs)
    return {n: env[n] for n in names}


def softmax_outputs(model):
    """Names of the Softmax outputs that feed a MatMul as its left operand, in graph order."""
    if isinstance(model, str):
        model = onnx.load(model)
    soft = [n.output[0] for n in model.graph.node if n.op_type == "Softmax"]
    left = {n.input[0] for n in model.graph.node if n.op_type == "MatMul"}
    return [s for s in soft if s in left]
