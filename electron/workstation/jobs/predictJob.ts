// The predict job: a model over a dataset, batched, writing each image's full probability vector
// (float16) into a run. The run is identified by dataset, model hash and preprocessing, so running
// the same command again continues it: only images without a prediction are computed, and each
// batch is committed in one transaction (the checkpoint).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ClassifierSession } from '../../engine/classifierSession';
import { loadModel, type ModelCard } from '../../engine/modelCard';
import { preprocessImage } from '../../engine/preprocess';
import type { ProviderChoice } from '../../engine/providers';
import { WorkstationError } from '../datasets/importFolder';
import { mapLabels, storedMapping } from '../labels/labelMapping';
import type { Db } from '../store/openDatabase';
import { encodeFloat16 } from '../store/float16';
import { EmbeddingAppender, setRunEmbeddingSettings } from '../embeddings/embeddingStore';
import type { JobContext } from './jobRunner';

export interface PredictRequest {
  datasetId: number;
  model: string;
  batch: number;
  provider: ProviderChoice;
}

export interface PreparedPredict {
  runId: number;
  key: string;
  modelPath: string;
  card: ModelCard;
  labels: string[];
}

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Finds or creates the model row and the run for a predict request. */
export async function preparePredict(db: Db, request: PredictRequest): Promise<PreparedPredict> {
  const dataset = db.prepare('SELECT name FROM datasets WHERE id = ?').pluck().get(request.datasetId) as
    string | undefined;
  if (dataset === undefined)
    throw new WorkstationError(`no dataset with id ${request.datasetId}`, 'not-found');
  const loaded = await loadModel(request.model);
  if (!loaded.card) {
    throw new WorkstationError(
      `${request.model} has no model card: add a model.json beside the .onnx file (labels, input size and ` +
        'preprocessing; see the README) or use a Hugging Face folder with config.json and preprocessor_config.json',
      'needs-card',
    );
  }
  const card = loaded.card;
  const sha256 = await sha256File(loaded.modelPath);
  const labels = card.labels ?? [];
  const now = new Date().toISOString();
  db.prepare(
    `INSERT INTO models (name, path, sha256, card, labels, added_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (sha256) DO UPDATE SET path = excluded.path, card = excluded.card, labels = excluded.labels`,
  ).run(card.name, loaded.modelPath, sha256, JSON.stringify(card), JSON.stringify(labels), now);
  const modelId = db.prepare('SELECT id FROM models WHERE sha256 = ?').pluck().get(sha256) as number;
  const identity = {
    sha256,
    input: card.input,
    preprocessing: card.preprocessing,
    activation: card.output.activation,
  };
  const settingsKey = crypto.createHash('sha256').update(JSON.stringify(identity)).digest('hex');
  const settings = { model: loaded.modelPath, ...identity };
  db.prepare(
    `INSERT INTO runs (dataset_id, model_id, name, labels, settings, settings_key, status, created_at)
     VALUES (?, ?, ?, ?, ?, ?, 'running', ?) ON CONFLICT (dataset_id, settings_key) DO NOTHING`,
  ).run(
    request.datasetId,
    modelId,
    `${card.name} on ${dataset}`,
    JSON.stringify(labels),
    JSON.stringify(settings),
    settingsKey,
    now,
  );
  const runId = db
    .prepare('SELECT id FROM runs WHERE dataset_id = ? AND settings_key = ?')
    .pluck()
    .get(request.datasetId, settingsKey) as number;
  return { runId, key: `predict:run:${runId}`, modelPath: loaded.modelPath, card, labels };
}

interface Pending {
  id: number;
  abs: string;
  label: string | null;
}

export interface PredictResult {
  runId: number;
  predicted: number;
  total: number;
  failed: { path: string; reason: string }[];
  unmappedLabels: string[];
  provider: string;
  providerMessages: string[];
  seconds: number;
}

