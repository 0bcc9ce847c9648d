// The image embedding a classifier already computes: the input of its classification head, i.e. of
// the last MatMul/Gemm before the logits (on the class token, or on the pooled tokens). Found by
// walking back from the graph's first output through the head's bias, reshapes and casts; a model
// card's `embedding.tensor` names it instead where the walk cannot decide (e.g. two heads averaged).
import type { ModelProto, NodeProto } from '../onnx/onnxSchema';
import { EngineError } from '../errors';
import { activationTensors } from './graphConstants';

/** Ops between the head's MatMul and the logits that keep one data input (bias, reshape, cast…). */
const PASS_THROUGH = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Identity',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Cast',
]);

const MAX_STEPS = 16;

export interface EmbeddingHead {
  /** The tensor fed to the head: the embedding. */
  tensor: string;
  /** The head's node (MatMul or Gemm), for messages. */
  head: string;
}

const HINT =
  'set "embedding": {"tensor": "<name>"} in the model card (model.json) to the [batch, features] tensor ' +
  'the classification head reads';

/** The embedding tensor of `model`: the card's choice if given (checked to exist), else the head's input. */
export function findEmbeddingHead(model: ModelProto, named?: string): EmbeddingHead {
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) if (o) producer.set(o, n);
  if (named) {
    const known = producer.has(named) || (graph.input ?? []).some((i) => i.name === named);
    if (!known)
      throw new EngineError(
        `the model card names the embedding tensor "${named}", but the model has no tensor of that name; ` +
          'fix "embedding.tensor" in model.json (a node output, as listed by Netron or onnx.helper)',
        'embedding-not-found',
      );
    return { tensor: named, head: producer.get(named)?.name ?? named };
  }
  const live = activationTensors(graph);
  let tensor = graph.output?.[0]?.name ?? '';
  for (let step = 0; step < MAX_STEPS; step++) {
    const node = producer.get(tensor);
    if (!node) break;
    const op = node.opType ?? '';
    const data = (node.input ?? []).filter((x) => x && live.has(x));
    if (op === 'MatMul' || op === 'Gemm') {
      if (data.length === 1) return { tensor: data[0], head: node.name || op };
      throw new EngineError(
        `cannot tell the embedding: the last ${op} before the logits (${node.name || '?'}) multiplies two computed tensors; ${HINT}`,
        'embedding-not-found',
      );
    }
    if (!PASS_THROUGH.has(op) || data.length !== 1) {
      throw new EngineError(
        `cannot find the classification head: walking back from the output "${graph.output?.[0]?.name}" ` +
          `reached ${op} (${node.name || '?'}) with ${data.length} computed inputs before any MatMul/Gemm ` +
          `(e.g. two heads averaged); ${HINT}`,
        'embedding-not-found',
      );
    }
    tensor = data[0];
  }
  throw new EngineError(
    `cannot find the classification head: no MatMul/Gemm close before the output "${graph.output?.[0]?.name}"; ${HINT}`,
    'embedding-not-found',
  );
}
