// Vector-Jacobian rules of the ops that mix values along an axis: Softmax, LayerNormalization,
// ReduceSum and ReduceMean (axes as attribute or, from opsets 13/18, as input).
import { intAttr } from '../nodeAttributes';
import type { NodeProto } from '../../onnx/onnxSchema';
import { keptReductionGradient, normaliseAxis, unsupported, type VjpRule } from './vjpContext';

const softmax: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  const { node, ctx } = a;
  const e = ctx.editor;
  const y = node.output![0];
  const rank = ctx.rank(y);
  const axis = normaliseAxis(intAttr(node, 'axis', ctx.editor.opset >= 13 ? -1 : 1), rank);
  if (ctx.editor.opset < 13 && axis !== rank - 1)
    throw unsupported(node, 'Softmax before opset 13 over other than the last axis');
  // dX = Y ⊙ G − Y · Σ_axis(Y ⊙ G)
  const yg = e.op('Mul', [y, g]);
  return [e.op('Sub', [yg, e.op('Mul', [y, e.reduce('ReduceSum', yg, [axis], true)])])];
};

const layerNorm: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g) return [];
  const { node, ctx } = a;
  if (a.needs(1) || a.needs(2))
    throw unsupported(node, 'LayerNormalization whose scale or bias depends on the input is not supported');
  if (!a.needs(0)) return [];
  const e = ctx.editor;
  const [x, scale] = node.input!;
  const dims = ctx.dims(x);
  const axis = normaliseAxis(intAttr(node, 'axis', -1), dims.length);
  const axes = Array.from({ length: dims.length - axis }, (_, i) => axis + i);
  // The forward kernel already computes each row's mean and 1/σ: expose them as its optional
  // outputs (replacing the node in the graph copy, never the caller's model) instead of redoing
  // two reductions per LayerNorm in the backward.
  const { mean, invStd } = layerNormStatistics(ctx.editor.graph.node ?? [], node, e.uniqueName.bind(e));
  const xhat = e.op('Mul', [e.op('Sub', [x, mean]), invStd]);
  // dX = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)), ĝ = G ⊙ scale
  const gh = scale ? e.op('Mul', [g, scale]) : g;
  const meanG = e.reduce('ReduceMean', gh, axes, true);
  const meanGX = e.reduce('ReduceMean', e.op('Mul', [gh, xhat]), axes, true);
  const inner = e.op('Sub', [e.op('Sub', [gh, meanG]), e.op('Mul', [xhat, meanGX])]);
  return [e.op('Mul', [inner, invStd])];
};

/** The LayerNormalization's Mean and InvStdDev outputs, added to its node where the export left them off. */
function layerNormStatistics(
  nodes: NodeProto[],
  node: NodeProto,
  uniqueName: (base: string) => string,
): { mean: string; invStd: string } {
  const outputs = [...(node.output ?? [])];
  if (!outputs[1]) outputs[1] = uniqueName('layernorm_mean');
  if (!outputs[2]) outputs[2] = uniqueName('layernorm_inv_std');
  const index = nodes.indexOf(node);
  if (index >= 0 && (outputs[1] !== node.output?.[1] || outputs[2] !== node.output?.[2]))
    nodes[index] = { ...node, output: outputs };
  return { mean: outputs[1], invStd: outputs[2] };
}

/** ReduceSum / ReduceMean: spread the gradient back over the reduced axes. */
function reduction(mean: boolean): VjpRule {
  return (a) => {
    const g = a.gradOut(0);
    if (!g || !a.needs(0)) return [];
    const { node, ctx } = a;
    const e = ctx.editor;
    const x = node.input![0];
    const kept = keptReductionGradient(ctx, node, g);
    if (kept === undefined) return [g];
    const { axes, dims } = kept;
    let spread = kept.gKeep;
    if (mean) spread = e.op('Mul', [spread, e.float(1 / axes.reduce((p, i) => p * dims[i], 1))]);
    return [e.op('Expand', [spread, ctx.shapeOf(x)])];
  };
}

export const normalizationRules: Record<string, VjpRule> = {
  Softmax: softmax,
  LayerNormalization: layerNorm,
  ReduceSum: reduction(false),
  ReduceMean: reduction(true),
};
