// The tag taxonomy of a dataset (create, rename, recolour, hotkeys 1–9, merge, delete) and applying
// tags to a selection of images in one transaction. Every change is recorded in the audit log (for
// undo) and every add or remove in tag_events (for exchanging tags between reviewers).
import type { TagInfo } from '../../contract/protocol';
import type { Selection } from '../../contract/query';
import { WorkstationError } from '../datasets/importFolder';
import { selectImageIds } from '../query/buildQuery';
import { recordAudit, type ImageTagRow, type TagRow } from '../review/auditLog';
import type { Db } from '../store/openDatabase';

/** Colours given to new tags in turn (distinct on light and dark backgrounds). */
export const TAG_PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#bfef45',
  '#fabed4',
  '#469990',
];

export function getTag(db: Db, tagId: number): TagRow {
  const row = db.prepare('SELECT * FROM tags WHERE id = ?').get(tagId) as TagRow | undefined;
  if (!row) throw new WorkstationError(`no tag with id ${tagId}`, 'not-found');
  return row;
}

export function tagInfo(db: Db, tagId: number): TagInfo {
  const row = getTag(db, tagId);
  const count = db.prepare('SELECT COUNT(*) FROM image_tags WHERE tag_id = ?').pluck().get(tagId) as number;
  return {
    id: row.id,
    datasetId: row.dataset_id,
    name: row.name,
    colour: row.colour,
    hotkey: row.hotkey,
    description: row.description,
    count,
  };
}

export function listTags(db: Db, datasetId: number): TagInfo[] {
  const rows = db
    .prepare(
      `SELECT t.*, (SELECT COUNT(*) FROM image_tags it WHERE it.tag_id = t.id) AS count
       FROM tags t WHERE t.dataset_id = ? ORDER BY t.name`,
    )
    .all(datasetId) as (TagRow & { count: number })[];
  return rows.map((r) => ({
    id: r.id,
    datasetId: r.dataset_id,
    name: r.name,
    colour: r.colour,
    hotkey: r.hotkey,
    description: r.description,
    count: r.count,
  }));
}

function checkName(db: Db, datasetId: number, name: string, except?: number): void {
  const other = db
    .prepare('SELECT id FROM tags WHERE dataset_id = ? AND name = ?')
    .pluck()
    .get(datasetId, name) as number | undefined;
  if (other !== undefined && other !== except)
    throw new WorkstationError(
      `a tag named "${name}" already exists in this dataset; pick another name or merge them`,
      'conflict',
    );
}

function checkHotkey(db: Db, datasetId: number, hotkey: number | null | undefined, except?: number): void {
  if (hotkey === null || hotkey === undefined) return;
  const other = db
    .prepare('SELECT name, id FROM tags WHERE dataset_id = ? AND hotkey = ?')
    .get(datasetId, hotkey) as { name: string; id: number } | undefined;
  if (other && other.id !== except)
    throw new WorkstationError(
      `hotkey ${hotkey} is already used by tag "${other.name}"; clear it there first`,
      'conflict',
    );
}

export interface TagFields {
  name?: string;
  colour?: string;
  hotkey?: number | null;
  description?: string;
}

/**
 * Writes a new tag row, unchecked (callers check name and hotkey); with no colour given it takes
 * the palette's next one after the dataset's `existing` tags. Returns the tag's id.
 */
export function insertTag(
  db: Db,
  datasetId: number,
  name: string,
  fields: TagFields,
  existing: number,
): number {
  return Number(
    db
      .prepare(
        'INSERT INTO tags (dataset_id, name, colour, hotkey, description, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        datasetId,
        name,
        fields.colour ?? TAG_PALETTE[existing % TAG_PALETTE.length],
        fields.hotkey ?? null,
        fields.description ?? '',
        new Date().toISOString(),
      ).lastInsertRowid,
  );
}

export function createTag(
  db: Db,
  datasetId: number,
  reviewerId: number,
  fields: TagFields & { name: string },
): TagInfo {
  return db
    .transaction(() => {
      if (!db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(datasetId))
        throw new WorkstationError(`no dataset with id ${datasetId}`, 'not-found');
      const name = fields.name.trim();
      checkName(db, datasetId, name);
      checkHotkey(db, datasetId, fields.hotkey);
      const n = db.prepare('SELECT COUNT(*) FROM tags WHERE dataset_id = ?').pluck().get(datasetId) as number;
      const id = insertTag(db, datasetId, name, fields, n);
      recordAudit(db, datasetId, reviewerId, `created tag "${name}"`, { action: 'tags.create', tagId: id });
      return tagInfo(db, id);
    })
    .immediate();
}

export function updateTag(db: Db, tagId: number, reviewerId: number, fields: TagFields): TagInfo {
  return db
    .transaction(() => {
      const before = getTag(db, tagId);
      const name = fields.name?.trim() ?? before.name;
      checkName(db, before.dataset_id, name, tagId);
      if (fields.hotkey !== undefined) checkHotkey(db, before.dataset_id, fields.hotkey, tagId);
      const after = {
        name,
        colour: fields.colour ?? before.colour,
        hotkey: fields.hotkey === undefined ? before.hotkey : fields.hotkey,
        description: fields.description ?? before.description,
      };
      db.prepare('UPDATE tags SET name = ?, colour = ?, hotkey = ?, description = ? WHERE id = ?').run(
        after.name,
        after.colour,
        after.hotkey,
        after.description,
        tagId,
      );
      const what =
        after.name !== before.name
          ? `renamed tag "${before.name}" to "${after.name}"`
          : `edited tag "${after.name}"`;
      recordAudit(db, before.dataset_id, reviewerId, what, {
        action: 'tags.update',
        tagId,
        before: {
          name: before.name,
          colour: before.colour,
          hotkey: before.hotkey,
          description: before.description,
        },
      });
      return tagInfo(db, tagId);
    })
    .immediate();
}

