// Reviewers: the name recorded on every tag event and audit entry (created on first use).
import type { Db } from './openDatabase';

export function reviewerId(db: Db, name: string): number {
  db.prepare('INSERT OR IGNORE INTO reviewers (name) VALUES (?)').run(name);
  return db.prepare('SELECT id FROM reviewers WHERE name = ?').pluck().get(name) as number;
}
