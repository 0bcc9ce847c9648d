// The perturbation maps, the region check and the leaderboard's ranking: token occlusion on the
// bundled model against drops computed here one masked copy at a time; the multi-scale map's grid
// and its pointing on a cued image; the region check's scores against hand-made masked copies;
// and the ranking with CIs by hand.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { upsampleBilinear } from '../../../electron/contract/bilinear';
import { activate } from '../../../electron/engine/explainReport';
import {
  randomMap,
  rankPixels,
  type FaithfulnessReport,
  type Interval,
} from '../../../electron/engine/evaluate';
import { ExplainSession } from '../../../electron/engine/explainSession';
import {
  buildLeaderboard,
  defaultMethod,
  readLeaderboard,
  type Leaderboard,
} from '../../../electron/engine/leaderboard';
import { parseModelCard, type ModelCard } from '../../../electron/engine/modelCard';
import { occlusionPlan } from '../../../electron/engine/perturbation';
import { loadModelPixels, preprocessImage } from '../../../electron/engine/preprocess';
import { checkRegion, isDecisive } from '../../../electron/engine/regionCheck';

const ROOT = path.join(__dirname, '..', '..', '..');
const SHORTCUT = path.join(ROOT, 'models', 'fashion-vit-shortcut');
// A cued coat that the shortcut model calls Shirt (it is in the flipped subset).
const CUED = path.join(ROOT, 'models', 'demo', 'fashion-mnist-cued', 'images', 'Coat', '00014.png');
const MASK = CUED.replace(`${path.sep}images${path.sep}`, `${path.sep}masks${path.sep}`);
const SHIRT = 6;

describe('perturbation maps and the region check on the shortcut model', () => {
  let session: ExplainSession;
  let card: ModelCard;
  let image: Float32Array;
  before(async () => {
    card = parseModelCard(JSON.parse(fs.readFileSync(path.join(SHORTCUT, 'model.json'), 'utf8')), 'card');
    session = await ExplainSession.open(SHORTCUT, { provider: 'cpu', threads: 1 });
    image = (await preprocessImage(CUED, card.preprocessing, session.info)).tensor;
  });
  after(() => session.close());

  const pTarget = async (input: Float32Array, target: number): Promise<number> =>
    activate((await session.predict(input, 1)).subarray(0, 10))[target];

  it('token occlusion: each patch mean-filled, the map is the drop of p(target) (negatives 0), normalised', async () => {
    const { maps, grid, targets } = await session.saliency(image, 1, 'top1', 'occlusion');
    assert.deepEqual(grid, [7, 7]);
    assert.equal(targets[0], SHIRT);
    const p0 = await pTarget(image, SHIRT);
    const drops: number[] = [];
    for (let r = 0; r < 7; r++)
      for (let c = 0; c < 7; c++) {
        const copy = Float32Array.from(image);
        for (let y = r * 4; y < r * 4 + 4; y++) copy.fill(0, y * 28 + c * 4, y * 28 + c * 4 + 4);
        drops.push(Math.max(0, p0 - (await pTarget(copy, SHIRT))));
      }
    const hi = Math.max(...drops);
    const lo = Math.min(...drops);
    assert.ok(hi > lo);
    drops.forEach((d, i) => assert.ok(Math.abs(maps[0][i] - (d - lo) / (hi - lo)) < 1e-4, `patch ${i}`));
  });

  it('multi-scale occlusion: a half-patch grid whose hottest cell is on the cue', async () => {
    const plan = occlusionPlan('occlusion-multiscale', session.info);
    assert.deepEqual(plan.grid, [14, 14]);
    assert.deepEqual([plan.cellH, plan.sizes, plan.score], [2, [2, 3], 'log-probability']);
    const { maps, grid } = await session.saliency(image, 1, [SHIRT], 'occlusion-multiscale');
    assert.deepEqual(grid, [14, 14]);
    const { pixels, channels } = await loadModelPixels(MASK, card.preprocessing, session.info, 'nearest');
    const pixelMap = upsampleBilinear(maps[0], 14, 14, 28, 28);
    const hottest = rankPixels(pixelMap)[0];
    assert.ok(pixels[hottest * channels] > 127, 'the hottest pixel lies inside the cue');
  });

  it('the region check hides the top 10% of the map, a random 10% and the bottom 10%', async () => {
    const { maps, grid } = await session.saliency(image, 1, [SHIRT], 'occlusion');
    const check = await checkRegion(session, image, SHIRT, maps[0], grid, { seed: 3 });
    assert.equal(check.pixels, 78);
    const ranked = rankPixels(upsampleBilinear(maps[0], 7, 7, 28, 28));
    const hide = (pixels: ArrayLike<number>) => {
      const copy = Float32Array.from(image);
      for (const p of Array.from(pixels)) copy[p] = 0;
      return copy;
    };
    const randomRanked = rankPixels(upsampleBilinear(randomMap(49, 3), 7, 7, 28, 28));
    const expected = {
      before: await pTarget(image, SHIRT),
      after: await pTarget(hide(ranked.subarray(0, 78)), SHIRT),
      random: await pTarget(hide(randomRanked.subarray(0, 78)), SHIRT),
      bottom: await pTarget(hide(ranked.subarray(784 - 78)), SHIRT),
    };
    for (const k of ['before', 'after', 'random', 'bottom'] as const)
      assert.ok(Math.abs(check[k] - expected[k]) < 1e-5, `${k}: ${check[k]} vs ${expected[k]}`);
    assert.ok(check.after < check.before, 'hiding the map top lowers p(Shirt)');
    assert.equal(check.decisive, isDecisive(check.before, check.after, check.random));
  });
});

