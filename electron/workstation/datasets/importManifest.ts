// Imports a CSV or JSONL manifest (path,label[,prediction,score][,split][,mask]): the listed images are
// recorded under the folder that holds them all, with the manifest's labels. Predictions brought
// from elsewhere become a run without a model (top-1 and score only).
import fs from 'node:fs';
import path from 'node:path';
import type { ImportReport } from '../../contract/protocol';
import { SPLITS } from '../../contract/query';
import { mapLabels } from '../labels/labelMapping';
import type { Db } from '../store/openDatabase';
import { parseCsv } from './csv';
import {
  emptyReport,
  finishReport,
  recordFiles,
  rootIdFor,
  WorkstationError,
  type FileToRecord,
} from './importFolder';

export interface ManifestRow {
  line: number;
  path: string;
  label: string | null;
  prediction: string | null;
  score: number | null;
  split: string | null;
  /** A mask of the deciding region, relative to the manifest's folder. */
  mask: string | null;
}

export function isManifestFile(file: string): boolean {
  return /\.(csv|jsonl|ndjson)$/i.test(file);
}

export function readManifest(file: string): ManifestRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new WorkstationError(`cannot read the manifest ${file}: ${(error as Error).message}`, 'not-found');
  }
  const rows: ManifestRow[] = [];
  const str = (v: unknown) => (v === undefined || v === null || v === '' ? null : String(v));
  const num = (v: unknown, line: number) => {
    if (v === undefined || v === null || v === '') return null;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1)
      throw new WorkstationError(
        `${file}:${line}: score must be a number from 0 to 1; got "${String(v)}"`,
        'bad-manifest',
      );
    return n;
  };
  if (/\.csv$/i.test(file)) {
    const [header, ...body] = parseCsv(text);
    const columns = (header ?? []).map((h) => h.trim().toLowerCase());
    const col = (name: string) => columns.indexOf(name);
    if (col('path') < 0)
      throw new WorkstationError(
        `${file}: the first line must be a header with a "path" column (path,label[,prediction,score][,split])`,
        'bad-manifest',
      );
    body.forEach((cells, k) => {
      const get = (name: string) => (col(name) >= 0 ? cells[col(name)] : undefined);
      rows.push({
        line: k + 2,
        path: get('path') ?? '',
        label: str(get('label')),
        prediction: str(get('prediction')),
        score: num(get('score'), k + 2),
        split: str(get('split')),
        mask: str(get('mask')),
      });
    });
  } else {
    text.split(/\r?\n/).forEach((raw, k) => {
      if (!raw.trim()) return;
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(raw) as Record<string, unknown>;
      } catch (error) {
        throw new WorkstationError(
          `${file}:${k + 1}: not valid JSON (${(error as Error).message})`,
          'bad-manifest',
        );
      }
      rows.push({
        line: k + 1,
        path: str(obj.path) ?? '',
        label: str(obj.label),
        prediction: str(obj.prediction),
        score: num(obj.score, k + 1),
        split: str(obj.split),
        mask: str(obj.mask),
      });
    });
  }
  return rows;
}

function commonFolder(files: string[]): string {
  let common = path.dirname(files[0]);
  for (const f of files) {
    while (common !== path.dirname(common) && !f.startsWith(common + path.sep)) common = path.dirname(common);
  }
  return common;
}

export interface ManifestImport {
  report: ImportReport;
  runId: number | null;
  unmappedLabels: string[];
}

