// A rough cost of one image through a transformer classifier: every weight is used once per
// token, a multiply and an add (attention's own token × token products are left out). Enough to
// tell a model whose explain takes a couple of milliseconds from one that takes a hundred, which
// is what choosing ONNX Runtime's threads needs (providers.ts: defaultThreads).
import { DataType, type ModelProto } from './onnxSchema';

const FLOATING = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);

/** Elements of the model's floating-point initializers (its weights). */
export function weightCount(model: ModelProto): number {
  let count = 0;
  for (const t of model.graph?.initializer ?? [])
    if (FLOATING.has(t.dataType ?? 0)) count += (t.dims ?? []).reduce((a, d) => a * Number(d), 1);
  return count;
}

/** GFLOP of one image's forward pass over `tokens` tokens: 2 × weights × tokens. */
export function forwardGflop(model: ModelProto, tokens: number): number {
  return (2 * weightCount(model) * tokens) / 1e9;
}
