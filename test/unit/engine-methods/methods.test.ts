// Hand-checked small cases for the saliency methods, plus a comparison against a dense,
// straight-from-the-definition implementation on random data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attnGradProductFromRows,
  computeMap,
  METHOD_NAMES,
  type BlockAttention,
} from '../../../electron/engine/methods';
import { EngineError } from '../../../electron/engine/errors';

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `index ${i}: ${actual[i]} vs ${expected[i]} (all: ${Array.from(actual).join(', ')})`,
    );
  }
}

/** A block from per-head T×T matrices given as nested arrays [head][query][key]. */
function block(attention: number[][][], gradient?: number[][][]): BlockAttention {
  const heads = attention.length;
  const tokens = attention[0].length;
  const flat = (m: number[][][]) => Float32Array.from(m.flat(2));
  return { heads, tokens, attention: flat(attention), gradient: gradient ? flat(gradient) : undefined };
}

/** A heads=2, T=4 block whose mean over heads of A ⊙ G on the class-token patch entries is s. */
function scoreBlock(s: number[]): BlockAttention {
  const junk = [9, -7, 5, 3];
  const a = [0, 1].map(() => [[0.25, 0.25, 0.25, 0.25], junk, junk, junk]);
  // head 0 carries 2·s·4 = 8s, head 1 carries nothing: mean over heads of A·G = 0.25·8s/2 = s.
  const g = [
    [[1, ...s.map((v) => 8 * v)], junk, junk, junk],
    [[1, 0, 0, 0], junk, junk, junk],
  ];
  return block(a, g);
}

test('last-attn: mean over heads of the last block class-token row, normalised', () => {
  const other = [
    [0.1, 0.2, 0.3, 0.4],
    [1, 0, 0, 0],
    [1, 0, 0, 0],
    [1, 0, 0, 0],
  ];
  const first = block([other, other]);
  const last = block([
    [
      [0.1, 0.2, 0.3, 0.4],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
    ],
    [
      [0.1, 0.5, 0.2, 0.2],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
    ],
  ]);
  // mean patch entries [0.35, 0.25, 0.3] → [1, 0, 0.5]
  close(computeMap('last-attn', [first, last], 1), [1, 0, 0.5]);
  // with two prefix tokens only the last two keys count: [0.25, 0.3] → [0, 1]
  close(computeMap('last-attn', [first, last], 2), [0, 1]);
});

test('constant map normalises to zeros', () => {
  const flat = [
    [0.25, 0.25, 0.25, 0.25],
    [1, 0, 0, 0],
    [1, 0, 0, 0],
    [1, 0, 0, 0],
  ];
  close(computeMap('last-attn', [block([flat])], 1), [0, 0, 0]);
});

test('attn-grad-product: one block, relative ε, shift', () => {
  // S = [1,2,3]; ε = 0.01·2; S' = [0.02, 1.02, 2.02] → [0, 0.5, 1]
  close(computeMap('attn-grad-product', [scoreBlock([1, 2, 3])], 1), [0, 0.5, 1]);
});

test('attn-grad-product: product over blocks, relative and absolute ε', () => {
  const blocks = [scoreBlock([1, 2, 3]), scoreBlock([1, 1, 3])];
  // relative: [0.02,1.02,2.02]·[0.02,0.02,2.02] = [0.0004, 0.0204, 4.0804]
  close(computeMap('attn-grad-product', blocks, 1), [0, 0.02 / 4.08, 1]);
  // absolute ε = 0.5: [0.5,1.5,2.5]·[0.5,0.5,2.5] = [0.25, 0.75, 6.25]
  close(computeMap('attn-grad-product', blocks, 1, { epsilon: 0.5, epsilonMode: 'absolute' }), [
    0,
    0.5 / 6,
    1,
  ]);
});

test('attn-grad-product: clamp versus shift of negatives', () => {
  const blocks = [scoreBlock([-1, 2, 3])];
  // clamp: [0,2,3], range 3, ε 0.03 → [0.03, 2.03, 3.03] → [0, 2/3, 1]
  close(computeMap('attn-grad-product', blocks, 1, { negatives: 'clamp' }), [0, 2 / 3, 1]);
  // shift: [0,3,4] + 0.04 → [0, 0.75, 1]
  close(computeMap('attn-grad-product', blocks, 1, { negatives: 'shift' }), [0, 0.75, 1]);
  // clamp with an even number of negative factors: both blocks negative at token 0
  const two = [scoreBlock([-2, 1, 2]), scoreBlock([-3, 2, 1])];
  // clamp: [0,1,2]+.02 · [0,2,1]+.02 = [0.0004, 1.02·2.02, 2.02·1.02] → [0, 1, 1]
  close(computeMap('attn-grad-product', two, 1, { negatives: 'clamp' }), [0, 1, 1]);
});

