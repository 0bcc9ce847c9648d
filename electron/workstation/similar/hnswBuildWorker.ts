// The worker thread that builds (or extends) a run's HNSW graph and saves it to the run's cache
// file, so that the service's thread keeps answering while a big run's first query waits.
import { parentPort, threadId } from 'node:worker_threads';
import { hnswIndex } from './vectorIndex';

export interface HnswBuildRequest {
  vectors: Float32Array;
  dim: number;
  cacheFile: string;
}

export type HnswBuildReply = { ok: true; threadId: number; size: number } | { ok: false; error: string };

parentPort!.once('message', (request: HnswBuildRequest) => {
  try {
    const index = hnswIndex(request.vectors, request.dim, request.cacheFile);
    parentPort!.postMessage({ ok: true, threadId, size: index.size } satisfies HnswBuildReply);
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).message } satisfies HnswBuildReply);
  }
});
