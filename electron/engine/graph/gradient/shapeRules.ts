// Vector-Jacobian rules of the data-movement ops: Transpose, the reshaping family, Concat, Split,
// Slice (any step), Pad (constant mode), Gather and Expand. Pieces taken out of a tensor return "placed" contributions that the
// accumulator joins with one Concat where they tile the axis.
import { floatTensor } from '../../onnx/tensorData';
import { intAttr, intsAttr, stringAttr } from '../nodeAttributes';
import { type Contribution, normaliseAxis, unsupported, type VjpArgs, type VjpRule } from './vjpContext';

const transpose: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  const rank = a.ctx.rank(a.node.input![0]);
  const perm = intsAttr(a.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [a.ctx.editor.op('Transpose', [g], { perm: inverse })];
};

/** Reshape, Flatten, Squeeze, Unsqueeze: the gradient is the output gradient in the input's shape. */
const reshapeLike: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  return [a.ctx.editor.op('Reshape', [g, a.ctx.shapeOf(a.node.input![0])])];
};

const concat: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g) return [];
  const ins = a.node.input!;
  const rank = a.ctx.rank(a.node.output![0]);
  const axis = normaliseAxis(intAttr(a.node, 'axis', 0), rank);
  const sizes = ins.map((x) => a.ctx.dims(x)[axis]);
  const parts = a.ctx.editor.split(g, axis, sizes);
  return ins.map((_, i) => (a.needs(i) ? parts[i] : undefined));
};

/** Zeros shaped like a forward tensor (for outputs nothing downstream depends on). */
function zerosLike(a: VjpArgs, name: string): string {
  return a.ctx.editor.op('ConstantOfShape', [a.ctx.shapeOf(name)], { value: floatTensor('zero', [1], [0]) });
}

const split: VjpRule = (a) => {
  if (!a.needs(0)) return [];
  const outs = a.node.output!;
  const rank = a.ctx.rank(a.node.input![0]);
  const axis = normaliseAxis(intAttr(a.node, 'axis', 0), rank);
  const grads = outs.map((o, i) => a.gradOut(i) ?? zerosLike(a, o));
  return [grads.length === 1 ? grads[0] : a.ctx.editor.op('Concat', grads, { axis })];
};

/** Clamps slice bounds the way ONNX does, for step 1. */
function clampBounds(start: number, end: number, dim: number): [number, number] {
  const s = Math.min(Math.max(start < 0 ? start + dim : start, 0), dim);
  const e = Math.min(Math.max(end < 0 ? end + dim : end, 0), dim);
  return [s, Math.max(e, s)];
}

/**
 * A strided cut along one axis, as the ascending positions it reads: `count` elements from `first`,
 * `stride` apart (a negative step reads them backwards: `reversed`). ONNX's clamping rules.
 */
interface StridedCut {
  axis: number;
  first: number;
  stride: number;
  count: number;
  reversed: boolean;
}

function stridedCut(axis: number, start: number, end: number, step: number, dim: number): StridedCut {
  const at = (v: number): number => (v < 0 ? v + dim : v);
  if (step > 0) {
    const s = Math.min(Math.max(at(start), 0), dim);
    const e = Math.min(Math.max(at(end), 0), dim);
    const count = Math.max(0, Math.ceil((e - s) / step));
    return { axis, first: s, stride: step, count, reversed: false };
  }
  const s = Math.min(Math.max(at(start), 0), dim - 1);
  const e = Math.min(Math.max(at(end), -1), dim - 1);
  const count = Math.max(0, Math.ceil((s - e) / -step));
  return { axis, first: s - (count - 1) * -step, stride: -step, count, reversed: true };
}

/**
 * The gradient of a strided cut: each output element goes back to its position, zeros between.
 * Interleaves k−1 zeros after every element (Unsqueeze, Pad, Reshape), trims, then pads to place.
 */
function scatterStrided(a: VjpArgs, g: string, cut: StridedCut, dims: number[]): string {
  const e = a.ctx.editor;
  const rank = dims.length;
  const { axis, stride: k, count: m } = cut;
  let t = cut.reversed
    ? e.op('Slice', [g, e.ints([-1]), e.ints([-(m + 1)]), e.ints([axis]), e.ints([-1])])
    : g;
  if (k > 1) {
    const pads = new Array<number>(2 * (rank + 1)).fill(0);
    pads[rank + 1 + axis + 1] = k - 1;
    t = e.op('Pad', [e.unsqueeze(t, [axis + 1]), e.ints(pads)]);
    // Leading axes are copied (0) so that the batch stays free; trailing ones are static.
    const shape = [...dims.slice(0, axis).map(() => 0), m * k, ...dims.slice(axis + 1)];
    t = e.op('Reshape', [t, e.ints(shape)]);
  }
  const kept = Math.min(m * k, dims[axis] - cut.first);
  if (kept < m * k) t = e.slice(t, [0], [kept], [axis]);
  const pads = new Array<number>(2 * rank).fill(0);
  pads[axis] = cut.first;
  pads[rank + axis] = dims[axis] - cut.first - kept;
  return pads.some((p) => p !== 0) ? e.op('Pad', [t, e.ints(pads)]) : t;
}

