// The rewrites that keep the explain graphs on ORT's WebGPU provider: every op on image data has
// a WebGPU kernel (checked statically against the provider's kernel list, for every fixture and
// the bundled model), the rewritten ops give the same values on real ONNX Runtime sessions, and
// the fixtures' fused maps are unchanged on the CPU (≤ 1e-5).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { analyseModel, buildExplainGraph } from '../../../electron/engine/graph/explainGraph';
import { buildFusedSaliencyGraph } from '../../../electron/engine/graph/fusedSaliency';
import { pruneHeadTokens } from '../../../electron/engine/graph/headTokenPruning';
import { cpuBoundActivationNodes, rewriteForWebGpu } from '../../../electron/engine/graph/webgpuRewrites';
import { METHOD_NAMES, resolveMethodOptions } from '../../../electron/engine/methods';
import { readNpy } from '../../../electron/engine/npy';
import { readModelForExplain } from '../../../electron/engine/graph/fusedOpRewrite';
import { parseModel, serializeModel } from '../../../electron/engine/onnx/modelFile';
import type { ModelProto } from '../../../electron/engine/onnx/onnxSchema';
import { buildModel, randomArray, rng, runModel } from './graphTestKit';

const ROOT = path.join(__dirname, '..', '..', '..');
/**
 * Windowed fixtures (Swin, VOLO) are left out: putting their windows back on the grid is a Gather
 * by a permutation (and HF's as_strided export has its own), which WebGPU may run on the CPU.
 */
const windowed = (file: string): boolean => {
  const ref = path.join(path.dirname(file), 'reference.json');
  return (
    fs.existsSync(ref) &&
    (JSON.parse(fs.readFileSync(ref, 'utf8')) as { windowed?: boolean }).windowed === true
  );
};
const MODELS = [
  ...fs
    .readdirSync(path.join(ROOT, 'test', 'fixtures'))
    .map((s) => path.join(ROOT, 'test', 'fixtures', s, 'model.onnx')),
  path.join(ROOT, 'models', 'fashion-vit', 'model.onnx'),
].filter((f) => fs.existsSync(f) && !windowed(f));

