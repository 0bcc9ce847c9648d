// Re-roots a dataset whose folder moved: every root under the old folder is pointed at the new
// one; image ids (and so tags, notes, predictions) stay. Files found again are 'ok', absent ones
// 'missing'.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/openDatabase';
import { WorkstationError } from './importFolder';

export function relocateDataset(db: Db, datasetId: number, from: string, to: string) {
  const oldRoot = path.resolve(from);
  const newRoot = path.resolve(to);
  if (!fs.existsSync(newRoot) || !fs.statSync(newRoot).isDirectory())
    throw new WorkstationError(
      `the new folder ${to} does not exist; give the folder the dataset moved to`,
      'not-found',
    );
  const roots = db.prepare('SELECT id, path FROM dataset_roots WHERE dataset_id = ?').all(datasetId) as {
    id: number;
    path: string;
  }[];
  const moving = roots.filter((r) => r.path === oldRoot || r.path.startsWith(oldRoot + path.sep));
  if (!moving.length)
    throw new WorkstationError(
      `no root of this dataset is at or under ${from}; its roots are: ${roots.map((r) => r.path).join(', ') || 'none'}`,
      'not-found',
    );
  let found = 0;
  let missing = 0;
  db.transaction(() => {
    const setRoot = db.prepare('UPDATE dataset_roots SET path = ? WHERE id = ?');
    const setStatus = db.prepare(
      "UPDATE images SET status = CASE WHEN ? THEN (CASE status WHEN 'missing' THEN 'ok' ELSE status END) ELSE 'missing' END WHERE id = ?",
    );
    for (const root of moving) {
      const target = newRoot + root.path.slice(oldRoot.length);
      setRoot.run(target, root.id);
      for (const image of db.prepare('SELECT id, rel_path FROM images WHERE root_id = ?').all(root.id) as {
        id: number;
        rel_path: string;
      }[]) {
        const exists = fs.existsSync(path.join(target, image.rel_path));
        setStatus.run(exists ? 1 : 0, image.id);
        if (exists) found++;
        else missing++;
      }
    }
  }).immediate();
  const after = db
    .prepare('SELECT path FROM dataset_roots WHERE dataset_id = ? ORDER BY id')
    .pluck()
    .all(datasetId) as string[];
  return { roots: after, found, missing };
}
