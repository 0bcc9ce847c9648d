// Counting over the images a query selects, for the grid's facets and the stats: the selection as
// a CTE named `sel`, SQL run against it, and the per-tag counts both of them show.
import type { ImageQuery } from '../../contract/query';
import type { Db } from '../store/openDatabase';
import { buildQuery, type BuiltQuery } from './buildQuery';

export interface CountedSelection {
  run: BuiltQuery['run'];
  /** Rows of `sql`, which reads the selection as `sel`; `extra` parameters follow the query's own. */
  all: <T>(sql: string, ...extra: unknown[]) => T[];
  /** The single number `sql` (reading `sel`) returns. */
  one: (sql: string) => number;
  /** Rows of `sql` as arrays, one at a time (for counting a large selection in one pass). */
  iterate: (sql: string) => IterableIterator<unknown[]>;
}

export function countSelection(db: Db, query: ImageQuery): CountedSelection {
  const q = buildQuery(db, query);
  const selected = `SELECT i.id AS id, i.label AS label, i.reviewed_at AS reviewed_at, i.verdict AS verdict,
      i.split AS split, i.status AS status, i.mask_path IS NOT NULL AS has_mask, p.top1 AS top1, p.true_idx AS true_idx
    ${q.from} WHERE ${q.where.join(' AND ')}`;
  return {
    run: q.run,
    all: <T>(sql: string, ...extra: unknown[]) =>
      db.prepare(`WITH sel AS (${selected}) ${sql}`).all(...q.params, ...extra) as T[],
    iterate: (sql: string) =>
      db
        .prepare(`WITH sel AS (${selected}) ${sql}`)
        .raw()
        .iterate(...q.params) as IterableIterator<unknown[]>,
    one: (sql: string) =>
      db
        .prepare(`WITH sel AS (${selected}) ${sql}`)
        .pluck()
        .get(...q.params) as number,
  };
}

/** Selected images per tag of the dataset (every tag, zero included). */
export function perTagCounts(
  sel: CountedSelection,
  datasetId: number,
): { tagId: number; name: string; count: number }[] {
  return sel.all<{ tagId: number; name: string; count: number }>(
    `SELECT t.id AS tagId, t.name AS name,
       (SELECT COUNT(*) FROM image_tags it JOIN sel ON sel.id = it.image_id WHERE it.tag_id = t.id) AS count
     FROM tags t WHERE t.dataset_id = ? ORDER BY t.name`,
    datasetId,
  );
}

/** Selected images per tag of the dataset (every tag, zero included), and those with no tag. */
export function tagCounts(
  sel: CountedSelection,
  datasetId: number,
): { tags: { tagId: number; name: string; count: number }[]; untagged: number } {
  const tags = perTagCounts(sel, datasetId);
  const untagged = sel.one(
    'SELECT COUNT(*) FROM sel WHERE NOT EXISTS (SELECT 1 FROM image_tags it WHERE it.image_id = sel.id)',
  );
  return { tags, untagged };
}
