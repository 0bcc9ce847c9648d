// A small pool of worker threads that render overlay PNGs. onnxruntime-node runs a session on
// the main thread (synchronously, inside its async run()), so overlays blended there wait for
// every ORT run and ORT waits for them; in workers, the blending and sharp's encoding overlap
// the next batch's run. Sized to the cores ORT's intra-op threads leave, at least one.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../errors';
import { startSiblingWorker } from '../siblingWorker';
import type { PreprocessGeometry } from '../preprocess';
import type { OverlayBase, OverlayOptions } from './overlay';

export interface OverlayJob {
  id: number;
  base: OverlayBase;
  map: Float32Array;
  grid: [number, number];
  geometry: PreprocessGeometry;
  options?: Partial<OverlayOptions>;
}

export type OverlayReply = { id: number; png: Uint8Array } | { id: number; error: string; code?: string };

interface Pending {
  resolve(png: Buffer): void;
  reject(e: Error): void;
}

export class OverlayPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly load: number[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  /** `size` workers (default: the cores beyond two, at least one). */
  constructor(size = Math.max(1, os.availableParallelism() - 2)) {
    for (let i = 0; i < size; i++) {
      const worker = startSiblingWorker(__filename, 'overlayWorker');
      worker.on('message', (reply: OverlayReply) => this.settle(i, reply));
      worker.on('error', (e) => this.fail(e));
      this.workers.push(worker);
      this.load.push(0);
    }
  }

  /** The overlay PNG of `map` over `base`, as renderOverlay draws it. */
  render(
    base: OverlayBase,
    map: Float32Array,
    grid: [number, number],
    geometry: PreprocessGeometry,
    options?: Partial<OverlayOptions>,
  ): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    // The least busy worker takes the job.
    const w = this.load.indexOf(Math.min(...this.load));
    this.load[w]++;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[w].postMessage({ id, base, map, grid, geometry, options } satisfies OverlayJob);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.fail(new EngineError('The overlay pool was closed.', 'overlay-pool'));
  }

  private settle(worker: number, reply: OverlayReply): void {
    this.load[worker]--;
    const job = this.pending.get(reply.id);
    if (!job) return;
    this.pending.delete(reply.id);
    if ('png' in reply) job.resolve(Buffer.from(reply.png.buffer, reply.png.byteOffset, reply.png.length));
    else job.reject(new EngineError(reply.error, reply.code ?? 'overlay'));
  }

  /** A worker that died fails every job still waiting, and every later one. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const job of this.pending.values()) job.reject(e);
    this.pending.clear();
  }
}
