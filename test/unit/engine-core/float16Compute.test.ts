// The float16 copy of the explain graphs (for GPUs): its float32→float16 rounding agrees bit for
// bit with ONNX Runtime's own Cast, and on the bundled model its maps stay close to float32's —
// on the CPU provider (which computes many float16 ops in float32) and on WebGPU where an adapter
// exists (float16 arithmetic in the shaders). The errors are printed: README, issue 14.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { explainBatch } from '../../../electron/engine/explainBatch';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { analyseModel } from '../../../electron/engine/graph/explainGraph';
import { floatToHalfBits, toFloat16Compute } from '../../../electron/engine/graph/float16Compute';
import { buildFusedSaliencyGraph } from '../../../electron/engine/graph/fusedSaliency';
import { pruneHeadTokens } from '../../../electron/engine/graph/headTokenPruning';
import { rewriteForWebGpu } from '../../../electron/engine/graph/webgpuRewrites';
import { listInputFiles } from '../../../electron/engine/imageFiles';
import { METHOD_NAMES, resolveMethodOptions } from '../../../electron/engine/methods';
import { loadModel } from '../../../electron/engine/modelCard';
import { readModelAsFloat32 } from '../../../electron/engine/onnx/float16Upcast';
import { serializeModel } from '../../../electron/engine/onnx/modelFile';
import { DataType } from '../../../electron/engine/onnx/onnxSchema';
import { preprocessImage } from '../../../electron/engine/preprocess';
import { SaliencyStore } from '../../../electron/workstation/saliency/saliencyStore';
import { placementOf } from '../../helpers/ortPlacement';
import { buildModel, rng } from './graphTestKit';

const ROOT = path.join(__dirname, '..', '..', '..');
const adapter = placementOf(serializeModel(buildModel(17, [2], (e) => e.op('Relu', ['x']))), 'webgpu');
const noAdapter = adapter.ok ? false : `no WebGPU adapter here (ONNX Runtime: ${adapter.error})`;

