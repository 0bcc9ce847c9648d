// Moving tags between reviewers who work offline: export writes each image's latest add/remove
// event per tag as JSON; import matches images by content hash (the path as a fallback), unions
// tags per image, lets the later event win for one image and tag, and lists the conflicts (the same
// image and tag added by one reviewer and removed by another).
import fs from 'node:fs';
import { z } from 'zod';
import { WorkstationError } from '../datasets/importFolder';
import type { Db } from '../store/openDatabase';
import { reviewerId } from '../store/reviewers';
import { insertTag } from './tagStore';

const TagEvent = z.object({
  contentHash: z.string(),
  path: z.string(),
  tag: z.string().min(1),
  action: z.enum(['add', 'remove']),
  reviewer: z.string().min(1),
  at: z.string().min(1),
});

export const TagExchangeFile = z.object({
  format: z.literal('vsw-tags'),
  version: z.literal(1),
  dataset: z.string(),
  exportedBy: z.string(),
  exportedAt: z.string(),
  tags: z.array(
    z.object({
      name: z.string().min(1),
      colour: z.string(),
      hotkey: z.number().int().min(1).max(9).nullable(),
      description: z.string(),
    }),
  ),
  events: z.array(TagEvent),
});
export type TagExchangeFile = z.infer<typeof TagExchangeFile>;

export function exportTags(db: Db, datasetId: number, exportedBy: string): TagExchangeFile {
  const dataset = db.prepare('SELECT name FROM datasets WHERE id = ?').pluck().get(datasetId) as
    string | undefined;
  if (dataset === undefined) throw new WorkstationError(`no dataset with id ${datasetId}`, 'not-found');
  const tags = db
    .prepare('SELECT name, colour, hotkey, description FROM tags WHERE dataset_id = ? ORDER BY name')
    .all(datasetId) as TagExchangeFile['tags'];
  // The latest event of every (image, tag) pair: ties broken by event id.
  const events = db
    .prepare(
      `SELECT i.content_hash AS contentHash, i.rel_path AS path, t.name AS tag, e.action, r.name AS reviewer, e.at
       FROM tag_events e JOIN images i ON i.id = e.image_id JOIN tags t ON t.id = e.tag_id
       JOIN reviewers r ON r.id = e.reviewer_id
       WHERE i.dataset_id = ? AND e.id = (SELECT e2.id FROM tag_events e2 WHERE e2.image_id = e.image_id
         AND e2.tag_id = e.tag_id ORDER BY e2.at DESC, e2.id DESC LIMIT 1)
       ORDER BY i.rel_path, t.name`,
    )
    .all(datasetId) as TagExchangeFile['events'];
  return {
    format: 'vsw-tags',
    version: 1,
    dataset,
    exportedBy,
    exportedAt: new Date().toISOString(),
    tags,
    events,
  };
}

export interface TagImportReport {
  tagsCreated: string[];
  added: number;
  removed: number;
  unchanged: number;
  unmatched: { path: string; contentHash: string }[];
  conflicts: { path: string; tag: string; added: string; removed: string; winner: 'add' | 'remove' }[];
}

export function readTagFile(file: string): TagExchangeFile {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new WorkstationError(`cannot read ${file} as JSON: ${(error as Error).message}`, 'bad-file');
  }
  const parsed = TagExchangeFile.safeParse(json);
  if (!parsed.success)
    throw new WorkstationError(
      `${file} is not a tags file written by \`vsw tags export\`: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
      'bad-file',
    );
  return parsed.data;
}

export function importTags(db: Db, datasetId: number, file: TagExchangeFile): TagImportReport {
  const report: TagImportReport = {
    tagsCreated: [],
    added: 0,
    removed: 0,
    unchanged: 0,
    unmatched: [],
    conflicts: [],
  };
  return db
    .transaction(() => {
      const tagIds = new Map<string, number>();
      for (const row of db.prepare('SELECT id, name FROM tags WHERE dataset_id = ?').all(datasetId) as {
        id: number;
        name: string;
      }[])
        tagIds.set(row.name, row.id);
      const hotkeyTaken = db.prepare('SELECT 1 FROM tags WHERE dataset_id = ? AND hotkey = ?');
      const createTag = (name: string) => {
        const spec = file.tags.find((t) => t.name === name);
        const hotkey = spec?.hotkey && !hotkeyTaken.get(datasetId, spec.hotkey) ? spec.hotkey : null;
        const id = insertTag(
          db,
          datasetId,
          name,
          { colour: spec?.colour, hotkey, description: spec?.description },
          tagIds.size,
        );
        tagIds.set(name, id);
        report.tagsCreated.push(name);
        return id;
      };
      for (const t of file.tags) if (!tagIds.has(t.name)) createTag(t.name);
      const byHash = db.prepare('SELECT id FROM images WHERE dataset_id = ? AND content_hash = ?').pluck();
      const byPath = db.prepare('SELECT id FROM images WHERE dataset_id = ? AND rel_path = ?').pluck();
      const latest = db.prepare(
        `SELECT e.action, e.at, r.name AS reviewer FROM tag_events e JOIN reviewers r ON r.id = e.reviewer_id
         WHERE e.image_id = ? AND e.tag_id = ? ORDER BY e.at DESC, e.id DESC LIMIT 1`,
      );
      const addTag = db.prepare(
        'INSERT OR REPLACE INTO image_tags (image_id, tag_id, reviewer_id, added_at) VALUES (?, ?, ?, ?)',
      );
      const removeTag = db.prepare('DELETE FROM image_tags WHERE image_id = ? AND tag_id = ?');
      const event = db.prepare(
        'INSERT INTO tag_events (image_id, tag_id, reviewer_id, action, at) VALUES (?, ?, ?, ?, ?)',
      );
      for (const e of file.events) {
        let images = byHash.all(datasetId, e.contentHash) as number[];
        if (!images.length) images = byPath.all(datasetId, e.path) as number[];
        if (!images.length) {
          report.unmatched.push({ path: e.path, contentHash: e.contentHash });
          continue;
        }
        const tagId = tagIds.get(e.tag) ?? createTag(e.tag);
        const who = reviewerId(db, e.reviewer);
        for (const imageId of images) {
          const local = latest.get(imageId, tagId) as
            { action: 'add' | 'remove'; at: string; reviewer: string } | undefined;
          if (local && local.action !== e.action && local.reviewer !== e.reviewer) {
            const incomingWins = e.at > local.at;
            report.conflicts.push({
              path: e.path,
              tag: e.tag,
              added: e.action === 'add' ? e.reviewer : local.reviewer,
              removed: e.action === 'remove' ? e.reviewer : local.reviewer,
              winner: incomingWins ? e.action : local.action,
            });
          }
          if (local && local.at >= e.at) {
            report.unchanged++;
            continue;
          }
          event.run(imageId, tagId, who, e.action, e.at);
          if (e.action === 'add') {
            addTag.run(imageId, tagId, who, e.at);
            report.added++;
          } else {
            removeTag.run(imageId, tagId);
            report.removed++;
          }
        }
      }
      return report;
    })
    .immediate();
}
