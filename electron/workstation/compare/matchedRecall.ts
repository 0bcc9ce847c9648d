// Two runs compared at matched recall on one positive class: each run's threshold on p(C) is the
// largest one whose recall on C reaches the matched recall; then false positives overall, per group
// of images (a tag, the untagged) and their change, with a bootstrap 95% CI over images. Pure
// arithmetic on arrays: compareRuns.ts loads them from the database.
import { seededRandom } from './seededRandom';

/** One labelled image per index; scores are p(C) of each run. */
export interface MatchInput {
  /** 1 where the image's label is C, 0 where it is another label. */
  positive: Uint8Array;
  /** 1 where run A's top-1 (arg-max) class is C: A's operating point. */
  argmaxA: Uint8Array;
  scoreA: Float64Array;
  scoreB: Float64Array;
  /** Named groups of image indices (a tag's images, the untagged images). */
  groups: { name: string; members: ArrayLike<number> }[];
}

export interface MatchOptions {
  /** The recall to match; default A's arg-max recall on C. In (0, 1]. */
  recall?: number;
  /** Bootstrap resamples (0: none). */
  bootstrap: number;
  seed: number;
}

export interface RunAtRecall {
  threshold: number;
  recall: number;
  falsePositives: number;
  precision: number | null;
}

export interface Change {
  a: number;
  b: number;
  /** 100·(b − a)/a; null when a = 0. */
  changePct: number | null;
  /** Bootstrap percentile interval of changePct; null without resamples where a > 0. */
  ci95: [number, number] | null;
}

export interface MatchResult {
  matchedRecall: number;
  runs: [RunAtRecall, RunAtRecall];
  overall: Change;
  groups: (Change & { name: string; images: number })[];
  /** Precision–recall curves, [recall, precision] points, downsampled. */
  curves: { a: [number, number][]; b: [number, number][] };
  bootstrap: {
    n: number;
    seed: number;
    /** Resamples left out because they held no image of class C. */
    skipped: number;
  };
}

/** Points of a drawn precision–recall curve at most. */
export const CURVE_POINTS = 300;
/** The fewest resamples with a > 0 that make an interval. */
const MIN_RESAMPLES_FOR_CI = 20;

/** Image indices by descending score, ties by index: the walk order for thresholds and curves. */
export function descendingOrder(scores: ArrayLike<number>, keep?: Uint8Array): Int32Array {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!keep || keep[i]) idx.push(i);
  idx.sort((x, y) => scores[y] - scores[x] || x - y);
  return Int32Array.from(idx);
}

/**
 * The largest threshold t such that the (weighted) share of positives with score ≥ t reaches
 * `recall`, with the recall it achieves (ties at t can push it above the target). `positivesDesc`
 * are the positive images by descending score; `weights` their multiplicity (a bootstrap
 * resample), or all 1. Null when there is no positive weight. A recall of 0 calls nothing.
 */
export function thresholdAtRecall(
  scores: ArrayLike<number>,
  positivesDesc: Int32Array,
  recall: number,
  weights?: Int32Array,
): { threshold: number; recall: number } | null {
  let total = 0;
  for (const i of positivesDesc) total += weights ? weights[i] : 1;
  if (total === 0) return null;
  // The positives needed; the epsilon keeps k/P from rounding up to k + 1.
  const need = Math.ceil(recall * total - 1e-9);
  if (need <= 0) return { threshold: Infinity, recall: 0 };
  let called = 0;
  let j = 0;
  for (; j < positivesDesc.length; j++) {
    called += weights ? weights[positivesDesc[j]] : 1;
    if (called >= need) break;
  }
  const threshold = scores[positivesDesc[j]];
  // Positives tied with the threshold are called too.
  for (j++; j < positivesDesc.length && scores[positivesDesc[j]] >= threshold; j++)
    called += weights ? weights[positivesDesc[j]] : 1;
  return { threshold, recall: called / total };
}

/** The (weighted) share of positives whose top-1 is C. */
export function argmaxRecall(input: MatchInput, weights?: Int32Array): number | null {
  let pos = 0;
  let hit = 0;
  for (let i = 0; i < input.positive.length; i++) {
    if (!input.positive[i]) continue;
    const w = weights ? weights[i] : 1;
    pos += w;
    if (input.argmaxA[i]) hit += w;
  }
  return pos ? hit / pos : null;
}

/** False positives at threshold t among `members` (all images when omitted), weighted. */
function falsePositives(
  input: MatchInput,
  scores: ArrayLike<number>,
  t: number,
  members?: ArrayLike<number>,
  weights?: Int32Array,
): number {
  let fp = 0;
  const n = members ? members.length : input.positive.length;
  for (let k = 0; k < n; k++) {
    const i = members ? members[k] : k;
    if (!input.positive[i] && scores[i] >= t) fp += weights ? weights[i] : 1;
  }
  return fp;
}

export function changePct(a: number, b: number): number | null {
  return a === 0 ? null : (100 * (b - a)) / a;
}

