// Fused transformer ops rewritten into primitives (graph/fusedOpRewrite.ts): on real ONNX Runtime
// sessions the rewritten graph gives the fused graph's outputs within 1e-5, for the committed
// fixtures (ORT's transformer optimizer, torch's opset-23 export, GroupQueryAttention) and for small
// graphs that reach the forms the fixtures do not (3-D ONNX Attention with grouped heads, causal
// and masked attention, packed GroupQueryAttention, unequal q/k/v sizes, the fused norms and
// GELUs); what is not rewritten is refused with the op, the node and the input or attribute named.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { GraphEditor, valueInfo } from '../../../electron/engine/graph/graphEditor';
import { readModelForExplain, rewriteFusedOps } from '../../../electron/engine/graph/fusedOpRewrite';
import { EngineError } from '../../../electron/engine/errors';
import { readNpy } from '../../../electron/engine/npy';
import { parseModel, readModelFile, serializeModel } from '../../../electron/engine/onnx/modelFile';
import { DataType, type ModelProto, type NodeProto } from '../../../electron/engine/onnx/onnxSchema';
import { floatTensor } from '../../../electron/engine/onnx/tensorData';
import { randomArray, rng, runModel } from './graphTestKit';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');
const FUSED_FIXTURES = ['bert-vit-ortattention', 'bert-vit-ortmha', 'timm-vit-sdpa-opset23', 'gqa-vit-gqa'];
const FUSED_OPS =
  /^(Attention|MultiHeadAttention|GroupQueryAttention|SkipLayerNormalization|BiasGelu|FastGelu)$/;

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function outputs(model: ModelProto, feeds: Record<string, ort.Tensor>): Promise<Float32Array[]> {
  const out = await runModel(model, feeds);
  return (model.graph!.output ?? []).map((o) => out[o.name!].data as Float32Array);
}

/** Runs the model and its rewrite on the same feeds; returns the worst absolute difference. */
async function rewriteDiff(model: ModelProto, feeds: Record<string, ort.Tensor>): Promise<number> {
  const { model: rewritten, rewritten: names } = rewriteFusedOps(model);
  assert.ok(names.length > 0, 'something was rewritten');
  assert.ok(
    !(rewritten.graph!.node ?? []).some((n) => n.domain === 'com.microsoft' || n.opType === 'Attention'),
  );
  const [a, b] = [await outputs(model, feeds), await outputs(rewritten, feeds)];
  return Math.max(...a.map((x, i) => maxAbs(x, b[i])));
}

describe('fused fixtures: the rewrite gives the fused model its own logits', () => {
  for (const style of FUSED_FIXTURES) {
    it(style, async () => {
      const dir = path.join(FIXTURES, style);
      const { model } = readModelFile(path.join(dir, 'model.onnx'));
      const fused = (model.graph!.node ?? []).filter((n) => FUSED_OPS.test(n.opType ?? ''));
      assert.ok(fused.length > 0, `${style} has fused ops`);
      const image = Float32Array.from((await readNpy(path.join(dir, 'input.npy'))).data as ArrayLike<number>);
      // A batch of two different images.
      const batch = new Float32Array(image.length * 2);
      batch.set(image);
      batch.set(
        image.map((v, i) => v * 0.7 + Math.sin(i)),
        image.length,
      );
      const d = await rewriteDiff(model, { pixel_values: new ort.Tensor('float32', batch, [2, 3, 32, 32]) });
      assert.ok(d <= 1e-5, `${style}: rewritten logits differ by ${d}`);
      const { rewritten } = readModelForExplain(path.join(dir, 'model.onnx'));
      assert.equal(rewritten.length, fused.length, rewritten.join(', '));
    });
  }
  it('leaves a model without fused ops as it is', () => {
    const { model } = readModelFile(path.join(FIXTURES, 'timm-gap-vit-ts', 'model.onnx'));
    const out = rewriteFusedOps(model);
    assert.equal(out.model, model);
    assert.deepEqual(out.rewritten, []);
  });
});

const B = 2;
const S = 5;
const D = 32;

/** A model with input x [B, S, D] (and any extra inputs) whose nodes `build` adds. */
function fusedModel(
  opset: number,
  build: (e: GraphEditor, weight: (name: string, dims: number[]) => string) => string[],
  extraInputs: { name: string; type: number; dims: number[] }[] = [],
): ModelProto {
  const model: ModelProto = {
    irVersion: opset >= 21 ? 10 : 8,
    opsetImport: [
      { domain: '', version: opset },
      { domain: 'com.microsoft', version: 1 },
    ],
    producerName: 'vsw-test',
    graph: {
      name: 'fused',
      node: [],
      input: [
        valueInfo('x', DataType.FLOAT, [B, S, D]),
        ...extraInputs.map((i) => valueInfo(i.name, i.type, i.dims)),
      ],
      output: [],
      initializer: [],
    },
  };
  const random = rng(11);
  const e = new GraphEditor(model, opset, 'test');
  const weight = (name: string, dims: number[]): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    model.graph!.initializer!.push(floatTensor(name, dims, randomArray(n, random, 0.5)));
    return name;
  };
  const outs = build(e, weight);
  model.graph!.output = outs.map((o) => valueInfo(o, DataType.FLOAT));
  return parseModel(serializeModel(model));
}

