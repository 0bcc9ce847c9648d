// Masks as a data type (a masks/ folder found beside the images, --masks, a manifest's mask
// column, the "has mask" filter and the mask media file) on the cued demo and real files, and a
// partial run's deletion, on real SQLite data dirs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ImageQuery } from '../../../electron/contract/query';
import { readMask } from '../../../electron/workstation/datasets/attachMasks';
import { JobCancelled, JobRunner } from '../../../electron/workstation/jobs/jobRunner';
import { queryFacets, queryPage } from '../../../electron/workstation/query/queryImages';
import { deleteRun } from '../../../electron/workstation/runs/runs';
import { Workstation } from '../../../electron/workstation/workstation';
import { writeImage } from '../../helpers/images';
import { repoRoot } from '../../helpers/serveProcess';
import { tempDir } from '../../helpers/tempDir';

const CUED = path.join(repoRoot, 'models', 'demo', 'fashion-mnist-cued');

test('a folder import finds the masks/ folder beside images/: 450 images, each with its mask, none imported as images', async (t) => {
  const ws = new Workstation({ dataDir: tempDir(t, 'vsw-data-'), reviewer: 'r' });
  t.after(() => ws.close());
  const { dataset, report } = await ws.addDataset(CUED, undefined);
  assert.equal(dataset.imageCount, 450, 'the masks are not images');
  assert.equal(report.added, 450);
  assert.deepEqual(report.masks, {
    folder: path.join(CUED, 'masks'),
    attached: 450,
    unmatched: 0,
    skippedAsImages: true,
  });
  assert.deepEqual(ws.lastImport(dataset.id)?.masks, report.masks, 'the stored report names the masks');
  const masked = queryPage(ws.db, ImageQuery.parse({ datasetId: dataset.id, hasMask: true }), undefined, 5);
  assert.equal(masked.items.length, 5);
  assert.ok(masked.items.every((i) => i.hasMask && i.relPath.startsWith('images/')));
  assert.equal(queryFacets(ws.db, ImageQuery.parse({ datasetId: dataset.id })).masked, 450);
  const item = masked.items[0];
  const maskFile = await ws.mediaFile('mask', dataset.id, item.relPath);
  assert.equal(maskFile, path.join(CUED, 'masks', item.relPath.slice('images/'.length)));
  await assert.rejects(ws.mediaFile('mask', dataset.id, 'masks/Bag/00018.png'), /refused/);
  // The pixels the image view outlines: the cue's 8×8 square of the 28×28 image.
  const pixels = await readMask(ws.db, item.id, 512);
  assert.deepEqual([pixels.width, pixels.height], [28, 28]);
  assert.equal([...Buffer.from(pixels.bits, 'base64')].filter((b) => b === 1).length, 64);
  const unmasked = ws.db.prepare('SELECT id FROM images WHERE mask_path IS NULL').pluck().get();
  assert.equal(unmasked, undefined);
});

test('--masks attaches a mask folder to a manifest import; a mask column attaches per row and names missing masks', async (t) => {
  const ws = new Workstation({ dataDir: tempDir(t, 'vsw-data-'), reviewer: 'r' });
  t.after(() => ws.close());
  const viaOption = await ws.addDataset(
    path.join(CUED, 'labels.csv'),
    'cued',
    undefined,
    undefined,
    path.join(CUED, 'masks'),
  );
  assert.equal(viaOption.dataset.imageCount, 450);
  assert.equal(viaOption.report.masks?.attached, 450);
  assert.equal(viaOption.report.masks?.skippedAsImages, false);

  const folder = tempDir(t);
  await writeImage(path.join(folder, 'img', 'one.png'), { colour: [200, 10, 10] });
  await writeImage(path.join(folder, 'img', 'two.png'), { colour: [10, 200, 10] });
  await writeImage(path.join(folder, 'regions', 'one.png'), { colour: [255, 255, 255] });
  fs.writeFileSync(
    path.join(folder, 'list.csv'),
    'path,label,mask\nimg/one.png,cat,regions/one.png\nimg/two.png,dog,regions/gone.png\n',
  );
  const { dataset, report } = await ws.addDataset(path.join(folder, 'list.csv'), 'listed');
  assert.equal(report.added, 2);
  assert.equal(report.masks?.attached, 1);
  assert.ok(
    report.skipped.some((s) => s.path === 'regions/gone.png' && /mask of img\/two.png/.test(s.reason)),
  );
  const withMask = queryPage(
    ws.db,
    ImageQuery.parse({ datasetId: dataset.id, hasMask: true }),
    undefined,
    10,
  );
  assert.deepEqual(
    withMask.items.map((i) => i.relPath),
    ['one.png'],
  );
  await assert.rejects(
    ws.addDataset(folder, 'x', undefined, undefined, path.join(folder, 'nope')),
    /mask folder/,
  );
});

test('a cancelled run keeps the count its job reached, and deleting it removes its predictions', async (t) => {
  const ws = new Workstation({ dataDir: tempDir(t, 'vsw-data-'), reviewer: 'r' });
  t.after(() => ws.close());
  const folder = tempDir(t);
  await writeImage(path.join(folder, 'a', '1.png'), { colour: [1, 2, 3] });
  const { dataset } = await ws.addDataset(folder, 'set');
  const runId = Number(
    ws.db
      .prepare(
        `INSERT INTO runs (dataset_id, name, labels, settings, settings_key, status, created_at)
         VALUES (?, 'r', '["a"]', '{}', 'k', 'running', 'now')`,
      )
      .run(dataset.id).lastInsertRowid,
  );
  const jobs = new JobRunner(ws.db);
  // Progress reported in quick succession is written to the database at most every 500 ms.
  const started = jobs.start('predict', `predict:run:${runId}`, {}, async (ctx) => {
    for (let done = 0; done <= 992; done += 32) ctx.progress(done, 2000);
    assert.throws(() => deleteRun(ws.db, runId), /still being predicted/);
    throw new JobCancelled();
  });
  await assert.rejects(started.done, /cancelled/);
  const job = jobs.get(started.jobId);
  assert.equal(job.status, 'cancelled');
  assert.equal(job.done, 992, 'the job ends with the count its body reached');
  ws.db
    .prepare(
      'INSERT INTO predictions (run_id, image_id, top1, score, true_idx) SELECT ?, id, 0, 1, 0 FROM images',
    )
    .run(runId);
  assert.deepEqual(deleteRun(ws.db, runId), { datasetId: dataset.id, changed: 1 });
  assert.equal(ws.db.prepare('SELECT COUNT(*) FROM predictions').pluck().get(), 0);
});
