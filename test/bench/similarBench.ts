// Nearest-neighbour benchmark for "Find similar" (run by `npm run bench -- similar`, never by the
// tests): clustered unit vectors at 100k and 1M, at the bundled model's width (96) and a ViT-S's
// (384). For each index: build time, query time (one vector, and a 20-member "nearest" query set),
// recall@100 against the exact scan, memory. Prints one JSON line per case, then a summary.
// Scale with VSW_BENCH_SIZES=100000,1000000 and VSW_BENCH_DIMS=96,384.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  flatIndex,
  hnswIndex,
  normaliseRows,
  type VectorIndex,
} from '../../electron/workstation/similar/vectorIndex';

const SIZES = (process.env.VSW_BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
const DIMS = (process.env.VSW_BENCH_DIMS ?? '96,384').split(',').map(Number);
const K = 100;
const QUERIES = 20;

/** A seeded generator (mulberry32) and normal deviates, so every run measures the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Embedding-like data: 1,000 class/pattern clusters of uneven size, each a centre plus a spread
 * (some tight, some loose), and a shared offset (real embeddings are not centred).
 */
function clustered(n: number, dim: number, seed = 1): Float32Array {
  const rand = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const clusters = 1000;
  const centres = new Float32Array(clusters * dim).map(() => gauss());
  const spread = Float32Array.from({ length: clusters }, () => 0.3 + 0.9 * rand());
  const offset = Float32Array.from({ length: dim }, () => 0.5 * gauss());
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(clusters * rand() ** 2); // uneven sizes
    for (let k = 0; k < dim; k++) out[i * dim + k] = centres[c * dim + k] + spread[c] * gauss() + offset[k];
  }
  return normaliseRows(out, dim);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeQueries(index: VectorIndex, queries: Float32Array, dim: number): { one: number; set: number } {
  const one: number[] = [];
  for (let q = 0; q < QUERIES; q++) {
    const t = performance.now();
    index.search(queries.subarray(q * dim, (q + 1) * dim), K);
    one.push(performance.now() - t);
  }
  const t = performance.now();
  index.search(queries, K + QUERIES); // a 20-member set, nearest mode: one search per member
  return { one: median(one), set: performance.now() - t };
}

/** The rows JavaScript itself scans per second (the hand-written float32 loop, for reference). */
function jsScanMs(vectors: Float32Array, dim: number, query: Float32Array): number {
  const t = performance.now();
  const n = vectors.length / dim;
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const base = i * dim;
    for (let k = 0; k < dim; k++) s += vectors[base + k] * query[k];
    scores[i] = s;
  }
  return performance.now() - t;
}

function rssMb(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

function main(): void {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-similar-bench-'));
  const summary: Record<string, unknown>[] = [];
  try {
    for (const dim of DIMS)
      for (const n of SIZES) {
        const vectors = clustered(n, dim);
        // Queries: stored vectors (as a tag's members are), spread over the data.
        const queries = new Float32Array(QUERIES * dim);
        for (let q = 0; q < QUERIES; q++)
          queries.set(vectors.subarray(((q * 7919) % n) * dim, ((q * 7919) % n) * dim + dim), q * dim);
        const flat = flatIndex(vectors, dim);
        const exact = flat.search(queries, K);
        const flatTimes = timeQueries(flat, queries, dim);
        summary.push({
          index: 'usearch exact scan (f32)',
          n,
          dim,
          buildS: 0,
          queryMs: +flatTimes.one.toFixed(1),
          set20Ms: +flatTimes.set.toFixed(1),
          recallAt100: 1,
          memoryMb: +((n * dim * 4) / 2 ** 20).toFixed(0),
        });
        summary.push({
          index: 'hand-written JS scan (f32, scores only)',
          n,
          dim,
          buildS: 0,
          queryMs: +jsScanMs(vectors, dim, queries.subarray(0, dim)).toFixed(1),
          memoryMb: +((n * dim * 4) / 2 ** 20).toFixed(0),
        });
        console.log(JSON.stringify(summary.at(-2)));
        console.log(JSON.stringify(summary.at(-1)));
        const before = rssMb();
        let t = performance.now();
        const cache = path.join(scratch, `hnsw-${n}-${dim}.usearch`);
        const hnsw = hnswIndex(vectors, dim, cache);
        const buildS = (performance.now() - t) / 1000;
        const grew = rssMb() - before;
        t = performance.now();
        const reopened = hnswIndex(vectors, dim, cache);
        const loadS = (performance.now() - t) / 1000;
        const approx = reopened.search(queries, K);
        let hits = 0;
        exact.forEach((e, q) => {
          const found = new Set(approx[q].rows);
          hits += e.rows.filter((r) => found.has(r)).length;
        });
        const hnswTimes = timeQueries(hnsw, queries, dim);
        summary.push({
          index: 'usearch HNSW (f16, M=16, ef 128/256)',
          n,
          dim,
          buildS: +buildS.toFixed(1),
          cachedLoadS: +loadS.toFixed(2),
          queryMs: +hnswTimes.one.toFixed(2),
          set20Ms: +hnswTimes.set.toFixed(1),
          recallAt100: +(hits / (K * QUERIES)).toFixed(4),
          memoryMb: +grew.toFixed(0),
          fileMb: +(fs.statSync(cache).size / 2 ** 20).toFixed(0),
        });
        console.log(JSON.stringify(summary.at(-1)));
      }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({ cpus: os.cpus().length, cpu: os.cpus()[0]?.model, results: summary }, null, 1),
  );
}

main();