/** Adds a node of another domain (the editor writes the default domain). */
function fusedNode(
  e: GraphEditor,
  domain: string,
  opType: string,
  inputs: string[],
  attrs: Parameters<GraphEditor['node']>[2],
  outputs = 1,
): string[] {
  const outs = e.node(opType, inputs, attrs, outputs);
  const nodes = e.graph.node!;
  nodes[nodes.length - 1].domain = domain;
  return outs;
}

const X = (): Record<string, ort.Tensor> => ({
  x: new ort.Tensor('float32', randomArray(B * S * D, rng(5)), [B, S, D]),
});

describe('fused attention forms beyond the fixtures, against ONNX Runtime', () => {
  it('ONNX Attention, 3-D with grouped key/value heads, causal, with a float mask', async () => {
    const model = fusedModel(23, (e, w) => {
      const q = e.op('MatMul', ['x', w('wq', [D, 32])]);
      const k = e.op('MatMul', ['x', w('wk', [D, 16])]);
      const v = e.op('MatMul', ['x', w('wv', [D, 16])]);
      return e.node('Attention', [q, k, v, w('mask', [S, S])], {
        q_num_heads: 4,
        kv_num_heads: 2,
        is_causal: 1,
      });
    });
    assert.ok((await rewriteDiff(model, X())) <= 1e-5);
  });

  it('ONNX Attention, 4-D, with a boolean mask and a scale', async () => {
    const model = fusedModel(23, (e, w) => {
      const split = (t: string): string =>
        e.op('Transpose', [e.op('Reshape', [t, e.ints([0, 0, 4, 8])])], { perm: [0, 2, 1, 3] });
      const [q, k, v] = ['wq', 'wk', 'wv'].map((n) => split(e.op('MatMul', ['x', w(n, [D, D])])));
      const keep = Array.from({ length: S * S }, (_, i) => ((i * 7) % 3 === 0 || i % (S + 1) === 0 ? 1 : 0));
      e.graph.initializer!.push({
        name: 'keep',
        dims: [S, S],
        dataType: DataType.BOOL,
        rawData: Uint8Array.from(keep),
      });
      return e.node('Attention', [q, k, v, 'keep'], { scale: { f: 0.2 } });
    });
    assert.ok((await rewriteDiff(model, X())) <= 1e-5);
  });

  it('com.microsoft Attention with unequal q/k/v sizes, an attention bias, unidirectional', async () => {
    const model = fusedModel(17, (e, w) =>
      fusedNode(
        e,
        'com.microsoft',
        'Attention',
        ['x', w('w', [D, 32 + 32 + 16]), w('b', [80]), '', '', w('bias', [1, 4, S, S])],
        {
          num_heads: 4,
          qkv_hidden_sizes: [32, 32, 16],
          unidirectional: 1,
        },
      ),
    );
    assert.ok((await rewriteDiff(model, X())) <= 1e-5);
  });

  it('com.microsoft MultiHeadAttention with a packed bias and a scale', async () => {
    const model = fusedModel(17, (e, w) => {
      const [q, k, v] = ['wq', 'wk', 'wv'].map((n) => e.op('MatMul', ['x', w(n, [D, D])]));
      return fusedNode(e, 'com.microsoft', 'MultiHeadAttention', [q, k, v, w('b', [3 * D])], {
        num_heads: 2,
        scale: { f: 0.3 },
      });
    });
    assert.ok((await rewriteDiff(model, X())) <= 1e-5);
  });

  it('com.microsoft GroupQueryAttention with packed q/k/v', async () => {
    const int32 = DataType.INT32;
    const model = fusedModel(
      17,
      (e, w) => {
        const qkv = e.op('MatMul', ['x', w('w', [D, (4 + 2 * 2) * 8])]);
        return fusedNode(
          e,
          'com.microsoft',
          'GroupQueryAttention',
          [qkv, '', '', '', '', 'seqlens_k', 'total'],
          {
            num_heads: 4,
            kv_num_heads: 2,
          },
        );
      },
      [
        { name: 'seqlens_k', type: int32, dims: [B] },
        { name: 'total', type: int32, dims: [] },
      ],
    );
    const feeds = {
      ...X(),
      seqlens_k: new ort.Tensor('int32', Int32Array.from([S - 1, S - 1]), [B]),
      total: new ort.Tensor('int32', Int32Array.from([S]), []),
    };
    assert.ok((await rewriteDiff(model, feeds)) <= 1e-5);
  });

  for (const opset of [14, 17, 20]) {
    it(`SkipLayerNormalization (with its sum output), BiasGelu, FastGelu, Gelu at opset ${opset}`, async () => {
      const model = fusedModel(opset, (e, w) => {
        const skip = e.op('MatMul', ['x', w('ws', [D, D])]);
        const [normed, , , sum] = fusedNode(
          e,
          'com.microsoft',
          'SkipLayerNormalization',
          ['x', skip, w('gamma', [D]), w('beta', [D]), w('bias', [D])],
          { epsilon: { f: 1e-5 } },
          4,
        );
        const [a] = fusedNode(e, 'com.microsoft', 'BiasGelu', [normed, w('b1', [D])], {});
        const [b] = fusedNode(e, 'com.microsoft', 'FastGelu', [a, w('b2', [D])], {});
        const [c] = fusedNode(e, 'com.microsoft', 'Gelu', [b], {});
        return [c, sum];
      });
      assert.ok((await rewriteDiff(model, X())) <= 1e-5);
    });
  }
});

