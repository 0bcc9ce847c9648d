// The head-token pruning pass on every export style: the logits and every block's attention are
// those of the original graph, the tail runs on the tokens the head reads (class token; DeiT's
// distillation token too), and a graph whose full token tensor is read elsewhere is left alone.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { analyseModel } from '../../../electron/engine/graph/explainGraph';
import { pruneHeadTokens } from '../../../electron/engine/graph/headTokenPruning';
import { readNpy } from '../../../electron/engine/npy';
import { readModelFile } from '../../../electron/engine/onnx/modelFile';
import type { ModelProto } from '../../../electron/engine/onnx/onnxSchema';
import { buildTinyVit, randomArray, rng, runModel, type TinyVitOptions } from './graphTestKit';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');
const KEPT: Record<string, number> = {
  'timm-fused-qkv': 1,
  'hf-separate-qkv': 1,
  'torchvision-vit': 1,
  'deit-distilled': 2,
  registers: 1,
  'nonsquare-grid': 1,
};

function withOutputs(model: ModelProto, names: string[]): ModelProto {
  const g = model.graph!;
  return { ...model, graph: { ...g, output: [...g.output!, ...names.map((name) => ({ name }))] } };
}

function maxAbsDiff(a: ort.Tensor, b: ort.Tensor): number {
  assert.deepEqual(a.dims, b.dims);
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

describe('head-token pruning', () => {
  for (const [style, kept] of Object.entries(KEPT)) {
    it(`${style}: same logits and attentions, tail on ${kept} token(s)`, async () => {
      const dir = path.join(FIXTURES, style);
      const { model } = readModelFile(path.join(dir, 'model.onnx'));
      const { analysis, info } = await analyseModel(model);
      const pruned = pruneHeadTokens(model, info, analysis.opset, analysis.tokens);
      assert.equal(pruned.tokensKept, kept);
      assert.ok(pruned.opsPruned >= 10, `only ${pruned.opsPruned} ops moved below the slice`);
      const npy = await readNpy(path.join(dir, 'input.npy'));
      const feeds = {
        [analysis.inputName]: new ort.Tensor(
          'float32',
          Float32Array.from(npy.data as ArrayLike<number>),
          npy.shape,
        ),
      };
      const outputs = [analysis.logitsName, ...analysis.attentionTensors];
      const before = await runModel(withOutputs(model, analysis.attentionTensors), feeds);
      const after = await runModel(withOutputs(pruned.model, analysis.attentionTensors), feeds);
      for (const name of outputs) assert.ok(maxAbsDiff(before[name], after[name]) <= 1e-5, name);
    });
  }

  // Heads that read the tokens by negative indices (the kept rows must be addressed from the
  // front after the slice) and a mean-pool head (reads every token: nothing may be pruned).
  const HEADS: { head: NonNullable<TinyVitOptions['head']>; kept: number | null }[] = [
    { head: 'class-token', kept: 1 },
    { head: 'gather-negative', kept: 4 },
    { head: 'slice-negative', kept: 4 },
    { head: 'mean-pool', kept: null },
  ];
  for (const { head, kept } of HEADS) {
    it(`tiny ViT, ${head} head: same logits and attentions, ${kept ?? 'all'} token(s) kept`, async () => {
      const model = buildTinyVit({ head });
      const { analysis, info } = await analyseModel(model);
      const pruned = pruneHeadTokens(model, info, analysis.opset, analysis.tokens);
      assert.equal(pruned.tokensKept, kept);
      if (kept !== null) assert.ok(pruned.opsPruned >= 5, `only ${pruned.opsPruned} ops moved`);
      const x = new ort.Tensor('float32', randomArray(3 * 64, rng(7)), [3, 1, 8, 8]);
      const outputs = [analysis.logitsName, ...analysis.attentionTensors];
      const before = await runModel(withOutputs(model, analysis.attentionTensors), { x });
      const after = await runModel(withOutputs(pruned.model, analysis.attentionTensors), { x });
      for (const name of outputs) {
        const diff = maxAbsDiff(before[name], after[name]);
        assert.ok(diff <= 1e-5, `${name} differs by ${diff}`);
      }
    });
  }

  it('leaves the graph alone when the last block output is read whole', async () => {
    const { model } = readModelFile(path.join(FIXTURES, 'timm-fused-qkv', 'model.onnx'));
    const { analysis, info } = await analyseModel(model);
    // The final LayerNorm's output, which the head slices, also exposed as a graph output (as HF
    // exports expose last_hidden_state): nothing may change.
    const norms = model.graph!.node!.filter((n) => n.opType === 'LayerNormalization');
    const exposed = withOutputs(model, [norms[norms.length - 1].output![0]]);
    const pruned = pruneHeadTokens(exposed, info, analysis.opset, analysis.tokens);
    assert.equal(pruned.tokensKept, null);
    assert.equal(pruned.opsPruned, 0);
    assert.equal(pruned.model.graph!.node!.length, model.graph!.node!.length);
  });
});
