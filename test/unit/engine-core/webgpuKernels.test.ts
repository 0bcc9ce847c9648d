// Runs everywhere, no GPU needed: in the graph ONNX Runtime actually runs (its optimizers'
// output, with the element types it infers), every node on activations has a WebGPU kernel for
// its op, opset and input types, per the provider's kernel list (webgpuKernels.ts). The placement
// test checks the same on a real adapter where one exists.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { analyseModel, buildExplainGraph } from '../../../electron/engine/graph/explainGraph';
import { buildFusedSaliencyGraph } from '../../../electron/engine/graph/fusedSaliency';
import { pruneHeadTokens } from '../../../electron/engine/graph/headTokenPruning';
import { missingWebGpuKernel } from '../../../electron/engine/graph/webgpuKernels';
import { cpuBoundActivationNodes, rewriteForWebGpu } from '../../../electron/engine/graph/webgpuRewrites';
import { METHOD_NAMES, resolveMethodOptions } from '../../../electron/engine/methods';
import { readModelAsFloat32 } from '../../../electron/engine/onnx/float16Upcast';
import { DataType, type ModelProto } from '../../../electron/engine/onnx/onnxSchema';
import { ortOptimizedGraph } from '../../helpers/ortOptimizedGraph';
import { buildModel } from './graphTestKit';

const ROOT = path.join(__dirname, '..', '..', '..');

async function cpuBoundInOrtGraph(model: ModelProto, opset: number): Promise<string[]> {
  const { model: optimized, types } = await ortOptimizedGraph(model);
  return cpuBoundActivationNodes(optimized.graph!, opset, types).map(
    ({ node, why }) => `${node.opType} (${node.name}): ${why}`,
  );
}

describe('WebGPU kernel list', () => {
  it('knows op, opset and input types', () => {
    assert.equal(missingWebGpuKernel('MatMul', '', 17, [DataType.FLOAT, DataType.FLOAT]), undefined);
    assert.equal(missingWebGpuKernel('Where', '', 17, [DataType.BOOL, DataType.FLOAT]), undefined);
    assert.match(missingWebGpuKernel('Sum', '', 17) ?? '', /Sum has no WebGPU kernel/);
    assert.match(missingWebGpuKernel('LayerNormalization', '', 16) ?? '', /at opset 16/);
    assert.match(missingWebGpuKernel('Add', '', 17, [DataType.INT64]) ?? '', /element type 7/);
    assert.match(missingWebGpuKernel('Where', '', 17, [DataType.FLOAT]) ?? '', /element type 1 at input 0/);
    assert.match(missingWebGpuKernel('FusedMatMul', 'com.microsoft', 1) ?? '', /not an ONNX op/);
  });

  it("the check can fail: Sum and an int64 Add on activations, found in ORT's graph", async () => {
    const model = buildModel(17, ['batch', 4], (e) => {
      const sum = e.op('Sum', [e.op('Mul', ['x', e.float(2)]), 'x', 'x']);
      const counts = e.op('Add', [
        e.op('Cast', [sum], { to: DataType.INT64 }),
        e.op('Cast', ['x'], { to: DataType.INT64 }),
      ]);
      return e.op('Cast', [counts], { to: DataType.FLOAT });
    });
    const found = await cpuBoundInOrtGraph(model, 17);
    assert.ok(
      found.some((f) => /^Sum .*no WebGPU kernel/.test(f)),
      found.join('\n'),
    );
    assert.ok(
      found.some((f) => /^Add .*element type 7/.test(f)),
      found.join('\n'),
    );
  });
});

describe("ORT's optimized explain graphs of the bundled model: every activation node has a WebGPU kernel", () => {
  const file = path.join(ROOT, 'models', 'fashion-vit', 'model.onnx');
  it('explain graph and the fused graph of every attention method', async () => {
    const { model } = readModelAsFloat32(file); // as ExplainSession opens it
    const { analysis, info } = await analyseModel(model);
    const pruned = pruneHeadTokens(model, info, analysis.opset, analysis.tokens);
    const explain = buildExplainGraph(pruned.model, analysis, pruned.info, true).model;
    rewriteForWebGpu(explain, analysis.opset);
    assert.deepEqual(await cpuBoundInOrtGraph(explain, analysis.opset), [], 'explain graph');
    const options = resolveMethodOptions(undefined, analysis.attentionTensors.length);
    for (const method of METHOD_NAMES) {
      const fused = buildFusedSaliencyGraph(pruned.model, analysis, pruned.info, method, options, 'top1');
      rewriteForWebGpu(fused, analysis.opset);
      assert.deepEqual(await cpuBoundInOrtGraph(fused, analysis.opset), [], method);
    }
  });
});
