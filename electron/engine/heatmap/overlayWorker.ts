// A worker thread of the overlay pool: renders overlay PNGs (blending in JS, encoding in sharp)
// off the main thread, where onnxruntime-node runs each batch synchronously.
import { parentPort } from 'node:worker_threads';
import { EngineError } from '../errors';
import { renderOverlay } from './overlay';
import type { OverlayJob, OverlayReply } from './overlayPool';

parentPort!.on('message', (job: OverlayJob) => {
  renderOverlay(job.base, job.map, job.grid, job.geometry, job.options).then(
    (png) => parentPort!.postMessage({ id: job.id, png } satisfies OverlayReply),
    (e: unknown) =>
      parentPort!.postMessage({
        id: job.id,
        error: e instanceof Error ? e.message : String(e),
        code: e instanceof EngineError ? e.code : undefined,
      } satisfies OverlayReply),
  );
});
