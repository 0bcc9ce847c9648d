// The reviewer's whole loop through real `vsw` processes sharing one data dir with an in-process
// workstation: import the demo set, predict, filter one class's false positives, tag them, export,
// and check the exported files, manifests and provenance.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ImageQuery } from '../../../electron/contract/query';
import { queryPage } from '../../../electron/workstation/query/queryImages';
import { decodeFloat16 } from '../../../electron/workstation/store/float16';
import { applyTag, createTag } from '../../../electron/workstation/tags/tagStore';
import { Workstation } from '../../../electron/workstation/workstation';
import { tempDir } from '../../helpers/tempDir';
import { DEMO, integrityOk, lastLine, predictDemoArgs, predictModel, vswOk } from './coreKit';

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('whole loop: import demo, predict, false positives of one class, tag, export, check files', async (t) => {
  const scratch = tempDir(t, 'vsw-loop-');
  const dataDir = path.join(scratch, 'data');
  const model = predictModel(scratch);
  t.diagnostic(
    model.bundled ? 'using the bundled model' : 'bundled model absent: using the tiny fixture model',
  );

  const imported = JSON.parse(
    vswOk('import', DEMO, '--dataset', 'demo', '--json', '--data-dir', dataDir),
  ) as {
    report: { added: number };
  };
  assert.equal(imported.report.added, 2000);
  const out = vswOk(...predictDemoArgs(dataDir, model.dir, 64));
  const runId = Number(lastLine(out));
  assert.ok(Number.isInteger(runId) && runId > 0, `the last line is the run id, got: ${lastLine(out)}`);

  const ws = new Workstation({ dataDir, reviewer: 'alice' });
  t.after(() => ws.close());
  const datasetId = ws.datasetByName('demo');
  const rows = ws.db
    .prepare(
      `SELECT i.id, i.label, p.top1, p.score, p.true_idx, p.probs FROM predictions p JOIN images i ON i.id = p.image_id
       WHERE p.run_id = ?`,
    )
    .all(runId) as {
    id: number;
    label: string;
    top1: number;
    score: number;
    true_idx: number | null;
    probs: Buffer;
  }[];
  assert.equal(rows.length, 2000, 'every image has one prediction');
  for (const r of rows.slice(0, 50)) {
    const probs = decodeFloat16(r.probs);
    assert.equal(probs.length, model.labels.length, 'the full probability vector is stored');
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 0.01);
    assert.equal(Math.max(...probs), probs[r.top1]);
  }
  // The folder T-shirt_top maps to the label T-shirt/top by the normalised name.
  const tshirt = rows.find((r) => r.label === 'T-shirt_top')!;
  assert.equal(tshirt.true_idx, model.labels.indexOf('T-shirt/top'));

  // The class with the most false positives at the threshold, found independently from the BLOBs.
  const threshold = model.bundled ? 0.5 : 0;
  // float16 keeps ~3 decimal digits, so a probability within HALF_ULP of the threshold may fall on
  // either side of it in the full-precision score the query uses: such images are "borderline".
  const HALF_ULP = 1e-3;
  const fpOf = (c: number, margin: number) =>
    rows.filter((r) => {
      const p = decodeFloat16(r.probs);
      return r.top1 === c && p[c] >= threshold + margin && r.true_idx !== c;
    });
  const counts = model.labels.map((_, c) => fpOf(c, -HALF_ULP).length);
  const c = counts.indexOf(Math.max(...counts));
  const expected = new Set(fpOf(c, HALF_ULP).map((r) => r.id));
  const borderline = new Set(
    fpOf(c, -HALF_ULP)
      .map((r) => r.id)
      .filter((id) => !expected.has(id)),
  );
  assert.ok(expected.size > 0, 'the chosen class has false positives');

  const query = ImageQuery.parse({
    datasetId,
    runId,
    errors: { kind: 'fp', class: model.labels[c], threshold },
    sort: { by: 'score' },
  });
  const seen: number[] = [];
  let cursor: string | undefined;
  do {
    const page = queryPage(ws.db, query, cursor, 37);
    for (const item of page.items) {
      assert.equal(item.prediction?.predClass, model.labels[c]);
      assert.notEqual(item.prediction?.trueClass, model.labels[c]);
    }
    const scores = page.items.map((i) => i.prediction!.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      'sorted by score, descending',
    );
    seen.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  assert.equal(new Set(seen).size, seen.length, 'keyset pages do not repeat images');
  // Exactly the false positives: every clear one, and nothing that is not at least borderline.
  for (const id of expected) assert.ok(seen.includes(id), `false positive ${id} is found`);
  for (const id of seen) assert.ok(expected.has(id) || borderline.has(id), `image ${id} is a false positive`);
  const fps = new Set(seen); // the verified false positives: what is tagged and exported below

  const tag = createTag(ws.db, datasetId, ws.reviewerId, { name: 'stripes', hotkey: 1 });
  assert.equal(applyTag(ws.db, tag.id, { query }, ws.reviewerId), fps.size);

  const exportDir = path.join(scratch, 'negatives');
  const exported = JSON.parse(
    vswOk(
      'export',
      '--dataset',
      'demo',
      '--run',
      String(runId),
      '--tags',
      'stripes',
      '--layout',
      'imagefolder',
      '--manifest',
      'csv,jsonl,hf',
      '--media',
      'copy',
      '--out',
      exportDir,
      '--json',
      '--data-dir',
      dataDir,
    ),
  ) as { images: number; files: number };
  assert.equal(exported.images, fps.size);
  const files = fs.readdirSync(path.join(exportDir, 'stripes'));
  assert.equal(files.length, fps.size);
  const sources = new Map(
    (
      ws.db.prepare('SELECT id, rel_path FROM images WHERE dataset_id = ?').all(datasetId) as {
        id: number;
        rel_path: string;
      }[]
    ).map((r) => [r.id, r.rel_path]),
  );
  const expectedHashes = new Set([...fps].map((id) => sha256(path.join(DEMO, sources.get(id)!))));
  assert.deepEqual(
    new Set(files.map((f) => sha256(path.join(exportDir, 'stripes', f)))),
    expectedHashes,
    'the right images, byte for byte',
  );

  const csv = fs.readFileSync(path.join(exportDir, 'manifest.csv'), 'utf8').trim().split('\n');
  assert.equal(
    csv[0],
    'file_name,source_path,label,prediction,score,tags,note,split,content_hash,source,source_dataset',
  );
  assert.equal(csv.length - 1, fps.size);
  const hf = fs
    .readFileSync(path.join(exportDir, 'metadata.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map(
      (l) => JSON.parse(l) as { file_name: string; prediction: string; tags: string[]; source_path: string },
    );
  for (const row of hf) {
    assert.ok(fs.existsSync(path.join(exportDir, row.file_name)), `${row.file_name} exists`);
    assert.equal(row.prediction, model.labels[c]);
    assert.deepEqual(row.tags, ['stripes']);
  }
  assert.equal(
    fs.readFileSync(path.join(exportDir, 'manifest.jsonl'), 'utf8').trim().split('\n').length,
    fps.size,
  );
  const provenance = JSON.parse(fs.readFileSync(path.join(exportDir, 'export.json'), 'utf8')) as {
    model: { sha256: string };
    reviewer: string;
    run: { id: number };
    counts: { images: number };
    query: unknown;
  };
  assert.equal(provenance.model.sha256, sha256(path.join(model.dir, 'model.onnx')));
  assert.equal(provenance.run.id, runId);
  assert.equal(provenance.counts.images, fps.size);
  assert.ok(provenance.query);
  assert.deepEqual(
    fs.readdirSync(scratch).filter((f) => f.includes('vsw-partial')),
    [],
    'no temporary folder is left behind',
  );

  // The same selection as flat symlinks: each file links to its source.
  const flatDir = path.join(scratch, 'flat');
  vswOk(
    'export',
    '--dataset',
    'demo',
    '--tags',
    'stripes',
    '--layout',
    'flat',
    '--media',
    'symlink',
    '--out',
    flatDir,
    '--data-dir',
    dataDir,
  );
  for (const f of fs.readdirSync(path.join(flatDir, 'images'))) {
    const link = path.join(flatDir, 'images', f);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.ok(expectedHashes.has(sha256(link)));
  }
  const stats = JSON.parse(
    vswOk('stats', '--dataset', 'demo', '--run', String(runId), '--json', '--data-dir', dataDir),
  ) as {
    images: number;
    tags: { name: string; count: number }[];
    confusion: { matrix: number[][] };
  };
  assert.equal(stats.images, 2000);
  assert.deepEqual(stats.tags, [{ tagId: tag.id, name: 'stripes', count: fps.size }]);
  assert.equal(stats.confusion.matrix.length, model.labels.length);

  // Saliency precomputed for the same false positives through --query, then served from the cache.
  const fpJson = JSON.stringify({ errors: { kind: 'fp', class: model.labels[c], threshold }, text: '/000' });
  const explainArgs = [
    'explain-set',
    '--dataset',
    'demo',
    '--run',
    String(runId),
    '--method',
    'attn-grad-product',
  ];
  const first = JSON.parse(vswOk(...explainArgs, '--query', fpJson, '--json', '--data-dir', dataDir)) as {
    computed: number;
    images: number;
  };
  assert.ok(first.images > 0 && first.computed === first.images);
  const cached = JSON.parse(vswOk(...explainArgs, '--query', fpJson, '--json', '--data-dir', dataDir)) as {
    cached: number;
  };
  assert.equal(cached.cached, first.images);
  const map = ws.db
    .prepare('SELECT grid_rows, grid_cols, length(map) AS bytes FROM saliency_cache LIMIT 1')
    .get() as {
    grid_rows: number;
    grid_cols: number;
    bytes: number;
  };
  assert.equal(map.bytes, map.grid_rows * map.grid_cols * 4, 'token-level float32 maps');
  integrityOk(dataDir);
});
