// AttnLRP's modified backward rules (relevanceRules.ts), each in isolation on a small graph run by
// ONNX Runtime against the rule computed here by hand, and conservation on the bundled model:
// the relevance at the patch embedding plus the shares of the bias terms (biases, class token,
// position embedding, the softmax's linearisation residual) adds up to the target logit.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildGradients } from '../../../electron/engine/graph/gradient/gradientBuilder';
import { GradientContext } from '../../../electron/engine/graph/gradient/vjpContext';
import { GraphEditor } from '../../../electron/engine/graph/graphEditor';
import { patchEmbeddingTensor } from '../../../electron/engine/graph/relevanceMap';
import { probeTensors } from '../../../electron/engine/graph/shapeProbe';
import { parseModel, readModelFile, serializeModel } from '../../../electron/engine/onnx/modelFile';
import type { ModelProto } from '../../../electron/engine/onnx/onnxSchema';
import { tensorValues } from '../../../electron/engine/onnx/tensorData';
import { preprocessImage } from '../../../electron/engine/preprocess';
import { parseModelCard } from '../../../electron/engine/modelCard';
import { buildModel, randomArray, rng, runModel } from './graphTestKit';

const root = path.join(__dirname, '..', '..', '..');

/** Runs y = model(x) and the AttnLRP-modified gradients ĝ of Σ seed ⊙ y for the named tensors. */
async function relevanceRun(
  model: ModelProto,
  inputName: string,
  x: Float32Array,
  dims: number[],
  wrt: string[],
  seed?: Float32Array,
): Promise<{
  values: Record<string, Float32Array>;
  grads: Float32Array[];
  seed: Float32Array;
  y: Float32Array;
}> {
  const info = await probeTensors(model, inputName, dims);
  const outName = model.graph!.output![0].name!;
  const outDims = info.get(outName)!.dims;
  const copy = parseModel(serializeModel(model));
  const editor = new GraphEditor(copy, copy.opsetImport![0].version!);
  editor.addInput('seed', 1, outDims);
  const grads = buildGradients(new GradientContext(editor, info), {
    output: outName,
    seed: 'seed',
    wrt,
    relevance: 'attn-lrp',
  });
  const named = grads.map((g, i) => {
    const name = `grad_${i}`;
    editor.node('Identity', [g], {}, [name]);
    editor.addOutput(name);
    return name;
  });
  const forward = wrt.filter((w) => !(copy.graph!.initializer ?? []).some((t) => t.name === w));
  for (const w of forward) if (!(copy.graph!.output ?? []).some((o) => o.name === w)) editor.addOutput(w);
  const s =
    seed ??
    randomArray(
      outDims.reduce((a, b) => a * b, 1),
      rng(7),
    );
  const r = await runModel(copy, {
    [inputName]: new ort.Tensor('float32', x, dims),
    seed: new ort.Tensor('float32', s, outDims),
  });
  const values: Record<string, Float32Array> = {};
  for (const w of forward) values[w] = r[w].data as Float32Array;
  return {
    values,
    grads: named.map((n) => r[n].data as Float32Array),
    seed: s,
    y: r[outName].data as Float32Array,
  };
}

const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((p, q) => p + q, 0);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Array.from(a).reduce((p, v, i) => p + v * b[i], 0);

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length);
  const scale = Math.max(1e-6, ...Array.from(expected, Math.abs));
  for (let i = 0; i < actual.length; i++)
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance * scale,
      `entry ${i}: ${actual[i]} vs ${expected[i]}`,
    );
}

