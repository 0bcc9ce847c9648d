// "Not this pattern": a reviewer's rejection of an image as a candidate for a tag (by the tag's
// name, so that a pool image can be rejected for a tag its dataset does not have yet). "Find
// similar" never proposes a rejected image for that tag again.
import type { Db } from '../store/openDatabase';

/** Marks the images rejected for `tag`; returns how many were not yet. */
export function rejectForPattern(db: Db, imageIds: number[], tag: string, reviewerId: number): number {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO pattern_rejections (image_id, tag, reviewer_id, rejected_at) VALUES (?, ?, ?, ?)',
  );
  const now = new Date().toISOString();
  return db.transaction(() =>
    imageIds.reduce((n, id) => n + insert.run(id, tag, reviewerId, now).changes, 0),
  )();
}

/** Takes rejections back; returns how many there were. */
export function unrejectForPattern(db: Db, imageIds: number[], tag: string): number {
  const remove = db.prepare('DELETE FROM pattern_rejections WHERE image_id = ? AND tag = ?');
  return db.transaction(() => imageIds.reduce((n, id) => n + remove.run(id, tag).changes, 0))();
}

export function rejectedCount(db: Db, datasetId: number, tag: string): number {
  return db
    .prepare(
      `SELECT COUNT(*) FROM pattern_rejections pr JOIN images i ON i.id = pr.image_id
       WHERE i.dataset_id = ? AND pr.tag = ?`,
    )
    .pluck()
    .get(datasetId, tag) as number;
}
