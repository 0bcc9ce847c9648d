// Reading and writing ONNX model files: protobuf decode/encode of ModelProto, external data
// (weights stored beside the .onnx file) resolved on read and optionally written out again, and the
// content hash that keys the explain-graph cache.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../errors';
import { commitFile } from '../atomicFile';
import { type ModelProto, modelSchema, type TensorProto } from './onnxSchema';
import { decodeMessage, encodeMessage, encodeMessageChunks, WireFormatError } from './protobufWire';

const EXTERNAL = 1;

export interface LoadedModel {
  model: ModelProto;
  /** sha256 over the model file and every external data file it names (hex). */
  sha256: string;
}

/** Decodes ModelProto bytes; a malformed file becomes an EngineError naming the file. */
export function parseModel(bytes: Uint8Array, source = 'the model'): ModelProto {
  let model: ModelProto;
  try {
    model = decodeMessage(bytes, modelSchema) as ModelProto;
  } catch (e) {
    const why = e instanceof WireFormatError ? e.message : String(e);
    throw new EngineError(
      `${source} is not a valid ONNX file (protobuf decoding failed: ${why}). Re-export the model or check the file was copied completely.`,
      'corrupt-onnx',
    );
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0 || !model.opsetImport) {
    throw new EngineError(
      `${source} is not a valid ONNX model: it has no graph or no opset. Re-export the model or check the file was copied completely.`,
      'corrupt-onnx',
    );
  }
  return model;
}

export function serializeModel(model: ModelProto): Uint8Array {
  return encodeMessage(model as Record<string, unknown>, modelSchema);
}

/** Reads a model file, inlining any external data, and hashes everything it read. */
export function readModelFile(modelPath: string): LoadedModel {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(modelPath);
  } catch (e) {
    throw new EngineError(
      `Cannot read the model file ${modelPath}: ${(e as Error).message}`,
      'model-not-found',
    );
  }
  const hash = createHash('sha256').update(bytes);
  const model = parseModel(bytes, modelPath);
  const externals = new Map<string, Buffer>();
  for (const t of allTensors(model)) {
    if (t.dataLocation !== EXTERNAL) continue;
    const info = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = info.get('location');
    if (!location)
      throw new EngineError(
        `Tensor ${t.name} in ${modelPath} is marked external but names no location; the model file is damaged.`,
        'corrupt-onnx',
      );
    const file = path.resolve(path.dirname(modelPath), location);
    let data = externals.get(file);
    if (!data) {
      try {
        data = fs.readFileSync(file);
      } catch (e) {
        throw new EngineError(
          `The external weights file ${location} of ${modelPath} cannot be read (${(e as Error).message}); keep it beside the model.`,
          'missing-external-data',
        );
      }
      externals.set(file, data);
      hash.update(data);
    }
    const offset = Number(info.get('offset') ?? 0);
    const length = info.has('length') ? Number(info.get('length')) : data.length - offset;
    if (offset + length > data.length)
      throw new EngineError(
        `Tensor ${t.name} lies past the end of ${location}; the external data file is truncated.`,
        'corrupt-onnx',
      );
    t.rawData = data.subarray(offset, offset + length);
    delete t.dataLocation;
    delete t.externalData;
  }
  return { model, sha256: hash.digest('hex') };
}

/** Every tensor of the main graph that holds weights: initializers and Constant node values. */
function* allTensors(model: ModelProto): Generator<TensorProto> {
  const graph = model.graph!;
  for (const t of graph.initializer ?? []) yield t;
  for (const n of graph.node ?? []) for (const a of n.attribute ?? []) if (a.t) yield a.t;
}

export interface WriteOptions {
  /** Move tensors larger than this many bytes to `<file>.data` (needed above protobuf's 2 GiB limit). */
  externalDataThreshold?: number;
}

const PROTOBUF_LIMIT = 2 ** 31 - 1;

/**
 * Writes a model atomically (temp file + rename). Large models get their big tensors written to an
 * external data file beside it, as ONNX Runtime expects.
 */
export function writeModelFile(model: ModelProto, modelPath: string, options: WriteOptions = {}): void {
  const dir = path.dirname(modelPath);
  fs.mkdirSync(dir, { recursive: true });
  let toWrite = model;
  let threshold = options.externalDataThreshold;
  const total = [...allTensors(model)].reduce((s, t) => s + (t.rawData?.length ?? 0), 0);
  if (threshold === undefined && total > PROTOBUF_LIMIT - (64 << 20)) threshold = 1024;
  const dataName = path.basename(modelPath) + '.data';
  const tmpSuffix = `.tmp-${process.pid}-${Date.now()}`;
  if (threshold !== undefined) {
    toWrite = structuredCloneShallowTensors(model);
    const fd = fs.openSync(path.join(dir, dataName + tmpSuffix), 'w');
    let offset = 0;
    try {
      for (const t of allTensors(toWrite)) {
        const raw = t.rawData;
        if (!raw || raw.length <= threshold) continue;
        const pad = (4096 - (offset % 4096)) % 4096; // page-aligned, so ORT can map it
        if (pad) fs.writeSync(fd, new Uint8Array(pad));
        offset += pad;
        fs.writeSync(fd, raw);
        t.externalData = [
          { key: 'location', value: dataName },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.length) },
        ];
        t.dataLocation = EXTERNAL;
        delete t.rawData;
        offset += raw.length;
      }
    } finally {
      fs.closeSync(fd);
    }
    commitFile(path.join(dir, dataName + tmpSuffix), path.join(dir, dataName));
  }
  const { chunks } = encodeMessageChunks(toWrite as Record<string, unknown>, modelSchema);
  const tmp = modelPath + tmpSuffix;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const c of chunks) fs.writeSync(fd, c);
  } finally {
    fs.closeSync(fd);
  }
  commitFile(tmp, modelPath); // fsync and rename: a crash never leaves a torn graph in the cache
}

/** A copy of the model whose tensor objects may be edited without touching the original. */
function structuredCloneShallowTensors(model: ModelProto): ModelProto {
  const graph = model.graph!;
  return {
    ...model,
    graph: {
      ...graph,
      initializer: (graph.initializer ?? []).map((t) => ({ ...t })),
      node: (graph.node ?? []).map((n) =>
        n.attribute?.some((a) => a.t)
          ? { ...n, attribute: n.attribute.map((a) => (a.t ? { ...a, t: { ...a.t } } : a)) }
          : n,
      ),
    },
  };
}

/** The default-domain opset version the model imports. */
export function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry || entry.version === undefined)
    throw new EngineError(
      'The model imports no default ONNX opset; it is not a standard ONNX export.',
      'corrupt-onnx',
    );
  return entry.version;
}
