// ONNX Runtime's own node-placement log for the explain graphs on the WebGPU provider: no node
// that reads an activation may be placed on the CPU (shape arithmetic may). Needs a WebGPU
// adapter (a GPU with Vulkan, or a Mesa ≥ 25 lavapipe); where ORT finds none, the WebGPU cases
// skip and say why. The log parser itself is checked on the CPU provider everywhere.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { analyseModel, buildExplainGraph } from '../../../electron/engine/graph/explainGraph';
import { buildFusedSaliencyGraph } from '../../../electron/engine/graph/fusedSaliency';
import { pruneHeadTokens } from '../../../electron/engine/graph/headTokenPruning';
import { rewriteForWebGpu } from '../../../electron/engine/graph/webgpuRewrites';
import { listInputFiles } from '../../../electron/engine/imageFiles';
import { METHOD_NAMES, resolveMethodOptions } from '../../../electron/engine/methods';
import { loadModel } from '../../../electron/engine/modelCard';
import { readModelFile, serializeModel } from '../../../electron/engine/onnx/modelFile';
import { preprocessImage } from '../../../electron/engine/preprocess';
import type { ModelProto } from '../../../electron/engine/onnx/onnxSchema';
import { activationNodesOnCpu, parsePlacement, placementOf } from '../../helpers/ortPlacement';
import { buildModel } from './graphTestKit';

const ROOT = path.join(__dirname, '..', '..', '..');
// The bundled model, and the ViT-S/16 export of the engine bench where it has been generated.
const MODELS = [
  path.join(ROOT, 'models', 'fashion-vit', 'model.onnx'),
  path.join(ROOT, '.bench', 'vit-s16', 'model.onnx'),
].filter((f) => fs.existsSync(f));

const probe = buildModel(17, ['batch', 4], (e) => e.op('Sum', [e.op('Mul', ['x', e.float(2)]), 'x', 'x']));
const adapter = placementOf(serializeModel(probe), 'webgpu');
const noAdapter = adapter.ok ? false : `no WebGPU adapter here (ONNX Runtime: ${adapter.error})`;
if (noAdapter) console.log(`# WebGPU placement checks skipped: ${noAdapter}`);

async function explainGraphs(file: string): Promise<[string, ModelProto][]> {
  const { model } = readModelFile(file);
  const { analysis, info } = await analyseModel(model);
  const pruned = pruneHeadTokens(model, info, analysis.opset, analysis.tokens);
  const explain = buildExplainGraph(pruned.model, analysis, pruned.info, true).model;
  const options = resolveMethodOptions(undefined, analysis.attentionTensors.length);
  const fused = buildFusedSaliencyGraph(
    pruned.model,
    analysis,
    pruned.info,
    'attn-grad-product',
    options,
    'top1',
  );
  for (const g of [explain, fused]) rewriteForWebGpu(g, analysis.opset);
  return [
    ['explain', explain],
    ['attn-grad-product top-1', fused],
  ];
}

