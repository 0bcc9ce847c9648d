// Prediction runs: a model over a dataset with its labels and settings, and their listing.
import type { RunInfo } from '../../contract/protocol';
import { WorkstationError } from '../datasets/importFolder';
import type { Db } from '../store/openDatabase';

export interface RunRow {
  id: number;
  datasetId: number;
  labels: string[];
  modelId: number | null;
}

export function getRun(db: Db, runId: number, datasetId?: number): RunRow {
  const row = db
    .prepare('SELECT id, dataset_id AS datasetId, labels, model_id AS modelId FROM runs WHERE id = ?')
    .get(runId) as { id: number; datasetId: number; labels: string; modelId: number | null } | undefined;
  if (!row) throw new WorkstationError(`no run with id ${runId}; list them with \`vsw stats\``, 'not-found');
  if (datasetId !== undefined && row.datasetId !== datasetId)
    throw new WorkstationError(`run ${runId} belongs to another dataset (id ${row.datasetId})`, 'bad-params');
  return { ...row, labels: JSON.parse(row.labels) as string[] };
}

/** The index of `label` among the run's labels, or a clear error listing them. */
export function classIndex(run: RunRow, label: string): number {
  const i = run.labels.indexOf(label);
  if (i < 0)
    throw new WorkstationError(
      `"${label}" is not a class of run ${run.id}; its classes are: ${run.labels.join(', ')}`,
      'bad-params',
    );
  return i;
}

export function listRuns(db: Db, datasetId: number): RunInfo[] {
  const rows = db
    .prepare(
      `SELECT r.id, r.dataset_id, r.name, r.model_id, m.name AS model_name, m.sha256, r.labels, r.status,
         r.settings, r.created_at, r.finished_at,
         (SELECT COUNT(*) FROM predictions p WHERE p.run_id = r.id) AS predictions
       FROM runs r LEFT JOIN models m ON m.id = r.model_id WHERE r.dataset_id = ? ORDER BY r.id`,
    )
    .all(datasetId) as {
    id: number;
    dataset_id: number;
    name: string;
    model_id: number | null;
    model_name: string | null;
    sha256: string | null;
    labels: string;
    status: RunInfo['status'];
    settings: string;
    created_at: string;
    finished_at: string | null;
    predictions: number;
  }[];
  return rows.map((r) => ({
    id: r.id,
    datasetId: r.dataset_id,
    name: r.name,
    modelId: r.model_id,
    modelName: r.model_name,
    modelSha256: r.sha256,
    labels: JSON.parse(r.labels) as string[],
    status: r.status,
    predictions: r.predictions,
    settings: JSON.parse(r.settings) as Record<string, unknown>,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  }));
}

/** Deletes a run with its predictions and cached maps; refused while its prediction job runs. */
export function deleteRun(db: Db, runId: number): { datasetId: number; changed: number } {
  const run = getRun(db, runId);
  const running = db
    .prepare("SELECT id FROM jobs WHERE key = ? AND status = 'running'")
    .pluck()
    .get(`predict:run:${runId}`) as number | undefined;
  if (running !== undefined)
    throw new WorkstationError(
      `run ${runId} is still being predicted (job ${running}); cancel the job first, then delete the run`,
      'busy',
    );
  const changed = db.prepare('DELETE FROM runs WHERE id = ?').run(runId).changes;
  return { datasetId: run.datasetId, changed };
}
