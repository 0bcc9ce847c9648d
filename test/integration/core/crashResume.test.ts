// SIGKILL in the middle of `vsw predict` and of `vsw export`, then the same command again: the job
// continues from its checkpoint, nothing is lost or duplicated, and the database stays intact.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { applyTag, tagByName } from '../../../electron/workstation/tags/tagStore';
import { Workstation } from '../../../electron/workstation/workstation';
import { tempDir } from '../../helpers/tempDir';
import {
  DEMO,
  integrityOk,
  lastLine,
  peek,
  predictDemoArgs,
  predictModel,
  spawnVsw,
  vswOk,
  waitFor,
} from './coreKit';

function killed(child: ReturnType<typeof spawnVsw>): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
}

test('SIGKILL during predict: re-running the command resumes the same run with no duplicates', async (t) => {
  const scratch = tempDir(t, 'vsw-crash-');
  const dataDir = path.join(scratch, 'data');
  const model = predictModel(scratch);
  vswOk('import', DEMO, '--dataset', 'demo', '--data-dir', dataDir);
  const args = predictDemoArgs(dataDir, model.dir, 8);
  const child = spawnVsw(...args);
  const exit = killed(child);
  const count = () => {
    const db = peek(dataDir);
    try {
      return db.prepare('SELECT COUNT(*) FROM predictions').pluck().get() as number;
    } finally {
      db.close();
    }
  };
  await waitFor(() => count() >= 40, 60_000, 'the first predictions');
  child.kill('SIGKILL');
  assert.equal(await exit, 'SIGKILL');
  const before = count();
  assert.ok(before > 0 && before < 2000, `killed mid-job (${before} of 2000 predicted)`);
  const db = peek(dataDir);
  const job = db.prepare("SELECT status, pid FROM jobs WHERE kind = 'predict'").get() as { status: string };
  db.close();
  assert.equal(job.status, 'running', 'the dead job is left running, to be resumed');
  integrityOk(dataDir);

  const again = spawnVsw(...args);
  let stdout = '';
  let stderr = '';
  again.stdout!.on('data', (d) => (stdout += String(d)));
  again.stderr!.on('data', (d) => (stderr += String(d)));
  const code = await new Promise<number | null>((resolve) => again.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /resuming job/);
  const runId = Number(lastLine(stdout));
  const check = peek(dataDir);
  t.after(() => check.close());
  assert.equal(check.prepare('SELECT COUNT(*) FROM runs').pluck().get(), 1, 'the same run, not a second one');
  assert.equal(check.prepare('SELECT id FROM runs').pluck().get(), runId);
  assert.equal(check.prepare('SELECT COUNT(*) FROM predictions WHERE run_id = ?').pluck().get(runId), 2000);
  assert.equal(check.prepare('SELECT COUNT(DISTINCT image_id) FROM predictions').pluck().get(), 2000);
  assert.equal(check.prepare("SELECT status FROM jobs WHERE kind = 'predict'").pluck().get(), 'done');
  assert.equal(check.prepare('SELECT status FROM runs').pluck().get(), 'done');
  integrityOk(dataDir);
});

test('SIGKILL during export: re-running finishes it, with every file and no partial folder', async (t) => {
  const scratch = tempDir(t, 'vsw-crash-');
  const dataDir = path.join(scratch, 'data');
  vswOk('import', DEMO, '--dataset', 'demo', '--data-dir', dataDir);
  // Every image gets three tags: 6,000 files to write in the one-folder-per-tag layout.
  const ws = new Workstation({ dataDir, reviewer: 'bob' });
  const datasetId = ws.datasetByName('demo');
  for (const name of ['glare', 'crop', 'blur']) {
    applyTag(
      ws.db,
      tagByName(ws.db, datasetId, name, ws.reviewerId, true),
      { query: { datasetId, sort: { by: 'id', seed: 0 } } },
      ws.reviewerId,
    );
  }
  await ws.close();
  const out = path.join(scratch, 'export');
  const args = [
    'export',
    '--dataset',
    'demo',
    '--tags',
    'glare,crop,blur',
    '--layout',
    'imagefolder',
    '--manifest',
    'csv,hf',
    '--media',
    'copy',
    '--out',
    out,
    '--data-dir',
    dataDir,
  ];
  const child = spawnVsw(...args);
  const exit = killed(child);
  const doneItems = () => {
    const db = peek(dataDir);
    try {
      return db.prepare('SELECT COUNT(*) FROM export_items WHERE done = 1').pluck().get() as number;
    } finally {
      db.close();
    }
  };
  await waitFor(() => doneItems() >= 64, 60_000, 'the first exported files');
  child.kill('SIGKILL');
  assert.equal(await exit, 'SIGKILL');
  const partial = doneItems();
  assert.ok(partial < 2000, `killed mid-export (${partial} of 2000 images done)`);
  assert.ok(!fs.existsSync(out), 'no export posing as a whole one');
  assert.equal(
    fs.readdirSync(scratch).filter((f) => f.includes('vsw-partial')).length,
    1,
    'the partial folder is kept for the resume',
  );
  integrityOk(dataDir);

  const again = vswOk(...args, '--json');
  const result = JSON.parse(again) as { images: number; files: number };
  assert.equal(result.images, 2000);
  assert.equal(result.files, 6000);
  for (const folder of ['glare', 'crop', 'blur'])
    assert.equal(fs.readdirSync(path.join(out, folder)).length, 2000);
  const manifest = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8').trim().split('\n');
  assert.equal(manifest.length, 6001);
  assert.ok(!fs.readdirSync(path.join(out, 'glare')).some((f) => f.endsWith('.tmp')));
  assert.equal(fs.readdirSync(scratch).filter((f) => f.includes('vsw-partial')).length, 0);
  const db = peek(dataDir);
  t.after(() => db.close());
  assert.deepEqual(
    db.prepare("SELECT COUNT(*) AS n, MIN(status) AS s FROM jobs WHERE kind = 'export'").get(),
    { n: 1, s: 'done' },
  );
  integrityOk(dataDir);
});
