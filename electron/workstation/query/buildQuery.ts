// Turns an ImageQuery into SQL: the FROM clause (images, joined to the run's predictions), the
// WHERE conditions with their parameters, and the sort key. Names (tags, classes) are resolved
// here, with errors that list what exists.
import type { ImageQuery, TagRef } from '../../contract/query';
import { WorkstationError } from '../datasets/importFolder';
import { classIndex, getRun, type RunRow } from '../runs/runs';
import type { Db } from '../store/openDatabase';

export interface BuiltQuery {
  /** `FROM …` with alias i for images and p for predictions (p is null-joined without a run). */
  from: string;
  where: string[];
  params: unknown[];
  run: RunRow | null;
  /** SQL of the primary sort key (the image id breaks ties). */
  sortKey: string;
  descending: boolean;
}

export function resolveTagIds(db: Db, datasetId: number, refs: readonly TagRef[]): number[] {
  return refs.map((ref) => {
    const row = (
      typeof ref === 'number'
        ? db.prepare('SELECT id FROM tags WHERE dataset_id = ? AND id = ?').get(datasetId, ref)
        : db.prepare('SELECT id FROM tags WHERE dataset_id = ? AND name = ?').get(datasetId, ref)
    ) as { id: number } | undefined;
    if (!row) {
      const known = db
        .prepare('SELECT name FROM tags WHERE dataset_id = ? ORDER BY name')
        .pluck()
        .all(datasetId) as string[];
      throw new WorkstationError(
        `no tag ${typeof ref === 'number' ? `with id ${ref}` : `"${ref}"`} in this dataset; ` +
          (known.length ? `its tags are: ${known.join(', ')}` : 'it has no tags yet (create one first)'),
        'not-found',
      );
    }
    return row.id;
  });
}

const needsRun = (what: string) =>
  new WorkstationError(`${what} needs a prediction run: give runId (--run RUN)`, 'bad-params');

