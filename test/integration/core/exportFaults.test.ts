// Export under faults, in process on a real SQLite file and real images: a vanished, unreadable or
// undecodable image is skipped and listed (never the export), images marked missing are counted and
// never copied, a resumed export writes the frozen plan whatever the tags became, overlays of x.png
// and x.jpg do not collide, and manifest cells cannot run as spreadsheet formulas.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ExportResult } from '../../../electron/workstation/jobs/exportJob';
import { JobCancelled } from '../../../electron/workstation/jobs/jobRunner';
import type { ExplainResult } from '../../../electron/workstation/jobs/explainJob';
import {
  startExplain,
  startExport,
  startPredict,
  type ExportJobParams,
} from '../../../electron/workstation/jobs/startJobs';
import { applyTag, removeTag, tagByName, updateTag } from '../../../electron/workstation/tags/tagStore';
import { Workstation } from '../../../electron/workstation/workstation';
import { writeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/tempDir';
import { predictModel, VSW } from './coreKit';

interface Setup {
  ws: Workstation;
  scratch: string;
  root: string;
  datasetId: number;
  idOf: (rel: string) => number;
}

async function setup(t: TestContext, files: string[]): Promise<Setup> {
  const scratch = tempDir(t, 'vsw-export-faults-');
  const root = path.join(scratch, 'images');
  for (const [k, rel] of files.entries()) {
    const format = rel.endsWith('.jpg') ? 'jpeg' : 'png';
    await writeImage(path.join(root, rel), { colour: [40 + 20 * k, 200 - 15 * k, 90], format });
  }
  const ws = new Workstation({ dataDir: path.join(scratch, 'data'), reviewer: 'eve' });
  t.after(() => ws.close());
  const { dataset } = await ws.addDataset(root, 'faults');
  const idOf = (rel: string) =>
    ws.db.prepare('SELECT id FROM images WHERE rel_path = ?').pluck().get(rel) as number;
  return { ws, scratch, root, datasetId: dataset.id, idOf };
}

/** A prediction run of the test model over the whole dataset. */
async function predictAll(s: Setup): Promise<{ runId: number }> {
  const model = predictModel(s.scratch);
  const started = await startPredict(s.ws.jobHost, {
    datasetId: s.datasetId,
    model: model.dir,
    batch: 8,
    provider: 'cpu',
  });
  await started.done;
  return started;
}

function tagImages(s: Setup, tag: string, rels: string[]): number {
  const tagId = tagByName(s.ws.db, s.datasetId, tag, s.ws.reviewerId, true);
  applyTag(s.ws.db, tagId, { imageIds: rels.map(s.idOf) }, s.ws.reviewerId);
  return tagId;
}

function exportParams(s: Setup, out: string, extra: Partial<ExportJobParams> = {}): ExportJobParams {
  return {
    query: { datasetId: s.datasetId, sort: { by: 'path', seed: 0 } },
    tags: ['neg'],
    layout: 'imagefolder',
    group: 'tag',
    manifests: ['csv', 'jsonl'],
    media: 'copy',
    out,
    ...extra,
  } as ExportJobParams;
}

test('a vanished or folder-shaped image is skipped and listed; missing images are counted, never copied', async (t) => {
  const files = ['a.png', 'b.png', 'c.png', 'd.png', 'e.png', 'f.png'];
  const s = await setup(t, files);
  tagImages(s, 'neg', files);
  // b.png was gone at a re-import (status missing); c.png vanishes after it; d.png becomes a folder.
  fs.rmSync(path.join(s.root, 'b.png'));
  await s.ws.addDataset(s.root, 'faults');
  assert.equal(
    s.ws.db.prepare("SELECT status FROM images WHERE rel_path = 'b.png'").pluck().get(),
    'missing',
  );
  fs.rmSync(path.join(s.root, 'c.png'));
  fs.rmSync(path.join(s.root, 'd.png'));
  fs.mkdirSync(path.join(s.root, 'd.png'));
  // (A file this user may not read: see the unprivileged test below; root reads any file.)

  const out = path.join(s.scratch, 'out');
  const result = (await startExport(s.ws.jobHost, exportParams(s, out)).done) as ExportResult;
  const reasons = Object.fromEntries(result.skipped.map((x) => [x.path, x.reason]));
  assert.match(reasons['b.png'], /^missing/);
  assert.match(reasons['c.png'], /vanished/);
  assert.match(reasons['d.png'], /not a file/);
  const exported = ['a.png', 'e.png', 'f.png'];
  assert.equal(result.selected, 6);
  assert.equal(result.images, exported.length);
  assert.equal(result.missing, 1);
  assert.equal(result.skipped.length, 6 - exported.length);
  assert.deepEqual(fs.readdirSync(path.join(out, 'neg')).sort(), exported);
  const manifest = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8').trim().split('\n');
  assert.equal(manifest.length, 1 + exported.length, 'skipped images are not in the manifest');
  const provenance = JSON.parse(fs.readFileSync(path.join(out, 'export.json'), 'utf8')) as {
    counts: { selected: number; images: number; skipped: number; missing: number };
    skipped: { path: string }[];
  };
  assert.deepEqual(provenance.counts, {
    selected: 6,
    images: exported.length,
    files: exported.length,
    folders: { neg: exported.length },
    skipped: 6 - exported.length,
    missing: 1,
  });
  assert.equal(provenance.skipped.length, 6 - exported.length);
});

test('a resumed export writes the frozen plan, not the tags as they are now', async (t) => {
  const files = Array.from({ length: 40 }, (_, i) => `img-${String(i).padStart(2, '0')}.png`);
  const s = await setup(t, files);
  tagImages(s, 'neg', files);
  const glare = tagImages(s, 'glare', files.slice(0, 20));
  const out = path.join(s.scratch, 'out');
  const params = exportParams(s, out, { tags: ['neg', 'glare'] });

  // Start, and cancel as soon as the plan is frozen: nothing is copied yet.
  const first = startExport(s.ws.jobHost, params);
  const off = s.ws.onEvent((e) => {
    if (e.type === 'job.progress' && e.jobId === first.jobId) s.ws.jobs.cancel(first.jobId);
  });
  await assert.rejects(first.done, JobCancelled);
  off();
  // The reviewer changes the tags meanwhile: glare removed from half, renamed, a new tag on all.
  removeTag(s.ws.db, glare, { imageIds: files.slice(0, 10).map(s.idOf) }, s.ws.reviewerId);
  updateTag(s.ws.db, glare, s.ws.reviewerId, { name: 'flare' });
  tagImages(s, 'late', files);

  const again = startExport(s.ws.jobHost, params);
  assert.equal(again.jobId, first.jobId);
  assert.equal(again.resumed, true);
  const result = (await again.done) as ExportResult;
  assert.deepEqual(result.folders, { neg: 40, glare: 20 }, 'the folders planned at the start');
  assert.equal(fs.readdirSync(path.join(out, 'glare')).length, 20);
  assert.ok(!fs.existsSync(path.join(out, 'flare')));
  const rows = fs
    .readFileSync(path.join(out, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { file_name: string; tags: string[] });
  assert.equal(rows.length, 60);
  assert.deepEqual(rows.find((r) => r.file_name === 'glare/img-00.png')?.tags, ['neg', 'glare']);
  assert.deepEqual(rows.find((r) => r.file_name === 'neg/img-39.png')?.tags, ['neg']);
});

test('overlays of x.png and x.jpg do not collide; an undecodable image is skipped; manifest cells cannot run as formulas', async (t) => {
  const files = [
    'x.png',
    'x.jpg',
    '=cmd.png',
    '@sum.png',
    '-minus.png',
    '+plus.png',
    'broken.png',
    'plain.png',
  ];
  const s = await setup(t, files);
  tagImages(s, 'neg', files.slice(0, -1));
  tagImages(s, '+evil', ['plain.png']);
  s.ws.db.prepare("UPDATE images SET note = '=HYPERLINK(\"http://x\")' WHERE rel_path = 'plain.png'").run();
  const predicted = await predictAll(s);
  fs.writeFileSync(path.join(s.root, 'broken.png'), 'no longer a PNG'); // after its prediction
  const out = path.join(s.scratch, 'out');
  const params = exportParams(s, out, {
    query: { datasetId: s.datasetId, runId: predicted.runId, sort: { by: 'path', seed: 0 } },
    tags: ['neg', '+evil'],
    overlays: 'rollout',
    group: 'negative',
  });
  const result = (await startExport(s.ws.jobHost, params).done) as ExportResult;
  assert.equal(result.images, files.length - 1);
  assert.deepEqual(
    result.skipped.map((x) => x.path),
    ['broken.png'],
  );
  assert.match(result.skipped[0].reason, /cannot be decoded/);
  const names = fs.readdirSync(path.join(out, 'negative')).sort();
  assert.ok(!names.some((n) => n.startsWith('broken')), 'nothing of the skipped image is left');
  assert.ok(names.includes('x.png.overlay.png') && names.includes('x.jpg.overlay.png'), names.join(', '));
  assert.equal(names.filter((n) => n.endsWith('.overlay.png')).length, files.length - 1, names.join(', '));
  const png = fs.readFileSync(path.join(out, 'negative', 'x.png.overlay.png'));
  const jpg = fs.readFileSync(path.join(out, 'negative', 'x.jpg.overlay.png'));
  assert.notDeepEqual(png, jpg, 'each overlay is its own image');

  const csv = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8').trim().split('\n').slice(1);
  for (const line of csv) {
    for (const cell of line.split(',')) {
      const text = cell.replace(/^"|"$/g, '');
      assert.ok(!/^[=+\-@]/.test(text), `a cell a spreadsheet would run: ${cell} in ${line}`);
    }
  }
  const plain = csv.find((l) => l.startsWith('negative/plain.png'))!;
  assert.ok(plain.includes(`"'=HYPERLINK(""http://x"")"`), plain);
  assert.ok(plain.includes(",'+evil,"), plain);
  // The JSON manifests keep the values as they are.
  const jsonl = fs.readFileSync(path.join(out, 'manifest.jsonl'), 'utf8');
  assert.ok(jsonl.includes('"file_name":"negative/=cmd.png"'));
});

test('explain-set skips and lists an undecodable, a vanished and a missing image, and explains the rest', async (t) => {
  const files = ['a.png', 'b.png', 'c.png', 'd.png', 'e.png', 'f.png'];
  const s = await setup(t, files);
  const predicted = await predictAll(s);
  fs.rmSync(path.join(s.root, 'b.png'));
  await s.ws.addDataset(s.root, 'faults'); // b.png: missing
  fs.rmSync(path.join(s.root, 'c.png')); // vanished since
  fs.writeFileSync(path.join(s.root, 'd.png'), 'not an image any more');
  const result = (await startExplain(s.ws.jobHost, {
    query: { datasetId: s.datasetId, runId: predicted.runId, sort: { by: 'path', seed: 0 } },
    method: 'attn-grad-product',
    target: 'top1',
    batch: 4,
    options: {},
  }).done) as ExplainResult;
  assert.equal(result.images, 6);
  assert.equal(result.computed, 3);
  const reasons = Object.fromEntries(result.skipped.map((x) => [x.path, x.reason]));
  assert.deepEqual(Object.keys(reasons).sort(), ['b.png', 'c.png', 'd.png']);
  assert.match(reasons['b.png'], /^missing/);
  assert.ok(reasons['c.png'] && reasons['d.png']);
  assert.equal(
    s.ws.db.prepare('SELECT COUNT(*) FROM saliency_cache WHERE run_id = ?').pluck().get(predicted.runId),
    3,
  );
});

/** Runs `vsw` as an unprivileged user where the tests run as root (root reads any file). */
function vswUnprivileged(...args: string[]) {
  const command = process.getuid?.() === 0 ? 'setpriv' : process.execPath;
  const prefix =
    process.getuid?.() === 0 ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [];
  const r = spawnSync(command, [...prefix, VSW, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an image the exporting user may not read is skipped with "permission denied", and the export completes', async (t) => {
  const scratch = tempDir(t, 'vsw-export-perm-');
  fs.chmodSync(scratch, 0o777);
  const root = path.join(scratch, 'images');
  for (const rel of ['a.png', 'b.png', 'c.png']) await writeImage(path.join(root, rel));
  const dataDir = path.join(scratch, 'data');
  const common = ['--data-dir', dataDir, '--reviewer', 'eve'];
  const run = (...args: string[]) => {
    const r = vswUnprivileged(...args, ...common);
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  run('import', root, '--dataset', 'perm');
  for (const rel of ['a.png', 'b.png', 'c.png'])
    run('tag', '--dataset', 'perm', '--image', rel, '--add', 'neg');
  fs.chmodSync(path.join(root, 'b.png'), 0);
  const out = path.join(scratch, 'out');
  const r = run(
    'export',
    '--dataset',
    'perm',
    '--tags',
    'neg',
    '--layout',
    'flat',
    '--media',
    'copy',
    '--out',
    out,
    '--json',
  );
  const result = JSON.parse(r.stdout) as ExportResult;
  assert.deepEqual(result.skipped, [{ path: 'b.png', reason: 'permission denied reading the file' }]);
  assert.equal(result.images, 2);
  assert.match(r.stderr, /skipped 1 of 3 images[\s\S]*b\.png: permission denied/);
  assert.deepEqual(fs.readdirSync(path.join(out, 'images')).sort(), ['a.png', 'c.png']);
});
