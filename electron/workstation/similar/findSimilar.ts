// "Find more like these": the images of a dataset (or an unlabelled pool) ranked by cosine
// similarity of their embeddings to a query set (a tag's images or chosen images), scored by the
// set's nearest member ("nearest") or by the normalised mean of the set ("mean"). The query
// images, images already carrying the tag and images rejected for it ("not this pattern") are left
// out. Loaded indexes are kept per run (and rebuilt when the run gained rows).
import fs from 'node:fs';
import { WorkstationError } from '../datasets/importFolder';
import {
  embeddingFile,
  embeddingSettingsOrThrow,
  indexCacheFile,
  readEmbeddingsOf,
  readRunEmbeddings,
} from '../embeddings/embeddingStore';
import type { Db } from '../store/openDatabase';
import { buildHnswOffThread } from './hnswOffThread';
import {
  buildIndex,
  FLAT_LIMIT_VALUES,
  normaliseRows,
  type IndexKind,
  type VectorIndex,
} from './vectorIndex';

export type SimilarMode = 'nearest' | 'mean';

export interface SimilarRequest {
  datasetId: number;
  runId: number;
  /** The query: the images of the dataset carrying this tag… */
  tag?: string | null;
  /** …and/or these images of the dataset. */
  imageIds?: number[];
  /** The dataset ranked (default: the query's dataset). */
  poolDatasetId?: number;
  /** The run whose embeddings rank the pool (default: see poolRunFor). */
  poolRunId?: number;
  k?: number;
  mode?: SimilarMode;
  /** The tag whose rejections and members are left out (default: `tag`). */
  pattern?: string | null;
}

export interface SimilarHit {
  rank: number;
  path: string;
  imageId: number;
  score: number;
  label: string | null;
  tags: string[];
}

/** The shape `vsw similar --json` prints (the shared contract of issue 13). */
export interface SimilarResult {
  dataset: string;
  run: number;
  pool: { dataset: string; run: number };
  mode: SimilarMode;
  k: number;
  query: { tag: string | null; images: string[] };
  results: SimilarHit[];
  index: { kind: IndexKind; vectors: number };
  ms: number;
  /** Query images without an embedding in the run (left out of the query set). */
  missing: string[];
}

function datasetName(db: Db, id: number): string {
  const name = db.prepare('SELECT name FROM datasets WHERE id = ?').pluck().get(id) as string | undefined;
  if (name === undefined) throw new WorkstationError(`no dataset with id ${id}`, 'not-found');
  return name;
}

/** The run of `runId`'s model on the pool: the query run itself on its own dataset, else the latest complete one. */
export function poolRunFor(db: Db, runId: number, poolDatasetId: number): number {
  const run = db
    .prepare(
      `SELECT r.dataset_id AS datasetId, m.sha256 AS sha, m.path AS path FROM runs r
       LEFT JOIN models m ON m.id = r.model_id WHERE r.id = ?`,
    )
    .get(runId) as { datasetId: number; sha: string | null; path: string | null } | undefined;
  if (!run) throw new WorkstationError(`no run with id ${runId}; list them with \`vsw stats\``, 'not-found');
  if (run.datasetId === poolDatasetId) return runId;
  const found = db
    .prepare(
      `SELECT r.id FROM runs r JOIN models m ON m.id = r.model_id
       WHERE r.dataset_id = ? AND r.status = 'done' AND (m.sha256 = ? OR m.path = ?) ORDER BY r.id DESC LIMIT 1`,
    )
    .pluck()
    .get(poolDatasetId, run.sha, run.path) as number | undefined;
  if (found === undefined)
    throw new WorkstationError(
      `the pool "${datasetName(db, poolDatasetId)}" has no complete run of run ${runId}'s model; run ` +
        `\`vsw predict --dataset ${datasetName(db, poolDatasetId)} --model ${run.path ?? '<the same model>'}\` first`,
      'no-pool-run',
    );
  return found;
}

