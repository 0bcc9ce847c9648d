// Learns every intermediate tensor's shape and element type (and the values of small integer
// tensors such as slice bounds) from one run of the original model with all of them exposed as
// outputs, on a deterministic dummy input of the model's input size.
import * as ort from 'onnxruntime-node';
import '../ortLogging';
import { EngineError } from '../errors';
import { serializeModel } from '../onnx/modelFile';
import type { ModelProto } from '../onnx/onnxSchema';

export interface TensorInfo {
  dims: number[];
  /** ONNX Runtime's type name: 'float32', 'int64', 'bool', … */
  type: string;
  /** Values of small integer tensors (≤ 64 elements). */
  ints?: number[];
}

export type TensorInfoMap = Map<string, TensorInfo>;

/** A smooth, non-constant dummy input (a constant image can make LayerNorm degenerate). */
function dummyInput(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * 0.5;
  return x;
}

export async function probeTensors(
  model: ModelProto,
  inputName: string,
  inputDims: number[],
): Promise<TensorInfoMap> {
  const graph = model.graph!;
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  const extra = [];
  for (const node of graph.node ?? [])
    for (const o of node.output ?? []) if (o && !existing.has(o)) extra.push({ name: o });
  const probe: ModelProto = { ...model, graph: { ...graph, output: [...(graph.output ?? []), ...extra] } };
  const otherInputs = (graph.input ?? []).filter(
    (i) => i.name !== inputName && !(graph.initializer ?? []).some((t) => t.name === i.name),
  );
  if (otherInputs.length > 0) {
    throw new EngineError(
      `The model has inputs besides '${inputName}' (${otherInputs.map((i) => i.name).join(', ')}); only single-image-input classifiers are supported.`,
      'unsupported-model',
    );
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(serializeModel(probe), {
      graphOptimizationLevel: 'disabled',
      executionProviders: ['cpu'],
    });
  } catch (e) {
    throw new EngineError(`ONNX Runtime cannot load the model: ${(e as Error).message}`, 'model-load-failed');
  }
  try {
    const n = inputDims.reduce((a, b) => a * b, 1);
    const result = await session.run({ [inputName]: new ort.Tensor('float32', dummyInput(n), inputDims) });
    const infos: TensorInfoMap = new Map([[inputName, { dims: inputDims, type: 'float32' }]]);
    for (const [name, value] of Object.entries(result)) {
      const info: TensorInfo = { dims: value.dims.map(Number), type: value.type };
      if ((value.type === 'int64' || value.type === 'int32') && value.size <= 64) {
        info.ints = Array.from(value.data as ArrayLike<number | bigint>, (v) => Number(v));
      }
      infos.set(name, info);
      value.dispose();
    }
    return infos;
  } finally {
    await session.release();
  }
}
