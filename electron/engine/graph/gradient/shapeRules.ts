// Vector-Jacobian rules of the data-movement ops: Transpose, the reshaping family, Concat, Split,
// Slice, Gather and Expand. Pieces taken out of a tensor return "placed" contributions that the
// accumulator joins with one Concat where they tile the axis.
import { floatTensor } from '../../onnx/tensorData';
import { intAttr, intsAttr } from '../nodeAttributes';
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
  if (steps.some((s) => s !== 1))
    throw unsupported(node, 'Slice with a step other than 1 has no gradient rule yet');
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
  throw unsupported(node, 'Gather with non-contiguous or multi-dimensional indices has no gradient rule yet');
};

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
  Gather: gather,
  Expand: expand,
};
