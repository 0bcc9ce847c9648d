// Saliency maps for a run's images: opens the run's model as an ExplainSession (kept open per
// model), computes maps with the fused in-graph method, and caches them in saliency_cache keyed by
// image, run, method, target and a hash of the method's effective options.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ExplainSession } from '../../engine/explainSession';
import { defaultMethod, readLeaderboard, sha256OfFile, type Leaderboard } from '../../engine/leaderboard';
import { resolveMethodOptions, type MapMethod, type MethodOptions } from '../../engine/methods';
import { parseModelCard, type ModelCard } from '../../engine/modelCard';
import { preprocessImage } from '../../engine/preprocess';
import { WorkstationError } from '../datasets/importFolder';
import { getRun } from '../runs/runs';
import type { Db } from '../store/openDatabase';

export interface RunModel {
  runId: number;
  labels: string[];
  card: ModelCard;
  modelPath: string;
  session: ExplainSession;
}

export interface SaliencyMap {
  imageId: number;
  target: number;
  grid: [number, number];
  map: Float32Array;
  cached: boolean;
}

/** An image a batch could not read or decode. */
export interface ImageFailure {
  imageId: number;
  reason: string;
  error: Error;
}

export class SaliencyStore {
  private readonly sessions = new Map<string, Promise<ExplainSession>>();
  private readonly boards = new Map<string, Leaderboard | null>();
  /** The execution provider asked for (settings). */
  private provider: 'auto' | 'cuda' | 'webgpu' | 'cpu' = 'auto';
  private cudaDevice = 0;
  private precision: 'float32' | 'float16' = 'float32';
  /** The session used last: what it ran on and said, read live (a fallback while running shows). */
  private last?: ExplainSession;

  get lastProvider(): string | null {
    return this.last?.provider ?? null;
  }

  get providerMessages(): string[] {
    return this.last?.providerMessages ?? [];
  }

  constructor(
    private readonly db: Db,
    private readonly cacheDir: string,
  ) {}

  /** A model's leaderboard and default method (cached per model file; the hash is read once). */
  modelDefault(
    modelPath: string,
    fast = false,
  ): { board: Leaderboard | null; method: MapMethod; reason: string } {
    let board = this.boards.get(modelPath);
    if (board === undefined) {
      board = fs.existsSync(modelPath)
        ? readLeaderboard(path.dirname(modelPath), sha256OfFile(modelPath))
        : null;
      this.boards.set(modelPath, board);
    }
    return { board, ...defaultMethod(board, fast) };
  }

  /**
   * 'default' → the run's model's leaderboard winner, 'default-fast' → its best method fit for
   * many maps at once, each with the reason; a named method as is.
   */
  async resolveMethod(
    runId: number,
    choice: MapMethod | 'default' | 'default-fast',
  ): Promise<{ method: MapMethod; reason: string | null }> {
    if (choice !== 'default' && choice !== 'default-fast') return { method: choice, reason: null };
    const { method, reason } = this.modelDefault(
      (await this.runModel(runId)).modelPath,
      choice === 'default-fast',
    );
    return { method, reason };
  }

  async runModel(runId: number): Promise<RunModel> {
    const run = getRun(this.db, runId);
    const model = this.db
      .prepare('SELECT m.path, m.card FROM models m WHERE m.id = ?')
      .get(run.modelId ?? -1) as { path: string; card: string } | undefined;
    if (!model)
      throw new WorkstationError(
        `run ${runId} has no model (its predictions were imported); saliency needs a run made by \`vsw predict\``,
        'bad-params',
      );
    const card = parseModelCard(JSON.parse(model.card), `the card stored for run ${runId}`);
    let pending = this.sessions.get(model.path);
    if (!pending) {
      pending = ExplainSession.open(model.path, {
        provider: this.provider,
        cudaDevice: this.cudaDevice,
        precision: this.precision,
        cacheDir: path.join(this.cacheDir, 'explain-graphs'),
        grid: card.tokens?.grid,
        prefixTokens: card.tokens?.prefix,
        attentionNodes: card.attention?.nodes,
      });
      pending.catch(() => this.sessions.delete(model.path));
      this.sessions.set(model.path, pending);
    }
    const session = await pending;
    this.last = session;
    return { runId, labels: run.labels, card, modelPath: model.path, session };
  }

  static optionsHash(
    method: MapMethod,
    options: Partial<MethodOptions>,
    numBlocks: number,
    precision: 'float32' | 'float16' = 'float32',
  ): string {
    // Only attn-grad-product reads options; the others share one cache entry. Maps of the
    // float16 graphs are kept apart from float32's (float32's hash is what it always was).
    const relevant = method === 'attn-grad-product' ? resolveMethodOptions(options, numBlocks) : {};
    const key = precision === 'float16' ? { ...relevant, precision } : relevant;
    return crypto.createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
  }

