// Import through the real CLI: the bad-file zoo with every file accounted for, CSV/JSONL manifests
// with labels, predictions and a label mapping, relocating a moved dataset with its tags, backup.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { writeBadFileZoo, writeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/tempDir';
import { integrityOk, peek, vsw, vswOk } from './coreKit';

test('the bad-file zoo through `vsw import`: every file is imported or listed with a reason', async (t) => {
  const root = tempDir(t);
  const bad = await writeBadFileZoo(root);
  const dataDir = tempDir(t, 'vsw-data-');
  const { report } = JSON.parse(vswOk('import', root, '--json', '--data-dir', dataDir)) as {
    report: { added: number; scanned: number; skipped: { path: string; reason: string }[] };
  };
  assert.equal(report.added, 4);
  assert.deepEqual(report.skipped.map((s) => s.path).sort(), [...bad].sort());
  assert.equal(report.scanned, report.added + report.skipped.length, 'every file is accounted for');
  for (const s of report.skipped) assert.ok(s.reason.length > 5, `${s.path} has a reason`);
  integrityOk(dataDir);
});

test('CSV and JSONL manifests: labels, predictions brought from elsewhere, mapping, unmapped labels, missing files', async (t) => {
  const root = tempDir(t);
  await writeImage(path.join(root, 'imgs', 'a.png'), { colour: [10, 20, 30] });
  await writeImage(path.join(root, 'imgs', 'b.png'), { colour: [40, 50, 60] });
  await writeImage(path.join(root, 'imgs', 'c.png'), { colour: [70, 80, 90] });
  fs.writeFileSync(
    path.join(root, 'list.csv'),
    'path,label,prediction,score,split\n' +
      'imgs/a.png,cat_big,cat/big,0.9,pool\n' +
      'imgs/b.png,DOG,cat/big,0.7,validation\n' +
      '"imgs/c.png",bird,dog,0.6,\n' +
      'imgs/nope.png,dog,dog,0.5,\n',
  );
  fs.writeFileSync(path.join(root, 'map.json'), JSON.stringify({ DOG: 'dog' }));
  const dataDir = tempDir(t, 'vsw-data-');
  const result = JSON.parse(
    vswOk(
      'import',
      path.join(root, 'list.csv'),
      '--dataset',
      'pets',
      '--mapping',
      path.join(root, 'map.json'),
      '--json',
      '--data-dir',
      dataDir,
    ),
  ) as {
    report: { added: number; skipped: { path: string; reason: string }[] };
    runId: number;
    unmappedLabels: string[];
  };
  assert.equal(result.report.added, 3);
  assert.deepEqual(result.report.skipped, [
    { path: 'imgs/nope.png', reason: 'listed in the manifest but not found on disk' },
  ]);
  assert.deepEqual(result.unmappedLabels, ['bird'], 'unmapped labels are reported');
  const db = peek(dataDir);
  t.after(() => db.close());
  const rows = db
    .prepare(
      `SELECT i.rel_path, i.label, i.split, p.top1, p.score, p.true_idx, r.labels FROM images i
       JOIN predictions p ON p.image_id = i.id JOIN runs r ON r.id = p.run_id ORDER BY i.rel_path`,
    )
    .all() as {
    rel_path: string;
    label: string;
    split: string;
    top1: number;
    score: number;
    true_idx: number | null;
    labels: string;
  }[];
  const labels = JSON.parse(rows[0].labels) as string[];
  const at = (l: string) => labels.indexOf(l);
  assert.deepEqual(
    rows.map((r) => [r.rel_path, r.label, r.split, labels[r.top1], r.score, r.true_idx]),
    [
      ['a.png', 'cat_big', 'pool', 'cat/big', 0.9, at('cat/big')], // normalised: case, / and _
      ['b.png', 'DOG', 'validation', 'cat/big', 0.7, at('dog')], // the mapping file
      ['c.png', 'bird', 'pool', 'dog', 0.6, null], // unmapped: kept, reported
    ],
  );

  // JSONL into the same dataset: a new image joins; re-import adds no duplicates.
  await writeImage(path.join(root, 'imgs', 'd.png'), { colour: [1, 2, 3] });
  fs.writeFileSync(
    path.join(root, 'more.jsonl'),
    '{"path":"imgs/d.png","label":"dog"}\n{"path":"imgs/a.png","label":"cat_big"}\n',
  );
  vswOk('import', path.join(root, 'more.jsonl'), '--dataset', 'pets', '--data-dir', dataDir);
  vswOk('import', path.join(root, 'more.jsonl'), '--dataset', 'pets', '--data-dir', dataDir);
  assert.equal(db.prepare('SELECT COUNT(*) FROM images').pluck().get(), 4);
  const bad = vsw('import', path.join(root, 'broken.csv'), '--data-dir', dataDir);
  assert.equal(bad.code, 1);
});

test('a moved dataset is relocated with its tags; backup copies the live database', async (t) => {
  const scratch = tempDir(t);
  const before = path.join(scratch, 'before');
  await writeImage(path.join(before, 'x', 'one.png'));
  await writeImage(path.join(before, 'y', 'two.png'), { colour: [1, 200, 3] });
  const dataDir = path.join(scratch, 'data');
  vswOk('import', before, '--dataset', 'moving', '--data-dir', dataDir);
  vswOk('tag', '--dataset', 'moving', '--image', 'x/one.png', '--add', 'glare', '--data-dir', dataDir);
  vswOk(
    'tag',
    '--dataset',
    'moving',
    '--image',
    path.join(before, 'y', 'two.png'),
    '--add',
    'glare',
    '--add',
    'blur',
    '--data-dir',
    dataDir,
  );
  const after = path.join(scratch, 'after');
  fs.renameSync(before, after);
  const moved = vswOk(
    'dataset',
    'relocate',
    '--dataset',
    'moving',
    '--from',
    before,
    '--to',
    after,
    '--data-dir',
    dataDir,
  );
  assert.match(moved, /2 images found, 0 missing/);
  vswOk(
    'tag',
    '--dataset',
    'moving',
    '--image',
    path.join(after, 'x', 'one.png'),
    '--remove',
    'glare',
    '--data-dir',
    dataDir,
  );
  const stats = JSON.parse(vswOk('stats', '--dataset', 'moving', '--json', '--data-dir', dataDir)) as {
    images: number;
    tags: { name: string; count: number }[];
  };
  assert.equal(stats.images, 2);
  assert.deepEqual(
    stats.tags.map((x) => [x.name, x.count]),
    [
      ['blur', 1],
      ['glare', 1],
    ],
  );
  const usage = vsw('tag', '--dataset', 'moving', '--image', 'x/one.png', '--data-dir', dataDir);
  assert.equal(usage.code, 2, 'tag needs --add or --remove');

  const backup = path.join(scratch, 'copy.sqlite');
  vswOk('backup', '--out', backup, '--data-dir', dataDir);
  const copy = new Database(backup, { readonly: true });
  t.after(() => copy.close());
  assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
  assert.equal(copy.prepare('SELECT COUNT(*) FROM image_tags').pluck().get(), 2);
  assert.equal(
    vsw('backup', '--out', backup, '--data-dir', dataDir).code,
    1,
    'an existing file is not overwritten',
  );
});
