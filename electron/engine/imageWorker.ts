// A worker thread of the image worker pool (imageWorkerPool.ts): loads inputs, draws overlay
// PNGs and writes output files off the main thread, where onnxruntime-node runs each batch
// synchronously. Jobs run one at a time, loads first; files are written synchronously.
import fs from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { EngineError } from './errors';
import { renderOverlay } from './heatmap';
import { loadInput } from './inputLoader';
import type { ImageJob, ImageReply, ImageResult } from './imageWorkerPool';

/** Folders this worker has made (or found): each is made once. */
const folders = new Set<string>();

function writeOut(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  if (!folders.has(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    folders.add(dir);
  }
  fs.writeFileSync(file, data);
}

async function run(job: ImageJob): Promise<ImageResult> {
  if (job.kind === 'load') return { loaded: await loadInput(job.file, job.spec, job.model) };
  if (job.kind === 'text') {
    writeOut(job.file, job.text);
    return {};
  }
  const png = await renderOverlay(job.base, job.map, job.grid, job.geometry, job.options);
  if (job.file === undefined) return { png };
  writeOut(job.file, png);
  return {};
}

/** Jobs received and not run yet: loads first (the model waits for them), then the rest. */
const loads: ImageJob[] = [];
const others: ImageJob[] = [];
let running = false;

async function drain(): Promise<void> {
  running = true;
  for (let job = loads.shift() ?? others.shift(); job; job = loads.shift() ?? others.shift()) {
    const id = job.id;
    await run(job).then(
      (result) => parentPort!.postMessage({ id, ...result } satisfies ImageReply),
      (e: unknown) =>
        parentPort!.postMessage({
          id,
          error: e instanceof Error ? e.message : String(e),
          code: e instanceof EngineError ? e.code : undefined,
        } satisfies ImageReply),
    );
    // Let messages that arrived meanwhile in before choosing the next job.
    await new Promise((resolve) => setImmediate(resolve));
  }
  running = false;
}

parentPort!.on('message', (job: ImageJob) => {
  (job.kind === 'load' ? loads : others).push(job);
  if (!running) void drain();
});