describe('AttnLRP rules in isolation', () => {
  it('LayerNorm holds 1/σ constant: ĝ_x = (ĝ − mean ĝ)/σ with ĝ = G ⊙ scale; relevance conserved up to the bias', async () => {
    const D = 6;
    const scale = Array.from(randomArray(D, rng(1)));
    const bias = Array.from(randomArray(D, rng(2)));
    const model = buildModel(17, [2, D], (e) =>
      e.op('LayerNormalization', ['x', e.float(scale, [D]), e.float(bias, [D])], {
        axis: -1,
        epsilon: { f: 1e-5 },
      }),
    );
    const x = randomArray(2 * D, rng(3), 2);
    const { grads, seed, y } = await relevanceRun(model, 'x', x, [2, D], ['x']);
    for (let r = 0; r < 2; r++) {
      const row = x.subarray(r * D, (r + 1) * D);
      const mu = sum(row) / D;
      const sigma = Math.sqrt(sum(Array.from(row, (v) => (v - mu) ** 2)) / D + 1e-5);
      const gh = Array.from({ length: D }, (_, d) => seed[r * D + d] * scale[d]);
      const m = sum(gh) / D;
      close(
        grads[0].subarray(r * D, (r + 1) * D),
        gh.map((v) => (v - m) / sigma),
      );
      // Σ x ⊙ ĝ_x = Σ (y − b) ⊙ G: the bias keeps its share.
      const relevance = dot(row, grads[0].subarray(r * D, (r + 1) * D));
      const expected = Array.from({ length: D }, (_, d) => (y[r * D + d] - bias[d]) * seed[r * D + d]);
      assert.ok(Math.abs(relevance - sum(expected)) < 1e-4, `${relevance} vs ${sum(expected)}`);
    }
  });

  it("softmax takes the paper's rule R_x = x ⊙ (R_y − s·ΣR_y), R_y = s ⊙ ĝ_y", async () => {
    const model = buildModel(17, [3, 5], (e) => e.op('Softmax', ['x'], { axis: -1 }));
    const x = randomArray(15, rng(4), 3);
    const { grads, seed, y } = await relevanceRun(model, 'x', x, [3, 5], ['x']);
    for (let r = 0; r < 3; r++) {
      const ry = Array.from({ length: 5 }, (_, j) => y[r * 5 + j] * seed[r * 5 + j]);
      const total = sum(ry);
      const expected = ry.map((v, j) => x[r * 5 + j] * (v - y[r * 5 + j] * total));
      const actual = Array.from({ length: 5 }, (_, j) => x[r * 5 + j] * grads[0][r * 5 + j]);
      close(actual, expected);
    }
  });

  it('a MatMul of two activations (Q·Kᵀ, A·V) gives each operand half: ΣR_a + ΣR_b = ΣR_y', async () => {
    // y = a · b with a = x[:, :, :3] and b = (x[:, :, 3:])ᵀ-shaped via a Reshape: two activations.
    const model = buildModel(17, [2, 3, 6], (e) => {
      const a = e.slice('x', [0], [3], [2]);
      const b = e.op('Transpose', [e.slice('x', [3], [6], [2])], { perm: [0, 2, 1] });
      return e.op('MatMul', [a, b]);
    });
    const x = randomArray(36, rng(5));
    const { grads, seed, y } = await relevanceRun(model, 'x', x, [2, 3, 6], ['x']);
    // Exact gradient: dA = G·Bᵀ, dB = Aᵀ·G; the rule halves both.
    for (let n = 0; n < 2; n++) {
      const A = (i: number, k: number) => x[n * 18 + i * 6 + k];
      const B = (k: number, j: number) => x[n * 18 + j * 6 + 3 + k]; // b[k][j] = x[j][3 + k]
      const G = (i: number, j: number) => seed[n * 9 + i * 3 + j];
      for (let i = 0; i < 3; i++)
        for (let k = 0; k < 3; k++) {
          let dA = 0;
          let dB = 0;
          for (let j = 0; j < 3; j++) {
            dA += G(i, j) * B(k, j);
            dB += A(j, k) * G(j, i); // ∂/∂b[k][i] = Σ_j a[j][k] g[j][i], stored at x[i][3 + k]
          }
          assert.ok(Math.abs(grads[0][n * 18 + i * 6 + k] - dA / 2) < 1e-5);
          assert.ok(Math.abs(grads[0][n * 18 + i * 6 + 3 + k] - dB / 2) < 1e-5);
        }
    }
    assert.ok(Math.abs(dot(x, grads[0]) - dot(y, seed)) < 1e-4);
  });

  it('a product with a constant (a linear layer) keeps its exact gradient', async () => {
    const w = Array.from(randomArray(12, rng(6)));
    const model = buildModel(17, [2, 3], (e) => e.op('MatMul', ['x', e.float(w, [3, 4])]));
    const x = randomArray(6, rng(8));
    const { grads, seed } = await relevanceRun(model, 'x', x, [2, 3], ['x']);
    for (let r = 0; r < 2; r++)
      for (let k = 0; k < 3; k++) {
        let g = 0;
        for (let j = 0; j < 4; j++) g += seed[r * 4 + j] * w[k * 4 + j];
        assert.ok(Math.abs(grads[0][r * 3 + k] - g) < 1e-5);
      }
  });

  for (const [name, opset, build] of [
    ['Gelu (opset 20)', 20, (e: GraphEditor) => e.op('Gelu', ['x'])],
    [
      'GELU spelled out with Erf',
      17,
      (e: GraphEditor) =>
        e.op('Mul', [
          e.op('Mul', [
            'x',
            e.op('Add', [e.op('Erf', [e.op('Div', ['x', e.float(Math.SQRT2)])]), e.float(1)]),
          ]),
          e.float(0.5),
        ]),
    ],
    ['Tanh', 17, (e: GraphEditor) => e.op('Tanh', ['x'])],
    ['Relu', 17, (e: GraphEditor) => e.op('Relu', ['x'])],
  ] as const) {
    it(`${name} takes the identity rule: R_x = R_y element by element`, async () => {
      const model = buildModel(opset, [4, 5], build);
      const x = randomArray(20, rng(9), 3);
      const { grads, seed, y } = await relevanceRun(model, 'x', x, [4, 5], ['x']);
      close(
        Array.from(x, (v, i) => v * grads[0][i]),
        Array.from(y, (v, i) => v * seed[i]),
        1e-4,
      );
    });
  }

  it('a division by an activation holds the denominator constant', async () => {
    const model = buildModel(17, [2, 4], (e) =>
      e.op('Div', [
        'x',
        e.op('Add', [e.reduce('ReduceSum', e.op('Mul', ['x', 'x']), [1], true), e.float(1)]),
      ]),
    );
    const x = randomArray(8, rng(10));
    const { grads, seed } = await relevanceRun(model, 'x', x, [2, 4], ['x']);
    for (let r = 0; r < 2; r++) {
      const row = x.subarray(r * 4, (r + 1) * 4);
      const d = dot(row, row) + 1;
      close(
        grads[0].subarray(r * 4, (r + 1) * 4),
        Array.from({ length: 4 }, (_, j) => seed[r * 4 + j] / d),
      );
    }
  });
});

