// The values a graph fixes before it runs: initializers and Constant nodes, by tensor name, and the
// integers among them (axes, bounds, indices), falling back to small tensors the probe run recorded;
// and their complement, the tensors computed from the graph's data inputs.
import type { GraphProto, TensorProto } from '../onnx/onnxSchema';
import { tensorIntegers } from '../onnx/tensorData';
import type { TensorInfoMap } from './shapeProbe';

export function graphConstants(graph: GraphProto): Map<string, TensorProto> {
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', t);
  for (const n of graph.node ?? []) {
    const value =
      n.opType === 'Constant' ? (n.attribute ?? []).find((a) => a.name === 'value')?.t : undefined;
    if (value && n.output?.[0]) constants.set(n.output[0], value);
  }
  return constants;
}

/** Integer values of `name`: a constant's, else the probe's record of a small tensor; undefined if neither. */
export function knownIntegers(
  name: string,
  constants: Map<string, TensorProto>,
  info: TensorInfoMap,
): number[] | undefined {
  const c = constants.get(name);
  return c ? tensorIntegers(c) : info.get(name)?.ints;
}

/** Ops that read only their input's shape, so their outputs are shape arithmetic. */
const SHAPE_READERS = new Set(['Shape', 'Size']);

/**
 * Tensors computed from the graph's data inputs (the image, the target one-hot): the activations
 * and what is derived from their values, as opposed to shape arithmetic and constants.
 */
export function activationTensors(graph: GraphProto): Set<string> {
  const inits = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const live = new Set((graph.input ?? []).map((i) => i.name ?? '').filter((n) => !inits.has(n)));
  for (const n of graph.node ?? []) {
    if (SHAPE_READERS.has(n.opType ?? '')) continue;
    if ((n.input ?? []).some((x) => x && live.has(x))) for (const o of n.output ?? []) if (o) live.add(o);
  }
  return live;
}