test('attn-grad-product: block range and flat blocks', () => {
  const blocks = [scoreBlock([3, 2, 1]), scoreBlock([1, 2, 3]), scoreBlock([5, 5, 5])];
  close(computeMap('attn-grad-product', blocks, 1, { blocks: [1, 1] }), [0, 0.5, 1]);
  close(computeMap('attn-grad-product', blocks, 1, { blocks: [0, 0] }), [1, 0.5, 0]);
  // the flat third block is skipped (factor 1), so blocks 1..2 equal block 1 alone
  close(computeMap('attn-grad-product', blocks, 1, { blocks: [1, 2] }), [0, 0.5, 1]);
  assert.throws(
    () => computeMap('attn-grad-product', blocks, 1, { blocks: [1, 3] }),
    (e: unknown) => e instanceof EngineError && /0 ≤ FIRST ≤ LAST ≤ 2/.test(e.message),
  );
  assert.throws(() => computeMap('attn-grad-product', blocks, 1, { blocks: [2, 1] }), EngineError);
});

test('attn-grad-product: log space survives values that underflow a direct product', () => {
  const s = [1e-30, 2e-30, 3e-30];
  const rows = Array.from({ length: 12 }, () => ({
    heads: 1,
    tokens: 4,
    attention: [1, 1, 1, 1],
    gradient: [0, ...s],
  }));
  const eps = 1e-31;
  const direct = (s[0] - 1e-30 + eps) ** 12; // the smallest entry's 12-block product
  assert.equal(direct, 0, 'the direct product underflows in float64');
  const map = attnGradProductFromRows(rows, 1, { epsilon: eps, epsilonMode: 'absolute' });
  const r = s.map((v) => (v - 1e-30 + eps) / (2e-30 + eps));
  const p = r.map((v) => v ** 12);
  close(
    map,
    p.map((v) => (v - p[0]) / (1 - p[0])),
  );
  assert.ok(map[1] > 0, 'the middle token keeps a non-zero score');
});

test('rollout: hand-computed two blocks, order Ā_B ⋯ Ā_1', () => {
  const id = (t: number) => [0, 1, 2, 3].map((k) => (k === t ? 1 : 0));
  const b1 = block([[[0.4, 0.3, 0.2, 0.1], id(1), id(2), id(3)]]);
  const b2 = block([[[0, 0, 0, 1], id(1), id(2), id(3)]]);
  // row 0 of Ā2·Ā1 = [0.35, 0.075, 0.05, 0.525] → patches → [0.025/0.475, 0, 1]
  close(computeMap('rollout', [b1, b2], 1), [0.025 / 0.475, 0, 1]);
});

test('grad-rollout: hand-computed two blocks, R = (I+Ā2)(I+Ā1), clamp per head before the mean', () => {
  const ones = [
    [1, 1, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 1, 1],
  ];
  const zero = [0, 0, 0, 0];
  const b1 = block([ones], [[[0, 1, -1, 2], zero, zero, zero]]);
  const b2 = block([ones], [[[0, 0, 3, 0], [0, 0, 0, 5], [0, 1, 0, 0], zero]]);
  // row 0 of R = [1,1,3,2] → patches [1,3,2] → [0, 1, 0.5]  (the reverse order would give [0, 1/3, 1])
  close(computeMap('grad-rollout', [b1, b2], 1), [0, 1, 0.5]);
  // two heads: +4 and −4 at key 1 → mean of clamped = 2 (clamping after the mean would give 0)
  const h = (v: number) => [[0, v, 0, 1], zero, zero, zero];
  const b = block([ones, ones], [h(4), h(-4)]);
  // R row 0 = [1, 2, 0, 1] → patches [2, 0, 1] → [1, 0, 0.5]
  close(computeMap('grad-rollout', [b], 1), [1, 0, 0.5]);
});

