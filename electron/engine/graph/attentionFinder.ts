// Finds the attention probabilities of a ViT export: Softmax outputs that reach the left operand of
// a MatMul (the product with V), directly or through Dropout / Identity / Cast or a NaN guard
// (`Where(IsNaN(p), 0, p)`, which torch's dynamo exporter writes after scaled_dot_product_attention's
// softmax), in block (topological) order; or the nodes a model card names.
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
  /** Its output: the attention probabilities. */
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

/** Whether a tensor reaches a MatMul's left operand through pass-through ops only. */
function feedsMatMulLeft(
  tensor: string,
  consumers: Map<string, NodeProto[]>,
  producers: Map<string, NodeProto>,
): boolean {
  const queue = [tensor];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const t = queue.shift()!;
    for (const c of consumers.get(t) ?? []) {
      if (c.opType === 'MatMul' && c.input?.[0] === t) return true;
      const passes = PASS_THROUGH.has(c.opType ?? '') && c.input?.[0] === t;
      if (passes || isNanGuardOf(c, t, producers)) {
        const o = c.output?.[0];
        if (o && !seen.has(o)) {
          seen.add(o);
          queue.push(o);
        }
      }
    }
  }
  return false;
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
  const found = nodes
    .filter(
      (n) => n.opType === 'Softmax' && n.output?.[0] && feedsMatMulLeft(n.output[0], consumers, producers),
    )
    .map(site);
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