  cached(
    imageId: number,
    runId: number,
    method: MapMethod,
    target: number,
    hash: string,
  ): SaliencyMap | null {
    const row = this.db
      .prepare(
        `SELECT grid_rows, grid_cols, map FROM saliency_cache
         WHERE image_id = ? AND run_id = ? AND method = ? AND target = ? AND options_hash = ?`,
      )
      .get(imageId, runId, method, target, hash) as
      { grid_rows: number; grid_cols: number; map: Buffer } | undefined;
    if (!row) return null;
    const map = new Float32Array(
      row.map.buffer.slice(row.map.byteOffset, row.map.byteOffset + row.map.length),
    );
    return { imageId, target, grid: [row.grid_rows, row.grid_cols], map, cached: true };
  }

  /**
   * Maps for images (absolute paths given) with their targets; cached ones are read, the rest
   * computed in one batch and stored. Throws if any image cannot be read.
   */
  async maps(
    model: RunModel,
    images: { imageId: number; absPath: string; target: number }[],
    method: MapMethod,
    options: Partial<MethodOptions>,
  ): Promise<SaliencyMap[]> {
    const out = await this.mapsOrFailures(model, images, method, options);
    const failed = out.find((m) => 'reason' in m);
    if (failed && 'reason' in failed) throw failed.error;
    return out as SaliencyMap[];
  }

  /**
   * As maps, but an image that cannot be read or decoded (vanished, unreadable, corrupt) comes
   * back as its failure, and the others are still computed: what batch jobs skip and report.
   */
  async mapsOrFailures(
    model: RunModel,
    images: { imageId: number; absPath: string; target: number }[],
    method: MapMethod,
    options: Partial<MethodOptions>,
  ): Promise<(SaliencyMap | ImageFailure)[]> {
    const info = model.session.info;
    const hash = SaliencyStore.optionsHash(method, options, info.numBlocks, model.session.precision);
    const out: (SaliencyMap | ImageFailure | null)[] = images.map((im) =>
      this.cached(im.imageId, model.runId, method, im.target, hash),
    );
    const loaded = await Promise.all(
      images.map((im, k) =>
        out[k] !== null
          ? null
          : preprocessImage(im.absPath, model.card.preprocessing, model.card.input).catch((error: Error) => {
              out[k] = { imageId: im.imageId, reason: error.message, error };
              return null;
            }),
      ),
    );
    const missing = images.filter((_, k) => out[k] === null);
    const tensors = loaded.filter((t) => t !== null);
    if (missing.length) {
      const per = info.channels * info.height * info.width;
      const input = new Float32Array(missing.length * per);
      tensors.forEach((t, k) => input.set(t.tensor, k * per));
      const { maps, grid } = await model.session.saliency(
        input,
        missing.length,
        missing.map((m) => m.target),
        method,
        options,
      );
      const insert = this.db.prepare(
        `INSERT OR REPLACE INTO saliency_cache
         (image_id, run_id, method, target, options_hash, grid_rows, grid_cols, map, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const now = new Date().toISOString();
      this.db.transaction(() => {
        missing.forEach((im, k) => {
          const map = Float32Array.from(maps[k]);
          insert.run(
            im.imageId,
            model.runId,
            method,
            im.target,
            hash,
            grid[0],
            grid[1],
            Buffer.from(map.buffer),
            now,
          );
          out[images.indexOf(im)] = {
            imageId: im.imageId,
            target: im.target,
            grid,
            map,
            cached: false,
          };
        });
      })();
    }
    return out as (SaliencyMap | ImageFailure)[];
  }

  /** A new provider choice (or CUDA device, or precision) applies to sessions opened from now on. */
  async setProvider(
    provider: 'auto' | 'cuda' | 'webgpu' | 'cpu',
    cudaDevice = this.cudaDevice,
    precision = this.precision,
  ): Promise<void> {
    if (provider === this.provider && cudaDevice === this.cudaDevice && precision === this.precision) return;
    this.provider = provider;
    this.cudaDevice = cudaDevice;
    this.precision = precision;
    await this.close();
  }

  async close(): Promise<void> {
    for (const pending of this.sessions.values()) await (await pending.catch(() => undefined))?.close();
    this.sessions.clear();
  }
}

/** Absolute path, label and top-1 of images (for jobs that read the files). */
export function imageFiles(
  db: Db,
  imageIds: number[],
  runId?: number,
): Map<
  number,
  {
    absPath: string;
    relPath: string;
    top1: number | null;
    trueIdx: number | null;
    hash: string;
    /** ok, changed, or missing (the file was gone at the last import). */
    status: string;
  }
> {
  const rows = db
    .prepare(
      `SELECT i.id, r.path AS root, i.rel_path, i.content_hash, i.status, p.top1, p.true_idx FROM images i
       JOIN dataset_roots r ON r.id = i.root_id
       LEFT JOIN predictions p ON p.run_id = ? AND p.image_id = i.id
       WHERE i.id IN (SELECT value FROM json_each(?))`,
    )
    .all(runId ?? -1, JSON.stringify(imageIds)) as {
    id: number;
    root: string;
    rel_path: string;
    content_hash: string;
    status: string;
    top1: number | null;
    true_idx: number | null;
  }[];
  return new Map(
    rows.map((r) => [
      r.id,
      {
        absPath: path.join(r.root, r.rel_path),
        relPath: r.rel_path,
        top1: r.top1,
        trueIdx: r.true_idx,
        hash: r.content_hash,
        status: r.status,
      },
    ]),
  );
}