interface LoadedIndex {
  /** The index rows' count and last row when loaded: a change means rebuild. */
  rows: string;
  /** Rows of deleted images (skipped in results). */
  gaps: number;
  imageIds: Int32Array;
  index: VectorIndex;
}

/** Indexes kept in memory by embedding file (the service answers many queries on one run). */
const loaded = new Map<string, LoadedIndex>();
const KEEP = 2;

function rowsKey(db: Db, runId: number): string {
  return db
    .prepare("SELECT COUNT(*) || ':' || COALESCE(MAX(row), -1) FROM embedding_rows WHERE run_id = ?")
    .pluck()
    .get(runId) as string;
}

/** Graph builds in flight, by embedding file and rows (a second query waits for the same build). */
const building = new Map<string, Promise<void>>();

/**
 * Before a query in the service: a run too big for the flat scan gets its HNSW graph built (or
 * extended) into its cache file in a worker thread, so the query that follows only loads it and the
 * service's thread is free meanwhile. Nothing to do for a flat run or an index already loaded.
 */
export function prepareRunIndex(
  db: Db,
  dir: string,
  runId: number,
  flatLimitValues = FLAT_LIMIT_VALUES,
): Promise<void> {
  const file = embeddingFile(dir, runId);
  const rows = rowsKey(db, runId);
  if (loaded.get(file)?.rows === rows) return Promise.resolve();
  const key = `${file}\u0000${rows}`;
  const pending = building.get(key);
  if (pending) return pending;
  // Sized from the row index, so that a run small enough for the flat scan is not read here and
  // then again by the query.
  const { dim } = embeddingSettingsOrThrow(db, runId);
  const rowCount = db
    .prepare('SELECT COALESCE(MAX(row), -1) + 1 FROM embedding_rows WHERE run_id = ?')
    .pluck()
    .get(runId) as number;
  if (rowCount * dim <= flatLimitValues) return Promise.resolve();
  const { vectors } = readRunEmbeddings(db, dir, runId);
  const build = buildHnswOffThread(normaliseRows(vectors, dim), dim, indexCacheFile(dir, runId))
    .then(() => undefined)
    .finally(() => building.delete(key));
  building.set(key, build);
  return build;
}

function runIndex(db: Db, dir: string, runId: number): LoadedIndex {
  const file = embeddingFile(dir, runId);
  const rows = rowsKey(db, runId);
  const cached = loaded.get(file);
  if (cached && cached.rows === rows) return cached;
  const { dim, imageIds, vectors } = readRunEmbeddings(db, dir, runId);
  const index = buildIndex(normaliseRows(vectors, dim), dim, indexCacheFile(dir, runId));
  const entry = { rows, gaps: imageIds.filter((id) => id < 0).length, imageIds, index };
  loaded.delete(file);
  loaded.set(file, entry);
  while (loaded.size > KEEP) loaded.delete(loaded.keys().next().value!);
  return entry;
}

function relPaths(db: Db, ids: number[]): Map<number, string> {
  const get = db.prepare('SELECT rel_path FROM images WHERE id = ?').pluck();
  return new Map(ids.map((id) => [id, get.get(id) as string]));
}