function imageTagRows(db: Db, tagId: number): ImageTagRow[] {
  return db
    .prepare('SELECT image_id, reviewer_id, added_at FROM image_tags WHERE tag_id = ?')
    .raw()
    .all(tagId) as ImageTagRow[];
}

export function deleteTag(db: Db, tagId: number, reviewerId: number): number {
  return db
    .transaction(() => {
      const tag = getTag(db, tagId);
      const imageTags = imageTagRows(db, tagId);
      db.prepare('DELETE FROM tags WHERE id = ?').run(tagId);
      recordAudit(db, tag.dataset_id, reviewerId, `deleted tag "${tag.name}" (${imageTags.length} images)`, {
        action: 'tags.delete',
        tag,
        imageTags,
      });
      return imageTags.length;
    })
    .immediate();
}

/** Moves every image of `source` to `target` and deletes `source`. */
export function mergeTags(db: Db, sourceId: number, targetId: number, reviewerId: number): TagInfo {
  return db
    .transaction(() => {
      const source = getTag(db, sourceId);
      const target = getTag(db, targetId);
      if (source.dataset_id !== target.dataset_id)
        throw new WorkstationError('tags of different datasets cannot be merged', 'bad-params');
      if (sourceId === targetId)
        throw new WorkstationError('a tag cannot be merged into itself', 'bad-params');
      const sourceImageTags = imageTagRows(db, sourceId);
      const added = applyIds(
        db,
        targetId,
        sourceImageTags.map((r) => r[0]),
        reviewerId,
      );
      db.prepare('DELETE FROM tags WHERE id = ?').run(sourceId);
      recordAudit(db, source.dataset_id, reviewerId, `merged tag "${source.name}" into "${target.name}"`, {
        action: 'tags.merge',
        source,
        sourceImageTags,
        targetId,
        addedToTarget: added,
      });
      return tagInfo(db, targetId);
    })
    .immediate();
}

/** The image ids of a selection, restricted to the dataset. */
export function selectionIds(db: Db, datasetId: number, selection: Selection): number[] {
  if ('query' in selection) {
    if (selection.query.datasetId !== datasetId)
      throw new WorkstationError('the selection query is for another dataset', 'bad-params');
    return selectImageIds(db, selection.query);
  }
  return db
    .prepare(
      'SELECT id FROM images WHERE dataset_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id',
    )
    .pluck()
    .all(datasetId, JSON.stringify(selection.imageIds)) as number[];
}

/** Adds the tag where missing; returns the ids that gained it. */
function applyIds(db: Db, tagId: number, imageIds: number[], reviewerId: number): number[] {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO image_tags (image_id, tag_id, reviewer_id, added_at) VALUES (?, ?, ?, ?)',
  );
  const event = db.prepare(
    "INSERT INTO tag_events (image_id, tag_id, reviewer_id, action, at) VALUES (?, ?, ?, 'add', ?)",
  );
  const now = new Date().toISOString();
  const added: number[] = [];
  for (const id of imageIds) {
    if (insert.run(id, tagId, reviewerId, now).changes) {
      event.run(id, tagId, reviewerId, now);
      added.push(id);
    }
  }
  return added;
}

export function applyTag(db: Db, tagId: number, selection: Selection, reviewerId: number): number {
  return db
    .transaction(() => {
      const tag = getTag(db, tagId);
      const added = applyIds(db, tagId, selectionIds(db, tag.dataset_id, selection), reviewerId);
      if (added.length)
        recordAudit(db, tag.dataset_id, reviewerId, `tagged ${added.length} image(s) "${tag.name}"`, {
          action: 'tags.apply',
          tagId,
          imageIds: added,
        });
      return added.length;
    })
    .immediate();
}

export function removeTag(db: Db, tagId: number, selection: Selection, reviewerId: number): number {
  return db
    .transaction(() => {
      const tag = getTag(db, tagId);
      const ids = selectionIds(db, tag.dataset_id, selection);
      const get = db
        .prepare('SELECT image_id, reviewer_id, added_at FROM image_tags WHERE image_id = ? AND tag_id = ?')
        .raw();
      const remove = db.prepare('DELETE FROM image_tags WHERE image_id = ? AND tag_id = ?');
      const event = db.prepare(
        "INSERT INTO tag_events (image_id, tag_id, reviewer_id, action, at) VALUES (?, ?, ?, 'remove', ?)",
      );
      const now = new Date().toISOString();
      const removed: ImageTagRow[] = [];
      for (const id of ids) {
        const row = get.get(id, tagId) as ImageTagRow | undefined;
        if (!row) continue;
        remove.run(id, tagId);
        event.run(id, tagId, reviewerId, now);
        removed.push(row);
      }
      if (removed.length)
        recordAudit(
          db,
          tag.dataset_id,
          reviewerId,
          `removed tag "${tag.name}" from ${removed.length} image(s)`,
          {
            action: 'tags.remove',
            tagId,
            removed,
          },
        );
      return removed.length;
    })
    .immediate();
}

/** Finds a tag by name in a dataset, creating it when `create` is set. */
export function tagByName(
  db: Db,
  datasetId: number,
  name: string,
  reviewerId: number,
  create: boolean,
): number {
  const id = db
    .prepare('SELECT id FROM tags WHERE dataset_id = ? AND name = ?')
    .pluck()
    .get(datasetId, name) as number | undefined;
  if (id !== undefined) return id;
  if (!create) throw new WorkstationError(`no tag "${name}" in this dataset`, 'not-found');
  return createTag(db, datasetId, reviewerId, { name }).id;
}
