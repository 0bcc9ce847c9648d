// Matched-recall thresholds, false positives and the bootstrap on data small enough to work out by
// hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CURVE_POINTS,
  argmaxRecall,
  compareAtMatchedRecall,
  descendingOrder,
  precisionRecallCurve,
  quantile,
  thresholdAtRecall,
  type MatchInput,
} from '../../../electron/workstation/compare/matchedRecall';

// Images 0–3 are of class C, 4–7 are not. A calls 0 and 1 C by arg-max (recall 0.5).
function fixture(): MatchInput {
  return {
    positive: Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0]),
    argmaxA: Uint8Array.from([1, 1, 0, 0, 1, 0, 0, 0]),
    scoreA: Float64Array.from([0.9, 0.8, 0.6, 0.3, 0.85, 0.7, 0.5, 0.2]),
    scoreB: Float64Array.from([0.95, 0.9, 0.7, 0.4, 0.5, 0.3, 0.2, 0.1]),
    groups: [
      { name: 'stripes', members: [4, 5, 0] },
      { name: '', members: [1, 2, 3, 6, 7] },
    ],
  };
}

const positivesOf = (scores: Float64Array, positive: Uint8Array) => descendingOrder(scores, positive);

test('the threshold is the largest score whose recall reaches the target', () => {
  const { scoreA, positive } = fixture();
  const order = positivesOf(scoreA, positive);
  assert.deepEqual(thresholdAtRecall(scoreA, order, 0.5), { threshold: 0.8, recall: 0.5 });
  assert.deepEqual(thresholdAtRecall(scoreA, order, 0.51), { threshold: 0.6, recall: 0.75 });
  assert.deepEqual(thresholdAtRecall(scoreA, order, 0.75), { threshold: 0.6, recall: 0.75 });
  // Full recall: the lowest positive score, whatever the negatives below it.
  assert.deepEqual(thresholdAtRecall(scoreA, order, 1), { threshold: 0.3, recall: 1 });
  // 3 of 10 positives is 0.3 exactly, although 0.3 · 10 is 3.0000000000000004 in floating point.
  const ten = Float64Array.from({ length: 10 }, (_, i) => 1 - i / 10);
  const all = descendingOrder(ten);
  assert.deepEqual(thresholdAtRecall(ten, all, 0.3), { threshold: 0.8, recall: 0.3 });
});

test('tied scores are called together, so the achieved recall can exceed the target', () => {
  const scores = Float64Array.from([0.8, 0.8, 0.8, 0.2]);
  const order = descendingOrder(scores);
  assert.deepEqual(thresholdAtRecall(scores, order, 0.5), { threshold: 0.8, recall: 0.75 });
  assert.deepEqual(thresholdAtRecall(scores, order, 0.8), { threshold: 0.2, recall: 1 });
});

test('without positives there is no threshold; weights count positives by multiplicity', () => {
  const { scoreA, positive } = fixture();
  const order = positivesOf(scoreA, positive);
  assert.equal(thresholdAtRecall(scoreA, new Int32Array(0), 0.5), null);
  assert.equal(thresholdAtRecall(scoreA, order, 0.5, new Int32Array(8)), null);
  // Image 3 (score 0.3) drawn 3 times, image 0 once: 4 positives, half of them needs 0.3.
  const weights = Int32Array.from([1, 0, 0, 3, 0, 0, 0, 0]);
  assert.deepEqual(thresholdAtRecall(scoreA, order, 0.5, weights), { threshold: 0.3, recall: 1 });
  assert.deepEqual(thresholdAtRecall(scoreA, order, 0.25, weights), { threshold: 0.9, recall: 0.25 });
  assert.equal(argmaxRecall(fixture(), weights), 0.25);
  assert.equal(argmaxRecall(fixture()), 0.5);
});

test('at A’s arg-max recall: thresholds, false positives, per group and untagged', () => {
  const result = compareAtMatchedRecall(fixture(), { bootstrap: 0, seed: 1 });
  assert.equal(result.matchedRecall, 0.5);
  // A: t = 0.8 calls negative 4 (0.85). B: t = 0.9 calls no negative.
  assert.deepEqual(result.runs, [
    { threshold: 0.8, recall: 0.5, falsePositives: 1, precision: 2 / 3 },
    { threshold: 0.9, recall: 0.5, falsePositives: 0, precision: 1 },
  ]);
  assert.deepEqual(result.overall, { a: 1, b: 0, changePct: -100, ci95: null });
  assert.deepEqual(result.groups[0], { name: 'stripes', images: 3, a: 1, b: 0, changePct: -100, ci95: null });
  // No negative of the untagged group reaches either threshold: a = 0, no change to speak of.
  assert.deepEqual(result.groups[1], { name: '', images: 5, a: 0, b: 0, changePct: null, ci95: null });
});