describe('float16 compute', () => {
  it("rounds float32 to float16 as ONNX Runtime's Cast does, bit for bit", async () => {
    const random = rng(7);
    const special = [0, -0, 1, -2, 0.1, 65504, 65519.99, 65520, 1e6, -1e6, 6e-8, 2.9e-8, 3e-8, 1e-8, 6.1e-5];
    const ties = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -20 * 1.5, 2 ** -24 * 2.5];
    const values = Float32Array.from([
      ...special,
      ...ties,
      ...Array.from({ length: 4000 }, () => (random() - 0.5) * 2 ** Math.floor(random() * 40 - 28)),
    ]);
    const model = buildModel(17, [values.length], (e) => e.op('Cast', ['x'], { to: DataType.FLOAT16 }));
    model.graph!.output![0].type!.tensorType!.elemType = DataType.FLOAT16;
    const session = await ort.InferenceSession.create(serializeModel(model));
    const out = await session.run({ x: new ort.Tensor('float32', values, [values.length]) });
    const theirs = out[model.graph!.output![0].name!].data as Uint16Array;
    const mismatches = Array.from(values).filter((v, i) => floatToHalfBits(v) !== theirs[i]);
    assert.deepEqual(mismatches, []);
  });

  describe('bundled model: fused maps in float16 against float32', async () => {
    const file = path.join(ROOT, 'models', 'fashion-vit', 'model.onnx');
    const { model } = readModelAsFloat32(file);
    const { analysis, info } = await analyseModel(model);
    const pruned = pruneHeadTokens(model, info, analysis.opset, analysis.tokens);
    const [c, h, w] = analysis.imageDims;
    const { card } = await loadModel(path.dirname(file));
    const demo = path.join(ROOT, 'models', 'demo', 'fashion-mnist');
    const files = (await listInputFiles(demo)).slice(0, 4);
    const x = new Float32Array(files.length * c * h * w);
    for (const [i, f] of files.entries())
      x.set(
        (await preprocessImage(path.join(demo, f), card!.preprocessing, { channels: c, height: h, width: w }))
          .tensor,
        i * c * h * w,
      );
    const feeds = { [analysis.inputName]: new ort.Tensor('float32', x, [files.length, c, h, w]) };
    const options = resolveMethodOptions(undefined, analysis.attentionTensors.length);
    // Measured: CPU ≤ 2.0e-3, lavapipe WebGPU ≤ 2.1e-2 (maps are normalised to 0…1).
    for (const [provider, bound, skip] of [
      ['cpu', 5e-3, false],
      ['webgpu', 5e-2, noAdapter],
    ] as const)
      it(
        `${provider}: every attention method within ${bound}, same logits to float16's precision`,
        { skip },
        async () => {
          for (const method of METHOD_NAMES) {
            const graph = buildFusedSaliencyGraph(
              pruned.model,
              analysis,
              pruned.info,
              method,
              options,
              'top1',
            );
            rewriteForWebGpu(graph, analysis.opset);
            const reference = await (await ort.InferenceSession.create(serializeModel(graph))).run(feeds);
            const half = await ort.InferenceSession.create(serializeModel(toFloat16Compute(graph)), {
              executionProviders: [provider],
            });
            const out = await half.run(feeds);
            await half.release();
            assert.deepEqual(Object.keys(out).sort(), Object.keys(reference).sort());
            const worst = (name: string) => {
              const [a, b] = [reference[name].data as Float32Array, out[name].data as Float32Array];
              return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
            };
            const [map, logits] = [worst('vsw_map'), worst('logits')];
            console.log(
              `# ${provider} ${method}: maps ${map.toExponential(1)}, logits ${logits.toExponential(1)}`,
            );
            assert.ok(map <= bound, `${method}: maps differ by ${map}`);
            assert.ok(logits <= 0.05, `${method}: logits differ by ${logits}`);
          }
        },
      );
  });

  it("ExplainSession's precision option: float16 saliency within 5e-3 of float32's, same targets", async () => {
    const dir = path.join(ROOT, 'models', 'fashion-vit');
    const half = await ExplainSession.open(dir, { provider: 'cpu', precision: 'float16' });
    const full = await ExplainSession.open(dir, { provider: 'cpu' });
    try {
      const size = half.info.channels * half.info.height * half.info.width;
      const random = rng(11);
      const x = Float32Array.from({ length: 3 * size }, () => (random() - 0.5) * 4);
      const a = await half.saliency(x, 3, 'top1', 'attn-grad-product');
      const b = await full.saliency(x, 3, 'top1', 'attn-grad-product');
      assert.deepEqual(a.targets, b.targets);
      const worst = a.maps.reduce(
        (m, map, i) => map.reduce((n, v, k) => Math.max(n, Math.abs(v - b.maps[i][k])), m),
        0,
      );
      assert.ok(worst > 0, 'the float16 graph ran (its maps are not bit-equal to float32)');
      assert.ok(worst <= 5e-3, `maps differ by ${worst}`);
      // The precision is recorded where float16 maps go: the batch reports and the map cache key.
      const request = { target: 'top1' as const, methods: ['attn-grad-product' as const] };
      const [halfReport] = await explainBatch(half, x.subarray(0, size), 1, request);
      const [fullReport] = await explainBatch(full, x.subarray(0, size), 1, request);
      assert.equal(halfReport.report.precision, 'float16');
      assert.ok(!('precision' in fullReport.report), 'a float32 report has no precision field');
      const n = half.info.numBlocks;
      const float32Key = SaliencyStore.optionsHash('attn-grad-product', {}, n);
      assert.equal(SaliencyStore.optionsHash('attn-grad-product', {}, n, 'float32'), float32Key);
      assert.notEqual(SaliencyStore.optionsHash('attn-grad-product', {}, n, 'float16'), float32Key);
      assert.notEqual(
        SaliencyStore.optionsHash('rollout', {}, n, 'float16'),
        SaliencyStore.optionsHash('rollout', {}, n),
      );
    } finally {
      await half.close();
      await full.close();
    }
  });
});
