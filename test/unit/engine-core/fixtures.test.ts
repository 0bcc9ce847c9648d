// The explain engine against the PyTorch reference fixtures, one per export style: logits, the
// class-token rows of every block's attention and gradient where the model has a class token,
// every block's term S_b where the reference records it (relative error ≤ 1e-4 per tensor), and
// every method's map, both from the pure functions and fused into the graph (≤ 1e-4 absolute).
// The styles of models/tools/make_fixtures.py come first, then today's timm and Hugging Face
// models from both torch exporters (models/tools/make_arch_fixtures.py).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClassifierSession } from '../../../electron/engine/classifierSession';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { computeMap, mapFromTerms, METHOD_NAMES, type MethodName } from '../../../electron/engine/methods';
import { readNpy } from '../../../electron/engine/npy';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');
const STYLES = [
  'timm-fused-qkv',
  'hf-separate-qkv',
  'torchvision-vit',
  'deit-distilled',
  'registers',
  'nonsquare-grid',
  ...['timm-gap-vit', 'timm-eva02', 'timm-beit', 'hf-vit', 'hf-deit', 'timm-swin', 'hf-swin'].flatMap(
    (family) => [`${family}-ts`, `${family}-dynamo`],
  ),
  'timm-volo-dynamo', // the TorchScript exporter cannot write VOLO's Col2Im
  'timm-cait-ts', // talking-heads self-attention, then class attention
  'timm-cait-dynamo',
  'timm-vit-fp16-ts',
  'timm-vit-fp16-dynamo',
  // Fused attention, rewritten into primitives before explaining (graph/fusedOpRewrite.ts).
  'bert-vit-ortattention', // ORT's transformer optimizer: com.microsoft Attention
  'bert-vit-ortmha', // ... with use_multi_head_attention: com.microsoft MultiHeadAttention
  'timm-vit-sdpa-opset23', // torch's dynamo exporter at opset 23: ONNX Attention
  'gqa-vit-gqa', // com.microsoft GroupQueryAttention, by graph surgery
];

