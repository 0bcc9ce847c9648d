// Cosine nearest-neighbour search over a run's embeddings with usearch: an exact flat scan up to
// FLAT_LIMIT_VALUES, above it an HNSW graph built once and cached beside the run's embedding file
// (extended with the rows added since). The limit and the HNSW settings come from `npm run bench --
// similar` (see the README).
import fs from 'node:fs';
import { exactSearch, Index, MetricKind, ScalarKind, type Matches } from 'usearch';
import { normaliseRows } from '../embeddings/unitVectors';

export { normaliseRows };

/**
 * Up to this many values (vectors × width) an exact scan answers a 20-image query set within the
 * budget (bench: README): about 100,000 vectors at width 96, 26,000 at 384.
 */
export const FLAT_LIMIT_VALUES = 10_000_000;
export const HNSW = { connectivity: 16, expansionAdd: 128, expansionSearch: 512 };

export type IndexKind = 'flat' | 'hnsw';

export interface Neighbours {
  /** Row numbers, best first. */
  rows: number[];
  /** Cosine similarities, best first. */
  scores: number[];
}

export interface VectorIndex {
  kind: IndexKind;
  size: number;
  /** The `count` nearest rows of each normalised query vector ([q × dim]). */
  search(queries: Float32Array, count: number): Neighbours[];
}

function toNeighbours(m: Matches): Neighbours {
  const rows: number[] = [];
  const scores: number[] = [];
  m.keys.forEach((key, k) => {
    // usearch pads missing results with the max key.
    if (key >= 0xffffffffn || !Number.isFinite(m.distances[k])) return;
    rows.push(Number(key));
    scores.push(1 - m.distances[k]);
  });
  return { rows, scores };
}

/**
 * An index answering each query vector with `nearest(query, n)`. Each query is a copy: usearch's
 * binding reads a typed array from its buffer's start (it ignores views).
 */
function queryEach(
  kind: IndexKind,
  size: number,
  dim: number,
  nearest: (query: Float32Array, n: number) => Matches,
): VectorIndex {
  return {
    kind,
    size,
    search(queries, count) {
      const n = Math.min(count, size);
      const out: Neighbours[] = [];
      for (let s = 0; s < queries.length; s += dim)
        out.push(n === 0 ? { rows: [], scores: [] } : toNeighbours(nearest(queries.slice(s, s + dim), n)));
      return out;
    },
  };
}

/** Exact: every vector compared (usearch's SIMD scan). `vectors` must be normalised. */
export function flatIndex(vectors: Float32Array, dim: number): VectorIndex {
  const data = vectors.byteOffset ? vectors.slice() : vectors;
  return queryEach(
    'flat',
    data.length / dim,
    dim,
    (q, n) => exactSearch(data, q, dim, n, MetricKind.Cos) as Matches,
  );
}

function newHnsw(dim: number, expansionSearch = HNSW.expansionSearch): Index {
  return new Index({
    dimensions: dim,
    metric: MetricKind.Cos,
    quantization: ScalarKind.F16,
    connectivity: HNSW.connectivity,
    expansion_add: HNSW.expansionAdd,
    expansion_search: expansionSearch,
    multi: false,
  });
}

function addRows(index: Index, vectors: Float32Array, dim: number, from: number): void {
  const size = vectors.length / dim;
  const keys = new BigUint64Array(size - from);
  for (let k = 0; k < keys.length; k++) keys[k] = BigInt(from + k);
  if (keys.length) index.add(keys, from ? vectors.slice(from * dim) : vectors, 0);
}

/** Approximate: an HNSW graph over `vectors` (normalised). */
export function hnswIndex(
  vectors: Float32Array,
  dim: number,
  cacheFile?: string,
  expansionSearch = HNSW.expansionSearch,
): VectorIndex {
  const size = vectors.length / dim;
  let index: Index | null = null;
  if (cacheFile && fs.existsSync(cacheFile)) {
    try {
      const cached = newHnsw(dim, expansionSearch);
      cached.load(cacheFile);
      if (cached.size() <= size && cached.dimensions() === dim) index = cached;
    } catch {
      index = null; // a damaged cache is rebuilt
    }
  }
  const had = index ? index.size() : 0;
  index ??= newHnsw(dim, expansionSearch);
  addRows(index, vectors, dim, had);
  if (cacheFile && had !== size) {
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    index.save(temporary);
    fs.renameSync(temporary, cacheFile);
  }
  const hnsw = index;
  return queryEach('hnsw', size, dim, (q, n) => hnsw.search(q, n, 0) as Matches);
}

/** The index a run's embeddings are searched with: flat up to FLAT_LIMIT_VALUES, HNSW (cached) above. */
export function buildIndex(
  vectors: Float32Array,
  dim: number,
  cacheFile?: string,
  flatLimitValues = FLAT_LIMIT_VALUES,
): VectorIndex {
  return vectors.length <= flatLimitValues ? flatIndex(vectors, dim) : hnswIndex(vectors, dim, cacheFile);
}