// ---- random data against dense implementations of the definitions
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomBlocks(nb: number, heads: number, tokens: number, seed: number): BlockAttention[] {
  const r = rng(seed);
  return Array.from({ length: nb }, () => {
    const attention = new Float32Array(heads * tokens * tokens);
    const gradient = new Float32Array(heads * tokens * tokens);
    for (let row = 0; row < heads * tokens; row++) {
      let sum = 0;
      for (let k = 0; k < tokens; k++) sum += attention[row * tokens + k] = Math.exp(3 * r());
      for (let k = 0; k < tokens; k++) attention[row * tokens + k] /= sum;
    }
    for (let i = 0; i < gradient.length; i++) gradient[i] = r() - 0.4;
    return { heads, tokens, attention, gradient };
  });
}

type Mat = number[][];
const matmul = (a: Mat, b: Mat): Mat =>
  a.map((row) => b[0].map((_, k) => row.reduce((s, v, q) => s + v * b[q][k], 0)));
const eye = (t: number): Mat =>
  Array.from({ length: t }, (_, i) => Array.from({ length: t }, (_, k) => (i === k ? 1 : 0)));
function headMean(b: BlockAttention, f: (a: number, g: number) => number): Mat {
  const t = b.tokens;
  return eye(t).map((_, q) =>
    eye(t)[0].map((_, k) => {
      let s = 0;
      for (let h = 0; h < b.heads; h++)
        s += f(b.attention[(h * t + q) * t + k], b.gradient![(h * t + q) * t + k]);
      return s / b.heads;
    }),
  );
}
const norm = (v: number[]) => {
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return v.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0));
};

function denseRollout(blocks: BlockAttention[], p: number): number[] {
  let r = eye(blocks[0].tokens);
  for (const b of blocks) {
    const m = headMean(b, (a) => a).map((row, q) => row.map((v, k) => v + (q === k ? 1 : 0)));
    const mm = m.map((row) => row.map((v) => v / row.reduce((s, x) => s + x, 0)));
    r = matmul(mm, r);
  }
  return norm(r[0].slice(p));
}
function denseGradRollout(blocks: BlockAttention[], p: number): number[] {
  let r = eye(blocks[0].tokens);
  for (const b of blocks) {
    const m = headMean(b, (a, g) => Math.max(0, a * g));
    const mr = matmul(m, r);
    r = r.map((row, i) => row.map((v, k) => v + mr[i][k]));
  }
  return norm(r[0].slice(p));
}
function denseProduct(blocks: BlockAttention[], p: number): number[] {
  const t = blocks[0].tokens;
  let prod = Array<number>(t - p).fill(1);
  for (const b of blocks) {
    const s = headMean(b, (a, g) => a * g)[0].slice(p);
    const lo = Math.min(...s);
    const hi = Math.max(...s);
    prod = prod.map((v, j) => v * (s[j] - lo + 0.01 * (hi - lo)));
  }
  return norm(prod);
}
function denseLast(blocks: BlockAttention[], p: number): number[] {
  return norm(headMean(blocks[blocks.length - 1], (a) => a)[0].slice(p));
}

test('all methods match dense implementations of their definitions on random data', () => {
  for (const [nb, heads, tokens, p, seed] of [
    [3, 2, 5, 1, 1],
    [4, 3, 7, 2, 2],
    [2, 4, 10, 5, 3],
  ]) {
    const blocks = randomBlocks(nb, heads, tokens, seed);
    close(computeMap('rollout', blocks, p), denseRollout(blocks, p), 1e-5);
    close(computeMap('grad-rollout', blocks, p), denseGradRollout(blocks, p), 1e-5);
    close(computeMap('attn-grad-product', blocks, p), denseProduct(blocks, p), 1e-5);
    close(computeMap('last-attn', blocks, p), denseLast(blocks, p), 1e-5);
  }
});

test('bad inputs are named', () => {
  const blocks = randomBlocks(2, 2, 5, 9);
  assert.throws(() => computeMap('rollout', [], 1), /No attention blocks/);
  assert.throws(() => computeMap('rollout', blocks, 5), /prefixTokens must be an integer in \[0, 4\]/);
  assert.throws(
    () =>
      computeMap(
        'grad-rollout',
        blocks.map((b) => ({ ...b, gradient: undefined })),
        1,
      ),
    /needs the attention gradients/,
  );
  assert.throws(
    () => computeMap('rollout', [blocks[0], { ...blocks[1], tokens: 4 }], 1),
    /Block 1 has 2 heads × 4 tokens/,
  );
  assert.throws(() => computeMap('nope' as never, blocks, 1), /Unknown saliency method 'nope'/);
  assert.deepEqual([...METHOD_NAMES], ['attn-grad-product', 'rollout', 'grad-rollout', 'last-attn']);
});
