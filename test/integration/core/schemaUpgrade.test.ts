// Databases written by earlier schema versions (built here with the released migrations' own SQL,
// then filled as those versions filled them) open, migrate to the current version and keep every
// row; an export interrupted under version 2 (its plan frozen as image ids only) resumes.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { exportKey } from '../../../electron/workstation/jobs/exportJob';
import type { ExportJobParams } from '../../../electron/workstation/jobs/startJobs';
import { migrations } from '../../../electron/workstation/store/migrations';
import { writeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/tempDir';
import { integrityOk, peek, vswOk } from './coreKit';

const CURRENT = Math.max(...migrations.map((m) => m.version));

/** A database at schema `version`, made by the migrations up to it, as that release made it. */
function databaseAt(dataDir: string, version: number): Database.Database {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'vsw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  for (const m of migrations.filter((m) => m.version <= version)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(
      m.version,
      m.name,
      '2026-11-01T00:00:00Z',
    );
  }
  return db;
}

function addImages(db: Database.Database, root: string, files: string[]): void {
  const now = '2026-11-01T00:00:00Z';
  db.prepare("INSERT INTO datasets (id, name, created_at) VALUES (1, 'old', ?)").run(now);
  db.prepare('INSERT INTO dataset_roots (id, dataset_id, path) VALUES (1, 1, ?)').run(root);
  const insert = db.prepare(
    `INSERT INTO images (id, dataset_id, root_id, rel_path, content_hash, size_bytes, mtime_ms, width, height, format, label, added_at)
     VALUES (?, 1, 1, ?, ?, ?, 0, 32, 24, 'png', 'cat', ?)`,
  );
  files.forEach((rel, k) =>
    insert.run(k + 1, rel, `hash${k}`.padEnd(64, '0'), fs.statSync(path.join(root, rel)).size, now),
  );
}

function versions(dataDir: string): number[] {
  const db = peek(dataDir);
  try {
    return db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[];
  } finally {
    db.close();
  }
}

test('a version-2 database with an interrupted export migrates, keeps its rows, and the export resumes as frozen', async (t) => {
  const scratch = tempDir(t, 'vsw-upgrade-');
  const root = path.join(scratch, 'images');
  const files = ['a.png', 'b.png', 'c.png', 'd.png', 'e.png'];
  for (const rel of files) await writeImage(path.join(root, rel));
  const dataDir = path.join(scratch, 'data');
  const db = databaseAt(dataDir, 2);
  addImages(db, root, files);
  const now = '2026-11-02T00:00:00Z';
  db.prepare("INSERT INTO reviewers (id, name) VALUES (1, 'old-reviewer')").run();
  db.prepare(
    "INSERT INTO tags (id, dataset_id, name, colour, created_at) VALUES (1, 1, 'neg', '#ff0000', ?)",
  ).run(now);
  for (let id = 1; id <= 5; id++) {
    db.prepare('INSERT INTO image_tags VALUES (?, 1, 1, ?)').run(id, now);
    db.prepare(
      "INSERT INTO tag_events (image_id, tag_id, reviewer_id, action, at) VALUES (?, 1, 1, 'add', ?)",
    ).run(id, now);
  }
  // An export started under version 2 by a process that is gone: its plan froze images 1-3 only
  // (the other two were tagged after it started).
  const out = path.join(scratch, 'export');
  const params = {
    query: { datasetId: 1, sort: { by: 'path', seed: 0 } },
    tags: ['neg'],
    layout: 'imagefolder',
    group: 'tag',
    manifests: ['csv'],
    media: 'copy',
    out,
  } as ExportJobParams;
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
  db.prepare(
    `INSERT INTO jobs (id, kind, key, params, status, total, pid, host, created_at, updated_at)
     VALUES (7, 'export', ?, ?, 'running', 3, ?, ?, ?, ?)`,
  ).run(exportKey(params), JSON.stringify(params), deadPid, os.hostname(), now, now);
  for (let seq = 0; seq < 3; seq++)
    db.prepare('INSERT INTO export_items (job_id, seq, image_id) VALUES (7, ?, ?)').run(seq, seq + 1);
  db.close();
  assert.deepEqual(versions(dataDir), [1, 2]);

  // Any command opens and migrates it: here the stats of the old dataset.
  const stats = JSON.parse(vswOk('stats', '--dataset', 'old', '--json', '--data-dir', dataDir)) as {
    images: number;
    tags: { name: string; count: number }[];
  };
  assert.equal(stats.images, 5);
  assert.deepEqual(
    stats.tags.map((x) => [x.name, x.count]),
    [['neg', 5]],
  );
  assert.deepEqual(
    versions(dataDir),
    migrations.map((m) => m.version),
  );
  const check = peek(dataDir);
  t.after(() => check.close());
  assert.deepEqual(check.pragma('foreign_key_check'), []);
  const columns = (check.prepare('PRAGMA table_info(export_items)').all() as { name: string }[]).map(
    (c) => c.name,
  );
  assert.ok(columns.includes('plan') && columns.includes('skipped'), columns.join(', '));
  assert.equal(check.prepare('SELECT COUNT(*) FROM tag_events').pluck().get(), 5);
  assert.equal(check.prepare('SELECT COUNT(*) FROM export_items WHERE job_id = 7').pluck().get(), 3);
  integrityOk(dataDir);

  // The interrupted export resumes from the CLI with the images its plan froze.
  const result = JSON.parse(vswOk('jobs', 'resume', '7', '--json', '--data-dir', dataDir)) as {
    images: number;
    selected: number;
  };
  assert.equal(result.selected, 3);
  assert.equal(result.images, 3);
  assert.deepEqual(fs.readdirSync(path.join(out, 'neg')).sort(), ['a.png', 'b.png', 'c.png']);
  assert.equal(check.prepare('SELECT status FROM jobs WHERE id = 7').pluck().get(), 'done');
});

test('a version-1 database migrates through every later version to the current one', async (t) => {
  const scratch = tempDir(t, 'vsw-upgrade-');
  const root = path.join(scratch, 'images');
  await writeImage(path.join(root, 'only.png'));
  const dataDir = path.join(scratch, 'data');
  const db = databaseAt(dataDir, 1);
  addImages(db, root, ['only.png']);
  db.close();
  const listed = vswOk('stats', '--dataset', 'old', '--json', '--data-dir', dataDir);
  assert.equal((JSON.parse(listed) as { images: number }).images, 1);
  assert.deepEqual(
    versions(dataDir),
    migrations.map((m) => m.version),
  );
  assert.ok(CURRENT >= 3);
  const check = peek(dataDir);
  t.after(() => check.close());
  assert.deepEqual(
    check.prepare("SELECT split, note, status FROM images WHERE rel_path = 'only.png'").get(),
    { split: 'pool', note: null, status: 'ok' },
  );
  integrityOk(dataDir);
});
