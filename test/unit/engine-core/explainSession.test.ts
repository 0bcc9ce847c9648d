// ExplainSession on a small hand-built ViT: attention gradients against finite differences through
// ONNX Runtime, batches that mix targets, fixed-batch exports, the graph cache, and the errors a
// user gets for bad models and bad requests.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { EngineError } from '../../../electron/engine/errors';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { explainImage } from '../../../electron/engine/explainReport';
import { writeModelFile } from '../../../electron/engine/onnx/modelFile';
import type { ModelProto } from '../../../electron/engine/onnx/onnxSchema';
import { buildTinyVit, randomArray, rng, runModel, type TinyVitOptions } from './graphTestKit';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-engine-core-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function saveModel(model: ModelProto, name: string): string {
  const file = path.join(tmp, name, 'model.onnx');
  writeModelFile(model, file);
  return file;
}

function tinyVitFile(name: string, options: TinyVitOptions = {}): string {
  return saveModel(buildTinyVit(options), name);
}

const IMAGE = 64;

describe('ExplainSession on a hand-built ViT', () => {
  it('gives attention gradients that match finite differences of the target logit', async () => {
    const model = buildTinyVit();
    const session = await ExplainSession.open(saveModel(model, 'fd'), { provider: 'cpu' });
    try {
      assert.deepEqual(session.info.grid, [2, 2]);
      assert.equal(session.info.prefixTokens, 1);
      assert.equal(session.info.numBlocks, 2);
      assert.equal(session.info.numHeads, 2);
      const x = randomArray(IMAGE, rng(7));
      const target = 2;
      const { perImage } = await session.explain(x, 1, [target]);
      const random = rng(9);
      for (let b = 0; b < 2; b++) {
        // Feed the attention of block b as an input instead of computing it, then perturb it.
        const cut = structuredClone(model);
        const softmax = cut.graph!.node!.filter((n) => n.opType === 'Softmax')[b];
        const name = softmax.output![0];
        softmax.output = [`${name}_unused`];
        cut.graph!.input!.push({ name, type: { tensorType: { elemType: 1 } } });
        const { attention, gradient } = perImage[0][b];
        const logit = async (a: Float32Array): Promise<number> => {
          const r = await runModel(cut, {
            x: new ort.Tensor('float32', x, [1, 1, 8, 8]),
            [name]: new ort.Tensor('float32', a, [1, 2, 5, 5]),
          });
          return (r[cut.graph!.output![0].name!].data as Float32Array)[target];
        };
        const v = randomArray(attention.length, random);
        const h = 1e-2;
        const fd =
          ((await logit(attention.map((a, i) => a + h * v[i]))) -
            (await logit(attention.map((a, i) => a - h * v[i])))) /
          (2 * h);
        const analytic = gradient!.reduce((s, g, i) => s + g * v[i], 0);
        assert.ok(
          Math.abs(fd - analytic) <= 2e-3 * Math.max(1, Math.abs(fd)),
          `block ${b}: finite difference ${fd}, gradient ${analytic}`,
        );
      }
    } finally {
      await session.close();
    }
  });

  it('runs a batch that mixes targets exactly like single images, and predict agrees', async () => {
    for (const fixedBatch of [false, true]) {
      const session = await ExplainSession.open(tinyVitFile(`batch-${fixedBatch}`, { fixedBatch }), {
        provider: 'cpu',
      });
      try {
        const xs = randomArray(3 * IMAGE, rng(11));
        const targets = [0, 2, 1];
        const all = await session.explain(xs, 3, targets);
        const predicted = await session.predict(xs, 3);
        assert.deepEqual(
          Array.from(predicted).map((v) => v.toFixed(4)),
          Array.from(all.logits).map((v) => v.toFixed(4)),
        );
        for (let i = 0; i < 3; i++) {
          const one = await session.explain(xs.subarray(i * IMAGE, (i + 1) * IMAGE), 1, [targets[i]]);
          for (let b = 0; b < 2; b++) {
            const g1 = one.perImage[0][b].gradient!;
            const gb = all.perImage[i][b].gradient!;
            assert.ok(
              g1.every((v, k) => Math.abs(v - gb[k]) < 1e-5),
              `fixedBatch=${fixedBatch} image ${i} block ${b}`,
            );
          }
        }
        const fused = await session.saliency(xs, 3, targets, 'attn-grad-product');
        assert.equal(fused.maps.length, 3);
        assert.equal(fused.maps[0].length, 4);
      } finally {
        await session.close();
      }
    }
  });

  it('caches the built graphs by model hash and reuses them on the next open', async () => {
    const file = tinyVitFile('cached');
    const cacheDir = path.join(tmp, 'cache');
    const logs: string[] = [];
    const first = await ExplainSession.open(file, { provider: 'cpu', cacheDir, log: (m) => logs.push(m) });
    const x = randomArray(IMAGE, rng(3));
    const a = await first.explain(x, 1, [1]);
    const m1 = await first.saliency(x, 1, [1], 'grad-rollout');
    await first.close();
    assert.ok(logs.some((m) => m.startsWith('explain graph built')));
    const files = fs.readdirSync(cacheDir, { recursive: true }).map(String);
    assert.ok(files.some((f) => f.endsWith('explain.onnx')));
    assert.ok(files.some((f) => /saliency-grad-rollout-.*\.onnx$/.test(f)));
    logs.length = 0;
    const second = await ExplainSession.open(file, { provider: 'cpu', cacheDir, log: (m) => logs.push(m) });
    try {
      assert.ok(
        logs.some((m) => m.startsWith('explain graph reused from the cache')),
        logs.join('\n'),
      );
      const b = await second.explain(x, 1, [1]);
      assert.deepEqual(b.perImage[0][1].gradient, a.perImage[0][1].gradient);
      const m2 = await second.saliency(x, 1, [1], 'grad-rollout');
      assert.deepEqual(m2.maps[0], m1.maps[0]);
    } finally {
      await second.close();
    }
  });

  it('rebuilds the graphs when the cached analysis.json is torn, and leaves no temporary files', async () => {
    const file = tinyVitFile('torn');
    const cacheDir = path.join(tmp, 'torn-cache');
    const x = randomArray(IMAGE, rng(5));
    const first = await ExplainSession.open(file, { provider: 'cpu', cacheDir });
    const a = await first.saliency(x, 1, [2], 'attn-grad-product');
    await first.close();
    const files = fs.readdirSync(cacheDir, { recursive: true }).map(String);
    assert.deepEqual(
      files.filter((f) => f.includes('.tmp')),
      [],
    );
    const meta = path.join(
      cacheDir,
      files.find((f) => f.endsWith('analysis.json'))!,
    );
    const whole = fs.readFileSync(meta);
    fs.writeFileSync(meta, whole.subarray(0, whole.length >> 1)); // as a crash mid-write left it
    const logs: string[] = [];
    const second = await ExplainSession.open(file, { provider: 'cpu', cacheDir, log: (m) => logs.push(m) });
    try {
      assert.ok(
        logs.some((m) => /cached analysis .* is damaged/.test(m)),
        logs.join('\n'),
      );
      assert.ok(
        logs.some((m) => m.startsWith('explain graph built')),
        logs.join('\n'),
      );
      const b = await second.saliency(x, 1, [2], 'attn-grad-product');
      assert.deepEqual(b.maps[0], a.maps[0]);
    } finally {
      await second.close();
    }
    assert.deepEqual(fs.readFileSync(meta), whole, 'the rebuilt analysis is written whole again');
  });
});