describe('what is not rewritten is refused, naming the op, the node and the feature', () => {
  const fixtureNode = (style: string, op: string): { model: ModelProto; node: NodeProto } => {
    const { model } = readModelFile(path.join(FIXTURES, style, 'model.onnx'));
    const node = model.graph!.node!.find((n) => n.opType === op)!;
    return { model, node };
  };
  const refused = (model: ModelProto, pattern: RegExp): void =>
    assert.throws(
      () => rewriteFusedOps(model),
      (e: unknown) => e instanceof EngineError && e.code === 'unsupported-model' && pattern.test(e.message),
    );
  const attr = (node: NodeProto, name: string, i: number): void => {
    node.attribute = [...(node.attribute ?? []).filter((a) => a.name !== name), { name, type: 2, i }];
  };

  it('GroupQueryAttention with rotary embeddings or a local window', () => {
    let { model, node } = fixtureNode('gqa-vit-gqa', 'GroupQueryAttention');
    attr(node, 'do_rotary', 1);
    refused(model, new RegExp(`GroupQueryAttention node '${node.name}' uses attribute do_rotary`));
    ({ model, node } = fixtureNode('gqa-vit-gqa', 'GroupQueryAttention'));
    attr(node, 'local_window_size', 4);
    refused(model, /GroupQueryAttention node .* uses attribute local_window_size/);
    ({ model, node } = fixtureNode('gqa-vit-gqa', 'GroupQueryAttention'));
    node.input![3] = node.input![0];
    refused(model, /GroupQueryAttention node .* uses input 3 \(past_key\)/);
  });

  it('com.microsoft Attention with a mask index; MultiHeadAttention with packed inputs', () => {
    let { model, node } = fixtureNode('bert-vit-ortattention', 'Attention');
    node.input![3] = node.input![0];
    refused(model, new RegExp(`Attention node '${node.name}' uses input 3 \\(mask_index\\)`));
    ({ model, node } = fixtureNode('bert-vit-ortmha', 'MultiHeadAttention'));
    node.input![1] = '';
    refused(model, /MultiHeadAttention node .* uses packed query\/key\/value/);
  });

  it('ONNX Attention with a key/value cache, a soft cap, or a read qk output', () => {
    let { model, node } = fixtureNode('timm-vit-sdpa-opset23', 'Attention');
    node.input = [...node.input!.slice(0, 3), '', node.input![1]];
    refused(model, /Attention node .* uses input 4 \(past_key\)/);
    ({ model, node } = fixtureNode('timm-vit-sdpa-opset23', 'Attention'));
    node.attribute = [
      ...node.attribute!.filter((a) => a.name !== 'softcap'),
      { name: 'softcap', type: 1, f: 30 },
    ];
    refused(model, /uses attribute softcap/);
    ({ model, node } = fixtureNode('timm-vit-sdpa-opset23', 'Attention'));
    node.output = [node.output![0], '', '', 'qk'];
    model.graph!.output!.push(valueInfo('qk', DataType.FLOAT));
    refused(model, /uses output 3 \(qk_matmul_output\), which the graph reads/);
  });

  it('an attention op no ViT export writes', () => {
    const { model, node } = fixtureNode('bert-vit-ortattention', 'Attention');
    node.opType = 'PackedAttention';
    refused(
      model,
      /PackedAttention node .* uses a fused attention op.*Export the model without attention fusion\./,
    );
  });

  it('reaches the user as an explain error, not a stack trace', async () => {
    const { ExplainSession } = await import('../../../electron/engine/explainSession');
    const { model, node } = fixtureNode('gqa-vit-gqa', 'GroupQueryAttention');
    attr(node, 'do_rotary', 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-fused-'));
    try {
      fs.writeFileSync(path.join(dir, 'model.onnx'), serializeModel(model));
      await assert.rejects(ExplainSession.open(dir, { provider: 'cpu' }), /uses attribute do_rotary/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