export function buildQuery(db: Db, query: ImageQuery): BuiltQuery {
  const exists = db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(query.datasetId);
  if (!exists) throw new WorkstationError(`no dataset with id ${query.datasetId}`, 'not-found');
  const run = query.runId !== undefined ? getRun(db, query.runId, query.datasetId) : null;
  const where: string[] = ['i.dataset_id = ?'];
  const params: unknown[] = [query.datasetId];
  let predictionFilter = false;

  if (query.trueClass !== undefined) {
    if (run) {
      where.push('p.true_idx = ?');
      params.push(classIndex(run, query.trueClass));
      predictionFilter = true;
    } else {
      where.push('i.label = ?');
      params.push(query.trueClass);
    }
  }
  if (query.predClass !== undefined) {
    if (!run) throw needsRun('predClass');
    where.push('p.top1 = ?');
    params.push(classIndex(run, query.predClass));
    predictionFilter = true;
  }
  if (query.errors) {
    if (!run) throw needsRun(`errors (${query.errors.kind})`);
    const t = query.errors.threshold;
    const labelled = '(p.true_idx IS NOT NULL OR i.label IS NOT NULL)';
    if (query.errors.class === undefined) {
      // Any class: misclassified at the threshold (fp), or not found at it (fn). An unmapped
      // label counts as wrong for every class, as in the one-class definitions.
      if (query.errors.kind === 'fp') {
        where.push(`p.score >= ? AND ${labelled} AND (p.true_idx IS NULL OR p.top1 <> p.true_idx)`);
        params.push(t);
      } else {
        where.push('p.true_idx IS NOT NULL AND (p.top1 <> p.true_idx OR p.score < ?)');
        params.push(t);
      }
    } else {
      const c = classIndex(run, query.errors.class);
      // With top-1 = c, p_c is the top-1 score, so both definitions need no BLOB decoding.
      if (query.errors.kind === 'fp') {
        where.push(
          'p.top1 = ? AND p.score >= ? AND (p.true_idx <> ? OR (p.true_idx IS NULL AND i.label IS NOT NULL))',
        );
        params.push(c, t, c);
      } else {
        where.push('p.true_idx = ? AND (p.top1 <> ? OR p.score < ?)');
        params.push(c, c, t);
      }
    }
    predictionFilter = true;
  }
  if (query.score) {
    if (!run) throw needsRun('score');
    if (query.score.min !== undefined) {
      where.push('p.score >= ?');
      params.push(query.score.min);
    }
    if (query.score.max !== undefined) {
      where.push('p.score <= ?');
      params.push(query.score.max);
    }
    predictionFilter = true;
  }
  if (query.tags?.any?.length) {
    const ids = resolveTagIds(db, query.datasetId, query.tags.any);
    where.push(
      `EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_id IN (${ids.map(() => '?').join(',')}))`,
    );
    params.push(...ids);
  }
  for (const id of query.tags?.all?.length ? resolveTagIds(db, query.datasetId, query.tags.all) : []) {
    where.push('EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_id = ?)');
    params.push(id);
  }
  if (query.tags?.none?.length) {
    const ids = resolveTagIds(db, query.datasetId, query.tags.none);
    where.push(
      `NOT EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_id IN (${ids.map(() => '?').join(',')}))`,
    );
    params.push(...ids);
  }
  if (query.untagged !== undefined) {
    where.push(`${query.untagged ? 'NOT ' : ''}EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id)`);
  }
  if (query.hasMask !== undefined) where.push(`i.mask_path IS ${query.hasMask ? 'NOT ' : ''}NULL`);
  if (query.reviewed !== undefined) where.push(`i.reviewed_at IS ${query.reviewed ? 'NOT ' : ''}NULL`);
  if (query.verdict !== undefined) {
    if (query.verdict === 'none') where.push('i.verdict IS NULL');
    else {
      where.push('i.verdict = ?');
      params.push(query.verdict);
    }
  }
  if (query.split !== undefined) {
    where.push('i.split = ?');
    params.push(query.split);
  }
  if (query.status !== undefined) {
    where.push('i.status = ?');
    params.push(query.status);
  }
  if (query.regionCheck === 'unchecked')
    where.push('NOT EXISTS (SELECT 1 FROM region_checks rc WHERE rc.image_id = i.id)');
  else if (query.regionCheck !== undefined) {
    where.push(
      'EXISTS (SELECT 1 FROM region_checks rc WHERE rc.id = (SELECT MAX(id) FROM region_checks WHERE image_id = i.id) AND rc.decisive = ?)',
    );
    params.push(query.regionCheck === 'decisive' ? 1 : 0);
  }
  if (query.text) {
    where.push("(instr(lower(i.rel_path), ?) > 0 OR instr(lower(COALESCE(i.note, '')), ?) > 0)");
    params.push(query.text.toLowerCase(), query.text.toLowerCase());
  }
  if (query.imageIds) {
    where.push('i.id IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(query.imageIds));
  }

  const sort = query.sort;
  let sortKey: string;
  let descending: boolean;
  switch (sort.by) {
    case 'score':
      if (!run) throw needsRun('sorting by score');
      sortKey = 'p.score';
      descending = (sort.direction ?? 'desc') === 'desc';
      predictionFilter = true;
      break;
    case 'path':
      sortKey = 'i.rel_path';
      descending = sort.direction === 'desc';
      break;
    case 'random':
      // A fixed permutation of ids per seed: stable across pages and sessions.
      sortKey = `((i.id * 2654435761 + ${Math.floor(sort.seed) * 40503 + 12345}) % 4294967291)`;
      descending = sort.direction === 'desc';
      break;
    default:
      sortKey = 'i.id';
      descending = sort.direction === 'desc';
  }

  let from: string;
  // No run: prediction columns read as NULL. The join is a primary-key probe that never matches
  // (run ids are positive); a constant-false ON made SQLite scan every prediction per image.
  if (!run) from = 'FROM images i LEFT JOIN predictions p ON p.run_id = -1 AND p.image_id = i.id';
  else if (predictionFilter) {
    // Drive the scan from the run's predictions (their indexes serve class, score and sort).
    from = 'FROM predictions p CROSS JOIN images i ON i.id = p.image_id';
    where.unshift('p.run_id = ?');
    params.unshift(run.id);
  } else {
    from = 'FROM images i LEFT JOIN predictions p ON p.run_id = ? AND p.image_id = i.id';
    params.unshift(run.id);
  }
  return { from, where, params, run, sortKey, descending };
}

/** The ids a query selects, in its sort order (for tag actions, explain-set and export). */
export function selectImageIds(db: Db, query: ImageQuery): number[] {
  const q = buildQuery(db, query);
  const dir = q.descending ? 'DESC' : 'ASC';
  return db
    .prepare(`SELECT i.id ${q.from} WHERE ${q.where.join(' AND ')} ORDER BY ${q.sortKey} ${dir}, i.id ${dir}`)
    .pluck()
    .all(...q.params) as number[];
}
