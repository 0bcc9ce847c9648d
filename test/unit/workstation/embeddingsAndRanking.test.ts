// The float16 embedding store (rows appended at the committed count, an interrupted batch
// overwritten on resume, a lost file recomputed) and the ranking's indexes (the flat scan is exact;
// the HNSW graph's recall@50 against it on clustered data; the graph built in a worker thread, and
// before a big run's query), on a real SQLite data dir.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { threadId } from 'node:worker_threads';
import {
  embeddingFile,
  EmbeddingAppender,
  indexCacheFile,
  readEmbeddingsOf,
  readRunEmbeddings,
  setRunEmbeddingSettings,
} from '../../../electron/workstation/embeddings/embeddingStore';
import { openDatabase, type Db } from '../../../electron/workstation/store/openDatabase';
import { findSimilar, prepareRunIndex } from '../../../electron/workstation/similar/findSimilar';
import { buildHnswOffThread } from '../../../electron/workstation/similar/hnswOffThread';
import { flatIndex, hnswIndex, normaliseRows } from '../../../electron/workstation/similar/vectorIndex';
import { tempDir } from '../../helpers/tempDir';

/** A dataset of `n` image rows and one run, with raw SQL (the store is what is tested). */
function seed(db: Db, n: number): { runId: number; imageIds: number[] } {
  const now = new Date().toISOString();
  const datasetId = Number(
    db.prepare('INSERT INTO datasets (name, created_at) VALUES (?, ?)').run('d', now).lastInsertRowid,
  );
  const rootId = Number(
    db.prepare('INSERT INTO dataset_roots (dataset_id, path) VALUES (?, ?)').run(datasetId, '/nowhere')
      .lastInsertRowid,
  );
  const insert = db.prepare(
    `INSERT INTO images (dataset_id, root_id, rel_path, content_hash, size_bytes, mtime_ms, width, height, format, added_at)
     VALUES (?, ?, ?, ?, 1, 1, 1, 1, 'png', ?)`,
  );
  const imageIds = Array.from({ length: n }, (_, i) =>
    Number(insert.run(datasetId, rootId, `i${i}.png`, `h${i}`, now).lastInsertRowid),
  );
  const runId = Number(
    db
      .prepare(
        `INSERT INTO runs (dataset_id, name, labels, settings, settings_key, created_at) VALUES (?, 'r', '[]', '{}', 'k', ?)`,
      )
      .run(datasetId, now).lastInsertRowid,
  );
  return { runId, imageIds };
}

/** One more image in the seeded dataset. */
function seed2(db: Db, n: number): number[] {
  const insert = db.prepare(
    `INSERT INTO images (dataset_id, root_id, rel_path, content_hash, size_bytes, mtime_ms, width, height, format, added_at)
     VALUES (1, 1, ?, ?, 1, 1, 1, 1, 'png', 'now')`,
  );
  return Array.from({ length: n }, (_, i) => Number(insert.run(`extra${i}.png`, `x${i}`).lastInsertRowid));
}

const vectorsFor = (ids: number[], dim: number) =>
  Float32Array.from({ length: ids.length * dim }, (_, i) =>
    Math.sin(ids[Math.floor(i / dim)] * 1.7 + (i % dim)),
  );