interface BlockRef {
  kind?: 'class-row' | 'received' | 'skipped';
  /** The block's own grid, where it differs from the model's (windowed blocks; null: skipped). */
  grid?: [number, number] | null;
  /** S_b over the patches (mean over heads of A ⊙ G on the class row, or the received term). */
  term?: number[] | null;
  clsAttention?: number[][];
  clsGradient?: number[][];
}
interface Reference {
  /** A float16 export: explained in float32; its own float16 logits, from ONNX Runtime. */
  float16?: boolean;
  float16Logits?: number[];
  /** Blocks on grids of their own (Swin): terms per block, maps of the methods defined there. */
  windowed?: boolean;
  opset: number;
  inputShape: number[];
  prefixTokens: number;
  grid: [number, number];
  numBlocks: number;
  numHeads: number;
  logits: number[];
  targets: Record<string, { index: number; blocks: BlockRef[]; maps: Partial<Record<MethodName, number[]>> }>;
  epsilon: number;
  epsilonMode: 'relative' | 'absolute';
  negatives: 'shift' | 'clamp';
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Class-token rows (heads × T) of a heads × T × T block. */
function clsRows(m: Float32Array, heads: number, tokens: number): Float32Array {
  const out = new Float32Array(heads * tokens);
  for (let h = 0; h < heads; h++)
    out.set(m.subarray(h * tokens * tokens, h * tokens * tokens + tokens), h * tokens);
  return out;
}

const report: string[] = [];
/** Per style, the largest difference of a map fused into the graph from the reference's. */
const fusedWorst = new Map<string, number>();

for (const style of STYLES) {
  const dir = path.join(FIXTURES, style);
  const present = fs.existsSync(path.join(dir, 'reference.json'));
  describe(
    `fixture ${style}`,
    { skip: present ? false : `fixture ${style} not generated yet (models/tools/make_fixtures.py)` },
    () => {
      let session: ExplainSession;
      let ref: Reference;
      let input: Float32Array;
      before(async () => {
        ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
        input = Float32Array.from((await readNpy(path.join(dir, 'input.npy'))).data as ArrayLike<number>);
        session = await ExplainSession.open(path.join(dir, 'model.onnx'), { provider: 'cpu' });
      });
      after(async () => session?.close());

      it('infers the layout', () => {
        assert.equal(session.info.numBlocks, ref.numBlocks);
        assert.equal(session.info.numHeads, ref.numHeads);
        assert.equal(session.info.prefixTokens, ref.prefixTokens);
        assert.deepEqual(session.info.grid, ref.grid);
        assert.equal(session.provider, 'cpu');
        assert.equal(session.info.float16, ref.float16 === true);
        if (ref.float16) assert.ok(session.info.warnings.some((w) => /float16/.test(w)));
      });

      it('matches logits, attention rows and gradients for top-1 and top-2', async () => {
        const predicted = await session.predict(input, 1);
        assert.ok(
          relativeError(predicted, ref.logits) < 1e-4,
          `predict logits ${relativeError(predicted, ref.logits)}`,
        );
        let worst = { logits: 0, attention: 0, gradient: 0, term: 0, map: 0 };
        const options = { epsilon: ref.epsilon, epsilonMode: ref.epsilonMode, negatives: ref.negatives };
        for (const [name, target] of Object.entries(ref.targets)) {
          // Every model has per-block terms; class-token models also their attention rows.
          const terms = await session.terms(input, 1, [target.index]);
          worst.logits = Math.max(worst.logits, relativeError(terms.logits, ref.logits));
          terms.perImage[0].forEach((block, b) => {
            const expected = target.blocks[b];
            if (expected.grid !== null)
              assert.deepEqual(block.grid, expected.grid ?? ref.grid, `${name} block ${b} grid`);
            if (expected.term === undefined) return; // the older fixtures record class rows only
            assert.equal(block.kind, expected.kind ?? block.kind, `${name} block ${b} kind`);
            if (expected.term === null || block.term === null) {
              assert.equal(block.term, expected.term, `${name} block ${b}: only outlook blocks have no term`);
              return;
            }
            const t = relativeError(block.term, expected.term);
            worst.term = Math.max(worst.term, t);
            assert.ok(t < 1e-4, `${name} block ${b} term relative error ${t}`);
          });
          for (const method of ['attn-grad-product', 'last-attn'] as const) {
            const d = maxAbs(
              mapFromTerms(method, terms.perImage[0], ref.grid, options),
              target.maps[method]!,
            );
            worst.map = Math.max(worst.map, d);
            assert.ok(d < 1e-4, `${name} ${method} map (from terms) differs by ${d}`);
          }
          if (ref.windowed) {
            assert.throws(() => mapFromTerms('rollout', terms.perImage[0], ref.grid), /not defined/);
            continue;
          }
          const { perImage } = await session.explain(input, 1, [target.index]);
          const { numHeads: heads, numTokens: tokens } = session.info;
          perImage[0].forEach((block, b) => {
            const expected = target.blocks[b];
            if (!expected.clsAttention) return;
            const a = relativeError(clsRows(block.attention, heads, tokens), expected.clsAttention.flat());
            const g = relativeError(clsRows(block.gradient!, heads, tokens), expected.clsGradient!.flat());
            worst = {
              ...worst,
              attention: Math.max(worst.attention, a),
              gradient: Math.max(worst.gradient, g),
            };
            assert.ok(a < 1e-4, `${name} block ${b} attention relative error ${a}`);
            assert.ok(g < 1e-4, `${name} block ${b} gradient relative error ${g}`);
          });
          for (const method of METHOD_NAMES) {
            const pure = computeMap(method, perImage[0], session.info.prefixTokens, options);
            const d = maxAbs(pure, target.maps[method]!);
            worst.map = Math.max(worst.map, d);
            assert.ok(d < 1e-4, `${name} ${method} map (pure functions) differs by ${d}`);
          }
        }
        assert.ok(worst.logits < 1e-4, `logits relative error ${worst.logits}`);
        if (ref.float16Logits) {
          // The model's own float16 output agrees to float16 rounding.
          const d = maxAbs(predicted, ref.float16Logits);
          assert.ok(d < 2e-3, `logits differ from the float16 model's own by ${d}`);
          // The workstation's predict path (the plain classifier session) runs it in float32 too.
          const { channels, height, width } = session.info;
          const classifier = await ClassifierSession.open(path.join(dir, 'model.onnx'), {
            channels,
            height,
            width,
          });
          try {
            const { values } = await classifier.logits(input, 1);
            const c = maxAbs(values, ref.float16Logits);
            assert.ok(c < 2e-3, `classifier-session logits differ from the float16 model's own by ${c}`);
          } finally {
            await classifier.close();
          }
          report.push(`${style}: float16 model's own logits within ${d.toExponential(2)}`);
        }
        report.push(
          `${style}: logits ${worst.logits.toExponential(2)}, attention ${worst.attention.toExponential(2)}, gradient ${worst.gradient.toExponential(2)}, terms ${worst.term.toExponential(2)}, maps ${worst.map.toExponential(2)} (absolute)`,
        );
      });

      it('computes every method fused in the graph, for a batch mixing targets', async () => {
        const targets = Object.values(ref.targets);
        const batch = targets.length;
        const stacked = new Float32Array(input.length * batch);
        for (let i = 0; i < batch; i++) stacked.set(input, i * input.length);
        for (const method of METHOD_NAMES.filter((m) => targets[0].maps[m])) {
          const options = { epsilon: ref.epsilon, epsilonMode: ref.epsilonMode, negatives: ref.negatives };
          const { maps } = await session.saliency(
            stacked,
            batch,
            targets.map((t) => t.index),
            method,
            options,
          );
          targets.forEach((t, i) => {
            const d = maxAbs(maps[i], t.maps[method]!);
            fusedWorst.set(style, Math.max(fusedWorst.get(style) ?? 0, d));
            assert.ok(d < 1e-4, `fused ${method} for target ${t.index} differs by ${d}`);
          });
        }
      });
    },
  );
}

after(() => {
  if (report.length) console.log(`max relative errors per style:\n  ${report.join('\n  ')}`);
  if (fusedWorst.size)
    console.log(
      `maps fused into the graph, max absolute difference per style:\n  ${[...fusedWorst].map(([s, d]) => `${s}: ${d.toExponential(2)}`).join('\n  ')}`,
    );
});
