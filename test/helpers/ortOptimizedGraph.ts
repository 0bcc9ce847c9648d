// The graph as ONNX Runtime runs it on the CPU provider after its EP-independent optimizers
// (level basic: constant folding, the transpose optimizer, eliminations), saved by ORT itself,
// with the element type of every tensor as ORT infers it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseModel, readModelFile, serializeModel } from '../../electron/engine/onnx/modelFile';
import { DataType, type ModelProto } from '../../electron/engine/onnx/onnxSchema';

const ELEMENT_TYPES: Record<string, number> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  int32: DataType.INT32,
  uint32: DataType.UINT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
  uint8: DataType.UINT8,
  int8: DataType.INT8,
  float64: DataType.DOUBLE,
};

export async function ortOptimizedGraph(
  model: ModelProto,
): Promise<{ model: ModelProto; types: Map<string, number> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-optimized-'));
  try {
    const file = path.join(dir, 'optimized.onnx');
    const session = await ort.InferenceSession.create(serializeModel(model), {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'basic',
      optimizedModelFilePath: file,
    });
    await session.release();
    const optimized = readModelFile(file).model;
    // ORT saves no value_info: list every tensor as an output of a copy and read their types
    // from a session that changes nothing.
    const probe = parseModel(serializeModel(optimized));
    const g = probe.graph!;
    const outputs = new Set((g.output ?? []).map((o) => o.name));
    for (const n of g.node ?? [])
      for (const o of n.output ?? [])
        if (o && !outputs.has(o)) {
          g.output!.push({ name: o });
          outputs.add(o);
        }
    const typed = await ort.InferenceSession.create(serializeModel(probe), {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'disabled',
    });
    const types = new Map<string, number>();
    for (const m of [...typed.inputMetadata, ...typed.outputMetadata])
      if (m.isTensor && ELEMENT_TYPES[m.type] !== undefined) types.set(m.name, ELEMENT_TYPES[m.type]);
    await typed.release();
    return { model: optimized, types };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
