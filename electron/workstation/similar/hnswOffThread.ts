// Builds a run's HNSW graph cache in a worker thread (hnswBuildWorker): building one over a million
// vectors takes minutes, during which the service's thread must stay free for other requests.
// The caller then loads the finished cache (vectorIndex's hnswIndex finds every row in it).
import { startSiblingWorker } from '../../engine/siblingWorker';
import type { HnswBuildReply, HnswBuildRequest } from './hnswBuildWorker';

/**
 * Builds into `cacheFile` off this thread (`vectors`, normalised, is handed over to the worker);
 * resolves with the worker's thread id and the index size.
 */
export function buildHnswOffThread(
  vectors: Float32Array,
  dim: number,
  cacheFile: string,
): Promise<{ threadId: number; size: number }> {
  const worker = startSiblingWorker(__filename, 'hnswBuildWorker');
  // Handed over without a copy when the array owns its buffer (it is detached here then).
  const owned =
    vectors.byteOffset === 0 && vectors.byteLength === vectors.buffer.byteLength ? vectors : vectors.slice();
  return new Promise((resolve, reject) => {
    worker.once('message', (reply: HnswBuildReply) => {
      void worker.terminate();
      if (reply.ok) resolve({ threadId: reply.threadId, size: reply.size });
      else reject(new Error(`building the HNSW index failed: ${reply.error}`));
    });
    worker.once('error', reject);
    worker.postMessage({ vectors: owned, dim, cacheFile } satisfies HnswBuildRequest, [
      owned.buffer as ArrayBuffer,
    ]);
  });
}