/** Linear-interpolated quantile of sorted values (R's type 7). */
export function quantile(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Precision–recall points at every distinct score, then at most CURVE_POINTS of them. */
export function precisionRecallCurve(
  positive: Uint8Array,
  scores: ArrayLike<number>,
  order: Int32Array,
): [number, number][] {
  let total = 0;
  for (const p of positive) total += p;
  const points: [number, number][] = [];
  let tp = 0;
  let called = 0;
  for (let j = 0; j < order.length; j++) {
    const i = order[j];
    called++;
    if (positive[i]) tp++;
    const last = j + 1 === order.length || scores[order[j + 1]] !== scores[i];
    if (last && total) points.push([tp / total, tp / called]);
  }
  if (points.length <= CURVE_POINTS) return points.map(roundPoint);
  const step = (points.length - 1) / (CURVE_POINTS - 1);
  return Array.from({ length: CURVE_POINTS }, (_, k) => roundPoint(points[Math.round(k * step)]));
}

function roundPoint([r, p]: [number, number]): [number, number] {
  return [Math.round(r * 1e4) / 1e4, Math.round(p * 1e4) / 1e4];
}

interface Operating {
  tA: number;
  tB: number;
}

/**
 * Both thresholds at the matched recall for these weights: a fixed recall, or A's arg-max recall
 * on the (resampled) images. Null when the weights hold no positive image.
 */
function operatingPoint(
  input: MatchInput,
  orders: { a: Int32Array; b: Int32Array },
  recall: number | undefined,
  weights?: Int32Array,
): (Operating & { recall: number; recallA: number; recallB: number }) | null {
  const target = recall ?? argmaxRecall(input, weights);
  if (target === null) return null;
  const a = thresholdAtRecall(input.scoreA, orders.a, target, weights);
  const b = thresholdAtRecall(input.scoreB, orders.b, target, weights);
  if (!a || !b) return null;
  return { recall: target, tA: a.threshold, tB: b.threshold, recallA: a.recall, recallB: b.recall };
}

export function compareAtMatchedRecall(input: MatchInput, options: MatchOptions): MatchResult {
  const n = input.positive.length;
  const positivesDesc = {
    a: descendingOrder(input.scoreA, input.positive),
    b: descendingOrder(input.scoreB, input.positive),
  };
  const point = operatingPoint(input, positivesDesc, options.recall);
  if (!point) throw new Error('no image of the positive class: nothing to match');
  const runAt = (scores: ArrayLike<number>, t: number, recall: number): RunAtRecall => {
    const fp = falsePositives(input, scores, t);
    const tp = Math.round(recall * positivesDesc.a.length);
    return { threshold: t, recall, falsePositives: fp, precision: tp + fp ? tp / (tp + fp) : null };
  };
  const runs: [RunAtRecall, RunAtRecall] = [
    runAt(input.scoreA, point.tA, point.recallA),
    runAt(input.scoreB, point.tB, point.recallB),
  ];

  // Every resample draws n images with replacement and chooses both thresholds afresh on it.
  const targets = [undefined, ...input.groups.map((g) => g.members)];
  const samples: number[][] = targets.map(() => []);
  const random = seededRandom(options.seed);
  const weights = new Int32Array(n);
  let skipped = 0;
  for (let r = 0; r < options.bootstrap; r++) {
    weights.fill(0);
    for (let k = 0; k < n; k++) weights[Math.floor(random() * n)]++;
    const op = operatingPoint(input, positivesDesc, options.recall, weights);
    if (!op) {
      skipped++;
      continue;
    }
    targets.forEach((members, g) => {
      const a = falsePositives(input, input.scoreA, op.tA, members, weights);
      if (a === 0) return;
      const b = falsePositives(input, input.scoreB, op.tB, members, weights);
      samples[g].push((100 * (b - a)) / a);
    });
  }
  const change = (g: number, members?: ArrayLike<number>): Change => {
    const a = falsePositives(input, input.scoreA, point.tA, members);
    const b = falsePositives(input, input.scoreB, point.tB, members);
    const sorted = samples[g].sort((x, y) => x - y);
    const ci95: [number, number] | null =
      a > 0 && sorted.length >= MIN_RESAMPLES_FOR_CI
        ? [quantile(sorted, 0.025), quantile(sorted, 0.975)]
        : null;
    return { a, b, changePct: changePct(a, b), ci95 };
  };
  const everyImage = new Uint8Array(n).fill(1);
  return {
    matchedRecall: point.recall,
    runs,
    overall: change(0),
    groups: input.groups.map((group, g) => ({
      name: group.name,
      images: group.members.length,
      ...change(g + 1, group.members),
    })),
    curves: {
      a: precisionRecallCurve(input.positive, input.scoreA, descendingOrder(input.scoreA, everyImage)),
      b: precisionRecallCurve(input.positive, input.scoreB, descendingOrder(input.scoreB, everyImage)),
    },
    bootstrap: { n: options.bootstrap, seed: options.seed, skipped },
  };
}
