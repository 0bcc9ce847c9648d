// "Check this region" for an image of a run: the map (from the cache, or computed and cached) with
// its top 10% hidden, p(target) before and after and the contrast regions (engine/regionCheck.ts);
// every check is kept with the image so that the grid can filter "checked: region decisive".
import { preprocessImage } from '../../engine/preprocess';
import { checkRegion } from '../../engine/regionCheck';
import type { Db } from '../store/openDatabase';
import { imageMap, type ImageMapRequest } from './imageSaliency';
import type { SaliencyStore } from './saliencyStore';

export interface StoredRegionCheck {
  id: number;
  imageId: number;
  runId: number;
  method: string;
  target: string;
  fraction: number;
  before: number;
  after: number;
  random: number;
  bottom: number;
  decisive: boolean;
  reviewer: string | null;
  checkedAt: string;
}

export async function runRegionCheck(
  store: SaliencyStore,
  db: Db,
  params: ImageMapRequest & { reviewerId: number },
): Promise<StoredRegionCheck> {
  const { model, file, target, method, map } = await imageMap(store, db, params);
  const { tensor } = await preprocessImage(file.absPath, model.card.preprocessing, model.card.input);
  const check = await checkRegion(model.session, tensor, target, map.map, map.grid, {
    activation: model.card.output.activation,
  });
  const label = model.labels[target] ?? String(target);
  const checkedAt = new Date().toISOString();
  const id = Number(
    db
      .prepare(
        `INSERT INTO region_checks (image_id, run_id, method, target, fraction, before, after, random, bottom,
         decisive, reviewer_id, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        params.imageId,
        params.runId,
        method,
        label,
        check.fraction,
        check.before,
        check.after,
        check.random,
        check.bottom,
        check.decisive ? 1 : 0,
        params.reviewerId,
        checkedAt,
      ).lastInsertRowid,
  );
  return {
    id,
    imageId: params.imageId,
    runId: params.runId,
    method,
    target: label,
    fraction: check.fraction,
    before: check.before,
    after: check.after,
    random: check.random,
    bottom: check.bottom,
    decisive: check.decisive,
    reviewer: db.prepare('SELECT name FROM reviewers WHERE id = ?').pluck().get(params.reviewerId) as
      string | null,
    checkedAt,
  };
}

/** An image's checks, newest first. */
export function regionChecks(db: Db, imageId: number): StoredRegionCheck[] {
  const rows = db
    .prepare(
      `SELECT rc.id, rc.image_id AS imageId, rc.run_id AS runId, rc.method, rc.target, rc.fraction, rc.before,
       rc.after, rc.random, rc.bottom, rc.decisive, r.name AS reviewer, rc.checked_at AS checkedAt
       FROM region_checks rc LEFT JOIN reviewers r ON r.id = rc.reviewer_id
       WHERE rc.image_id = ? ORDER BY rc.id DESC`,
    )
    .all(imageId) as (Omit<StoredRegionCheck, 'decisive'> & { decisive: number })[];
  return rows.map((r) => ({ ...r, decisive: r.decisive === 1 }));
}
