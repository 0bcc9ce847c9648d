// One image in detail (its grid item, full probability vector and tag events) and its saliency map
// on demand, from the cache or computed and cached.
import type { MapMethod, MethodOptions } from '../../engine/methods';
import type { GridItem } from '../../contract/query';
import { WorkstationError } from '../datasets/importFolder';
import { gridItem } from '../query/queryImages';
import { classIndex, getRun } from '../runs/runs';
import { decodeFloat16 } from '../store/float16';
import type { Db } from '../store/openDatabase';
import { imageFiles, type SaliencyStore } from './saliencyStore';

export function imageDetail(db: Db, imageId: number, runId?: number) {
  const item: GridItem = gridItem(db, imageId, runId);
  let probabilities: { label: string; p: number }[] | null = null;
  if (runId !== undefined) {
    const run = getRun(db, runId, item.datasetId);
    const blob = db
      .prepare('SELECT probs FROM predictions WHERE run_id = ? AND image_id = ?')
      .pluck()
      .get(runId, imageId) as Buffer | null | undefined;
    if (blob)
      probabilities = Array.from(decodeFloat16(blob), (p, k) => ({ label: run.labels[k] ?? String(k), p }));
  }
  const tags = db
    .prepare(
      `SELECT it.tag_id AS tagId, r.name AS reviewer, it.added_at AS addedAt FROM image_tags it
       JOIN reviewers r ON r.id = it.reviewer_id WHERE it.image_id = ? ORDER BY it.tag_id`,
    )
    .all(imageId) as { tagId: number; reviewer: string; addedAt: string }[];
  return { item, probabilities, tags };
}

export interface ImageMapRequest {
  imageId: number;
  runId: number;
  method: MapMethod | 'default' | 'default-fast';
  options: Partial<MethodOptions>;
  target?: string;
}

/** One image's map of a run ('default' resolved, the target defaulting to the run's top-1), cached. */
export async function imageMap(store: SaliencyStore, db: Db, params: ImageMapRequest) {
  const { method, reason } = await store.resolveMethod(params.runId, params.method);
  const model = await store.runModel(params.runId);
  const file = imageFiles(db, [params.imageId], params.runId).get(params.imageId);
  if (!file) throw new WorkstationError(`no image with id ${params.imageId}`, 'not-found');
  const target =
    params.target !== undefined
      ? classIndex({ id: params.runId, datasetId: 0, labels: model.labels, modelId: null }, params.target)
      : file.top1;
  if (target === null)
    throw new WorkstationError(
      `image ${params.imageId} has no prediction in run ${params.runId}; give a target class`,
      'bad-params',
    );
  const [map] = await store.maps(
    model,
    [{ imageId: params.imageId, absPath: file.absPath, target }],
    method,
    params.options,
  );
  return { model, file, target, method, reason, map };
}

export async function saliencyFor(store: SaliencyStore, db: Db, params: ImageMapRequest) {
  const { model, target, method, reason, map } = await imageMap(store, db, params);
  return {
    target: model.labels[target] ?? String(target),
    method,
    reason,
    grid: map.grid,
    map: Array.from(map.map),
    cached: map.cached,
    warnings: model.session.info.warnings,
  };
}
