// `vsw stats --json` on the demo set against an independent count: the true class from each file's
// folder, the predicted class as the arg-max of the stored probability vector, the tags as this
// test put them, and precision, recall, the confusion matrix and tag × predicted class counted here
// in plain loops, not through the store's queries.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { Stats } from '../../../electron/contract/protocol';
import { decodeFloat16 } from '../../../electron/workstation/store/float16';
import { applyTag, tagByName } from '../../../electron/workstation/tags/tagStore';
import { Workstation } from '../../../electron/workstation/workstation';
import { tempDir } from '../../helpers/tempDir';
import { DEMO, lastLine, predictDemoArgs, predictModel, vswOk } from './coreKit';

/** The demo's folder names are its labels with '/' written as '_' (T-shirt_top). */
const labelOfFolder = (folder: string) => folder.replace(/_/g, '/');

test('stats values (per-class precision and recall, tag × predicted class) match an independent count on the demo set', async (t) => {
  const scratch = tempDir(t, 'vsw-stats-');
  const dataDir = path.join(scratch, 'data');
  const model = predictModel(scratch);
  vswOk('import', DEMO, '--dataset', 'demo', '--data-dir', dataDir);
  const runId = Number(lastLine(vswOk(...predictDemoArgs(dataDir, model.dir, 64))));

  const ws = new Workstation({ dataDir, reviewer: 'counter' });
  const datasetId = ws.datasetByName('demo');
  const images = ws.db
    .prepare(
      `SELECT i.id, i.rel_path, p.probs FROM images i JOIN predictions p ON p.image_id = i.id AND p.run_id = ?
       ORDER BY i.id`,
    )
    .all(runId) as { id: number; rel_path: string; probs: Buffer }[];
  assert.equal(images.length, 2000);
  // Two overlapping tags chosen by id, one on a tenth of the set.
  const tagged: Record<string, number[]> = {
    glare: images.filter((im) => im.id % 4 === 0).map((im) => im.id),
    crop: images.filter((im) => im.id % 7 === 0 || im.id % 10 === 3).map((im) => im.id),
  };
  for (const [name, ids] of Object.entries(tagged))
    applyTag(ws.db, tagByName(ws.db, datasetId, name, ws.reviewerId, true), { imageIds: ids }, ws.reviewerId);
  await ws.close();

  const stats = JSON.parse(
    vswOk('stats', '--dataset', 'demo', '--run', String(runId), '--json', '--data-dir', dataDir),
  ) as Stats;
  const labels = model.labels;
  const n = labels.length;
  const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const predictedOf = new Map<number, number>();
  for (const im of images) {
    const probs = decodeFloat16(im.probs);
    let best = 0;
    for (let c = 1; c < probs.length; c++) if (probs[c] > probs[best]) best = c;
    predictedOf.set(im.id, best);
    const truth = labels.indexOf(labelOfFolder(im.rel_path.split('/')[0]));
    assert.ok(truth >= 0, `the folder of ${im.rel_path} names a class`);
    matrix[truth][best]++;
  }
  assert.deepEqual(stats.confusion!.labels, labels);
  assert.deepEqual(stats.confusion!.matrix, matrix);
  let checkedClasses = 0;
  for (let c = 0; c < n; c++) {
    const tp = matrix[c][c];
    const support = matrix[c].reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[c], 0);
    const reported = stats.confusion!.perClass[c];
    assert.equal(reported.label, labels[c]);
    assert.equal(reported.support, support);
    assert.equal(stats.classes[c].images, support);
    assert.equal(stats.classes[c].predicted, predicted);
    if (predicted === 0) assert.equal(reported.precision, null);
    else assert.ok(Math.abs(reported.precision! - tp / predicted) < 1e-12, `precision of ${labels[c]}`);
    assert.ok(Math.abs(reported.recall! - tp / support) < 1e-12, `recall of ${labels[c]}`);
    checkedClasses++;
  }
  assert.equal(checkedClasses, 10);
  // The model is not perfect on the demo set, so the counts are not all on the diagonal.
  assert.ok(matrix.some((row, r) => row.some((v, c) => r !== c && v > 0)));

  const expected: { tag: string; predClass: string; count: number }[] = [];
  for (const tag of Object.keys(tagged).sort()) {
    const perClass = new Array<number>(n).fill(0);
    for (const id of tagged[tag]) perClass[predictedOf.get(id)!]++;
    perClass.forEach((count, c) => count && expected.push({ tag, predClass: labels[c], count }));
  }
  const reportedPairs = stats.tagByPredClass.map(({ tag, predClass, count }) => ({ tag, predClass, count }));
  const key = (p: { tag: string; predClass: string }) => `${p.tag}\u0000${p.predClass}`;
  assert.deepEqual(
    [...reportedPairs].sort((a, b) => key(a).localeCompare(key(b))),
    [...expected].sort((a, b) => key(a).localeCompare(key(b))),
  );
  assert.deepEqual(
    Object.fromEntries(stats.tags.map((tg) => [tg.name, tg.count])),
    Object.fromEntries(Object.entries(tagged).map(([name, ids]) => [name, ids.length])),
  );
  const union = new Set([...tagged.glare, ...tagged.crop]);
  assert.equal(stats.untagged, 2000 - union.size);
  assert.equal(stats.images, 2000);
});
