// The audit log: every reviewer action (tags, notes, review state, splits) with what it changed,
// so that the latest one can be undone. Undo replays the recorded "before" in one transaction.
import type { AuditEntry } from '../../contract/protocol';
import type { Db } from '../store/openDatabase';

/** [imageId, reviewerId, addedAt] of one image_tags row. */
export type ImageTagRow = [number, number, string];

export interface TagRow {
  id: number;
  dataset_id: number;
  name: string;
  colour: string;
  hotkey: number | null;
  description: string;
  created_at: string;
}

export type AuditPayload =
  | { action: 'tags.create'; tagId: number }
  | {
      action: 'tags.update';
      tagId: number;
      before: Pick<TagRow, 'name' | 'colour' | 'hotkey' | 'description'>;
    }
  | { action: 'tags.delete'; tag: TagRow; imageTags: ImageTagRow[] }
  | {
      action: 'tags.merge';
      source: TagRow;
      sourceImageTags: ImageTagRow[];
      targetId: number;
      addedToTarget: number[];
    }
  | { action: 'tags.apply'; tagId: number; imageIds: number[] }
  | { action: 'tags.remove'; tagId: number; removed: ImageTagRow[] }
  | { action: 'images.note'; imageId: number; before: string | null }
  | { action: 'images.review'; before: [number, string | null, string | null][] }
  | { action: 'images.split'; before: [number, string][] };

export function recordAudit(
  db: Db,
  datasetId: number,
  reviewerId: number,
  summary: string,
  payload: AuditPayload,
): void {
  db.prepare(
    'INSERT INTO audit_log (dataset_id, reviewer_id, at, action, summary, payload) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(datasetId, reviewerId, new Date().toISOString(), payload.action, summary, JSON.stringify(payload));
}

interface AuditRow {
  id: number;
  dataset_id: number;
  reviewer: string;
  at: string;
  action: string;
  summary: string;
  payload: string;
  undone_at: string | null;
}

const SELECT_AUDIT = `SELECT a.id, a.dataset_id, r.name AS reviewer, a.at, a.action, a.summary, a.payload, a.undone_at
  FROM audit_log a JOIN reviewers r ON r.id = a.reviewer_id`;

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    reviewer: row.reviewer,
    at: row.at,
    action: row.action,
    summary: row.summary,
    undone: row.undone_at !== null,
  };
}

export function listAudit(db: Db, datasetId: number, limit: number): AuditEntry[] {
  return (
    db
      .prepare(`${SELECT_AUDIT} WHERE a.dataset_id = ? ORDER BY a.id DESC LIMIT ?`)
      .all(datasetId, limit) as AuditRow[]
  ).map(toEntry);
}

/** Reverses the dataset's latest action that is not undone yet; null when there is none. */
export function undoLatest(db: Db, datasetId: number, reviewerId: number): AuditEntry | null {
  return db
    .transaction(() => {
      const row = db
        .prepare(`${SELECT_AUDIT} WHERE a.dataset_id = ? AND a.undone_at IS NULL ORDER BY a.id DESC LIMIT 1`)
        .get(datasetId) as AuditRow | undefined;
      if (!row) return null;
      reverse(db, JSON.parse(row.payload) as AuditPayload, reviewerId);
      const now = new Date().toISOString();
      db.prepare('UPDATE audit_log SET undone_at = ? WHERE id = ?').run(now, row.id);
      return toEntry({ ...row, undone_at: now });
    })
    .immediate();
}

function tagEvent(db: Db) {
  return db.prepare(
    'INSERT INTO tag_events (image_id, tag_id, reviewer_id, action, at) VALUES (?, ?, ?, ?, ?)',
  );
}

function reinsertTag(db: Db, tag: TagRow): void {
  db.prepare(
    `INSERT INTO tags (id, dataset_id, name, colour, hotkey, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(tag.id, tag.dataset_id, tag.name, tag.colour, tag.hotkey, tag.description, tag.created_at);
}

function reinsertImageTags(db: Db, tagId: number, rows: ImageTagRow[], reviewerId: number): void {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO image_tags (image_id, tag_id, reviewer_id, added_at) VALUES (?, ?, ?, ?)',
  );
  const event = tagEvent(db);
  const now = new Date().toISOString();
  for (const [imageId, who, at] of rows) {
    insert.run(imageId, tagId, who, at);
    event.run(imageId, tagId, reviewerId, 'add', now);
  }
}

function removeImageTags(db: Db, tagId: number, imageIds: number[], reviewerId: number): void {
  const remove = db.prepare('DELETE FROM image_tags WHERE image_id = ? AND tag_id = ?');
  const event = tagEvent(db);
  const now = new Date().toISOString();
  for (const imageId of imageIds)
    if (remove.run(imageId, tagId).changes) event.run(imageId, tagId, reviewerId, 'remove', now);
}

function reverse(db: Db, p: AuditPayload, reviewerId: number): void {
  switch (p.action) {
    case 'tags.create':
      db.prepare('DELETE FROM tags WHERE id = ?').run(p.tagId);
      return;
    case 'tags.update':
      db.prepare('UPDATE tags SET name = ?, colour = ?, hotkey = ?, description = ? WHERE id = ?').run(
        p.before.name,
        p.before.colour,
        p.before.hotkey,
        p.before.description,
        p.tagId,
      );
      return;
    case 'tags.delete':
      reinsertTag(db, p.tag);
      reinsertImageTags(db, p.tag.id, p.imageTags, reviewerId);
      return;
    case 'tags.merge':
      removeImageTags(db, p.targetId, p.addedToTarget, reviewerId);
      reinsertTag(db, p.source);
      reinsertImageTags(db, p.source.id, p.sourceImageTags, reviewerId);
      return;
    case 'tags.apply':
      removeImageTags(db, p.tagId, p.imageIds, reviewerId);
      return;
    case 'tags.remove':
      reinsertImageTags(db, p.tagId, p.removed, reviewerId);
      return;
    case 'images.note':
      db.prepare('UPDATE images SET note = ? WHERE id = ?').run(p.before, p.imageId);
      return;
    case 'images.review': {
      const update = db.prepare('UPDATE images SET reviewed_at = ?, verdict = ? WHERE id = ?');
      for (const [id, reviewedAt, verdict] of p.before) update.run(reviewedAt, verdict, id);
      return;
    }
    case 'images.split': {
      const update = db.prepare('UPDATE images SET split = ? WHERE id = ?');
      for (const [id, split] of p.before) update.run(split, id);
      return;
    }
  }
}
