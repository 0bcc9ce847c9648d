// The grid's queries: one keyset-paginated page of an ImageQuery, and the facet counts (a separate
// request so that the page query stays fast).
import type { Facets, GridItem, ImageQuery, QueryPage } from '../../contract/query';
import { WorkstationError } from '../datasets/importFolder';
import type { Db } from '../store/openDatabase';
import { getRun, type RunRow } from '../runs/runs';
import { buildQuery } from './buildQuery';
import { countSelection, perTagCounts, tagCounts } from './selectionCounts';

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

/** Counts per value, in SQLite's ascending order (null first). */
function ordered<K extends string | number | null>(counts: Map<K, number>): [K, number][] {
  return [...counts].sort(([a], [b]) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1));
}

type VerdictKey = Facets['verdict'][number]['verdict'];
type SplitKey = Facets['split'][number]['split'];
/** One row (count 1) or one group of the selection, as the facets see it. */
type FacetRow = [
  truth: string | number | null,
  top1: number | null,
  verdict: VerdictKey,
  split: SplitKey,
  status: string,
  reviewed: number,
  masked: number,
  count: number,
];

/** The facets' counters, fed row by row (a filtered selection) or group by group (a whole dataset). */
class FacetTally {
  total = 0;
  reviewed = 0;
  masked = 0;
  truth = new Map<string | number | null, number>();
  readonly predicted = new Map<number, number>();
  private readonly verdicts = new Map<VerdictKey, number>();
  private readonly splits = new Map<SplitKey, number>();
  private readonly statuses = new Map<string, number>();

  add([truth, top1, verdict, split, status, reviewed, masked, count]: FacetRow): void {
    const bump = <K>(counts: Map<K, number>, key: K) => counts.set(key, (counts.get(key) ?? 0) + count);
    this.total += count;
    this.reviewed += reviewed * count;
    this.masked += masked * count;
    bump(this.truth, truth);
    if (top1 !== null) bump(this.predicted, top1);
    bump(this.verdicts, verdict);
    bump(this.splits, split);
    bump(this.statuses, status);
  }

  facets(run: RunRow | null, tags: Facets['tags'], untagged: number): Facets {
    return {
      total: this.total,
      tags,
      untagged,
      masked: this.masked,
      trueClass: ordered(this.truth).map(([key, count]) => ({
        label: run
          ? key === null
            ? null
            : (run.labels[key as number] ?? String(key))
          : (key as string | null),
        count,
      })),
      predClass: run
        ? ordered(this.predicted).map(([idx, count]) => ({ label: run.labels[idx] ?? String(idx), count }))
        : [],
      reviewed: { reviewed: this.reviewed, unreviewed: this.total - this.reviewed },
      verdict: ordered(this.verdicts).map(([verdict, count]) => ({ verdict, count })),
      split: ordered(this.splits).map(([split, count]) => ({ split, count })),
      status: ordered(this.statuses).map(([status, count]) => ({ status, count })),
    };
  }
}

/** Every facet but the per-tag counts in one pass over the selection (a pass per facet took
 *  seconds at a million images); a whole dataset is counted from indexes. */
export function queryFacets(db: Db, query: ImageQuery): Facets {
  if (wholeDataset(query)) return wholeDatasetFacets(db, query);
  const sel = countSelection(db, query);
  const tally = new FacetTally();
  let untagged = 0;
  for (const row of sel.iterate(
    `SELECT ${sel.run ? 'true_idx' : 'label'}, top1, verdict, split, status, reviewed_at IS NOT NULL, has_mask,
       1, NOT EXISTS (SELECT 1 FROM image_tags it WHERE it.image_id = sel.id) FROM sel`,
  )) {
    tally.add(row as FacetRow);
    untagged += row[8] as number;
  }
  return tally.facets(sel.run, perTagCounts(sel, query.datasetId), untagged);
}

/** A query that keeps every image of its dataset (a run and a sort only). */
function wholeDataset(query: ImageQuery): boolean {
  const keys = Object.entries(query)
    .filter(([, value]) => value !== undefined)
    .map(([key]) => key);
  return keys.every((key) => key === 'datasetId' || key === 'runId' || key === 'sort');
}

/** The facets of a whole dataset from indexes alone: images_facets for the image columns, the
 *  run's prediction indexes for the classes, image_tags for the tags. Same numbers as one pass. */
function wholeDatasetFacets(db: Db, query: ImageQuery): Facets {
  const run = query.runId !== undefined ? getRun(db, query.runId, query.datasetId) : null;
  const tally = new FacetTally();
  const groups = db
    .prepare(
      `SELECT label, NULL, verdict, split, status, reviewed_at IS NOT NULL, mask_path IS NOT NULL, COUNT(*)
       FROM images WHERE dataset_id + 0 = ?
       GROUP BY label, verdict, split, status, reviewed_at IS NOT NULL, mask_path IS NOT NULL`,
    )
    .raw()
    .all(query.datasetId) as FacetRow[];
  for (const group of groups) tally.add(group);
  if (run) {
    const byTruth = db
      .prepare('SELECT true_idx, COUNT(*) FROM predictions WHERE run_id = ? GROUP BY true_idx')
      .raw()
      .all(run.id) as [number | null, number][];
    // Images without a prediction of the run have no true class in it either.
    const predictedImages = byTruth.reduce((sum, [, count]) => sum + count, 0);
    tally.truth = new Map<number | null, number>(byTruth);
    if (tally.total > predictedImages)
      tally.truth.set(null, (tally.truth.get(null) ?? 0) + tally.total - predictedImages);
    for (const [idx, count] of db
      .prepare('SELECT top1, COUNT(*) FROM predictions WHERE run_id = ? GROUP BY top1')
      .raw()
      .all(run.id) as [number, number][])
      tally.predicted.set(idx, count);
  }
  const { tags, tagged } = wholeDatasetTags(db, query.datasetId);
  return tally.facets(run, tags, tally.total - tagged);
}

/** Per-tag counts of a whole dataset and how many of its images have a tag, from image_tags. */
function wholeDatasetTags(db: Db, datasetId: number): { tags: Facets['tags']; tagged: number } {
  const tags = db
    .prepare(
      `SELECT t.id AS tagId, t.name AS name, (SELECT COUNT(*) FROM image_tags it WHERE it.tag_id = t.id) AS count
       FROM tags t WHERE t.dataset_id = ? ORDER BY t.name`,
    )
    .all(datasetId) as Facets['tags'];
  const tagged = db
    .prepare(
      `SELECT COUNT(DISTINCT it.image_id) FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE t.dataset_id = ?`,
    )
    .pluck()
    .get(datasetId) as number;
  return { tags, tagged };
}

/** The facets a tag change alters (per-tag counts and untagged), without the rest's cost. */
export function queryTagFacets(db: Db, query: ImageQuery): Pick<Facets, 'tags' | 'untagged'> {
  if (wholeDataset(query)) {
    const { tags, tagged } = wholeDatasetTags(db, query.datasetId);
    const total = db.prepare('SELECT COUNT(*) FROM images WHERE dataset_id = ?').pluck().get(query.datasetId);
    return { tags, untagged: (total as number) - tagged };
  }
  return tagCounts(countSelection(db, query), query.datasetId);
}