export function findSimilar(db: Db, embeddingsDir: string, request: SimilarRequest): SimilarResult {
  const started = performance.now();
  const k = request.k ?? 100;
  const mode = request.mode ?? 'nearest';
  const tag = request.tag ?? null;
  const pattern = request.pattern === undefined ? tag : request.pattern;
  const dataset = datasetName(db, request.datasetId);
  const runDataset = db.prepare('SELECT dataset_id FROM runs WHERE id = ?').pluck().get(request.runId) as
    number | undefined;
  if (runDataset === undefined)
    throw new WorkstationError(`no run with id ${request.runId}; list them with \`vsw stats\``, 'not-found');
  if (runDataset !== request.datasetId)
    throw new WorkstationError(`run ${request.runId} is not a run on "${dataset}"`, 'bad-params');
  const poolId = request.poolDatasetId ?? request.datasetId;
  const poolName = datasetName(db, poolId);
  const poolRun = request.poolRunId ?? poolRunFor(db, request.runId, poolId);

  const members = new Set<number>(request.imageIds ?? []);
  if (tag !== null) {
    const tagged = db
      .prepare(
        `SELECT it.image_id FROM image_tags it JOIN tags t ON t.id = it.tag_id
         WHERE t.dataset_id = ? AND t.name = ? ORDER BY it.image_id`,
      )
      .pluck()
      .all(request.datasetId, tag) as number[];
    if (!tagged.length)
      throw new WorkstationError(
        `no image of "${dataset}" carries the tag "${tag}"; tag some first`,
        'empty-query',
      );
    tagged.forEach((id) => members.add(id));
  }
  if (!members.size)
    throw new WorkstationError('the query is empty: give a tag or at least one image', 'empty-query');
  const ids = [...members];
  const { found, vectors } = readEmbeddingsOf(db, embeddingsDir, request.runId, ids);
  const paths = relPaths(db, ids);
  const missing = ids.filter((id) => !found.includes(id)).map((id) => paths.get(id)!);
  if (!found.length)
    throw new WorkstationError(
      `none of the ${ids.length} query image(s) has an embedding in run ${request.runId}; run its \`vsw predict\` again`,
      'no-embeddings',
    );

  const { index, imageIds, gaps } = runIndex(db, embeddingsDir, poolRun);
  const excluded = new Set<number>(poolId === request.datasetId ? found : []);
  if (pattern !== null) {
    const left = db
      .prepare(
        `SELECT it.image_id FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE t.dataset_id = ? AND t.name = ?
         UNION SELECT pr.image_id FROM pattern_rejections pr JOIN images i ON i.id = pr.image_id
           WHERE i.dataset_id = ? AND pr.tag = ?`,
      )
      .pluck()
      .all(poolId, pattern, poolId, pattern) as number[];
    left.forEach((id) => excluded.add(id));
  }
  const dim = vectors.length / found.length;
  let queries = vectors;
  if (mode === 'mean') {
    queries = new Float32Array(dim);
    for (let s = 0; s < vectors.length; s += dim) for (let d = 0; d < dim; d++) queries[d] += vectors[s + d];
    normaliseRows(queries, dim);
  }
  // Each member's own top (k + left out) holds every image of the set's top k by max: an image's
  // rank for its nearest member is at most its rank in the merged list.
  const best = new Map<number, number>();
  for (const n of index.search(queries, k + excluded.size + gaps))
    n.rows.forEach((row, j) => {
      const id = imageIds[row];
      if (id < 0 || excluded.has(id)) return;
      if (!best.has(id) || best.get(id)! < n.scores[j]) best.set(id, n.scores[j]);
    });
  const ranked = [...best].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
  const info = db.prepare('SELECT rel_path AS path, label FROM images WHERE id = ?');
  const tagsOf = db
    .prepare(
      'SELECT t.name FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE it.image_id = ? ORDER BY t.name',
    )
    .pluck();
  const results = ranked.map(([imageId, score], i) => {
    const row = info.get(imageId) as { path: string; label: string | null };
    return {
      rank: i + 1,
      path: row.path,
      imageId,
      score: Math.round(score * 1e6) / 1e6,
      label: row.label,
      tags: tagsOf.all(imageId) as string[],
    };
  });
  return {
    dataset,
    run: request.runId,
    pool: { dataset: poolName, run: poolRun },
    mode,
    k,
    query: { tag, images: found.map((id) => paths.get(id)!) },
    results,
    index: { kind: index.kind, vectors: index.size },
    ms: Math.round((performance.now() - started) * 10) / 10,
    missing,
  };
}

/** Removes a run's embedding file and cached index (the run's rows go with the run). */
export function deleteRunEmbeddings(dir: string, runId: number): void {
  const file = embeddingFile(dir, runId);
  loaded.delete(file);
  for (const f of [file, indexCacheFile(dir, runId)]) fs.rmSync(f, { force: true });
}
