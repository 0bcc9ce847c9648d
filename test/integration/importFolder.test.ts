// Importing folders into a real SQLite data dir: labels, the bad-file zoo, re-import, bad folders.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Workstation } from '../../electron/workstation/workstation';
import { writeBadFileZoo, writeImage, writeImageFolder } from '../helpers/images';
import { tempDir } from '../helpers/tempDir';

function open(t: import('node:test').TestContext): Workstation {
  const ws = new Workstation({ dataDir: tempDir(t, 'vsw-data-'), reviewer: 'tester' });
  t.after(() => ws.close());
  return ws;
}

test('an ImageFolder tree is imported with labels from parent folders, in WAL mode with migrations', async (t) => {
  const root = tempDir(t);
  const files = await writeImageFolder(root);
  const ws = open(t);
  const { dataset, report } = await ws.addDataset(root, 'pets');
  assert.equal(report.added, files.length);
  assert.deepEqual(report.skipped, []);
  assert.equal(dataset.name, 'pets');
  assert.deepEqual(
    dataset.labels.map((l) => [l.label, l.count]),
    [
      ['cat', 2],
      ['dog', 1],
      ['nested', 1],
    ],
  );
  assert.equal(ws.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.ok((ws.db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get() as number) >= 1);
  const page = ws.imagesPage(dataset.id, undefined, 10);
  assert.deepEqual(page.items.map((i) => i.relPath).sort(), [...files].sort());
  assert.equal(page.items.find((i) => i.relPath === 'cat/one.png')?.width, 32);
});

test('the bad-file zoo: every bad file is skipped with a reason and the good ones still import', async (t) => {
  const root = tempDir(t);
  const bad = await writeBadFileZoo(root);
  const ws = open(t);
  const { report } = await ws.addDataset(root, undefined);
  assert.equal(report.added, 4);
  const reasons = new Map(report.skipped.map((s) => [s.path, s.reason]));
  assert.deepEqual([...reasons.keys()].sort(), [...bad].sort());
  assert.match(reasons.get('notes.txt')!, /not an image file/);
  assert.match(reasons.get('cat/fake.png')!, /not a readable image/);
  assert.match(reasons.get('cat/empty.png')!, /0 bytes/);
  assert.match(reasons.get('dog/truncated.png')!, /truncated PNG/);
  assert.match(reasons.get('dog/truncated.jpg')!, /truncated JPEG/);
  assert.match(reasons.get('dog/bomb.png')!, /too many pixels/);
  assert.match(reasons.get('photo.heic')!, /HEIC/);
  assert.match(reasons.get('broken-link.png')!, /broken symlink/);
  assert.match(reasons.get('dog/loop')!, /loop/);
  assert.equal(report.scanned, 4 + bad.length);
});

test('re-import picks up new and changed files by hash, marks vanished ones missing, no duplicates', async (t) => {
  const root = tempDir(t);
  await writeImageFolder(root);
  const ws = open(t);
  const first = await ws.addDataset(root, undefined);
  await writeImage(path.join(root, 'cat', 'one.png'), { colour: [10, 250, 10] }); // changed content
  fs.rmSync(path.join(root, 'dog', 'three.webp'));
  await writeImage(path.join(root, 'bird', 'five.png'));
  const again = await ws.addDataset(root, undefined);
  assert.equal(again.dataset.id, first.dataset.id, 'the same folder re-imports into the same dataset');
  assert.deepEqual(
    {
      added: again.report.added,
      changed: again.report.changed,
      unchanged: again.report.unchanged,
      missing: again.report.missing,
    },
    { added: 1, changed: 1, unchanged: 2, missing: 1 },
  );
  const rows = ws.db.prepare('SELECT rel_path, status FROM images ORDER BY rel_path').all() as {
    rel_path: string;
    status: string;
  }[];
  assert.equal(rows.length, 5);
  assert.equal(rows.find((r) => r.rel_path === 'cat/one.png')?.status, 'changed');
  assert.equal(rows.find((r) => r.rel_path === 'dog/three.webp')?.status, 'missing');
});

test('a folder that does not exist, or a file given as a folder, is a clear error and leaves no dataset', async (t) => {
  const ws = open(t);
  const root = tempDir(t);
  await assert.rejects(ws.addDataset(path.join(root, 'nope'), undefined), /does not exist/);
  await writeImage(path.join(root, 'a.png'));
  await assert.rejects(ws.addDataset(path.join(root, 'a.png'), undefined), /is not a folder/);
  assert.deepEqual(ws.listDatasets(), []);
});

test('thumbnails are made once into a content-addressed cache', async (t) => {
  const root = tempDir(t);
  await writeImageFolder(root);
  const ws = open(t);
  const { dataset } = await ws.addDataset(root, undefined);
  const thumb = await ws.mediaFile('thumb', dataset.id, 'cat/one.png');
  const hash = ws.db
    .prepare(`SELECT content_hash FROM images WHERE rel_path = 'cat/one.png'`)
    .pluck()
    .get() as string;
  assert.ok(thumb.includes(hash), 'the cache file is named by the content hash');
  const stat = fs.statSync(thumb);
  assert.ok(stat.size > 0);
  assert.equal(await ws.mediaFile('thumb', dataset.id, 'cat/one.png'), thumb);
  assert.equal(fs.statSync(thumb).mtimeMs, stat.mtimeMs, 'a second request reuses the cached file');
});
