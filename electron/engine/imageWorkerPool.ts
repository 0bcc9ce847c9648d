// A small pool of worker threads for a folder pipeline's work around the model: reading and
// decoding images into tensors, drawing overlay PNGs, writing output files. onnxruntime-node
// runs a session on the main thread (synchronously, inside its async run()), so work done there
// waits for every ORT run and ORT waits for it; in workers it overlaps the runs. The workers
// write the files themselves, one at a time each: creating files from many of libuv's threads at
// once cost ~4× the CPU per file on the build machine (they contend for the folder in the kernel:
// 1.3 against 0.35 ms per new file, README: Performance). Sized to the cores ORT's intra-op
// threads leave, at least one.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { EngineError } from './errors';
import { startSiblingWorker } from './siblingWorker';
import type { PreprocessGeometry, InputSize } from './preprocess';
import type { OverlayBase, OverlayOptions } from './heatmap';
import type { LoadedInput } from './inputLoader';
import type { PreprocessingSpec } from './modelCard';

export interface OverlayDrawing {
  base: OverlayBase;
  map: Float32Array;
  grid: [number, number];
  geometry: PreprocessGeometry;
  options?: Partial<OverlayOptions>;
}

/** One image's output files: its report (text) and its overlays, each drawn into its file. */
export interface ImageOutputs {
  text?: { file: string; text: string };
  overlays: ({ file: string } & OverlayDrawing)[];
}

/** A failed item of a batch job: what went wrong, and the engine's error code. */
export interface ItemFailure {
  error: string;
  code?: string;
}

/**
 * What a worker is asked, a batch at a time (one message each way per batch, not per image):
 * load inputs (loadInput), write images' outputs, or draw one overlay and give it back.
 */
type Job =
  | { kind: 'load'; files: string[]; spec: PreprocessingSpec | null; model: InputSize }
  | { kind: 'write'; images: ImageOutputs[] }
  | { kind: 'overlay'; drawing: OverlayDrawing };

export type ImageJob = Job & { id: number };

/** What a job gives back: per item a loaded input or a failure, per image a failure or null, a PNG. */
export interface ImageResult {
  loaded?: (LoadedInput | ItemFailure)[];
  written?: (ItemFailure | null)[];
  png?: Uint8Array;
}

export type ImageReply = (ImageResult & { id: number }) | { id: number; error: string; code?: string };

const failure = (f: ItemFailure): EngineError => new EngineError(f.error, f.code ?? 'worker');

interface Pending {
  resolve(result: ImageResult): void;
  reject(e: Error): void;
}

export class ImageWorkerPool {
  private readonly workers: Worker[] = [];
  /** Jobs sent to each worker and not answered yet, by id. */
  private readonly sent: Map<number, Pending>[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  /** `size` workers (default: the cores beyond two, at least one). */
  constructor(size = Math.max(1, os.availableParallelism() - 2)) {
    for (let i = 0; i < size; i++) {
      const worker = startSiblingWorker(__filename, 'imageWorker');
      worker.on('message', (reply: ImageReply) => this.settle(i, reply));
      worker.on('error', (e) => this.fail(e));
      this.workers.push(worker);
      this.sent.push(new Map());
    }
  }

  /** Input files as loadInput reads them (tensor, geometry, the overlay's base), or why not. */
  async loadInputs(
    files: string[],
    spec: PreprocessingSpec | null,
    model: InputSize,
  ): Promise<(LoadedInput | EngineError)[]> {
    const parts = await Promise.all(
      this.split(files).map((part) => this.post({ kind: 'load', files: part, spec, model })),
    );
    return parts.flatMap((r) => r.loaded!.map((x) => ('error' in x ? failure(x) : x)));
  }

  /** Writes each image's outputs (folders made if missing); per image, null or why it failed. */
  async writeOutputs(images: ImageOutputs[]): Promise<(EngineError | null)[]> {
    const parts = await Promise.all(
      this.split(images).map((part) => this.post({ kind: 'write', images: part })),
    );
    return parts.flatMap((r) => r.written!.map((x) => x && failure(x)));
  }

  /** The overlay PNG of a map over its picture, as renderOverlay draws it. */
  async render(drawing: OverlayDrawing): Promise<Buffer> {
    const { png } = await this.post({ kind: 'overlay', drawing });
    return Buffer.from(png!.buffer, png!.byteOffset, png!.length);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.fail(new EngineError('The image worker pool was closed.', 'worker-pool'));
  }

  /**
   * Sends a job to the least busy worker at once: the main thread may be inside an ORT run for
   * a while, and the workers must not wait for it to hand out work. A worker runs loads before
   * anything else it holds (imageWorker.ts).
   */
  private post(job: Job): Promise<ImageResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const w = this.sent.reduce((best, s, i) => (s.size < this.sent[best].size ? i : best), 0);
    return new Promise<ImageResult>((resolve, reject) => {
      this.sent[w].set(id, { resolve, reject });
      this.workers[w].postMessage({ ...job, id } satisfies ImageJob);
    });
  }

  private settle(worker: number, reply: ImageReply): void {
    const job = this.sent[worker].get(reply.id);
    if (!job) return;
    this.sent[worker].delete(reply.id);
    if ('error' in reply) job.reject(new EngineError(reply.error, reply.code ?? 'worker'));
    else job.resolve(reply);
  }

  /** Items in one contiguous part per worker (fewer when there are fewer items). */
  private split<T>(items: T[]): T[][] {
    const size = Math.ceil(items.length / this.workers.length) || 1;
    const parts: T[][] = [];
    for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
    return parts;
  }

  /** A worker that died fails every job still waiting, and every later one. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const s of this.sent) {
      for (const job of s.values()) job.reject(e);
      s.clear();
    }
  }
}
