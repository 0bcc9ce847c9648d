// A reviewer's marks on images: the note, the review state with its verdict, and the split
// (pool, validation, test). Each change is one transaction with an audit entry for undo.
import type { Selection, Split, Verdict } from '../../contract/query';
import { WorkstationError } from '../datasets/importFolder';
import { selectionIds } from '../tags/tagStore';
import type { Db } from '../store/openDatabase';
import { recordAudit } from './auditLog';

export function setNote(db: Db, imageId: number, note: string, reviewerId: number): number {
  return db
    .transaction(() => {
      const row = db.prepare('SELECT dataset_id, note FROM images WHERE id = ?').get(imageId) as
        { dataset_id: number; note: string | null } | undefined;
      if (!row) throw new WorkstationError(`no image with id ${imageId}`, 'not-found');
      const value = note.trim() === '' ? null : note;
      if (value === row.note) return 0;
      db.prepare('UPDATE images SET note = ? WHERE id = ?').run(value, imageId);
      recordAudit(db, row.dataset_id, reviewerId, value ? 'edited a note' : 'cleared a note', {
        action: 'images.note',
        imageId,
        before: row.note,
      });
      return 1;
    })
    .immediate();
}

export function datasetOfSelection(db: Db, selection: Selection): number {
  if ('query' in selection) return selection.query.datasetId;
  const id = db.prepare('SELECT dataset_id FROM images WHERE id = ?').pluck().get(selection.imageIds[0]) as
    number | undefined;
  if (id === undefined) throw new WorkstationError(`no image with id ${selection.imageIds[0]}`, 'not-found');
  return id;
}

export function setReview(
  db: Db,
  selection: Selection,
  change: { reviewed?: boolean; verdict?: Verdict | null },
  reviewerId: number,
): number {
  return db
    .transaction(() => {
      const datasetId = datasetOfSelection(db, selection);
      const ids = selectionIds(db, datasetId, selection);
      const get = db.prepare('SELECT id, reviewed_at, verdict FROM images WHERE id = ?').raw();
      const update = db.prepare('UPDATE images SET reviewed_at = ?, verdict = ? WHERE id = ?');
      const now = new Date().toISOString();
      const before: [number, string | null, string | null][] = [];
      for (const id of ids) {
        const row = get.get(id) as [number, string | null, string | null];
        // A verdict implies the image was reviewed.
        const reviewed = change.reviewed ?? (change.verdict ? true : row[1] !== null);
        const reviewedAt = reviewed ? (row[1] ?? now) : null;
        const verdict = change.verdict === undefined ? (reviewed ? row[2] : null) : change.verdict;
        if (reviewedAt === row[1] && verdict === row[2]) continue;
        update.run(reviewedAt, verdict, id);
        before.push(row);
      }
      if (before.length)
        recordAudit(db, datasetId, reviewerId, `marked ${before.length} image(s) ${describe(change)}`, {
          action: 'images.review',
          before,
        });
      return before.length;
    })
    .immediate();
}

function describe(change: { reviewed?: boolean; verdict?: Verdict | null }): string {
  const parts: string[] = [];
  if (change.reviewed !== undefined) parts.push(change.reviewed ? 'reviewed' : 'unreviewed');
  if (change.verdict !== undefined) parts.push(change.verdict ? `"${change.verdict}"` : 'without verdict');
  return parts.join(', ');
}

export function setSplit(db: Db, selection: Selection, split: Split, reviewerId: number): number {
  return db
    .transaction(() => {
      const datasetId = datasetOfSelection(db, selection);
      const ids = selectionIds(db, datasetId, selection);
      const get = db.prepare('SELECT id, split FROM images WHERE id = ?').raw();
      const update = db.prepare('UPDATE images SET split = ? WHERE id = ?');
      const before: [number, string][] = [];
      for (const id of ids) {
        const row = get.get(id) as [number, string];
        if (row[1] === split) continue;
        update.run(split, id);
        before.push(row);
      }
      if (before.length)
        recordAudit(db, datasetId, reviewerId, `moved ${before.length} image(s) to ${split}`, {
          action: 'images.split',
          before,
        });
      return before.length;
    })
    .immediate();
}
