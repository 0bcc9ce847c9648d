// Helpers the workstation-core commands share: resolving --dataset, --run, --query and --image.
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { parseQueryJson, type ImageQuery } from '../contract/query';
import { WorkstationError } from '../workstation/datasets/importFolder';
import type { Workstation } from '../workstation/workstation';
import { UsageError } from './errors';

export const parseRunId = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('--run must be a run id (the number `vsw predict` printed last)');
  return Number(value);
};

export function queryFromFlags(
  ws: Workstation,
  flags: { dataset: string; run?: number; query?: string },
): ImageQuery {
  const datasetId = ws.datasetByName(flags.dataset);
  try {
    return parseQueryJson(flags.query, { datasetId, runId: flags.run });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** An image of the dataset by its path: absolute, or relative to (one of) the dataset's roots. */
export function imageByPath(ws: Workstation, datasetId: number, imagePath: string): number {
  const roots = ws.db.prepare('SELECT id, path FROM dataset_roots WHERE dataset_id = ?').all(datasetId) as {
    id: number;
    path: string;
  }[];
  const find = ws.db.prepare('SELECT id FROM images WHERE root_id = ? AND rel_path = ?').pluck();
  const candidates = path.isAbsolute(imagePath)
    ? roots
        .filter((r) => imagePath.startsWith(r.path + path.sep))
        .map((r) => find.get(r.id, path.relative(r.path, imagePath).split(path.sep).join('/')))
    : roots.map((r) => find.get(r.id, imagePath.split(path.sep).join('/')));
  const ids = candidates.filter((id): id is number => typeof id === 'number');
  if (ids.length === 1) return ids[0];
  if (ids.length > 1)
    throw new WorkstationError(
      `${imagePath} matches images under several roots; give its absolute path`,
      'ambiguous',
    );
  throw new WorkstationError(
    `no image ${imagePath} in this dataset; give its path relative to the dataset folder (${roots.map((r) => r.path).join(', ')}) or its absolute path`,
    'not-found',
  );
}

/** Splits `a,b` lists (repeatable flags collect into arrays). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