export async function runPredict(
  db: Db,
  ctx: JobContext,
  prepared: PreparedPredict,
  request: PredictRequest,
  log: (message: string) => void = () => undefined,
  /** Where embeddings are stored; none are when omitted. */
  embeddingsDir?: string,
): Promise<PredictResult> {
  const started = performance.now();
  const { runId, card } = prepared;
  db.prepare("UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ?").run(runId);
  const datasetLabels = db
    .prepare('SELECT DISTINCT label FROM images WHERE dataset_id = ? AND label IS NOT NULL')
    .pluck()
    .all(request.datasetId) as string[];
  const mapping = mapLabels(datasetLabels, prepared.labels, storedMapping(db, request.datasetId));
  if (mapping.unmapped.length)
    log(`labels not among the model's classes (kept, counted as "other"): ${mapping.unmapped.join(', ')}`);
  const settings = JSON.parse(
    db.prepare('SELECT settings FROM runs WHERE id = ?').pluck().get(runId) as string,
  ) as Record<string, unknown>;
  db.prepare('UPDATE runs SET settings = ? WHERE id = ?').run(
    JSON.stringify({ ...settings, unmappedLabels: mapping.unmapped, labelMapping: mapping.how }),
    runId,
  );
  // The embedding comes from the same run as the logits: an extra output of the session.
  const session = await ClassifierSession.open(prepared.modelPath, card.input, {
    provider: request.provider,
    log,
    embedding: embeddingsDir !== undefined ? (card.embedding?.tensor ?? '') : undefined,
  });
  if (session.embeddingProblem) {
    log(`no embeddings are stored for this run (Find similar needs them): ${session.embeddingProblem}`);
    setRunEmbeddingSettings(db, runId, { problem: session.embeddingProblem });
  }
  const embedding = session.embeddingTensor !== null;
  // Images without a prediction, or (when embeddings are stored) without an embedding yet: a run
  // predicted before embeddings existed gains them by running the same predict again.
  const pending = db
    .prepare(
      `SELECT i.id AS id, r.path AS root, i.rel_path AS rel, i.label AS label FROM images i
       JOIN dataset_roots r ON r.id = i.root_id
       WHERE i.dataset_id = ? AND i.status <> 'missing'
         AND (NOT EXISTS (SELECT 1 FROM predictions p WHERE p.run_id = ? AND p.image_id = i.id)
           OR (? AND NOT EXISTS (SELECT 1 FROM embedding_rows e WHERE e.run_id = ? AND e.image_id = i.id)))
       ORDER BY i.id`,
    )
    .all(request.datasetId, runId, embedding ? 1 : 0, runId)
    .map((r) => {
      const row = r as { id: number; root: string; rel: string; label: string | null };
      return { id: row.id, abs: path.join(row.root, row.rel), label: row.label } satisfies Pending;
    });
  const complete = db
    .prepare(
      `SELECT COUNT(*) FROM predictions p WHERE p.run_id = ?
         AND (? = 0 OR EXISTS (SELECT 1 FROM embedding_rows e WHERE e.run_id = p.run_id AND e.image_id = p.image_id))`,
    )
    .pluck()
    .get(runId, embedding ? 1 : 0) as number;
  const total = complete + pending.length;
  let done = complete;
  ctx.progress(done, total);
  const failed: PredictResult['failed'] = [];
  let appender: EmbeddingAppender | null = null;
  const insert = db.prepare(
    'INSERT OR IGNORE INTO predictions (run_id, image_id, top1, score, true_idx, probs) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const per = card.input.channels * card.input.height * card.input.width;
  const load = async (batch: Pending[]) => {
    const tensors = await Promise.all(
      batch.map((p) =>
        preprocessImage(p.abs, card.preprocessing, card.input).then(
          (r) => r.tensor,
          (error: Error) => {
            failed.push({ path: p.abs, reason: error.message });
            return null;
          },
        ),
      ),
    );
    const ok = batch.filter((_, k) => tensors[k] !== null);
    const input = new Float32Array(ok.length * per);
    let k = 0;
    for (const t of tensors) if (t) input.set(t, k++ * per);
    return { ok, input };
  };
  try {
    let next = pending.length ? load(pending.slice(0, request.batch)) : null;
    for (let start = 0; start < pending.length; start += request.batch) {
      ctx.checkCancelled();
      const { ok, input } = await next!;
      const following = start + request.batch;
      next = following < pending.length ? load(pending.slice(following, following + request.batch)) : null;
      if (ok.length) {
        const { probs, classes, embeddings, dim } = await session.probabilities(
          input,
          ok.length,
          card.output.activation,
        );
        if (prepared.labels.length && classes !== prepared.labels.length)
          throw new WorkstationError(
            `the model outputs ${classes} classes but its card lists ${prepared.labels.length} labels; fix the card`,
            'card-mismatch',
          );
        let recordRows = () => undefined as void;
        if (embeddings && dim !== undefined) {
          if (!appender) {
            setRunEmbeddingSettings(db, runId, { tensor: session.embeddingTensor!, dim });
            appender = new EmbeddingAppender(db, embeddingsDir!, runId, dim, log);
          }
          recordRows = appender.write(
            ok.map((p) => p.id),
            embeddings,
          );
        }
        db.transaction(() => {
          recordRows();
          ok.forEach((p, k) => {
            const row = probs.subarray(k * classes, (k + 1) * classes);
            let top = 0;
            for (let c = 1; c < classes; c++) if (row[c] > row[top]) top = c;
            const trueIdx = p.label === null ? null : (mapping.index.get(p.label) ?? null);
            insert.run(runId, p.id, top, row[top], trueIdx, encodeFloat16(row));
          });
        })();
      }
      done += Math.min(request.batch, pending.length - start);
      ctx.progress(done, total);
    }
  } catch (error) {
    const status = (error as Error).name === 'JobCancelled' ? 'cancelled' : 'failed';
    db.prepare('UPDATE runs SET status = ? WHERE id = ?').run(status, runId);
    throw error;
  } finally {
    (appender as EmbeddingAppender | null)?.close();
    await session.close();
  }
  const labels = prepared.labels.length ? prepared.labels : undefined;
  if (!labels) {
    // A card without labels: name the classes by index so that queries can address them.
    const classes = db
      .prepare('SELECT length(probs) / 2 FROM predictions WHERE run_id = ? AND probs IS NOT NULL LIMIT 1')
      .pluck()
      .get(runId) as number | undefined;
    if (classes)
      db.prepare('UPDATE runs SET labels = ? WHERE id = ?').run(
        JSON.stringify(Array.from({ length: classes }, (_, i) => `class_${i}`)),
        runId,
      );
  }
  db.prepare("UPDATE runs SET status = 'done', finished_at = ? WHERE id = ?").run(
    new Date().toISOString(),
    runId,
  );
  return {
    runId,
    predicted: db.prepare('SELECT COUNT(*) FROM predictions WHERE run_id = ?').pluck().get(runId) as number,
    total,
    failed,
    unmappedLabels: mapping.unmapped,
    provider: session.provider,
    providerMessages: session.providerMessages,
    seconds: (performance.now() - started) / 1000,
  };
}
