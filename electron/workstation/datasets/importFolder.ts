// Imports a folder into a dataset: records each image (path, content hash, header, ImageFolder
// label) and marks files that changed or vanished since the last import. One bad file never stops
// an import; every file that is not imported is listed in the report with the reason.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ImportReport } from '../../contract/protocol';
import type { Db } from '../store/openDatabase';
import { ImageProblem, probeImage, type ProbedImage } from './probeImage';
import { scanFolder, type ScannedFile } from './scanFolder';

export class WorkstationError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'WorkstationError';
  }
}

/** Files probed concurrently: sharp's header reads run on libuv's thread pool. */
const CONCURRENCY = 8;

interface ExistingRow {
  id: number;
  content_hash: string;
  size_bytes: number;
  mtime_ms: number;
  status: string;
}

export async function importFolder(
  db: Db,
  datasetId: number,
  folder: string,
  onProgress?: (done: number, total: number) => void,
  /** A top-level folder of the root not to import (a masks/ folder). */
  exclude?: string,
): Promise<ImportReport> {
  const started = performance.now();
  const root = path.resolve(folder);
  let stat;
  try {
    stat = await fs.stat(root);
  } catch {
    throw new WorkstationError(
      `folder "${folder}" does not exist; check the path and try again`,
      'not-found',
    );
  }
  if (!stat.isDirectory()) {
    throw new WorkstationError(
      `"${folder}" is not a folder; give the folder that holds the images`,
      'not-a-folder',
    );
  }
  try {
    await fs.access(root, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    throw new WorkstationError(`folder "${folder}" cannot be read (permission denied)`, 'unreadable');
  }

  const files: ScannedFile[] = [];
  const report = emptyReport(datasetId, root);
  await scanFolder(
    root,
    (file) => {
      if (exclude === undefined || !file.relPath.startsWith(`${exclude}/`)) files.push(file);
    },
    (problem) => report.skipped.push(problem),
  );
  const known = db
    .prepare('SELECT 1 FROM dataset_roots WHERE dataset_id = ? AND path = ?')
    .get(datasetId, root);
  const rootId = rootIdFor(db, datasetId, root);
  report.scanned = files.length + report.skipped.length;
  await recordFiles(
    db,
    datasetId,
    rootId,
    files.map((f) => ({ ...f, label: labelFromPath(f.relPath) })),
    report,
    onProgress,
  );
  if (!known && report.added + report.changed + report.unchanged === 0) {
    // A first import that finds no image is a mistake (the wrong folder), not an empty dataset. A
    // known root that is empty now is a rescan instead: its images are marked missing below.
    db.prepare('DELETE FROM dataset_roots WHERE id = ?').run(rootId);
    const example = report.skipped[0] ? `, e.g. ${report.skipped[0].path}: ${report.skipped[0].reason}` : '';
    throw new WorkstationError(
      `folder "${folder}" holds no images (${report.skipped.length} file(s) skipped${example}); ` +
        'choose the folder that holds the images',
      'no-images',
    );
  }
  const seen = new Set(files.map((f) => f.relPath));
  markMissing(db, rootId, (relPath) => !seen.has(relPath), report);
  return finishReport(db, report, started);
}

export function emptyReport(datasetId: number, root: string): ImportReport {
  return {
    datasetId,
    root,
    scanned: 0,
    added: 0,
    changed: 0,
    unchanged: 0,
    missing: 0,
    skipped: [],
    seconds: 0,
  };
}

export function rootIdFor(db: Db, datasetId: number, root: string): number {
  db.prepare('INSERT OR IGNORE INTO dataset_roots (dataset_id, path) VALUES (?, ?)').run(datasetId, root);
  return db
    .prepare('SELECT id FROM dataset_roots WHERE dataset_id = ? AND path = ?')
    .pluck()
    .get(datasetId, root) as number;
}

export interface FileToRecord extends ScannedFile {
  label: string | null;
}

/**
 * Probes and records files under one root: new ones are added, changed content is marked
 * 'changed' (tags kept), unreadable files go to the report. Returns the image id of each relPath.
 */
export async function recordFiles(
  db: Db,
  datasetId: number,
  rootId: number,
  files: FileToRecord[],
  report: ImportReport,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, number>> {
  const existing = new Map<string, ExistingRow>();
  for (const row of db
    .prepare('SELECT id, rel_path, content_hash, size_bytes, mtime_ms, status FROM images WHERE root_id = ?')
    .all(rootId) as (ExistingRow & { rel_path: string })[]) {
    existing.set(row.rel_path, row);
  }
  const ids = new Map<string, number>();
  const insert = db.prepare(`INSERT INTO images
    (dataset_id, root_id, rel_path, content_hash, size_bytes, mtime_ms, width, height, format, label, status, added_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?)`);
  const update =
    db.prepare(`UPDATE images SET content_hash = ?, size_bytes = ?, mtime_ms = ?, width = ?, height = ?,
    format = ?, label = ?, status = ? WHERE id = ?`);
  const now = new Date().toISOString();
  const batch: { file: FileToRecord; probed: ProbedImage }[] = [];
  const flush = db.transaction(() => {
    for (const { file, probed } of batch) {
      const label = file.label;
      const before = existing.get(file.relPath);
      if (!before) {
        const info = insert.run(datasetId, rootId, file.relPath, ...probedColumns(probed), label, now);
        ids.set(file.relPath, Number(info.lastInsertRowid));
        report.added++;
        continue;
      }
      ids.set(file.relPath, before.id);
      if (before.content_hash !== probed.hash) {
        update.run(...probedColumns(probed), label, 'changed', before.id);
        report.changed++;
      } else {
        if (before.status !== 'ok' || before.mtime_ms !== probed.mtimeMs) {
          update.run(
            ...probedColumns(probed),
            label,
            before.status === 'changed' ? 'changed' : 'ok',
            before.id,
          );
        }
        report.unchanged++;
      }
    }
    batch.length = 0;
  });

  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      try {
        batch.push({ file, probed: await probeImage(file.absPath) });
      } catch (error) {
        const reason =
          error instanceof ImageProblem ? error.message : `cannot be read: ${(error as Error).message}`;
        report.skipped.push({ path: file.relPath, reason });
      }
      done++;
      if (batch.length >= 500) flush();
      if (done % 200 === 0) onProgress?.(done, files.length);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  flush();
  onProgress?.(files.length, files.length);
  return ids;
}

/** The probed columns, in the order both the INSERT and the UPDATE in recordFiles list them. */
function probedColumns(probed: ProbedImage) {
  return [probed.hash, probed.sizeBytes, probed.mtimeMs, probed.width, probed.height, probed.format] as const;
}

/** Marks the root's recorded images that `gone` says vanished as missing (tags kept). */
export function markMissing(
  db: Db,
  rootId: number,
  gone: (relPath: string) => boolean,
  report: ImportReport,
): void {
  const rows = db
    .prepare("SELECT id, rel_path FROM images WHERE root_id = ? AND status <> 'missing'")
    .all(rootId) as {
    id: number;
    rel_path: string;
  }[];
  const mark = db.prepare(`UPDATE images SET status = 'missing' WHERE id = ?`);
  db.transaction(() => {
    for (const row of rows) {
      if (gone(row.rel_path)) {
        mark.run(row.id);
        report.missing++;
      }
    }
  })();
}

export function finishReport(db: Db, report: ImportReport, started: number): ImportReport {
  report.skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  report.seconds = (performance.now() - started) / 1000;
  db.prepare('INSERT INTO import_reports (dataset_id, finished_at, report) VALUES (?, ?, ?)').run(
    report.datasetId,
    new Date().toISOString(),
    JSON.stringify(report),
  );
  return report;
}

/** ImageFolder layout: the label is the name of the file's parent folder; files at the root have none. */
export function labelFromPath(relPath: string): string | null {
  const parts = relPath.split('/');
  return parts.length >= 2 ? parts[parts.length - 2] : null;
}