export async function importManifest(
  db: Db,
  datasetId: number,
  manifest: string,
  explicitMapping: ReadonlyMap<string, string>,
  onProgress?: (done: number, total: number) => void,
): Promise<ManifestImport> {
  const started = performance.now();
  const file = path.resolve(manifest);
  const rows = readManifest(file);
  const base = path.dirname(file);
  const report = emptyReport(datasetId, base);
  report.scanned = rows.length;
  const seen = new Set<string>();
  const good: (ManifestRow & { abs: string })[] = [];
  for (const row of rows) {
    if (!row.path) {
      report.skipped.push({ path: `line ${row.line}`, reason: 'no path on this line' });
      continue;
    }
    const abs = path.resolve(base, row.path);
    if (seen.has(abs)) {
      report.skipped.push({
        path: row.path,
        reason: `listed twice in the manifest (again on line ${row.line})`,
      });
      continue;
    }
    seen.add(abs);
    if (row.split && !(SPLITS as readonly string[]).includes(row.split)) {
      report.skipped.push({
        path: row.path,
        reason: `split "${row.split}" is not one of ${SPLITS.join(', ')}`,
      });
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      report.skipped.push({
        path: row.path,
        reason: code === 'ELOOP' ? 'symlink loop' : 'listed in the manifest but not found on disk',
      });
      continue;
    }
    if (!stat.isFile()) {
      report.skipped.push({ path: row.path, reason: 'not a regular file' });
      continue;
    }
    good.push({ ...row, abs });
  }
  if (!good.length) {
    report.seconds = (performance.now() - started) / 1000;
    if (!rows.length) throw new WorkstationError(`${manifest} lists no images`, 'bad-manifest');
    return { report: finishReport(db, report, started), runId: null, unmappedLabels: [] };
  }
  const root = commonFolder(good.map((g) => g.abs));
  report.root = root;
  const rootId = rootIdFor(db, datasetId, root);
  const toRecord: FileToRecord[] = good.map((g) => ({
    absPath: g.abs,
    relPath: path.relative(root, g.abs).split(path.sep).join('/'),
    label: g.label,
  }));
  const ids = await recordFiles(db, datasetId, rootId, toRecord, report, onProgress);
  const setSplit = db.prepare('UPDATE images SET split = ? WHERE id = ?');
  db.transaction(() => {
    good.forEach((g, k) => {
      const id = ids.get(toRecord[k].relPath);
      if (id !== undefined && g.split) setSplit.run(g.split, id);
    });
  })();
  attachManifestMasks(db, base, good, (k) => ids.get(toRecord[k].relPath), report);

  let runId: number | null = null;
  let unmapped: string[] = [];
  const predicted = good.filter((g, k) => g.prediction !== null && ids.has(toRecord[k].relPath));
  if (predicted.length) {
    // The predicted classes are the run's label space; ground-truth labels are mapped onto them.
    const runLabels = [...new Set(predicted.map((g) => g.prediction!))].sort();
    const mapping = mapLabels(
      good.map((g) => g.label).filter((l): l is string => l !== null),
      runLabels,
      explicitMapping,
    );
    unmapped = mapping.unmapped;
    const key = `manifest:${file}`;
    const now = new Date().toISOString();
    db.prepare(
      `INSERT INTO runs (dataset_id, model_id, name, labels, settings, settings_key, status, created_at, finished_at)
       VALUES (?, NULL, ?, ?, ?, ?, 'done', ?, ?)
       ON CONFLICT (dataset_id, settings_key) DO UPDATE SET labels = excluded.labels, finished_at = excluded.finished_at`,
    ).run(
      datasetId,
      `imported from ${path.basename(file)}`,
      JSON.stringify(runLabels),
      JSON.stringify({ manifest: file, unmappedLabels: unmapped }),
      key,
      now,
      now,
    );
    runId = db
      .prepare('SELECT id FROM runs WHERE dataset_id = ? AND settings_key = ?')
      .pluck()
      .get(datasetId, key) as number;
    const insert = db.prepare(
      'INSERT OR REPLACE INTO predictions (run_id, image_id, top1, score, true_idx, probs) VALUES (?, ?, ?, ?, ?, NULL)',
    );
    db.transaction(() => {
      good.forEach((g, k) => {
        const id = ids.get(toRecord[k].relPath);
        if (id === undefined || g.prediction === null) return;
        const trueIdx = g.label === null ? null : (mapping.index.get(g.label) ?? null);
        insert.run(runId, id, runLabels.indexOf(g.prediction), g.score ?? 1, trueIdx);
      });
    })();
  }
  return { report: finishReport(db, report, started), runId, unmappedLabels: unmapped };
}

/** Records the manifest's mask column; a listed mask that is not on disk is named in the report. */
function attachManifestMasks(
  db: Db,
  base: string,
  rows: ManifestRow[],
  idOf: (k: number) => number | undefined,
  report: ImportReport,
): void {
  const listed = rows.filter((r) => r.mask !== null).length;
  if (listed === 0) return;
  const set = db.prepare('UPDATE images SET mask_path = ? WHERE id = ?');
  let attached = 0;
  db.transaction(() => {
    rows.forEach((row, k) => {
      const id = idOf(k);
      if (row.mask === null || id === undefined) return;
      const abs = path.resolve(base, row.mask);
      if (!fs.existsSync(abs)) {
        report.skipped.push({
          path: row.mask,
          reason: `mask of ${row.path} (line ${row.line}) not found on disk`,
        });
        return;
      }
      set.run(abs, id);
      attached++;
    });
  })();
  report.masks = { folder: 'manifest', attached, unmatched: 0, skippedAsImages: false };
}
