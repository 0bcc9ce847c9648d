// A model's faithfulness leaderboard (`vsw evaluate --leaderboard`): every method's deletion and
// insertion AUC with 95% CIs, localisation where masks exist, and the time per image, written as
// faithfulness.json beside the model's card with the model file's hash. The default method of a
// model is the leaderboard's winner: the best mean rank over deletion and insertion, where a method
// ranks behind another only when their CIs do not overlap. Until a model is scored (or when the file
// was made for other weights) the article's method is the default.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FaithfulnessReport, Interval, MethodSummary } from './evaluate';
import { isMapMethod, type MapMethod } from './methods';

export const LEADERBOARD_FILE = 'faithfulness.json';
export const UNSCORED_DEFAULT: MapMethod = 'attn-grad-product';

export interface LeaderboardEntry {
  method: MapMethod;
  deletion: Interval;
  insertion: Interval;
  localisation?: MethodSummary['localisation'];
  msPerImage?: Interval;
  /** 1 + the number of methods whose CI lies wholly on the better side of this one's. */
  rank: { deletion: number; insertion: number; mean: number };
}

export interface Leaderboard {
  schemaVersion: 1;
  model: { name: string; file: string; sha256: string };
  /** The images' folder, as given (relative to the working directory). */
  dataset: string;
  images: number;
  /** Where only part of the folder was scored (e.g. the images whose prediction the cue flips). */
  subset?: { rule: string; of: number };
  protocol: Pick<FaithfulnessReport, 'steps' | 'baseline' | 'insertionStart' | 'blurSigma' | 'score'>;
  /** The random map's figures: the floor every method must beat. */
  random: { deletion: Interval; insertion: Interval; localisation?: MethodSummary['localisation'] };
  maskArea?: number;
  /** Best first. */
  methods: LeaderboardEntry[];
  winner: { method: MapMethod; reason: string };
  machine: string;
  createdAt: string;
}

function halfWidth(i: Interval): number {
  return i.ci95 ? (i.ci95[1] - i.ci95[0]) / 2 : 0;
}

/** Ranks with CIs: lower is better for deletion, higher for insertion. */
function ciRanks(values: Interval[], lowerIsBetter: boolean): number[] {
  return values.map((v) => {
    const behind = values.filter((w) =>
      lowerIsBetter
        ? w.mean + halfWidth(w) < v.mean - halfWidth(v)
        : w.mean - halfWidth(w) > v.mean + halfWidth(v),
    ).length;
    return 1 + behind;
  });
}

export function buildLeaderboard(
  report: FaithfulnessReport,
  meta: {
    modelName: string;
    modelFile: string;
    sha256: string;
    dataset: string;
    subset?: Leaderboard['subset'];
    machine: string;
  },
): Leaderboard {
  const scored = Object.entries(report.methods).filter(
    (e): e is [MapMethod, MethodSummary] => e[0] !== 'random' && !!e[1] && isMapMethod(e[0]),
  );
  const del = ciRanks(
    scored.map(([, s]) => s.deletion.auc),
    true,
  );
  const ins = ciRanks(
    scored.map(([, s]) => s.insertion.auc),
    false,
  );
  const entries: LeaderboardEntry[] = scored.map(([method, s], i) => ({
    method,
    deletion: s.deletion.auc,
    insertion: s.insertion.auc,
    ...(s.localisation ? { localisation: s.localisation } : {}),
    ...(s.msPerImage ? { msPerImage: s.msPerImage } : {}),
    rank: { deletion: del[i], insertion: ins[i], mean: (del[i] + ins[i]) / 2 },
  }));
  // Ties on the mean rank: the better sum of the two AUC margins (insertion − deletion).
  entries.sort(
    (a, b) =>
      a.rank.mean - b.rank.mean || b.insertion.mean - b.deletion.mean - (a.insertion.mean - a.deletion.mean),
  );
  const best = entries[0];
  const random = report.methods.random!;
  return {
    schemaVersion: 1,
    model: { name: meta.modelName, file: meta.modelFile, sha256: meta.sha256 },
    dataset: meta.dataset,
    images: report.images,
    ...(meta.subset ? { subset: meta.subset } : {}),
    protocol: {
      steps: report.steps,
      baseline: report.baseline,
      insertionStart: report.insertionStart,
      blurSigma: report.blurSigma,
      score: report.score,
    },
    random: {
      deletion: random.deletion.auc,
      insertion: random.insertion.auc,
      ...(random.localisation ? { localisation: random.localisation } : {}),
    },
    ...(report.maskArea !== undefined ? { maskArea: report.maskArea } : {}),
    methods: entries,
    winner: { method: best.method, reason: winnerReason(best, entries, report.images) },
    machine: meta.machine,
    createdAt: new Date().toISOString(),
  };
}

function winnerReason(best: LeaderboardEntry, entries: LeaderboardEntry[], images: number): string {
  const on = `on ${images} images`;
  const { deletion, insertion } = best.rank;
  const reason =
    deletion === 1 && insertion === 1
      ? `best deletion and insertion AUC ${on}`
      : deletion === 1
        ? `best deletion AUC ${on}`
        : insertion === 1
          ? `best insertion AUC ${on}`
          : `best mean rank over deletion and insertion AUC ${on}`;
  const tied = entries.filter((e) => e !== best && e.rank.mean === best.rank.mean).map((e) => e.method);
  return tied.length
    ? `${reason}; tied within the CIs with ${tied.join(', ')}, ahead on insertion − deletion`
    : reason;
}

export function sha256OfFile(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The leaderboard beside a model's card, or null where there is none or it scored other weights. */
export function readLeaderboard(cardDir: string, modelSha256: string): Leaderboard | null {
  const file = path.join(cardDir, LEADERBOARD_FILE);
  if (!fs.existsSync(file)) return null;
  const board = JSON.parse(fs.readFileSync(file, 'utf8')) as Leaderboard;
  if (board.schemaVersion !== 1 || board.model?.sha256 !== modelSha256) return null;
  return board;
}

/** Time per image under which a method is fit for many maps at once (grid thumbnails). */
export const FAST_MS_PER_IMAGE = 50;

/**
 * The method a model's maps are shown with by default, and why. With `fast`, the best method on
 * the leaderboard that makes a map in under FAST_MS_PER_IMAGE (for the grid's many thumbnails).
 */
export function defaultMethod(
  board: Leaderboard | null,
  fast = false,
): { method: MapMethod; reason: string } {
  if (!board || !isMapMethod(board.winner.method))
    return { method: UNSCORED_DEFAULT, reason: "the article's method (this model has no leaderboard yet)" };
  if (!fast) return board.winner;
  const quick = board.methods.find((m) => m.msPerImage && m.msPerImage.mean < FAST_MS_PER_IMAGE);
  if (!quick || quick.method === board.winner.method) return board.winner;
  return {
    method: quick.method,
    reason: `the best of the methods under ${FAST_MS_PER_IMAGE} ms per image (mean rank ${quick.rank.mean}; the winner, ${board.winner.method}, is slower)`,
  };
}
