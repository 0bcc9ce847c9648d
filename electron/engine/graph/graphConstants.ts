// The values a graph fixes before it runs: initializers and Constant nodes, by tensor name, and the
// integers among them (axes, bounds, indices), falling back to small tensors the probe run recorded.
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