describe('the region verdict', () => {
  it("decisive: p at least halved, and at least twice the random region's drop", () => {
    assert.equal(isDecisive(0.9, 0.1, 0.85), true);
    assert.equal(isDecisive(0.9, 0.5, 0.85), false); // not halved
    assert.equal(isDecisive(0.9, 0.1, 0.4), false); // random costs more than half as much
    assert.equal(isDecisive(0.9, 0.1, 0.95), true); // random raised p: no cost
  });
});

describe('the leaderboard', () => {
  const interval = (mean: number, half: number): Interval => ({
    mean,
    sd: 0,
    ci95: [mean - half, mean + half],
    n: 100,
  });
  const summary = (del: Interval, ins: Interval) => ({
    deletion: { auc: del, curve: [] },
    insertion: { auc: ins, curve: [] },
  });
  const report = {
    images: 100,
    steps: 32,
    pixelsPerStep: 24.5,
    baseline: 'mean',
    insertionStart: 'blur',
    blurSigma: 3.5,
    score: 'p',
    methods: {
      // a: best deletion, insertion tied (CI overlaps b's); b: best insertion, deletion behind a.
      a: summary(interval(0.1, 0.01), interval(0.7, 0.03)),
      b: summary(interval(0.2, 0.01), interval(0.72, 0.03)),
      c: summary(interval(0.3, 0.01), interval(0.5, 0.01)),
      random: summary(interval(0.4, 0.01), interval(0.4, 0.01)),
    },
  } as unknown as FaithfulnessReport;

  it('ranks with CIs (overlapping CIs tie) and names the winner with its reason', () => {
    const renamed = JSON.parse(
      JSON.stringify(report)
        .replace('"a":', '"occlusion":')
        .replace('"b":', '"attn-lrp":')
        .replace('"c":', '"rollout":'),
    ) as FaithfulnessReport;
    const board = buildLeaderboard(renamed, {
      modelName: 'm',
      modelFile: 'model.onnx',
      sha256: 'abc',
      dataset: 'd',
      machine: 'test',
    });
    assert.deepEqual(
      board.methods.map((m) => [m.method, m.rank.deletion, m.rank.insertion]),
      [
        ['occlusion', 1, 1],
        ['attn-lrp', 2, 1],
        ['rollout', 3, 3],
      ],
    );
    assert.deepEqual(board.winner, {
      method: 'occlusion',
      reason: 'best deletion and insertion AUC on 100 images',
    });
    assert.equal(board.random.deletion.mean, 0.4);
  });

  it('is read back only for the same weights; unscored models default to the article', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-board-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    assert.deepEqual(defaultMethod(readLeaderboard(dir, 'abc')).method, 'attn-grad-product');
    fs.writeFileSync(
      path.join(dir, 'faithfulness.json'),
      JSON.stringify({
        schemaVersion: 1,
        model: { sha256: 'abc' },
        winner: { method: 'occlusion', reason: 'r' },
      }),
    );
    assert.deepEqual(defaultMethod(readLeaderboard(dir, 'abc')), { method: 'occlusion', reason: 'r' });
    assert.equal(readLeaderboard(dir, 'other'), null, 'a leaderboard of other weights is ignored');
    // For the grid's many thumbnails: the best method under 50 ms per image.
    const board = {
      winner: { method: 'occlusion-multiscale', reason: 'best' },
      methods: [
        { method: 'occlusion-multiscale', msPerImage: { mean: 900 }, rank: { mean: 1 } },
        { method: 'occlusion', msPerImage: { mean: 80 }, rank: { mean: 1.5 } },
        { method: 'attn-lrp', msPerImage: { mean: 8 }, rank: { mean: 1.5 } },
      ],
    } as unknown as Leaderboard;
    assert.equal(defaultMethod(board).method, 'occlusion-multiscale');
    assert.equal(defaultMethod(board, true).method, 'attn-lrp');
    assert.match(defaultMethod(board, true).reason, /under 50 ms per image/);
  });
});
