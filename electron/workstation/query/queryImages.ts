// The grid's queries: one keyset-paginated page of an ImageQuery, and the facet counts (a separate
// request so that the page query stays fast).
import type { Facets, GridItem, ImageQuery, QueryPage } from '../../contract/query';
import { WorkstationError } from '../datasets/importFolder';
import type { Db } from '../store/openDatabase';
import { buildQuery } from './buildQuery';
import { countSelection, tagCounts } from './selectionCounts';

interface GridRow {
  id: number;
  dataset_id: number;
  rel_path: string;
  content_hash: string;
  label: string | null;
  width: number;
  height: number;
  status: GridItem['status'];
  note: string | null;
  reviewed_at: string | null;
  verdict: GridItem['verdict'];
  split: GridItem['split'];
  tag_ids: string | null;
  has_mask: number;
  top1: number | null;
  score: number | null;
  true_idx: number | null;
  sort_key: string | number;
}

const GRID_COLUMNS = `i.id, i.dataset_id, i.rel_path, i.content_hash, i.label, i.width, i.height, i.status,
  i.note, i.reviewed_at, i.verdict, i.split,
  (SELECT group_concat(tag_id) FROM image_tags t WHERE t.image_id = i.id) AS tag_ids,
  i.mask_path IS NOT NULL AS has_mask,
  p.top1, p.score, p.true_idx`;

function toItem(row: GridRow, labels: string[] | null): GridItem {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    relPath: row.rel_path,
    contentHash: row.content_hash,
    label: row.label,
    width: row.width,
    height: row.height,
    status: row.status,
    note: row.note,
    reviewed: row.reviewed_at !== null,
    verdict: row.verdict,
    split: row.split,
    tagIds: row.tag_ids ? row.tag_ids.split(',').map(Number) : [],
    hasMask: row.has_mask === 1,
    prediction:
      labels && row.top1 !== null
        ? {
            predClass: labels[row.top1] ?? String(row.top1),
            predIndex: row.top1,
            score: row.score ?? 0,
            trueClass: row.true_idx === null ? null : (labels[row.true_idx] ?? null),
          }
        : null,
  };
}

function encodeCursor(key: string | number, id: number): string {
  return Buffer.from(JSON.stringify([key, id])).toString('base64url');
}

function decodeCursor(cursor: string): [string | number, number] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      (typeof value[0] === 'string' || typeof value[0] === 'number') &&
      typeof value[1] === 'number'
    )
      return [value[0], value[1]];
  } catch {
    // fall through
  }
  throw new WorkstationError(
    'the page cursor is not one this service returned; start again from the first page',
    'bad-params',
  );
}

export function queryPage(db: Db, query: ImageQuery, after: string | undefined, limit: number): QueryPage {
  const q = buildQuery(db, query);
  const dir = q.descending ? 'DESC' : 'ASC';
  const where = [...q.where];
  const params = [...q.params];
  if (after !== undefined) {
    const [key, id] = decodeCursor(after);
    where.push(`(${q.sortKey}, i.id) ${q.descending ? '<' : '>'} (?, ?)`);
    params.push(key, id);
  }
  const rows = db
    .prepare(
      `SELECT ${GRID_COLUMNS}, ${q.sortKey} AS sort_key ${q.from} WHERE ${where.join(' AND ')}
       ORDER BY ${q.sortKey} ${dir}, i.id ${dir} LIMIT ?`,
    )
    .all(...params, limit) as GridRow[];
  const last = rows[rows.length - 1];
  return {
    items: rows.map((r) => toItem(r, q.run?.labels ?? null)),
    nextCursor: rows.length === limit && last ? encodeCursor(last.sort_key, last.id) : null,
  };
}

/** One image as a grid item (with a run's prediction when given). */
export function gridItem(db: Db, imageId: number, runId?: number): GridItem {
  const datasetId = db.prepare('SELECT dataset_id FROM images WHERE id = ?').pluck().get(imageId) as
    number | undefined;
  if (datasetId === undefined) throw new WorkstationError(`no image with id ${imageId}`, 'not-found');
  const page = queryPage(
    db,
    { datasetId, runId, imageIds: [imageId], sort: { by: 'id', seed: 0 } },
    undefined,
    1,
  );
  const item = page.items[0];
  if (item) return item;
  const plain = queryPage(db, { datasetId, imageIds: [imageId], sort: { by: 'id', seed: 0 } }, undefined, 1);
  return plain.items[0];
}

export function queryFacets(db: Db, query: ImageQuery): Facets {
  const sel = countSelection(db, query);
  const { run, all } = sel;
  // The plain counts in one pass over the selection.
  const [{ total, reviewed, masked }] = all<{ total: number; reviewed: number; masked: number }>(
    `SELECT COUNT(*) AS total, COALESCE(SUM(reviewed_at IS NOT NULL), 0) AS reviewed,
       COALESCE(SUM(has_mask), 0) AS masked FROM sel`,
  );
  const { tags, untagged } = tagCounts(sel, query.datasetId);
  const trueClass = run
    ? all<{ idx: number | null; count: number }>(
        'SELECT true_idx AS idx, COUNT(*) AS count FROM sel GROUP BY true_idx ORDER BY true_idx',
      ).map((r) => ({ label: r.idx === null ? null : (run.labels[r.idx] ?? String(r.idx)), count: r.count }))
    : all<{ label: string | null; count: number }>(
        'SELECT label, COUNT(*) AS count FROM sel GROUP BY label ORDER BY label',
      );
  const predClass = run
    ? all<{ idx: number; count: number }>(
        'SELECT top1 AS idx, COUNT(*) AS count FROM sel WHERE top1 IS NOT NULL GROUP BY top1 ORDER BY top1',
      ).map((r) => ({ label: run.labels[r.idx] ?? String(r.idx), count: r.count }))
    : [];
  return {
    total,
    tags,
    untagged,
    masked,
    trueClass,
    predClass,
    reviewed: { reviewed, unreviewed: total - reviewed },
    verdict: all<{ verdict: Facets['verdict'][number]['verdict']; count: number }>(
      'SELECT verdict, COUNT(*) AS count FROM sel GROUP BY verdict ORDER BY verdict',
    ),
    split: all<{ split: Facets['split'][number]['split']; count: number }>(
      'SELECT split, COUNT(*) AS count FROM sel GROUP BY split ORDER BY split',
    ),
    status: all<{ status: string; count: number }>(
      'SELECT status, COUNT(*) AS count FROM sel GROUP BY status ORDER BY status',
    ),
  };
}