test('embeddings: appended in float16 at the committed row count; an uncommitted batch is overwritten on resume', (t) => {
  const dir = tempDir(t, 'vsw-emb-');
  const db = openDatabase(dir);
  t.after(() => db.close());
  const { runId, imageIds } = seed(db, 10);
  const dim = 6;
  const embeddings = path.join(dir, 'embeddings');
  setRunEmbeddingSettings(db, runId, { tensor: 'x', dim });

  let appender = new EmbeddingAppender(db, embeddings, runId, dim);
  db.transaction(appender.write(imageIds.slice(0, 4), vectorsFor(imageIds.slice(0, 4), dim)))();
  // A crash after the bytes of the next batch were written but before its rows were committed.
  appender.write(imageIds.slice(4, 7), new Float32Array(3 * dim).fill(9));
  appender.close();
  assert.equal(
    fs.statSync(embeddingFile(embeddings, runId)).size,
    7 * dim * 2,
    'the uncommitted bytes are there',
  );

  // The resumed run truncates to the committed rows and writes the batch again in their place.
  appender = new EmbeddingAppender(db, embeddings, runId, dim);
  assert.equal(fs.statSync(embeddingFile(embeddings, runId)).size, 4 * dim * 2);
  db.transaction(appender.write(imageIds.slice(4), vectorsFor(imageIds.slice(4), dim)))();
  appender.close();

  const stored = readRunEmbeddings(db, embeddings, runId);
  assert.deepEqual(Array.from(stored.imageIds), imageIds);
  const expected = vectorsFor(imageIds, dim);
  const worst = Math.max(...stored.vectors.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(worst < 1e-3, `float16 round trip within half-float rounding (off by ${worst})`);
  // Some images' rows, read one by one, normalised.
  const some = readEmbeddingsOf(db, embeddings, runId, [imageIds[7], imageIds[2], 999_999]);
  assert.deepEqual(some.found, [imageIds[7], imageIds[2]], 'an image without an embedding is left out');
  const norm = Math.hypot(...some.vectors.subarray(0, dim));
  assert.ok(Math.abs(norm - 1) < 1e-6);

  // A deleted image leaves a gap: later rows are appended after the last, never over another's.
  db.prepare('DELETE FROM images WHERE id = ?').run(imageIds[3]);
  const [extra] = seed2(db, 1);
  appender = new EmbeddingAppender(db, embeddings, runId, dim);
  db.transaction(appender.write([extra], vectorsFor([extra], dim)))();
  appender.close();
  const gapped = readRunEmbeddings(db, embeddings, runId);
  assert.equal(gapped.imageIds.length, 11);
  assert.equal(gapped.imageIds[3], -1, "the deleted image's row is a gap");
  assert.equal(gapped.imageIds[10], extra);
  assert.ok(gapped.vectors.subarray(3 * dim, 4 * dim).every((v) => v === 0));
  assert.ok(Math.abs(gapped.vectors[4 * dim] - expected[4 * dim]) < 1e-3, 'the next row is untouched');

  // A file lost or cut short: its embeddings are computed again (the index is cleared).
  fs.truncateSync(embeddingFile(embeddings, runId), 10);
  const messages: string[] = [];
  appender = new EmbeddingAppender(db, embeddings, runId, dim, (m) => messages.push(m));
  appender.close();
  assert.match(messages.join('\n'), /shorter than its index/);
  assert.equal(db.prepare('SELECT COUNT(*) FROM embedding_rows WHERE run_id = ?').pluck().get(runId), 0);

  // A batch of the wrong width is refused.
  appender = new EmbeddingAppender(db, embeddings, runId, dim);
  assert.throws(() => appender.write([imageIds[0]], new Float32Array(dim + 1)), /stores 6/);
  appender.close();
});

test('a run without embeddings says how to add them', (t) => {
  const dir = tempDir(t, 'vsw-emb-');
  const db = openDatabase(dir);
  t.after(() => db.close());
  const { runId } = seed(db, 1);
  assert.throws(() => readRunEmbeddings(db, dir, runId), /run the same `vsw predict/);
  setRunEmbeddingSettings(db, runId, { problem: 'cannot find the classification head: set "embedding"' });
  assert.throws(() => readRunEmbeddings(db, dir, runId), /cannot find the classification head/);
});

/** Clustered unit vectors (seeded), as embeddings are. */
function clustered(n: number, dim: number): Float32Array {
  let a = 7;
  const rand = () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return a / 0x7fffffff;
  };
  const centres = Float32Array.from({ length: 40 * dim }, () => rand() - 0.5);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * 40);
    for (let k = 0; k < dim; k++) out[i * dim + k] = centres[c * dim + k] + 0.15 * (rand() - 0.5);
  }
  return normaliseRows(out, dim);
}

test('ranking: the flat scan is exact; HNSW finds ≥ 95% of the exact top 50', (t) => {
  const dim = 32;
  const n = 4000;
  const vectors = clustered(n, dim);
  const queries = vectors.slice(0, 10 * dim);
  const flat = flatIndex(vectors, dim).search(queries, 50);
  // Exact: against a brute-force scan in plain JavaScript.
  for (let q = 0; q < 10; q++) {
    const scores = Array.from({ length: n }, (_, i) => {
      let s = 0;
      for (let k = 0; k < dim; k++) s += vectors[i * dim + k] * queries[q * dim + k];
      return s;
    });
    const best = scores.map((s, i) => [s, i]).sort((x, y) => y[0] - x[0]);
    assert.ok(
      Math.abs(flat[q].scores[49] - best[49][0]) < 1e-4,
      `the 50th score matches the brute force (${flat[q].scores[49]} vs ${best[49][0]})`,
    );
    assert.equal(flat[q].rows[0], q, 'a stored vector is its own nearest');
    assert.ok(
      flat[q].scores.every((s, i) => i === 0 || s <= flat[q].scores[i - 1] + 1e-6),
      'best first',
    );
  }
  const cache = path.join(tempDir(t, 'vsw-hnsw-'), 'run-1.hnsw');
  const hnsw = hnswIndex(vectors, dim, cache).search(queries, 50);
  let hits = 0;
  flat.forEach((f, q) => {
    const found = new Set(hnsw[q].rows);
    hits += f.rows.filter((r) => found.has(r)).length;
  });
  assert.ok(hits / 500 >= 0.95, `recall@50 ${hits / 500}`);
  // The cached graph is reused and extended with rows added since.
  assert.ok(fs.existsSync(cache));
  const more = clustered(n + 100, dim);
  more.set(vectors);
  const extended = hnswIndex(more, dim, cache);
  assert.equal(extended.size, n + 100);
  assert.equal(extended.search(more.slice((n + 50) * dim, (n + 51) * dim), 1)[0].rows[0], n + 50);
});

test('the HNSW graph is built in a worker thread while this thread runs timers; its cache is loaded as is', async (t) => {
  const dim = 32;
  const n = 20_000;
  const vectors = clustered(n, dim);
  const cache = path.join(tempDir(t, 'vsw-hnsw-'), 'run-1.hnsw');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  t.after(() => clearInterval(timer));
  const built = await buildHnswOffThread(vectors.slice(), dim, cache);
  clearInterval(timer);
  assert.notEqual(built.threadId, threadId, 'built in another thread');
  assert.equal(built.size, n);
  // A build on this thread would have resolved before any timer ran.
  assert.ok(ticks > 0, `this thread ran ${ticks} timer callbacks during the build`);

  const written = fs.statSync(cache).mtimeMs;
  const index = hnswIndex(vectors, dim, cache);
  assert.equal(fs.statSync(cache).mtimeMs, written, 'the cache holds every row: not saved again');
  const queries = vectors.slice(0, 10 * dim);
  const approximate = index.search(queries, 10);
  flatIndex(vectors, dim)
    .search(queries, 10)
    .forEach((exact, q) => {
      const found = exact.rows.filter((r) => approximate[q].rows.includes(r)).length;
      assert.ok(found >= 9, `query ${q}: ${found} of the exact top 10`);
    });
});

test('prepareRunIndex builds a run too big for the flat scan in a worker, before its query', async (t) => {
  const dir = tempDir(t, 'vsw-emb-');
  const db = openDatabase(dir);
  t.after(() => db.close());
  const n = 3000;
  const dim = 16;
  const { runId, imageIds } = seed(db, n);
  db.prepare("UPDATE runs SET status = 'done' WHERE id = ?").run(runId);
  const embeddings = path.join(dir, 'embeddings');
  setRunEmbeddingSettings(db, runId, { tensor: 'x', dim });
  const appender = new EmbeddingAppender(db, embeddings, runId, dim);
  db.transaction(appender.write(imageIds, clustered(n, dim)))();
  appender.close();

  const cache = indexCacheFile(embeddings, runId);
  // Under the default flat limit nothing is built.
  await prepareRunIndex(db, embeddings, runId);
  assert.equal(fs.existsSync(cache), false);
  // "Too big": a flat limit just under the run's values.
  await prepareRunIndex(db, embeddings, runId, n * dim - 1);
  assert.ok(fs.existsSync(cache), 'the worker wrote the graph');
  // The graph holds every row of the run: loading it neither adds nor saves.
  const written = fs.statSync(cache).mtimeMs;
  const stored = readRunEmbeddings(db, embeddings, runId);
  const graph = hnswIndex(normaliseRows(stored.vectors, dim), dim, cache);
  assert.equal(fs.statSync(cache).mtimeMs, written, 'loaded as built, not extended');
  assert.equal(graph.size, n);
  assert.equal(graph.search(stored.vectors.slice(7 * dim, 8 * dim), 1)[0].rows[0], 7);
  // The query answers (with the flat scan here: the run is under the real limit).
  const result = findSimilar(db, embeddings, { datasetId: 1, runId, imageIds: [imageIds[0]], k: 5 });
  assert.equal(result.results.length, 5);
});
