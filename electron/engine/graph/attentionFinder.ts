// Finds the attention probabilities of a ViT export: Softmax outputs that reach the left operand of
// a MatMul (the product with V), directly or through Dropout / Identity / Cast, a NaN guard
// (`Where(IsNaN(p), 0, p)`, which torch's dynamo exporter writes after scaled_dot_product_attention's
// softmax) or a talking-heads mix of the heads (CaiT), in block (topological) order; or the nodes a
// model card names.
import { EngineError } from '../errors';
import type { GraphProto, NodeProto } from '../onnx/onnxSchema';

const PASS_THROUGH = new Set(['Dropout', 'Identity', 'Cast']);
const FUSED_ATTENTION = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
]);

export interface AttentionSite {
  /** The Softmax node (or the node a card named). */
  node: NodeProto;
  /**
   * The attention A that multiplies V: the softmax output, or for talking-heads attention the
   * heads' mix after it.
   */
  tensor: string;
  /** A name to report: the node's name, or its output where the node has none. */
  label: string;
}

function consumersOf(graph: GraphProto): Map<string, NodeProto[]> {
  const map = new Map<string, NodeProto[]>();
  for (const n of graph.node ?? []) {
    for (const x of n.input ?? []) {
      if (!x) continue;
      const list = map.get(x) ?? [];
      list.push(n);
      map.set(x, list);
    }
  }
  return map;
}

function producersOf(graph: GraphProto): Map<string, NodeProto> {
  const map = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o) map.set(o, n);
  return map;
}

/** `Where(IsNaN(t), c, t)` or `Where(IsNaN(t), t, c)` read as t: it changes nothing but NaNs. */
function isNanGuardOf(node: NodeProto, t: string, producers: Map<string, NodeProto>): boolean {
  if (node.opType !== 'Where') return false;
  const [cond, a, b] = node.input ?? [];
  const test = producers.get(cond);
  const guarded = test?.opType === 'Not' ? producers.get(test.input?.[0] ?? '') : test;
  return guarded?.opType === 'IsNaN' && guarded.input?.[0] === t && (a === t || b === t);
}

/**
 * Talking-heads attention (CaiT) mixes the heads after the softmax with a linear layer over the
 * head axis: Transpose (heads last), MatMul by a constant [heads, heads], Add of a constant bias,
 * Transpose back. The output of that mix, or undefined where `first` does not begin one.
 */
function headMix(
  first: NodeProto,
  t: string,
  consumers: Map<string, NodeProto[]>,
  constant: (name: string) => boolean,
): string | undefined {
  const only = (x: string): NodeProto | undefined => {
    const list = consumers.get(x) ?? [];
    return list.length === 1 ? list[0] : undefined;
  };
  if (first.opType !== 'Transpose' || first.input?.[0] !== t) return undefined;
  const mul = only(first.output![0]);
  if (mul?.opType !== 'MatMul' || mul.input?.[0] !== first.output![0] || !constant(mul.input[1]))
    return undefined;
  let next = only(mul.output![0]);
  let out = mul.output![0];
  if (next?.opType === 'Add' && next.input?.some((x) => x !== out && constant(x))) {
    out = next.output![0];
    next = only(out);
  }
  return next?.opType === 'Transpose' ? next.output![0] : undefined;
}

/**
 * The tensor that multiplies V, where `tensor` (a softmax output) reaches a MatMul's left operand
 * through pass-through ops only: the softmax output itself, or after a talking-heads mix, the mix
 * (the attention A of METHOD.md is what multiplies V). Undefined where it reaches none.
 */
function attentionOperand(
  tensor: string,
  consumers: Map<string, NodeProto[]>,
  producers: Map<string, NodeProto>,
  constant: (name: string) => boolean,
): string | undefined {
  const queue: { t: string; mixed?: string }[] = [{ t: tensor }];
  const seen = new Set([tensor]);
  while (queue.length > 0) {
    const { t, mixed } = queue.shift()!;
    for (const c of consumers.get(t) ?? []) {
      if (c.opType === 'MatMul' && c.input?.[0] === t) return mixed ?? tensor;
      const passes = PASS_THROUGH.has(c.opType ?? '') && c.input?.[0] === t;
      const mix = mixed ? undefined : headMix(c, t, consumers, constant);
      const o = mix ?? (passes || isNanGuardOf(c, t, producers) ? c.output?.[0] : undefined);
      if (o && !seen.has(o)) {
        seen.add(o);
        queue.push({ t: o, mixed: mix ?? mixed });
      }
    }
  }
  return undefined;
}

const site = (node: NodeProto): AttentionSite => ({
  node,
  tensor: node.output![0],
  label: node.name || node.output![0],
});

export function findAttention(graph: GraphProto, named?: string[]): AttentionSite[] {
  const nodes = graph.node ?? [];
  if (named && named.length > 0) {
    return named.map((name) => {
      const node = nodes.find((n) => n.name === name) ?? nodes.find((n) => n.output?.[0] === name);
      if (!node)
        throw new EngineError(
          `The model card names attention node '${name}', but the model has no node or tensor of that name. Fix attention.nodes in model.json (or remove it to find the attention automatically).`,
          'bad-attention-nodes',
        );
      return site(node);
    });
  }
  const consumers = consumersOf(graph);
  const producers = producersOf(graph);
  const constants = new Set([
    ...(graph.initializer ?? []).map((t) => t.name ?? ''),
    ...nodes.filter((n) => n.opType === 'Constant').map((n) => n.output?.[0] ?? ''),
  ]);
  const constant = (name: string): boolean => constants.has(name);
  const found: AttentionSite[] = [];
  for (const n of nodes) {
    if (n.opType !== 'Softmax' || !n.output?.[0]) continue;
    const operand = attentionOperand(n.output[0], consumers, producers, constant);
    if (operand) found.push({ ...site(n), tensor: operand });
  }
  if (found.length === 0) {
    const fused = nodes.find((n) => FUSED_ATTENTION.has(n.opType ?? ''));
    const why = fused
      ? `its attention is a fused ${fused.opType} op (node '${fused.name}') of a form the engine does not rewrite into plain ops, so its probabilities are not visible in the graph; export without attention fusion`
      : 'no Softmax feeds a MatMul as its left operand (the attention × V pattern every ViT export has), so the model has no visible self-attention';
    throw new EngineError(
      `No attention found in the model: ${why}. Models without this pattern are not supported yet; if the attention is there under another pattern, name its softmax nodes in the model card (attention.nodes).`,
      'no-attention',
    );
  }
  return found;
}