describe('a class token with a mean-pooled head', () => {
  it('is warned about in the session info and the explain report; a class-token head is not', async () => {
    const x = randomArray(IMAGE, rng(9));
    for (const head of ['mean-pool', 'slice-negative', 'class-token'] as const) {
      const logs: string[] = [];
      const session = await ExplainSession.open(tinyVitFile(`head-${head}`, { head }), {
        provider: 'cpu',
        log: (m) => logs.push(m),
      });
      try {
        const { report } = await explainImage(session, x, { target: 'top1', methods: ['rollout'] });
        if (head === 'class-token') {
          assert.deepEqual(session.info.warnings, []);
          assert.equal(report.warnings, undefined);
        } else {
          assert.equal(session.info.warnings.length, 1, head);
          assert.match(session.info.warnings[0], /class token, but its head averages the tokens/);
          assert.deepEqual(report.warnings, session.info.warnings);
          assert.ok(logs.includes(session.info.warnings[0]));
        }
      } finally {
        await session.close();
      }
    }
  });
});

describe('ExplainSession errors for bad input', () => {
  async function openError(file: string, options = {}): Promise<EngineError> {
    try {
      const s = await ExplainSession.open(file, { provider: 'cpu', ...options });
      await s.close();
    } catch (e) {
      assert.ok(e instanceof EngineError, `expected an EngineError, got ${String(e)}`);
      return e;
    }
    assert.fail('open succeeded');
  }

  it('a model with no attention softmax', async () => {
    const e = await openError(tinyVitFile('sigmoid-attention', { attentionOp: 'Sigmoid' }));
    assert.equal(e.code, 'no-attention');
    assert.match(e.message, /No attention found.*Softmax feeds a MatMul/);
  });

  it('a corrupt ONNX file', async () => {
    const file = path.join(tmp, 'corrupt.onnx');
    const good = fs.readFileSync(tinyVitFile('to-corrupt'));
    fs.writeFileSync(file, good.subarray(0, Math.floor(good.length / 2)));
    const e = await openError(file);
    assert.equal(e.code, 'corrupt-onnx');
    assert.match(e.message, /not a valid ONNX/);
    fs.writeFileSync(file, 'this is not a model');
    assert.equal((await openError(file)).code, 'corrupt-onnx');
  });

  it('an op with no gradient rule on the gradient path names the op and the node', async () => {
    const e = await openError(tinyVitFile('atan', { extraOp: 'Atan' }));
    assert.equal(e.code, 'unsupported-op');
    assert.match(e.message, /op type Atan/);
    assert.match(e.message, /node 'vit\/Atan_\d+'/);
  });

  it('a patch grid that cannot be inferred, unless given', async () => {
    const file = tinyVitFile('no-conv', { noConv: true });
    const e = await openError(file);
    assert.equal(e.code, 'no-grid');
    assert.match(e.message, /--grid/);
    const session = await ExplainSession.open(file, { provider: 'cpu', grid: [2, 2] });
    assert.equal(session.info.prefixTokens, 1);
    await session.close();
    assert.equal((await openError(file, { grid: [3, 3] })).code, 'not-supported-yet');
    assert.equal((await openError(file, { grid: [2, 2], prefixTokens: 2 })).code, 'bad-layout');
  });

  it('a card naming a node that does not exist', async () => {
    const e = await openError(tinyVitFile('named'), { attentionNodes: ['no-such-softmax'] });
    assert.equal(e.code, 'bad-attention-nodes');
  });

  it('a target index out of range, and an input of the wrong size', async () => {
    const session = await ExplainSession.open(tinyVitFile('targets'), { provider: 'cpu' });
    try {
      const x = randomArray(IMAGE, rng(1));
      await assert.rejects(
        session.explain(x, 1, [3]),
        (e: EngineError) => e.code === 'target-out-of-range' && /3 classes/.test(e.message),
      );
      await assert.rejects(
        session.saliency(x, 1, [-1], 'attn-grad-product'),
        (e: EngineError) => e.code === 'target-out-of-range',
      );
      await assert.rejects(
        session.explain(randomArray(50, rng(1)), 1, [0]),
        (e: EngineError) => e.code === 'input-size-mismatch' && /8×8/.test(e.message),
      );
    } finally {
      await session.close();
    }
  });
});