describe('AttnLRP conservation on the bundled model', () => {
  it('relevance at the patch embedding + the bias terms = the target logit', async () => {
    const dir = path.join(root, 'models/fashion-vit');
    const { model } = readModelFile(path.join(dir, 'model.onnx'));
    const card = parseModelCard(JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')), 'card');
    const info = await probeTensors(model, 'input', [1, 1, 28, 28]);
    const { tensor: patches } = patchEmbeddingTensor(model.graph!, info, [7, 7]);
    const graph = model.graph!;
    const inits = new Set((graph.initializer ?? []).map((t) => t.name));
    // Additive parameters: the relevance they take is the bias share the ε-rule leaves out.
    const sinks = new Set<string>();
    for (const n of graph.node ?? []) {
      const ins = n.input ?? [];
      const pick = (i: number) => ins[i] && inits.has(ins[i]) && sinks.add(ins[i]);
      if (n.opType === 'Add' || n.opType === 'Concat') ins.forEach((_, i) => pick(i));
      if (n.opType === 'LayerNormalization' || n.opType === 'Gemm') pick(2);
      if (n.opType === 'Expand') pick(0);
    }
    const softmax = (graph.node ?? []).filter((n) => n.opType === 'Softmax');
    assert.equal(softmax.length, 6);
    const softmaxTensors = softmax.flatMap((n) => [n.input![0], n.output![0]]);
    const wrt = [patches, ...sinks, ...softmaxTensors];
    // The parameters named as sinks include the Conv-free ones only (the Conv is below the patches).
    assert.ok(sinks.has('cls_token') && sinks.has('pos_embed'), [...sinks].join(', '));

    const file = path.join(root, 'models/demo/fashion-mnist/Coat/00006.png');
    const { tensor } = await preprocessImage(file, card.preprocessing, {
      channels: 1,
      height: 28,
      width: 28,
    });
    const logits = (await runModel(model, { input: new ort.Tensor('float32', tensor, [1, 1, 28, 28]) }))
      .logits.data as Float32Array;
    for (const target of [0, 4, 6]) {
      const onehot = new Float32Array(10);
      onehot[target] = 1;
      const { values, grads } = await relevanceRun(model, 'input', tensor, [1, 1, 28, 28], wrt, onehot);
      const at = (name: string) => grads[wrt.indexOf(name)];
      const initValue = (name: string) =>
        tensorValues(graph.initializer!.find((i) => i.name === name)!) as Float32Array;
      const input = dot(values[patches], at(patches));
      let biases = 0;
      for (const s of sinks) biases += dot(initValue(s), at(s));
      let residual = 0;
      for (const n of softmax) {
        const [x, y] = [n.input![0], n.output![0]];
        residual += dot(values[y], at(y)) - dot(values[x], at(x));
      }
      const total = input + biases + residual;
      assert.ok(
        Math.abs(total - logits[target]) < 1e-3 * Math.max(1, Math.abs(logits[target])),
        `class ${target}: input ${input.toFixed(4)} + biases ${biases.toFixed(4)} + softmax ${residual.toFixed(4)} = ${total.toFixed(4)}, logit ${logits[target].toFixed(4)}`,
      );
      // The input carries a real share of the logit, not a vanishing one.
      assert.ok(Math.abs(input) > 0.05 * Math.abs(logits[target]), `input relevance ${input}`);
    }
  });
});
