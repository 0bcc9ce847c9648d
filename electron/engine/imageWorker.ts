// A worker thread of the image worker pool (imageWorkerPool.ts): loads inputs, draws overlay
// PNGs and writes output files off the main thread, where onnxruntime-node runs each batch
// synchronously. Jobs run one at a time, loads first; files are written synchronously.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { EngineError } from './errors';
import { renderOverlay } from './heatmap';
import { loadInput } from './inputLoader';
import type { ImageJob, ImageOutputs, ImageReply, ImageResult, ItemFailure } from './imageWorkerPool';

// Below ORT's threads: its runs are parallel sections that wait for their slowest thread, so a
// worker holding a core ORT wants stalls both; at a lower priority it takes the time ORT leaves
// (folder rate 541–590 → 592–628 img/s on the 2-core build machine). On Linux a nice value is per
// thread; elsewhere setPriority would lower the whole process, so it is left alone.
if (process.platform === 'linux') os.setPriority(0, 10);

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

const itemFailure = (e: unknown): ItemFailure => ({
  error: e instanceof Error ? e.message : String(e),
  code: e instanceof EngineError ? e.code : undefined,
});

/** One image's outputs, the overlays first (one unreadable picture fails its image only). */
async function writeImage(image: ImageOutputs): Promise<void> {
  for (const { file, base, map, grid, geometry, options } of image.overlays)
    writeOut(file, await renderOverlay(base, map, grid, geometry, options));
  if (image.text) writeOut(image.text.file, image.text.text);
}

async function run(job: ImageJob): Promise<ImageResult> {
  if (job.kind === 'overlay') {
    const { base, map, grid, geometry, options } = job.drawing;
    return { png: await renderOverlay(base, map, grid, geometry, options) };
  }
  const settled = <T>(p: Promise<T>) => p.then((x) => x, itemFailure);
  // Loads together: sharp decodes what is not a plain PNG in its own threads, concurrently.
  if (job.kind === 'load')
    return { loaded: await Promise.all(job.files.map((f) => settled(loadInput(f, job.spec, job.model)))) };
  // Writes one at a time (see imageWorkerPool.ts).
  const written = [];
  for (const image of job.images) written.push(await settled(writeImage(image).then(() => null)));
  return { written };
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
      (e: unknown) => parentPort!.postMessage({ id, ...itemFailure(e) } satisfies ImageReply),
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
