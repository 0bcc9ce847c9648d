// Test helpers for the engine-core tests: small ONNX graphs built in code, and finite-difference
// checks of the gradient builder on a real ONNX Runtime session.
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GradientContext } from '../../../electron/engine/graph/gradient/vjpContext';
import { buildGradients } from '../../../electron/engine/graph/gradient/gradientBuilder';
import { GraphEditor, valueInfo } from '../../../electron/engine/graph/graphEditor';
import { probeTensors } from '../../../electron/engine/graph/shapeProbe';
import { parseModel, serializeModel } from '../../../electron/engine/onnx/modelFile';
import type { ModelProto } from '../../../electron/engine/onnx/onnxSchema';
import { seededRandom as rng } from '../../../electron/workstation/compare/seededRandom';

/** A deterministic pseudo-random generator (mulberry32) so failures reproduce. */
export { rng };

export function randomArray(n: number, random: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (random() * 2 - 1) * scale;
  return a;
}

/** A model with one float input 'x' of the given dims; `build` adds nodes and returns the output. */
export function buildModel(
  opset: number,
  inputDims: (number | string)[],
  build: (e: GraphEditor) => string,
): ModelProto {
  const model: ModelProto = {
    irVersion: opset >= 19 ? 9 : 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'vsw-test',
    graph: { name: 'test', node: [], input: [valueInfo('x', 1, inputDims)], output: [], initializer: [] },
  };
  const editor = new GraphEditor(model, opset, 'test');
  const out = build(editor);
  model.graph!.output = [valueInfo(out, 1)];
  return parseModel(serializeModel(model)); // through the codec, as a file would be
}

export async function runModel(
  model: ModelProto,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(serializeModel(model), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
  });
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

/**
 * Checks d(Σ seed ⊙ y)/dx from the gradient builder against central finite differences along a
 * few random directions. Returns the worst relative error.
 */
export async function gradientError(model: ModelProto, inputDims: number[], seedValue = 1): Promise<number> {
  const random = rng(seedValue);
  const n = inputDims.reduce((a, b) => a * b, 1);
  const x = randomArray(n, random);
  const info = await probeTensors(model, 'x', inputDims);
  const outName = model.graph!.output![0].name!;
  const outDims = info.get(outName)!.dims;
  const seed = randomArray(
    outDims.reduce((a, b) => a * b, 1),
    random,
  );

  const gradModel = parseModel(serializeModel(model));
  const editor = new GraphEditor(gradModel, gradModel.opsetImport![0].version!);
  editor.addInput('seed', 1, outDims);
  const [g] = buildGradients(new GradientContext(editor, info), {
    output: outName,
    seed: 'seed',
    wrt: ['x'],
  });
  editor.addOutput(g);
  const result = await runModel(gradModel, {
    x: new ort.Tensor('float32', x, inputDims),
    seed: new ort.Tensor('float32', seed, outDims),
  });
  const grad = result[g].data as Float32Array;
  assert.equal(grad.length, n);

  const f = async (xs: Float32Array): Promise<number> => {
    const r = await runModel(model, { x: new ort.Tensor('float32', xs, inputDims) });
    const y = r[outName].data as Float32Array;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * seed[i];
    return s;
  };
  let worst = 0;
  for (let d = 0; d < 3; d++) {
    const v = randomArray(n, random);
    const h = 1e-2;
    const plus = Float32Array.from(x, (xi, i) => xi + h * v[i]);
    const minus = Float32Array.from(x, (xi, i) => xi - h * v[i]);
    const fd = ((await f(plus)) - (await f(minus))) / (2 * h);
    let an = 0;
    for (let i = 0; i < n; i++) an += grad[i] * v[i];
    worst = Math.max(worst, Math.abs(fd - an) / Math.max(Math.abs(fd), Math.abs(an), 1e-3));
  }
  return worst;
}

export interface TinyVitOptions {
  opset?: number;
  /** An op inserted between the class token and the head (e.g. one with no gradient rule). */
  extraOp?: string;
  /** Patch embedding by Reshape + MatMul instead of a Conv (the grid cannot be inferred). */
  noConv?: boolean;
  /** The op that makes attention probabilities (Softmax normally). */
  attentionOp?: string;
  /** A fixed batch of 1 in the input shape. */
  fixedBatch?: boolean;
  /**
   * How the head reads the last block's tokens: the class token by Gather(0) (default), a token
   * by a negative Gather index, the rows [0, -1) by a Slice with a negative end (then averaged),
   * or the mean over every token (a mean-pool head, the class token included).
   */
  head?: 'class-token' | 'gather-negative' | 'slice-negative' | 'mean-pool';
}