function copyOf(model: ModelProto): ModelProto {
  return parseModel(serializeModel(model));
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs `model` as is and rewritten; returns the largest difference over all outputs. */
async function rewrittenDiff(model: ModelProto, feeds: Record<string, ort.Tensor>): Promise<number> {
  const rewritten = copyOf(model);
  const count = rewriteForWebGpu(rewritten, rewritten.opsetImport![0].version!);
  assert.ok(count > 0, 'the graph has something to rewrite');
  const before = await runModel(model, feeds);
  const after = await runModel(rewritten, feeds);
  let worst = 0;
  for (const name of Object.keys(before)) {
    assert.deepEqual(after[name].dims, before[name].dims, `${name} keeps its shape`);
    worst = Math.max(worst, maxAbs(after[name].data as Float32Array, before[name].data as Float32Array));
  }
  return worst;
}

describe('WebGPU rewrites on small graphs (values unchanged on ONNX Runtime)', () => {
  const x = randomArray(2 * 3 * 4 * 5, rng(7));
  const feeds = { x: new ort.Tensor('float32', x, [2, 3, 4, 5]) };

  for (const [label, index, axis] of [
    ['scalar index 1 on axis 1', 1, 1],
    ['scalar index -1 on axis 2', -1, 2],
    ['scalar index -2 on axis -1', -2, -1],
    ['scalar index 0 on axis 0', 0, 0],
  ] as const) {
    it(`Gather with a ${label} becomes Slice + Squeeze`, async () => {
      const model = buildModel(17, [2, 3, 4, 5], (e) =>
        e.op('Gather', [e.op('Mul', ['x', e.float(2)]), e.ints([index], [])], { axis }),
      );
      assert.equal(await rewrittenDiff(model, feeds), 0);
      const rewritten = copyOf(model);
      rewriteForWebGpu(rewritten, 17);
      const ops = rewritten.graph!.node!.map((n) => n.opType);
      assert.ok(!ops.includes('Gather') && ops.includes('Slice') && ops.includes('Squeeze'), ops.join(' '));
    });
  }

  it('Gather with contiguous 1-D indices becomes one Slice', async () => {
    const model = buildModel(17, [2, 3, 4, 5], (e) =>
      e.op('Gather', [e.op('Mul', ['x', e.float(2)]), e.ints([1, 2, 3])], { axis: 3 }),
    );
    assert.equal(await rewrittenDiff(model, feeds), 0);
  });

  it('Gather with scattered indices stays a Gather', () => {
    const model = buildModel(17, [2, 3, 4, 5], (e) =>
      e.op('Gather', [e.op('Mul', ['x', e.float(2)]), e.ints([0, 2])], { axis: 3 }),
    );
    assert.equal(rewriteForWebGpu(model, 17), 0);
  });

  for (const n of [1, 2, 3, 5]) {
    it(`Sum of ${n} broadcast input(s) becomes Add`, async () => {
      const model = buildModel(17, [2, 3, 4, 5], (e) => {
        const terms = Array.from({ length: n }, (_, i) =>
          i % 2 ? e.float(i + 0.5) : e.op('Mul', ['x', e.float(i + 1)]),
        );
        return e.op('Sum', terms);
      });
      assert.ok((await rewrittenDiff(model, feeds)) < 1e-6);
    });
  }
});

describe('explain graphs keep every activation op on WebGPU', () => {
  for (const file of MODELS) {
    const name = path.relative(ROOT, file);
    it(`${name}: no CPU-bound op on activations; fused maps unchanged on the CPU`, async () => {
      const { model } = readModelForExplain(file); // as ExplainSession opens it
      const { analysis, info } = await analyseModel(model);
      const pruned = pruneHeadTokens(model, info, analysis.opset, analysis.tokens);
      const explain = buildExplainGraph(pruned.model, analysis, pruned.info, true).model;
      rewriteForWebGpu(explain, analysis.opset);
      assert.deepEqual(
        cpuBoundActivationNodes(explain.graph!, analysis.opset).map(
          ({ node, why }) => `${node.name}: ${why}`,
        ),
        [],
        'explain graph',
      );
      const inputPath = path.join(path.dirname(file), 'input.npy');
      const [c, h, w] = analysis.imageDims;
      const batch = analysis.fixedBatch ? 1 : 2;
      const image = fs.existsSync(inputPath)
        ? Float32Array.from((await readNpy(inputPath)).data as ArrayLike<number>).subarray(0, c * h * w)
        : randomArray(c * h * w, rng(3));
      const images = new Float32Array(batch * c * h * w);
      for (let i = 0; i < batch; i++)
        images.set(
          image.map((v) => v * (1 + 0.1 * i)),
          i * c * h * w,
        );
      const options = resolveMethodOptions(undefined, analysis.attentionTensors.length);
      for (const method of METHOD_NAMES) {
        const plain = buildFusedSaliencyGraph(pruned.model, analysis, pruned.info, method, options, 'top1');
        const portable = copyOf(plain);
        rewriteForWebGpu(portable, analysis.opset);
        assert.deepEqual(
          cpuBoundActivationNodes(portable.graph!, analysis.opset).map(
            ({ node, why }) => `${node.name}: ${why}`,
          ),
          [],
          `${method} graph`,
        );
        const feeds = { [analysis.inputName]: new ort.Tensor('float32', images, [batch, c, h, w]) };
        const a = await runModel(plain, feeds);
        const b = await runModel(portable, feeds);
        const d = maxAbs(a.vsw_map.data as Float32Array, b.vsw_map.data as Float32Array);
        assert.ok(d <= 1e-5, `${name} ${method}: maps differ by ${d}`);
      }
    });
  }
});
