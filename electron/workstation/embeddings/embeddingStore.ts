// Each run's image embeddings as float16 rows of one file (<data dir>/embeddings/run-<id>.f16), with
// the row of each image in SQLite (embedding_rows). A batch's rows are written at the committed row
// count and synced before the caller commits their index rows with the predictions: bytes past the
// last committed row are an interrupted batch, overwritten when the run continues.
import fs from 'node:fs';
import path from 'node:path';
import { WorkstationError } from '../datasets/importFolder';
import type { Db } from '../store/openDatabase';
import { decodeFloat16, encodeFloat16 } from '../store/float16';
import { normaliseRows } from './unitVectors';

export function embeddingFile(dir: string, runId: number): string {
  return path.join(dir, `run-${runId}.f16`);
}

/** The HNSW index built over a run's embeddings (a cache: rebuilt when missing). */
export function indexCacheFile(dir: string, runId: number): string {
  return path.join(dir, `run-${runId}.hnsw`);
}

/** What a run records about its embeddings (in runs.settings.embedding). */
export type EmbeddingSettings = { tensor: string; dim: number } | { problem: string };

export function runEmbeddingSettings(db: Db, runId: number): EmbeddingSettings | null {
  const settings = db.prepare('SELECT settings FROM runs WHERE id = ?').pluck().get(runId) as
    string | undefined;
  if (settings === undefined) return null;
  return ((JSON.parse(settings) as { embedding?: EmbeddingSettings }).embedding ??
    null) as EmbeddingSettings | null;
}

export function setRunEmbeddingSettings(db: Db, runId: number, embedding: EmbeddingSettings): void {
  db.prepare("UPDATE runs SET settings = json_set(settings, '$.embedding', json(?)) WHERE id = ?").run(
    JSON.stringify(embedding),
    runId,
  );
}

export class EmbeddingAppender {
  private rows: number;
  private readonly fd: number;
  private readonly insert;

  /** Opens (or creates) the run's file; a file shorter than its index (lost, truncated) starts over. */
  constructor(
    private readonly db: Db,
    dir: string,
    private readonly runId: number,
    private readonly dim: number,
    log: (message: string) => void = () => undefined,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    const file = embeddingFile(dir, runId);
    this.fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
    // After the last committed row (rows of deleted images leave gaps, never reused).
    this.rows = db
      .prepare('SELECT COALESCE(MAX(row) + 1, 0) FROM embedding_rows WHERE run_id = ?')
      .pluck()
      .get(runId) as number;
    if (fs.fstatSync(this.fd).size < this.rows * dim * 2) {
      log(
        `the embedding file ${file} is shorter than its index: its ${this.rows} embeddings are computed again`,
      );
      db.prepare('DELETE FROM embedding_rows WHERE run_id = ?').run(runId);
      fs.rmSync(indexCacheFile(dir, runId), { force: true });
      this.rows = 0;
    }
    fs.ftruncateSync(this.fd, this.rows * dim * 2);
    this.insert = db.prepare(
      'INSERT OR REPLACE INTO embedding_rows (run_id, image_id, row) VALUES (?, ?, ?)',
    );
  }

  /**
   * Writes `imageIds.length` embeddings ([count × dim]) after the committed rows and syncs them;
   * returns the function that records their rows: call it inside the transaction that commits the
   * batch's predictions.
   */
  write(imageIds: number[], embeddings: Float32Array): () => void {
    if (embeddings.length !== imageIds.length * this.dim)
      throw new WorkstationError(
        `${embeddings.length / imageIds.length} embedding values per image, but the run stores ${this.dim}`,
        'embedding-size',
      );
    const bytes = encodeFloat16(embeddings);
    fs.writeSync(this.fd, bytes, 0, bytes.length, this.rows * this.dim * 2);
    fs.fdatasyncSync(this.fd);
    const first = this.rows;
    return () => {
      imageIds.forEach((id, k) => this.insert.run(this.runId, id, first + k));
      this.rows = first + imageIds.length;
    };
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

export interface RunEmbeddings {
  runId: number;
  dim: number;
  /** The image of each row; -1 for a row whose image was deleted. */
  imageIds: Int32Array;
  /** [rows × dim] float32, as stored (not normalised). */
  vectors: Float32Array;
}

/** The usable embeddings of a run: a clear error when it has none and why. */
export function embeddingSettingsOrThrow(db: Db, runId: number): { tensor: string; dim: number } {
  const settings = runEmbeddingSettings(db, runId);
  if (settings === null)
    throw new WorkstationError(
      `run ${runId} has no embeddings (it was predicted before embeddings were stored); run the same ` +
        '`vsw predict --dataset … --model …` again: it adds the embeddings without predicting again',
      'no-embeddings',
    );
  if ('problem' in settings)
    throw new WorkstationError(`run ${runId} has no embeddings: ${settings.problem}`, 'no-embeddings');
  return settings;
}

export function readRunEmbeddings(db: Db, dir: string, runId: number): RunEmbeddings {
  const { dim } = embeddingSettingsOrThrow(db, runId);
  const rows = db
    .prepare('SELECT image_id, row FROM embedding_rows WHERE run_id = ? ORDER BY row')
    .raw()
    .all(runId) as [number, number][];
  const count = rows.length ? rows[rows.length - 1][1] + 1 : 0;
  const imageIds = new Int32Array(count).fill(-1);
  for (const [id, row] of rows) imageIds[row] = id;
  const file = embeddingFile(dir, runId);
  const bytes = Buffer.alloc(count * dim * 2);
  if (count) {
    const fd = fs.openSync(file, 'r');
    try {
      const read = fs.readSync(fd, bytes, 0, bytes.length, 0);
      if (read < bytes.length)
        throw new WorkstationError(
          `${file} is shorter than run ${runId}'s embedding index; run its \`vsw predict\` again to recompute them`,
          'corrupt',
        );
    } finally {
      fs.closeSync(fd);
    }
  }
  const vectors = decodeFloat16(bytes);
  imageIds.forEach((id, row) => id < 0 && vectors.fill(0, row * dim, (row + 1) * dim));
  return { runId, dim, imageIds, vectors };
}

/** The embeddings of some images of a run ([found × dim], normalised), read row by row from the file. */
export function readEmbeddingsOf(
  db: Db,
  dir: string,
  runId: number,
  imageIds: number[],
): { found: number[]; vectors: Float32Array } {
  const { dim } = embeddingSettingsOrThrow(db, runId);
  const rowOf = db.prepare('SELECT row FROM embedding_rows WHERE run_id = ? AND image_id = ?').pluck();
  const found: number[] = [];
  const rows: number[] = [];
  for (const id of imageIds) {
    const row = rowOf.get(runId, id) as number | undefined;
    if (row !== undefined) {
      found.push(id);
      rows.push(row);
    }
  }
  const bytes = Buffer.alloc(rows.length * dim * 2);
  if (rows.length) {
    const fd = fs.openSync(embeddingFile(dir, runId), 'r');
    try {
      rows.forEach((row, k) => fs.readSync(fd, bytes, k * dim * 2, dim * 2, row * dim * 2));
    } finally {
      fs.closeSync(fd);
    }
  }
  return { found, vectors: normaliseRows(decodeFloat16(bytes), dim) };
}
