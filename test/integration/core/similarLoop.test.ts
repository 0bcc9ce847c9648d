// "Find more like these" through real `vsw` processes on the demo sets: predict stores embeddings,
// `vsw similar` ranks the dataset and a pool (scores checked against the stored embeddings), a
// rejected candidate is never proposed again, confirmed pool candidates are exported with
// `--pool`, and the leakage guard finds a held-out copy (hash) and a re-encoded near-copy
// (embedding) of exported pool images.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { readRunEmbeddings } from '../../../electron/workstation/embeddings/embeddingStore';
import type { SimilarResult } from '../../../electron/workstation/similar/findSimilar';
import { openDatabase } from '../../../electron/workstation/store/openDatabase';
import { repoRoot } from '../../helpers/serveProcess';
import { readJsonl } from '../../helpers/manifest';
import { tempDir } from '../../helpers/tempDir';
import { BUNDLED, DEMO, lastLine, vsw, vswOk } from './coreKit';

const CUED = path.join(repoRoot, 'models', 'demo', 'fashion-mnist-cued');

type Similar = Omit<SimilarResult, 'missing'>;

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

test('predict → similar (nearest, mean, pool) → reject → confirm → export --pool with the test-set guard', async (t) => {
  if (!fs.existsSync(path.join(BUNDLED, 'model.onnx'))) return t.skip('the bundled model is absent');
  const scratch = tempDir(t, 'vsw-similar-');
  const dataDir = path.join(scratch, 'data');
  const run = (...args: string[]) => vswOk(...args, '--data-dir', dataDir);
  run('import', DEMO, '--dataset', 'demo');
  run('import', CUED, '--dataset', 'pool');
  const demoRun = Number(
    lastLine(run('predict', '--dataset', 'demo', '--model', BUNDLED, '--provider', 'cpu')),
  );

  const shirts = ['Shirt/00004.png', 'Shirt/00007.png', 'Shirt/00026.png'].filter((p) =>
    fs.existsSync(path.join(DEMO, p)),
  );
  assert.equal(shirts.length, 3);
  for (const p of shirts) run('tag', '--dataset', 'demo', '--image', p, '--add', 'probe');

  const similar = (...args: string[]) =>
    JSON.parse(run('similar', '--dataset', 'demo', '--run', String(demoRun), '--json', ...args)) as Similar;
  const first = similar('--tag', 'probe', '--k', '20');
  assert.deepEqual(Object.keys(first), [
    'dataset',
    'run',
    'pool',
    'mode',
    'k',
    'query',
    'results',
    'index',
    'ms',
  ]);
  assert.deepEqual(first.pool, { dataset: 'demo', run: demoRun });
  assert.equal(first.mode, 'nearest');
  assert.deepEqual([...first.query.images].sort(), [...shirts].sort());
  assert.deepEqual(first.index, { kind: 'flat', vectors: 2000 });
  assert.equal(first.results.length, 20);
  assert.deepEqual(
    first.results.map((r) => r.rank),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.ok(first.results.every((r, i) => i === 0 || r.score <= first.results[i - 1].score));
  assert.ok(
    first.results.every((r) => !shirts.includes(r.path)),
    'the query images are not proposed',
  );

  // The scores are the max cosine to the tag's images over the stored embeddings, and the list is
  // the exact top 20 of the other images.
  const db = openDatabase(dataDir);
  t.after(() => db.close());
  const stored = readRunEmbeddings(db, path.join(dataDir, 'embeddings'), demoRun);
  assert.equal(stored.dim, 96);
  assert.equal(stored.imageIds.length, 2000);

  // A run that lost some embeddings (or predates them): the same predict adds exactly those, from
  // the same model, without predicting anything twice.
  const dropped = db
    .prepare('DELETE FROM embedding_rows WHERE run_id = ? AND row >= 1500')
    .run(demoRun).changes;
  assert.equal(dropped, 500);
  const again = run('predict', '--dataset', 'demo', '--model', BUNDLED, '--provider', 'cpu', '--json');
  assert.equal(Number(lastLine(again)), demoRun, 'the same run continues');
  assert.equal(db.prepare('SELECT COUNT(*) FROM predictions WHERE run_id = ?').pluck().get(demoRun), 2000);
  const redone = readRunEmbeddings(db, path.join(dataDir, 'embeddings'), demoRun);
  assert.equal(redone.imageIds.length, 2000);
  const before = new Map(
    [...stored.imageIds].map((id, row) => [id, stored.vectors.subarray(row * 96, row * 96 + 96)]),
  );
  redone.imageIds.forEach((id, row) => {
    const v = redone.vectors.subarray(row * 96, row * 96 + 96);
    assert.ok(
      v.every((x, k) => Math.abs(x - before.get(id)![k]) < 1e-3),
      `image ${id}'s embedding is the same`,
    );
  });
  const vectorOf = (id: number) => {
    const row = stored.imageIds.indexOf(id);
    return stored.vectors.subarray(row * stored.dim, (row + 1) * stored.dim);
  };
  const idOf = (rel: string) =>
    db
      .prepare(
        "SELECT id FROM images WHERE rel_path = ? AND dataset_id = (SELECT id FROM datasets WHERE name = 'demo')",
      )
      .pluck()
      .get(rel) as number;
  const queryIds = shirts.map(idOf);
  const nearest = (id: number) => Math.max(...queryIds.map((q) => cosine(vectorOf(q), vectorOf(id))));
  const expected = [...stored.imageIds]
    .filter((id) => !queryIds.includes(id))
    .map((id) => ({ id, score: nearest(id) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, 20);
  for (const [i, r] of first.results.entries()) {
    assert.ok(Math.abs(r.score - nearest(r.imageId)) < 1e-4, `result ${i + 1}'s score is its nearest cosine`);
    assert.ok(Math.abs(r.score - expected[i].score) < 1e-4, `result ${i + 1} is the exact ${i + 1}th`);
  }

  // Mean mode: cosine to the normalised mean of the query set.
  const mean = similar('--tag', 'probe', '--k', '5', '--mode', 'mean');
  const centre = new Float32Array(stored.dim);
  for (const q of queryIds) {
    const v = vectorOf(q);
    const n = Math.hypot(...v);
    v.forEach((x, k) => (centre[k] += x / n));
  }
  assert.equal(mean.mode, 'mean');
  assert.ok(Math.abs(mean.results[0].score - cosine(centre, vectorOf(mean.results[0].imageId))) < 1e-4);

  // One image as the query.
  const one = similar('--image', shirts[0], '--k', '3');
  assert.deepEqual(one.query, { tag: null, images: [shirts[0]] });

  // "Not this pattern": the top candidate leaves the list for good; a confirmed one joins the tag.
  const [top, second, third] = first.results;
  assert.match(
    run('tag', '--dataset', 'demo', '--image', top.path, '--reject', 'probe'),
    /rejected for probe/,
  );
  run('tag', '--dataset', 'demo', '--image', third.path, '--add', 'probe');
  const after = similar('--tag', 'probe', '--k', '20');
  assert.ok(!after.results.some((r) => r.path === top.path), 'the rejected image is not proposed again');
  assert.ok(!after.results.some((r) => r.path === third.path), 'the confirmed image is now in the query');
  assert.ok(after.query.images.includes(third.path));
  // The query grew by one image: scores by the nearest member can only rise.
  const secondAfter = after.results.find((r) => r.path === second.path);
  assert.ok(
    secondAfter && secondAfter.score >= second.score - 1e-6,
    'the second candidate is still proposed',
  );
  assert.equal(
    db.prepare("SELECT COUNT(*) FROM pattern_rejections WHERE tag = 'probe'").pluck().get(),
    1,
    'the rejection is stored',
  );

  // The pool: no run of the model on it yet, then ranked by its own run of the same model.
  const noRun = vsw(
    'similar',
    '--dataset',
    'demo',
    '--run',
    String(demoRun),
    '--tag',
    'probe',
    '--pool',
    'pool',
    '--data-dir',
    dataDir,
  );
  assert.notEqual(noRun.code, 0);
  assert.match(noRun.stderr, /vsw predict --dataset pool --model/);
  const poolRun = Number(
    lastLine(run('predict', '--dataset', 'pool', '--model', BUNDLED, '--provider', 'cpu')),
  );
  const pooled = similar('--tag', 'probe', '--pool', 'pool', '--k', '10');
  assert.deepEqual(pooled.pool, { dataset: 'pool', run: poolRun });
  assert.deepEqual(pooled.index, { kind: 'flat', vectors: 450 });
  assert.ok(pooled.results.every((r) => r.path.startsWith('images/')));
  const confirmed = pooled.results.slice(0, 3).map((r) => r.path);
  for (const p of confirmed) run('tag', '--dataset', 'pool', '--image', p, '--add', 'probe');
  run('tag', '--dataset', 'pool', '--image', pooled.results[3].path, '--reject', 'probe');
  const pooledAgain = similar('--tag', 'probe', '--pool', 'pool', '--k', '10');
  assert.equal(
    pooledAgain.results[0].path,
    pooled.results[4].path,
    'confirmed and rejected pool images are left out',
  );

  // A held-out test set with a byte copy of one confirmed pool image and a re-encoded near-copy
  // of another (one pixel changed: another hash, nearly the same embedding).
  const heldout = path.join(scratch, 'heldout', 'Coat');
  fs.mkdirSync(heldout, { recursive: true });
  fs.copyFileSync(path.join(CUED, confirmed[0]), path.join(heldout, 'copy.png'));
  const { data, info } = await sharp(path.join(CUED, confirmed[1]))
    .raw()
    .toBuffer({ resolveWithObject: true });
  data[0] = data[0] > 127 ? data[0] - 1 : data[0] + 1;
  await sharp(data, { raw: info }).png().toFile(path.join(heldout, 'near.png'));
  run('import', path.dirname(heldout), '--dataset', 'heldout');
  run('predict', '--dataset', 'heldout', '--model', BUNDLED, '--provider', 'cpu');

  const out = path.join(scratch, 'export');
  const exported = vsw(
    'export', '--dataset', 'demo', '--run', String(demoRun), '--tags', 'probe', '--layout', 'imagefolder',
    '--media', 'copy', '--manifest', 'csv,jsonl', '--pool', 'pool', '--test-dataset', 'heldout',
    '--out', out, '--json', '--data-dir', dataDir,
  ); // prettier-ignore
  assert.equal(exported.code, 0, exported.stderr);
  const result = JSON.parse(exported.stdout) as {
    images: number;
    sources: { dataset: number; pool: number };
    leakage: {
      testSet: {
        hashDuplicates: number;
        nearDuplicates: number;
        examples: { path: string; testPath: string; by: string }[];
      };
    };
  };
  assert.deepEqual(result.sources, { dataset: 4, pool: 3 });
  assert.equal(result.leakage.testSet.hashDuplicates, 1);
  assert.equal(result.leakage.testSet.nearDuplicates, 1);
  assert.deepEqual(
    result.leakage.testSet.examples.map((e) => [e.path, e.testPath, e.by]),
    [
      [confirmed[0], 'Coat/copy.png', 'hash'],
      [confirmed[1], 'Coat/near.png', 'embedding'],
    ],
  );
  assert.match(
    exported.stderr,
    /test-set leakage: 1 exported image\(s\) are the same file .*1 are near-duplicates/,
  );
  const rows = readJsonl<{ file_name: string; source: string; source_dataset: string; source_path: string }>(
    path.join(out, 'manifest.jsonl'),
  );
  assert.equal(rows.length, 7);
  assert.deepEqual(
    rows
      .filter((r) => r.source === 'pool')
      .map((r) => path.relative(CUED, r.source_path))
      .sort(),
    [...confirmed].sort(),
  );
  assert.ok(rows.every((r) => r.source_dataset === (r.source === 'pool' ? 'pool' : 'demo')));
  assert.ok(
    rows.every((r) => r.file_name.startsWith('probe/')),
    'pool images join the tag folder',
  );
  const csv = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8').split('\n');
  assert.match(csv[0], /,source,source_dataset$/);
  const provenance = JSON.parse(fs.readFileSync(path.join(out, 'export.json'), 'utf8')) as {
    pool: { dataset: string };
    sources: { pool: number };
  };
  assert.equal(provenance.pool.dataset, 'pool');
  assert.equal(provenance.sources.pool, 3);
});