/**
 * A 2-block, 2-head ViT on 1×8×8 images: 4×4 patches (grid 2×2), a class token, 3 classes, random
 * weights; written with the engine's own graph editor, as a timm export would be laid out.
 */
export function buildTinyVit(options: TinyVitOptions = {}): ModelProto {
  const opset = options.opset ?? 17;
  const random = rng(42);
  const D = 8;
  const H = 2;
  const hd = D / H;
  const T = 5;
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'vsw-test',
    graph: {
      name: 'tiny-vit',
      node: [],
      input: [valueInfo('x', 1, [options.fixedBatch ? 1 : 'batch', 1, 8, 8])],
      output: [],
      initializer: [],
    },
  };
  const e = new GraphEditor(model, opset, 'vit');
  const w = (dims: number[], scale = 0.4): string =>
    e.float(
      Array.from(
        randomArray(
          dims.reduce((a, b) => a * b, 1),
          random,
          scale,
        ),
      ),
      dims,
    );
  let patches: string;
  if (options.noConv) {
    patches = e.op('MatMul', [e.op('Reshape', ['x', e.ints([0, 4, 16])]), w([16, D])]);
  } else {
    const conv = e.op('Conv', ['x', w([D, 1, 4, 4]), w([D])], { kernel_shape: [4, 4], strides: [4, 4] });
    patches = e.op('Transpose', [e.op('Reshape', [conv, e.ints([0, D, -1])])], { perm: [0, 2, 1] });
  }
  const cls = e.op('Add', [e.op('Mul', [e.slice(patches, [0], [1], [1]), e.float(0)]), w([1, 1, D])]);
  let x = e.op('Add', [e.op('Concat', [cls, patches], { axis: 1 }), w([1, T, D], 0.1)]);
  const heads = (t: string): string =>
    e.op('Transpose', [e.op('Reshape', [t, e.ints([0, T, H, hd])])], { perm: [0, 2, 1, 3] });
  for (let b = 0; b < 2; b++) {
    const n = e.op('LayerNormalization', [x, w([D], 1), w([D], 0.1)], { axis: -1, epsilon: { f: 1e-5 } });
    const q = heads(e.op('MatMul', [n, w([D, D])]));
    const k = heads(e.op('MatMul', [n, w([D, D])]));
    const v = heads(e.op('MatMul', [n, w([D, D])]));
    const scores = e.op('Mul', [
      e.op('MatMul', [q, e.op('Transpose', [k], { perm: [0, 1, 3, 2] })]),
      e.float(1 / Math.sqrt(hd)),
    ]);
    const p = e.op(options.attentionOp ?? 'Softmax', [scores], options.attentionOp ? {} : { axis: -1 });
    const o = e.op('Reshape', [
      e.op('Transpose', [e.op('MatMul', [p, v])], { perm: [0, 2, 1, 3] }),
      e.ints([0, T, D]),
    ]);
    x = e.op('Add', [x, e.op('Add', [e.op('MatMul', [o, w([D, D])]), w([D], 0.1)])]);
    const h = e.op('Tanh', [
      e.op('MatMul', [e.op('LayerNormalization', [x, w([D], 1)], { axis: -1 }), w([D, 2 * D])]),
    ]);
    x = e.op('Add', [x, e.op('MatMul', [h, w([2 * D, D])])]);
  }
  const last = e.op('LayerNormalization', [x, w([D], 1)], { axis: -1 });
  const head = options.head ?? 'class-token';
  let c: string;
  if (head === 'mean-pool') c = e.reduce('ReduceMean', last, [1], false);
  else if (head === 'slice-negative')
    c = e.reduce('ReduceMean', e.op('Slice', [last, e.ints([0]), e.ints([-1]), e.ints([1])]), [1], false);
  else c = e.op('Gather', [last, e.ints([head === 'gather-negative' ? -2 : 0], [])], { axis: 1 });
  if (options.extraOp) c = e.op(options.extraOp, [c]);
  const logits = e.op('Gemm', [c, w([3, D]), w([3], 0.1)], { transB: 1 });
  model.graph!.output = [valueInfo(logits, 1, [options.fixedBatch ? 1 : 'batch', 3])];
  return parseModel(serializeModel(model));
}