const slice: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  const { node, ctx } = a;
  const [x, startsName, endsName, axesName, stepsName] = node.input!;
  const dims = ctx.dims(x);
  const starts = ctx.ints(startsName, node);
  const ends = ctx.ints(endsName, node);
  const axes = axesName
    ? ctx.ints(axesName, node).map((v) => normaliseAxis(v, dims.length))
    : starts.map((_, i) => i);
  const steps = stepsName ? ctx.ints(stepsName, node) : starts.map(() => 1);
  if (steps.some((s) => s === 0)) throw unsupported(node, 'Slice with step 0 is invalid');
  if (steps.some((s) => s !== 1)) {
    // Any step, negative included: undo one axis at a time (each leaves its axis full length).
    let t = g;
    const full = [...ctx.dims(node.output![0], node)];
    axes.forEach((axis, i) => {
      const cut = stridedCut(axis, starts[i], ends[i], steps[i], dims[axis]);
      full[axis] = dims[axis];
      t = scatterStrided(a, t, cut, full);
    });
    return [t];
  }
  const cut = axes
    .map((axis, i) => ({ axis, bounds: clampBounds(starts[i], ends[i], dims[axis]) }))
    .filter((c) => c.bounds[0] !== 0 || c.bounds[1] !== dims[c.axis]);
  if (cut.length === 0) return [g];
  if (cut.length === 1)
    return [{ tensor: g, axis: cut[0].axis, start: cut[0].bounds[0], end: cut[0].bounds[1] }];
  const pads = new Array<number>(2 * dims.length).fill(0);
  for (const c of cut) {
    pads[c.axis] = c.bounds[0];
    pads[dims.length + c.axis] = dims[c.axis] - c.bounds[1];
  }
  return [ctx.editor.op('Pad', [g, ctx.editor.ints(pads)])];
};

/** Constant-mode Pad: the gradient is the output gradient with the padding cut away again. */
const pad: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  const { node, ctx } = a;
  const mode = stringAttr(node, 'mode', 'constant');
  if (mode !== 'constant') throw unsupported(node, `Pad in '${mode}' mode has no gradient rule yet`);
  const [x, padsName, , axesName] = node.input!;
  const rank = ctx.rank(x);
  const given = padsName ? ctx.ints(padsName, node) : (intsAttr(node, 'pads') ?? []);
  const axes = axesName
    ? ctx.ints(axesName, node).map((v) => normaliseAxis(v, rank))
    : Array.from({ length: rank }, (_, i) => i);
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((axis, i) => {
    begin[axis] = given[i];
    end[axis] = given[axes.length + i];
  });
  // Cutting is a Slice of the padded gradient; negative pads (crops) become zero padding.
  const outDims = ctx.dims(node.output![0], node);
  const e = ctx.editor;
  let t = g;
  const sliceAxes = axes.filter((axis) => begin[axis] > 0 || end[axis] > 0);
  if (sliceAxes.length > 0)
    t = e.slice(
      t,
      sliceAxes.map((axis) => Math.max(begin[axis], 0)),
      sliceAxes.map((axis) => outDims[axis] - Math.max(end[axis], 0)),
      sliceAxes,
    );
  const back = [...begin.map((b) => Math.max(-b, 0)), ...end.map((v) => Math.max(-v, 0))];
  if (back.some((v) => v > 0)) t = e.op('Pad', [t, e.ints(back)]);
  return [t];
};

const gather: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  const { node, ctx } = a;
  const [x, indicesName] = node.input!;
  const dims = ctx.dims(x);
  const axis = normaliseAxis(intAttr(node, 'axis', 0), dims.length);
  const indexDims = ctx.dims(indicesName);
  const indices = ctx.ints(indicesName, node).map((i) => (i < 0 ? i + dims[axis] : i));
  if (indexDims.length === 0) {
    // x[..., i, ...]: the gradient is the output gradient re-inserted at position i.
    const placed: Contribution = {
      tensor: ctx.editor.unsqueeze(g, [axis]),
      axis,
      start: indices[0],
      end: indices[0] + 1,
    };
    return [placed];
  }
  const contiguous = indexDims.length === 1 && indices.every((v, i) => v === indices[0] + i);
  if (contiguous) return [{ tensor: g, axis, start: indices[0], end: indices[0] + indices.length }];
  return [scatterAdd(a, g, dims, axis, indices)];
};

/**
 * Any Gather (repeated, unordered or multi-dimensional indices, as exporters write as_strided):
 * each output element adds into the position it was read from (ScatterElements, reduction add).
 */
function scatterAdd(a: VjpArgs, g: string, dims: number[], axis: number, indices: number[]): string {
  const { node, ctx } = a;
  const e = ctx.editor;
  if (e.opset < 16) throw unsupported(node, 'Gather with scattered indices needs opset 16 or later');
  // g: [...before, ...indexDims, ...after] → [...before, k, ...after], indices broadcast alike.
  const before = dims.slice(0, axis);
  const after = dims.slice(axis + 1);
  const flat = e.op('Reshape', [g, e.ints([...before.map(() => 0), indices.length, ...after])]);
  const idx = e.ints(indices, [...before.map(() => 1), indices.length, ...after.map(() => 1)]);
  const spread = e.op('Expand', [idx, e.op('Shape', [flat])]);
  const zeros = e.op('ConstantOfShape', [ctx.shapeOf(node.input![0])], {
    value: floatTensor('zero', [1], [0]),
  });
  return e.op('ScatterElements', [zeros, spread, flat], { axis, reduction: 'add' });
}

const expand: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  return [a.ctx.unbroadcast(g, a.ctx.dims(a.node.output![0], a.node), a.node.input![0])];
};

export const shapeRules: Record<string, VjpRule> = {
  Transpose: transpose,
  Reshape: reshapeLike,
  Flatten: reshapeLike,
  Squeeze: reshapeLike,
  Unsqueeze: reshapeLike,
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
  Gather: gather,
  Expand: expand,
};
