// compareRuns on a real SQLite data dir with real image files, and prediction rows written here
// with probabilities chosen to be exact in float16: the numbers worked out by hand, the unlabelled
// image left out, and the refusals whose conditions real models rarely produce (a base run that
// never predicts the class, runs without probability vectors, a run of another dataset).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { compareRuns } from '../../../electron/workstation/compare/compareRuns';
import { uiError } from '../../../renderer/src/state/uiErrors';
import { encodeFloat16 } from '../../../electron/workstation/store/float16';
import { applyTag, tagByName } from '../../../electron/workstation/tags/tagStore';
import { Workstation } from '../../../electron/workstation/workstation';
import { writeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/tempDir';

const LABELS = ['Coat', 'Shirt'];
// p(Shirt) per image, Shirts first: A calls three Shirts Shirt by arg-max (p > 0.5).
const FILES = [
  'Shirt/s0.png',
  'Shirt/s1.png',
  'Shirt/s2.png',
  'Shirt/s3.png',
  'Coat/c0.png',
  'Coat/c1.png',
  'Coat/c2.png',
  'Coat/c3.png',
];
const P_A = [0.875, 0.75, 0.625, 0.25, 0.8125, 0.6875, 0.5, 0.125];
const P_B = [0.9375, 0.875, 0.75, 0.375, 0.5, 0.3125, 0.25, 0.125];

async function fixture(t: TestContext) {
  const root = tempDir(t, 'vsw-compare-images-');
  for (const [k, rel] of [...FILES, 'loose.png'].entries())
    await writeImage(path.join(root, rel), { colour: [20 + 25 * k, 200 - 20 * k, 90] });
  const ws = new Workstation({ dataDir: tempDir(t, 'vsw-data-'), reviewer: 'r' });
  t.after(() => ws.close());
  const { dataset } = await ws.addDataset(root, 'shirts');
  const idOf = new Map(
    (
      ws.db.prepare('SELECT id, rel_path FROM images WHERE dataset_id = ?').all(dataset.id) as {
        id: number;
        rel_path: string;
      }[]
    ).map((r) => [r.rel_path, r.id]),
  );
  let runs = 0;
  /** A finished run whose p(Shirt) per file is given (the loose, unlabelled image gets 0.9). */
  const addRun = (pShirt: number[] | null, options: { labels?: string[]; datasetId?: number } = {}) => {
    const labels = options.labels ?? LABELS;
    const runId = Number(
      ws.db
        .prepare(
          "INSERT INTO runs (dataset_id, name, labels, settings, settings_key, status, created_at) VALUES (?, ?, ?, '{}', ?, 'done', '')",
        )
        .run(options.datasetId ?? dataset.id, `run ${++runs}`, JSON.stringify(labels), `k${runs}`)
        .lastInsertRowid,
    );
    const insert = ws.db.prepare(
      'INSERT INTO predictions (run_id, image_id, top1, score, true_idx, probs) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const [k, rel] of [...FILES, 'loose.png'].entries()) {
      const p = pShirt ? (pShirt[k] ?? 0.9) : 0.9;
      const trueIdx = rel === 'loose.png' ? null : labels.indexOf(rel.split('/')[0]);
      insert.run(
        runId,
        idOf.get(rel),
        p > 0.5 ? 1 : 0,
        Math.max(p, 1 - p),
        trueIdx === null || trueIdx < 0 ? null : trueIdx,
        pShirt ? encodeFloat16([1 - p, p]) : null,
      );
    }
    return runId;
  };
  return { ws, datasetId: dataset.id, idOf, addRun };
}

test('thresholds, false positives, per tag and untagged, worked out by hand', async (t) => {
  const { ws, datasetId, idOf, addRun } = await fixture(t);
  const [a, b] = [addRun(P_A), addRun(P_B)];
  applyTag(
    ws.db,
    tagByName(ws.db, datasetId, 'stripes', ws.reviewerId, true),
    { imageIds: [idOf.get('Coat/c0.png')!, idOf.get('Shirt/s0.png')!] },
    ws.reviewerId,
  );
  const r = compareRuns(ws.db, { datasetId, runA: a, runB: b, className: 'Shirt', bootstrap: 0 });
  // The loose image has no label: left out, although both runs call it Shirt.
  assert.deepEqual([r.images, r.positives], [8, 4]);
  // A's arg-max recall is 3/4; A needs t = 0.625 for it (FP: 0.8125, 0.6875), B t = 0.75 (none).
  assert.equal(r.matchedRecall, 0.75);
  assert.deepEqual(
    r.runs.map((x) => [x.threshold, x.recall, x.falsePositives, x.precision]),
    [
      [0.625, 0.75, 2, 0.6],
      [0.75, 0.75, 0, 1],
    ],
  );
  assert.deepEqual(r.overall, { a: 2, b: 0, changePct: -100, ci95: null });
  assert.deepEqual(r.patterns, [{ tag: 'stripes', images: 2, a: 1, b: 0, changePct: -100, ci95: null }]);
  assert.deepEqual(r.untagged, { images: 6, a: 1, b: 0, changePct: -100, ci95: null });
  // At full recall A needs 0.25 (FP 0.8125, 0.6875, 0.5) and B 0.375 (FP 0.5): −66.7%.
  const full = compareRuns(ws.db, {
    datasetId,
    runA: a,
    runB: b,
    className: 'Shirt',
    recall: 1,
    bootstrap: 0,
  });
  assert.deepEqual([full.overall.a, full.overall.b], [3, 1]);
  assert.ok(Math.abs(full.overall.changePct! - -200 / 3) < 1e-9);
  // Swapped, B is the base: its arg-max recall is 3/4 as well; the change is then +∞ → null.
  const swapped = compareRuns(ws.db, { datasetId, runA: b, runB: a, className: 'Shirt', bootstrap: 0 });
  assert.deepEqual(swapped.overall, { a: 0, b: 2, changePct: null, ci95: null });
});

test('refusals that real models rarely produce, in words the window can show', async (t) => {
  const { ws, datasetId, addRun } = await fixture(t);
  const messages: string[] = [];
  const refused = (run: () => unknown, pattern: RegExp) =>
    assert.throws(run, (error: Error) => {
      assert.match(error.message, pattern);
      messages.push(error.message);
      return true;
    });
  const a = addRun(P_A);
  // A base run that never calls a Shirt Shirt by arg-max: its recall, the default, would be 0.
  const never = addRun([0.5, 0.375, 0.25, 0.125, 0.875, 0.125, 0.125, 0.125]);
  refused(
    () => compareRuns(ws.db, { datasetId, runA: never, runB: a, className: 'Shirt', bootstrap: 0 }),
    new RegExp(`run ${never} never predicts Shirt .* Give the recall to match with --recall R`),
  );
  const given = compareRuns(ws.db, {
    datasetId,
    runA: never,
    runB: a,
    className: 'Shirt',
    recall: 0.5,
    bootstrap: 0,
  });
  assert.deepEqual([given.runs[0].threshold, given.overall.a], [0.375, 1]);
  // Top-1 results without probability vectors.
  const topOnly = addRun(null);
  refused(
    () => compareRuns(ws.db, { datasetId, runA: a, runB: topOnly, className: 'Shirt', bootstrap: 0 }),
    new RegExp(
      `run ${topOnly} has no probability vector for 9 image\\(s\\) \\(e\\.g\\. .*\\) \\(top-1 results imported from a manifest\\)`,
    ),
  );
  // A class one run does not have.
  const dresses = addRun(P_A, { labels: ['Coat', 'Dress'] });
  refused(
    () => compareRuns(ws.db, { datasetId, runA: a, runB: dresses, className: 'Shirt', bootstrap: 0 }),
    new RegExp(`"Shirt" is not a class of run ${dresses}; its classes are: Coat, Dress`),
  );
  // A run of another dataset.
  const other = Number(
    ws.db.prepare("INSERT INTO datasets (name, created_at) VALUES ('other', '')").run().lastInsertRowid,
  );
  const foreign = addRun(P_A, { datasetId: other });
  refused(
    () => compareRuns(ws.db, { datasetId, runA: a, runB: foreign, className: 'Shirt', bootstrap: 0 }),
    new RegExp(`run ${foreign} belongs to another dataset`),
  );
  // A partial run; test images beside others.
  ws.db.prepare("UPDATE runs SET status = 'cancelled' WHERE id = ?").run(never);
  refused(
    () => compareRuns(ws.db, { datasetId, runA: a, runB: never, className: 'Shirt', bootstrap: 0 }),
    new RegExp(`run ${never} is partial \\(cancelled, 9 predictions\\)`),
  );
  ws.db.prepare("UPDATE images SET split = 'test' WHERE rel_path LIKE 'Shirt/%'").run();
  refused(
    () => compareRuns(ws.db, { datasetId, runA: a, runB: a, className: 'Shirt', bootstrap: 0 }),
    /mix the test split with others: 4 in test \(e\.g\. Shirt\/s\d\.png\) and 4 in pool or validation \(e\.g\. Coat\/c\d\.png\)/,
  );
  // A recall outside (0, 1].
  refused(
    () => compareRuns(ws.db, { datasetId, runA: a, runB: a, className: 'Shirt', recall: 0 }),
    /recall must be above 0/,
  );
  // In the window the refusals name its controls, not the command line's flags.
  assert.equal(messages.length, 7);
  for (const message of messages) assert.doesNotMatch(uiError(message), /--[a-z]|`vsw/, message);
});