test('a given recall overrides the arg-max one', () => {
  const result = compareAtMatchedRecall(fixture(), { recall: 0.75, bootstrap: 0, seed: 1 });
  // A: t = 0.6 calls negatives 4 and 5; B: t = 0.7 calls none.
  assert.equal(result.matchedRecall, 0.75);
  assert.deepEqual(
    result.runs.map((r) => [r.threshold, r.falsePositives]),
    [
      [0.6, 2],
      [0.7, 0],
    ],
  );
  // B worse than A: the change is positive.
  const swapped = { ...fixture(), scoreA: fixture().scoreB, scoreB: fixture().scoreA };
  const worse = compareAtMatchedRecall(swapped, { recall: 0.75, bootstrap: 0, seed: 1 });
  assert.deepEqual([worse.overall.a, worse.overall.b], [0, 2]);
  assert.equal(worse.overall.changePct, null);
  const full = compareAtMatchedRecall(swapped, { recall: 1, bootstrap: 0, seed: 1 });
  // A (= old B) at 0.4 calls negative 4 (0.5); B (= old A) at 0.3 calls 4, 5 and 6: +200%.
  assert.deepEqual(full.overall, { a: 1, b: 3, changePct: 200, ci95: null });
});

test('no positive image at all is an error, not a number', () => {
  const input = { ...fixture(), positive: new Uint8Array(8) };
  assert.throws(
    () => compareAtMatchedRecall(input, { bootstrap: 0, seed: 1 }),
    /no image of the positive class/,
  );
});

/** n images: half positive; A scores negatives high often, B rarely. Deterministic. */
function larger(n: number): MatchInput {
  const positive = new Uint8Array(n);
  const argmaxA = new Uint8Array(n);
  const scoreA = new Float64Array(n);
  const scoreB = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = ((i * 7919) % n) / n;
    positive[i] = i % 2 ? 0 : 1;
    scoreA[i] = positive[i] ? 0.3 + 0.7 * u : 0.9 * u;
    scoreB[i] = positive[i] ? 0.3 + 0.7 * u : 0.8 * u;
    argmaxA[i] = scoreA[i] > 0.5 ? 1 : 0;
  }
  return { positive, argmaxA, scoreA, scoreB, groups: [] };
}

test('the bootstrap is seeded, its interval holds the estimate, and it rechooses thresholds', () => {
  const input = larger(400);
  const one = compareAtMatchedRecall(input, { bootstrap: 300, seed: 7 });
  const again = compareAtMatchedRecall(input, { bootstrap: 300, seed: 7 });
  const other = compareAtMatchedRecall(input, { bootstrap: 300, seed: 8 });
  assert.deepEqual(one.overall, again.overall);
  assert.notDeepEqual(one.overall.ci95, other.overall.ci95);
  const [lo, hi] = one.overall.ci95!;
  assert.ok(one.overall.changePct! < 0, `B has fewer false positives: ${one.overall.changePct}`);
  assert.ok(
    lo <= one.overall.changePct! && one.overall.changePct! <= hi,
    `${lo} ≤ ${one.overall.changePct} ≤ ${hi}`,
  );
  assert.ok(hi - lo > 0.5, `a real spread, not a point: [${lo}, ${hi}]`);
  assert.equal(one.bootstrap.skipped, 0);
  // A fixed matched recall makes a different (narrower or not, but different) interval: the
  // resamples' recall no longer moves.
  const fixed = compareAtMatchedRecall(input, { recall: one.matchedRecall, bootstrap: 300, seed: 7 });
  assert.equal(fixed.overall.changePct, one.overall.changePct);
  assert.notDeepEqual(fixed.overall.ci95, one.overall.ci95);
});

test('resamples without a positive image are skipped and counted', () => {
  // One positive among 20 images: about (19/20)^20 ≈ 36% of resamples miss it.
  const n = 20;
  const input: MatchInput = {
    positive: Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 1 : 0)),
    argmaxA: Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 1 : 0)),
    scoreA: Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0.5 : i / 20)),
    scoreB: Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0.5 : i / 40)),
    groups: [],
  };
  const result = compareAtMatchedRecall(input, { bootstrap: 500, seed: 3 });
  assert.ok(result.bootstrap.skipped > 120 && result.bootstrap.skipped < 240, `${result.bootstrap.skipped}`);
  // A: t = 0.5 calls negatives 10–19 (i/20 ≥ 0.5); B: none (i/40 < 0.5).
  assert.deepEqual([result.overall.a, result.overall.b], [10, 0]);
});

test('precision–recall curve: a point per distinct score, downsampled to a few hundred', () => {
  const positive = Uint8Array.from([1, 0, 1, 0]);
  const scores = Float64Array.from([0.9, 0.8, 0.8, 0.1]);
  assert.deepEqual(precisionRecallCurve(positive, scores, descendingOrder(scores)), [
    [0.5, 1],
    [1, 0.6667],
    [1, 0.5],
  ]);
  const many = larger(2000);
  const curve = precisionRecallCurve(many.positive, many.scoreA, descendingOrder(many.scoreA));
  assert.equal(curve.length, CURVE_POINTS);
  assert.deepEqual(curve[curve.length - 1], [1, 0.5]);
  assert.ok(
    curve.every(([r], k) => k === 0 || r >= curve[k - 1][0]),
    'recall never falls along the curve',
  );
});

test('quantile interpolates between order statistics', () => {
  assert.equal(quantile([1, 2, 3, 4, 5], 0.5), 3);
  assert.equal(quantile([0, 10], 0.025), 0.25);
  assert.equal(quantile([7], 0.975), 7);
});
