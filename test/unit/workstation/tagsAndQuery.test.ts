// Tags, undo, tag exchange between reviewers and the query's filters on a real SQLite data dir with
// real images and predictions written as the predict job writes them.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { ImageQuery, type ImageQueryInput } from '../../../electron/contract/query';
import { selectImageIds } from '../../../electron/workstation/query/buildQuery';
import { queryFacets, queryPage, queryTagFacets } from '../../../electron/workstation/query/queryImages';
import { listAudit, undoLatest } from '../../../electron/workstation/review/auditLog';
import { setNote, setReview } from '../../../electron/workstation/review/imageReview';
import { decodeFloat16, encodeFloat16 } from '../../../electron/workstation/store/float16';
import { exportTags, importTags } from '../../../electron/workstation/tags/tagExchange';
import {
  applyTag,
  createTag,
  deleteTag,
  listTags,
  mergeTags,
  removeTag,
  updateTag,
} from '../../../electron/workstation/tags/tagStore';
import { Workstation } from '../../../electron/workstation/workstation';
import { writeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/tempDir';

/** Six images (labels a/b) and a run over classes [a, b] with given top-1 scores. */
async function setup(t: TestContext, reviewer = 'alice') {
  const root = tempDir(t);
  const specs = [
    ['a/1.png', 'a', [0.9, 0.1]],
    ['a/2.png', 'a', [0.3, 0.7]], // FN of a (top-1 b); FP of b
    ['a/3.png', 'a', [0.55, 0.45]], // TP of a at 0.5; FN of a at 0.6
    ['b/4.png', 'b', [0.8, 0.2]], // FP of a
    ['b/5.png', 'b', [0.45, 0.55]],
    ['b/6.png', 'b', [0.05, 0.95]],
  ] as const;
  for (const [rel, , probs] of specs)
    await writeImage(path.join(root, rel), { colour: [Math.round(probs[0] * 255), 30, 60] });
  const ws = new Workstation({ dataDir: tempDir(t, 'vsw-data-'), reviewer });
  t.after(() => ws.close());
  const { dataset } = await ws.addDataset(root, 'set');
  ws.db
    .prepare(
      `INSERT INTO runs (dataset_id, name, labels, settings, settings_key, status, created_at) VALUES (?, 'r', '["a","b"]', '{}', 'k', 'done', 'now')`,
    )
    .run(dataset.id);
  const ids = new Map<string, number>();
  for (const [rel, label, probs] of specs) {
    const id = ws.db.prepare('SELECT id FROM images WHERE rel_path = ?').pluck().get(rel) as number;
    ids.set(rel, id);
    const top = probs[0] >= probs[1] ? 0 : 1;
    ws.db
      .prepare(
        'INSERT INTO predictions (run_id, image_id, top1, score, true_idx, probs) VALUES (1, ?, ?, ?, ?, ?)',
      )
      .run(id, top, probs[top], label === 'a' ? 0 : 1, encodeFloat16(probs));
  }
  const q = (extra: Omit<ImageQueryInput, 'datasetId'>) =>
    ImageQuery.parse({ datasetId: dataset.id, runId: 1, ...extra });
  const paths = (query: ImageQuery) =>
    selectImageIds(ws.db, query).map((id) => [...ids].find(([, v]) => v === id)![0]);
  return { ws, datasetId: dataset.id, ids, q, paths };
}

test('float16 BLOBs round-trip probabilities within half precision', () => {
  const values = [0, 1, 0.5, 0.1234, 1e-5, 0.99951171875];
  const back = decodeFloat16(encodeFloat16(values));
  values.forEach((v, k) => assert.ok(Math.abs(back[k] - v) <= Math.max(1e-3 * v, 6e-8), `${v} → ${back[k]}`));
});

test('false positives and negatives with no class: misclassified (or missed) at the threshold, any class', async (t) => {
  const { q, paths, ws } = await setup(t);
  const sort = { by: 'path' } as const;
  assert.deepEqual(paths(q({ errors: { kind: 'fp', threshold: 0.5 }, sort })), ['a/2.png', 'b/4.png']);
  assert.deepEqual(paths(q({ errors: { kind: 'fp', threshold: 0.75 }, sort })), ['b/4.png']);
  assert.deepEqual(paths(q({ errors: { kind: 'fn', threshold: 0.6 }, sort })), [
    'a/2.png',
    'a/3.png',
    'b/4.png',
    'b/5.png',
  ]);
  // The facets count the same set (what the UI's count says).
  assert.equal(queryFacets(ws.db, q({ errors: { kind: 'fp', threshold: 0.5 } })).total, 2);
});

test('false positives and negatives for a class at a threshold, score ranges, sort and keyset pages', async (t) => {
  const { q, paths, ws } = await setup(t);
  const sortPath = { by: 'path' } as const;
  assert.deepEqual(paths(q({ errors: { kind: 'fp', class: 'a', threshold: 0.5 }, sort: sortPath })), [
    'b/4.png',
  ]);
  assert.deepEqual(paths(q({ errors: { kind: 'fp', class: 'b', threshold: 0.5 }, sort: sortPath })), [
    'a/2.png',
  ]);
  assert.deepEqual(paths(q({ errors: { kind: 'fn', class: 'a', threshold: 0.5 }, sort: sortPath })), [
    'a/2.png',
  ]);
  assert.deepEqual(paths(q({ errors: { kind: 'fn', class: 'a', threshold: 0.6 }, sort: sortPath })), [
    'a/2.png',
    'a/3.png',
  ]);
  assert.deepEqual(paths(q({ score: { min: 0.6, max: 0.9 }, sort: { by: 'score', direction: 'asc' } })), [
    'a/2.png',
    'b/4.png',
    'a/1.png',
  ]);
  assert.deepEqual(paths(q({ predClass: 'a', trueClass: 'b', sort: sortPath })), ['b/4.png']);
  const random1 = paths(q({ sort: { by: 'random', seed: 7 } }));
  assert.deepEqual(paths(q({ sort: { by: 'random', seed: 7 } })), random1, 'the random order is stable');
  assert.deepEqual([...random1].sort(), paths(q({ sort: sortPath })));
  const all: string[] = [];
  let after: string | undefined;
  do {
    const page = queryPage(ws.db, q({ sort: { by: 'score' } }), after, 4);
    all.push(...page.items.map((i) => i.relPath));
    after = page.nextCursor ?? undefined;
  } while (after);
  assert.deepEqual(all, paths(q({ sort: { by: 'score' } })));
  assert.throws(
    () => paths(q({ errors: { kind: 'fp', class: 'zebra', threshold: 0.5 } })),
    /"zebra" is not a class of run 1; its classes are: a, b/,
  );
});

test('facets of a whole dataset (from indexes) equal those counted over the selection', async (t) => {
  const { ws, datasetId, ids } = await setup(t);
  const r = ws.reviewerId;
  const glare = createTag(ws.db, datasetId, r, { name: 'glare', hotkey: 1 });
  createTag(ws.db, datasetId, r, { name: 'unused' });
  applyTag(ws.db, glare.id, { imageIds: [ids.get('a/1.png')!, ids.get('b/4.png')!] }, r);
  setReview(ws.db, { imageIds: [ids.get('a/3.png')!] }, { reviewed: true, verdict: 'unsure' }, r);
  ws.db
    .prepare("UPDATE images SET mask_path = '/m.png', split = 'test' WHERE id = ?")
    .run(ids.get('b/5.png'));
  ws.db.prepare('DELETE FROM predictions WHERE image_id = ?').run(ids.get('b/6.png'));
  // `text: ''` keeps every image but is a filter: it takes the one-pass path.
  for (const runId of [1, undefined]) {
    const whole = queryFacets(ws.db, ImageQuery.parse({ datasetId, runId }));
    const counted = queryFacets(ws.db, ImageQuery.parse({ datasetId, runId, text: '' }));
    assert.deepEqual(whole, counted, `run ${runId}`);
    // What a tag change re-reads: the same tag counts, alone.
    for (const query of [
      { datasetId, runId },
      { datasetId, runId, text: '' },
    ])
      assert.deepEqual(queryTagFacets(ws.db, ImageQuery.parse(query)), {
        tags: whole.tags,
        untagged: whole.untagged,
      });
    assert.equal(whole.total, 6);
    assert.equal(whole.untagged, 4);
    assert.equal(whole.masked, 1);
  }
});

test('tags: apply to a selection in one go, any/all/none/untagged filters, facets, rename, merge, delete, undo', async (t) => {
  const { ws, datasetId, ids, q, paths } = await setup(t);
  const r = ws.reviewerId;
  const glare = createTag(ws.db, datasetId, r, { name: 'glare', hotkey: 1 });
  const crop = createTag(ws.db, datasetId, r, { name: 'crop', colour: '#123456' });
  assert.throws(
    () => createTag(ws.db, datasetId, r, { name: 'other', hotkey: 1 }),
    /hotkey 1 is already used by tag "glare"/,
  );
  assert.equal(applyTag(ws.db, glare.id, { query: q({ trueClass: 'b' }) }, r), 3);
  assert.equal(applyTag(ws.db, crop.id, { imageIds: [ids.get('b/4.png')!, ids.get('a/1.png')!] }, r), 2);
  const sort = { by: 'path' } as const;
  assert.deepEqual(paths(q({ tags: { all: ['glare', 'crop'] }, sort })), ['b/4.png']);
  assert.deepEqual(paths(q({ tags: { any: ['glare', crop.id] }, sort })), [
    'a/1.png',
    'b/4.png',
    'b/5.png',
    'b/6.png',
  ]);
  assert.deepEqual(paths(q({ tags: { none: ['glare'] }, sort })), ['a/1.png', 'a/2.png', 'a/3.png']);
  assert.deepEqual(paths(q({ untagged: true, sort })), ['a/2.png', 'a/3.png']);
  const facets = queryFacets(ws.db, q({}));
  assert.equal(facets.total, 6);
  assert.deepEqual(
    facets.tags.map((f) => [f.name, f.count]),
    [
      ['crop', 2],
      ['glare', 3],
    ],
  );
  assert.deepEqual(facets.predClass, [
    { label: 'a', count: 3 },
    { label: 'b', count: 3 },
  ]);

  updateTag(ws.db, glare.id, r, { name: 'reflections', colour: '#ff0000' });
  assert.deepEqual(
    listTags(ws.db, datasetId).map((x) => x.name),
    ['crop', 'reflections'],
  );
  mergeTags(ws.db, crop.id, glare.id, r);
  assert.deepEqual(
    listTags(ws.db, datasetId).map((x) => [x.name, x.count]),
    [['reflections', 4]],
  );
  // Undo, newest first: the merge, then the rename.
  assert.match(undoLatest(ws.db, datasetId, r)!.summary, /merged/);
  assert.deepEqual(
    listTags(ws.db, datasetId).map((x) => [x.name, x.count]),
    [
      ['crop', 2],
      ['reflections', 3],
    ],
  );
  assert.match(undoLatest(ws.db, datasetId, r)!.summary, /renamed/);
  assert.deepEqual(
    listTags(ws.db, datasetId).map((x) => x.name),
    ['crop', 'glare'],
  );
  assert.equal(removeTag(ws.db, glare.id, { imageIds: [ids.get('b/5.png')!] }, r), 1);
  undoLatest(ws.db, datasetId, r);
  assert.deepEqual(paths(q({ tags: { any: ['glare'] }, sort })), ['b/4.png', 'b/5.png', 'b/6.png']);
  deleteTag(ws.db, glare.id, r);
  assert.deepEqual(paths(q({ untagged: true, sort })), ['a/2.png', 'a/3.png', 'b/5.png', 'b/6.png']);
  undoLatest(ws.db, datasetId, r);
  assert.deepEqual(paths(q({ tags: { any: ['glare'] }, sort })), ['b/4.png', 'b/5.png', 'b/6.png']);

  setNote(ws.db, ids.get('a/3.png')!, 'Blurry collar', r);
  assert.deepEqual(paths(q({ text: 'collar', sort })), ['a/3.png']);
  assert.equal(
    setReview(ws.db, { imageIds: [ids.get('a/3.png')!, ids.get('b/6.png')!] }, { verdict: 'label-wrong' }, r),
    2,
  );
  assert.deepEqual(paths(q({ reviewed: true, verdict: 'label-wrong', sort })), ['a/3.png', 'b/6.png']);
  undoLatest(ws.db, datasetId, r);
  assert.deepEqual(paths(q({ reviewed: true, sort })), []);
  assert.ok(listAudit(ws.db, datasetId, 50).length >= 10);
});

test('a 10,000-image selection in one transaction, and tag exchange between two reviewers', async (t) => {
  const alice = await setup(t, 'alice');
  const bob = await setup(t, 'bob');
  const a = alice.ws;
  const b = bob.ws;
  const glareA = createTag(a.db, alice.datasetId, a.reviewerId, {
    name: 'glare',
    hotkey: 2,
    description: 'light spots',
  });
  applyTag(
    a.db,
    glareA.id,
    { imageIds: [alice.ids.get('a/1.png')!, alice.ids.get('b/4.png')!] },
    a.reviewerId,
  );
  const glareB = createTag(b.db, bob.datasetId, b.reviewerId, { name: 'glare' });
  const cropB = createTag(b.db, bob.datasetId, b.reviewerId, { name: 'crop' });
  applyTag(b.db, glareB.id, { imageIds: [bob.ids.get('a/1.png')!] }, b.reviewerId);
  applyTag(b.db, cropB.id, { imageIds: [bob.ids.get('a/2.png')!] }, b.reviewerId);
  await new Promise((resolve) => setTimeout(resolve, 5)); // a later event time
  removeTag(b.db, glareB.id, { imageIds: [bob.ids.get('a/1.png')!] }, b.reviewerId);

  // Bob's file into Alice's store: crop is new (union), glare on a/1 was removed later by Bob.
  const report = importTags(a.db, alice.datasetId, exportTags(b.db, bob.datasetId, 'bob'));
  assert.deepEqual(report.tagsCreated, ['crop']);
  assert.equal(report.unmatched.length, 0);
  assert.deepEqual(
    report.conflicts.map((c) => [c.path, c.tag, c.added, c.removed, c.winner]),
    [['a/1.png', 'glare', 'alice', 'bob', 'remove']],
  );
  assert.deepEqual(alice.paths(alice.q({ tags: { any: ['glare'] }, sort: { by: 'path' } })), ['b/4.png']);
  assert.deepEqual(alice.paths(alice.q({ tags: { any: ['crop'] }, sort: { by: 'path' } })), ['a/2.png']);
  const again = importTags(a.db, alice.datasetId, exportTags(b.db, bob.datasetId, 'bob'));
  assert.equal(again.added + again.removed, 0, 'importing the same file twice changes nothing');

  // 10,000 images tagged in one call (one transaction), then undone in one step.
  const insert = a.db.prepare(
    `INSERT INTO images (dataset_id, root_id, rel_path, content_hash, size_bytes, mtime_ms, width, height, format, label, added_at)
     VALUES (?, 1, ?, ?, 1, 0, 1, 1, 'png', 'a', 'now')`,
  );
  a.db.transaction(() => {
    for (let k = 0; k < 10_000; k++) insert.run(alice.datasetId, `bulk/${k}.png`, `h${k}`);
  })();
  const started = performance.now();
  const changed = applyTag(a.db, glareA.id, { query: alice.q({ text: 'bulk/' }) }, a.reviewerId);
  const ms = performance.now() - started;
  assert.equal(changed, 10_000);
  t.diagnostic(`tagging 10,000 images took ${ms.toFixed(0)} ms`);
  undoLatest(a.db, alice.datasetId, a.reviewerId);
  assert.equal(alice.paths(alice.q({ tags: { any: ['glare'] }, text: 'bulk/' })).length, 0);
});
