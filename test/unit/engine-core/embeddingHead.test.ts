// The embedding is the classification head's input, fetched from the same ORT run as the logits:
// found in class-token heads (the bundled model, HF and timm exports) and mean-pooled heads (timm
// global_pool='avg', Swin), checked by recomputing the logits from it with the head's own weights.
// Models the walk cannot decide (two heads averaged) get a message naming the card field to set.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ClassifierSession } from '../../../electron/engine/classifierSession';
import { findEmbeddingHead } from '../../../electron/engine/graph/embeddingHead';
import { floatAttr, intAttr } from '../../../electron/engine/graph/nodeAttributes';
import { readNpy } from '../../../electron/engine/npy';
import { readModelAsFloat32 } from '../../../electron/engine/onnx/float16Upcast';
import { tensorValues } from '../../../electron/engine/onnx/tensorData';
import { repoRoot } from '../../helpers/serveProcess';

const CASES = [
  { dir: 'models/fashion-vit', input: [1, 28, 28], tensor: '/Gather_1_output_0', pooled: false },
  { dir: 'test/fixtures/hf-vit-ts', tensor: '/model/Gather_output_0', pooled: false },
  {
    dir: 'test/fixtures/timm-gap-vit-ts',
    tensor: '/model/fc_norm/LayerNormalization_output_0',
    pooled: true,
  },
  {
    dir: 'test/fixtures/timm-swin-ts',
    tensor: '/model/head/global_pool/pool/ReduceMean_output_0',
    pooled: true,
  },
  { dir: 'test/fixtures/timm-vit-fp16-ts', tensor: '/model/Gather_1_output_0', pooled: false },
];

/** The logits the head computes from the embedding: Gemm (or MatMul + Add) with its initializers. */
function headLogits(modelFile: string, embedding: Float32Array, dim: number, headName: string): Float32Array {
  const { model } = readModelAsFloat32(modelFile);
  const graph = model.graph!;
  const node = graph.node!.find((n) => n.name === headName)!;
  const init = (name: string) => {
    const t = graph.initializer!.find((i) => i.name === name);
    assert.ok(t, `the head's input ${name} is an initializer`);
    return { values: tensorValues(t) as Float32Array, dims: (t.dims ?? []).map(Number) };
  };
  const w = init(node.input![1]);
  const transB = node.opType === 'Gemm' ? intAttr(node, 'transB', 0) : 0;
  const classes = transB ? w.dims[0] : w.dims[1];
  const alpha = node.opType === 'Gemm' ? floatAttr(node, 'alpha', 1) : 1;
  let bias: Float32Array | null =
    node.opType === 'Gemm' && node.input![2] ? init(node.input![2]).values : null;
  if (!bias) {
    // MatMul then Add of the bias.
    const add = graph.node!.find((n) => n.opType === 'Add' && n.input!.includes(node.output![0]))!;
    bias = init(add.input!.find((i) => i !== node.output![0])!).values;
  }
  const out = new Float32Array(classes);
  for (let c = 0; c < classes; c++) {
    let s = 0;
    for (let k = 0; k < dim; k++)
      s += embedding[k] * (transB ? w.values[c * dim + k] : w.values[k * classes + c]);
    out[c] = alpha * s + bias[c];
  }
  return out;
}

describe('embedding head', () => {
  for (const c of CASES) {
    const file = path.join(repoRoot, c.dir, 'model.onnx');
    it(`${c.dir}: finds the ${c.pooled ? 'pooled tokens' : 'class token'} and returns it from the same run`, async (t) => {
      if (!fs.existsSync(file)) return t.skip(`${c.dir} is not present`);
      const { model } = readModelAsFloat32(file);
      const head = findEmbeddingHead(model);
      assert.equal(head.tensor, c.tensor);
      let input: Float32Array;
      let size: { channels: number; height: number; width: number };
      if (c.input) {
        size = { channels: c.input[0], height: c.input[1], width: c.input[2] };
        input = Float32Array.from(
          { length: c.input[0] * c.input[1] * c.input[2] },
          (_, i) => Math.sin(i) * 0.8,
        );
      } else {
        const npy = await readNpy(path.join(repoRoot, c.dir, 'input.npy'));
        size = { channels: npy.shape[1], height: npy.shape[2], width: npy.shape[3] };
        input = Float32Array.from(npy.data as Float32Array);
      }
      const session = await ClassifierSession.open(file, size, { provider: 'cpu', embedding: '' });
      try {
        assert.equal(session.embeddingTensor, c.tensor);
        assert.equal(session.embeddingProblem, null);
        const out = await session.logits(input, 1);
        assert.ok(out.embeddings && out.dim, 'an embedding came back');
        assert.equal(out.embeddings.length, out.dim);
        const recomputed = headLogits(file, out.embeddings, out.dim, head.head);
        const scale = Math.max(...out.values.map(Math.abs));
        const worst = Math.max(...out.values.map((v, k) => Math.abs(v - recomputed[k])));
        assert.ok(
          worst <= 1e-4 * Math.max(1, scale),
          `the head applied to the embedding gives the logits (off by ${worst})`,
        );
        // Without asking, no embedding is fetched.
        const plain = await ClassifierSession.open(file, size, { provider: 'cpu' });
        try {
          const p = await plain.logits(input, 1);
          assert.equal(p.embeddings, undefined);
          assert.deepEqual(Array.from(p.values), Array.from(out.values));
        } finally {
          await plain.close();
        }
      } finally {
        await session.close();
      }
    });
  }

  it('two heads averaged (distilled DeiT): says which card field to set; the named tensor works', async (t) => {
    const file = path.join(repoRoot, 'test/fixtures/deit-distilled/model.onnx');
    if (!fs.existsSync(file)) return t.skip('deit-distilled fixture absent');
    const { model } = readModelAsFloat32(file);
    assert.throws(() => findEmbeddingHead(model), /"embedding": \{"tensor": "<name>"\} in the model card/);
    const npy = await readNpy(path.join(repoRoot, 'test/fixtures/deit-distilled/input.npy'));
    const size = { channels: npy.shape[1], height: npy.shape[2], width: npy.shape[3] };
    const withProblem = await ClassifierSession.open(file, size, { provider: 'cpu', embedding: '' });
    try {
      assert.match(withProblem.embeddingProblem ?? '', /model\.json/);
      const out = await withProblem.logits(Float32Array.from(npy.data as Float32Array), 1);
      assert.equal(out.embeddings, undefined, 'predict still runs, without embeddings');
    } finally {
      await withProblem.close();
    }
    // A card naming the class token's tensor: the first Gather on the last norm's output.
    const named = model.graph!.node!.find((n) => n.opType === 'Gemm' || n.opType === 'MatMul')!;
    assert.throws(() => findEmbeddingHead(model, 'no-such-tensor'), /fix "embedding.tensor" in model.json/);
    assert.equal(findEmbeddingHead(model, named.output![0]).tensor, named.output![0]);
  });
});