describe('ORT node placement log', () => {
  it('is read on the CPU provider: every node placed there', () => {
    const r = placementOf(serializeModel(probe), 'cpu');
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.placement.counts.get('CPUExecutionProvider'), 2, [...r.placement.counts].join(' '));
  });

  it('is parsed per provider from a mixed placement, and CPU nodes on activations are picked out', () => {
    const [mul, sum] = probe.graph!.node!;
    const at =
      '2026-11-30 12:00:00.000000000 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp]';
    const log = [
      `${at} Node placements`,
      `${at}  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 2`,
      `${at}   ${mul.opType} (${mul.name})`,
      `${at}   MemcpyToHost (Memcpy)`,
      `${at}  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 1`,
      `${at}   ${sum.opType} (${sum.name})`,
      '2026-11-30 12:00:00.000000001 [V:onnxruntime:, session_state.cc:1400 Other] something else',
    ].join('\n');
    const placement = parsePlacement(log);
    assert.equal(placement.counts.get('WebGpuExecutionProvider'), 2);
    assert.deepEqual(placement.byProvider.get('CPUExecutionProvider'), [`Sum (${sum.name})`]);
    assert.deepEqual(activationNodesOnCpu(placement, probe.graph!), [`Sum (${sum.name})`]);
  });

  it(
    'on WebGPU, an unrewritten Sum on activations is placed on the CPU (the check can fail)',
    { skip: noAdapter },
    () => {
      assert.ok(adapter.ok);
      const cpu = activationNodesOnCpu(adapter.placement, adapter.optimized);
      assert.ok(
        cpu.some((e) => e.startsWith('Sum ')),
        `expected the Sum on the CPU; placement: ${JSON.stringify([...adapter.placement.byProvider])}`,
      );
    },
  );

  for (const file of MODELS) {
    it(
      `${path.relative(ROOT, file)}: no activation node on the CPU under WebGPU`,
      { skip: noAdapter },
      async () => {
        for (const [label, graph] of await explainGraphs(file)) {
          const r = placementOf(serializeModel(graph), 'webgpu');
          assert.ok(r.ok, r.ok ? '' : `${label}: the WebGPU session failed: ${r.error}`);
          const counts = [...r.placement.counts].map(([p, n]) => `${p}: ${n}`).join(', ');
          console.log(`# ${path.relative(ROOT, file)} ${label}: ${counts}`);
          // The GPU machine's script keeps ORT's own placement lines for the closing note.
          if (process.env.VSW_PLACEMENT_LOG)
            fs.appendFileSync(
              process.env.VSW_PLACEMENT_LOG,
              `## ${path.relative(ROOT, file)} ${label}\n${r.log
                .split('\n')
                .filter((l) => /VerifyEachNodeIsAssignedToAnEp|kernel not found|placed on/.test(l))
                .join('\n')}\n`,
            );
          // Judged on the graph ORT ran: its transpose optimizer rewrites Shape(Transpose(x)) as
          // Gather(Shape(x), perm) (`Gather_token_*`), shape arithmetic that belongs on the CPU.
          assert.deepEqual(activationNodesOnCpu(r.placement, r.optimized), [], `${label} (${counts})`);
        }
      },
    );
  }

  it(
    "bundled model: maps on WebGPU within 1e-4 of the CPU provider's, every attention method",
    { skip: noAdapter },
    async () => {
      const dir = path.join(ROOT, 'models', 'fashion-vit');
      const demo = path.join(ROOT, 'models', 'demo', 'fashion-mnist');
      const { modelPath, card } = await loadModel(dir);
      const gpu = await ExplainSession.open(modelPath, { provider: 'webgpu' });
      const cpu = await ExplainSession.open(modelPath, { provider: 'cpu' });
      try {
        assert.equal(gpu.provider, 'webgpu', gpu.providerMessages.join('; '));
        const info = gpu.info;
        const size = info.channels * info.height * info.width;
        const files = (await listInputFiles(demo)).slice(0, 6);
        const x = new Float32Array(files.length * size);
        for (const [i, f] of files.entries())
          x.set((await preprocessImage(path.join(demo, f), card!.preprocessing, info)).tensor, i * size);
        for (const method of METHOD_NAMES) {
          const mine = await gpu.saliency(x, files.length, 'top1', method);
          const theirs = await cpu.saliency(x, files.length, mine.targets, method);
          assert.equal(gpu.provider, 'webgpu', `${method}: ${gpu.providerMessages.join('; ')}`);
          let worst = 0;
          mine.maps.forEach((m, i) =>
            m.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - theirs.maps[i][k])))),
          );
          console.log(`# ${method}: largest |WebGPU − CPU| ${worst.toExponential(1)}`);
          assert.ok(worst <= 1e-4, `${method}: ${worst}`);
        }
      } finally {
        await gpu.close();
        await cpu.close();
      }
    },
  );
});
