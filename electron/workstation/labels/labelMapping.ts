// Maps dataset labels (folder names, manifest columns) onto a model's labels: an explicit mapping
// first, then the exact name, then a normalised one (case, `/`, `_`, spaces). Whatever is left is
// reported as unmapped, never dropped silently.
import fs from 'node:fs';
import { WorkstationError } from '../datasets/importFolder';
import { parseCsv } from '../datasets/csv';
import type { Db } from '../store/openDatabase';

export function normaliseLabel(label: string): string {
  return label
    .trim()
    .toLowerCase()
    .replace(/[/_\s]+/g, '_');
}

export interface LabelMapping {
  /** dataset label → index in the model's labels */
  index: Map<string, number>;
  unmapped: string[];
  how: Record<string, 'explicit' | 'exact' | 'normalised'>;
}

export function mapLabels(
  datasetLabels: Iterable<string>,
  modelLabels: readonly string[],
  explicit: ReadonlyMap<string, string> = new Map(),
): LabelMapping {
  const exact = new Map(modelLabels.map((l, i) => [l, i]));
  const normalised = new Map<string, number>();
  modelLabels.forEach((l, i) => {
    if (!normalised.has(normaliseLabel(l))) normalised.set(normaliseLabel(l), i);
  });
  const index = new Map<string, number>();
  const how: LabelMapping['how'] = {};
  const unmapped: string[] = [];
  for (const label of new Set(datasetLabels)) {
    const wanted = explicit.get(label);
    if (wanted !== undefined && exact.has(wanted)) {
      index.set(label, exact.get(wanted)!);
      how[label] = 'explicit';
    } else if (exact.has(label)) {
      index.set(label, exact.get(label)!);
      how[label] = 'exact';
    } else if (normalised.has(normaliseLabel(label))) {
      index.set(label, normalised.get(normaliseLabel(label))!);
      how[label] = 'normalised';
    } else unmapped.push(label);
  }
  unmapped.sort();
  return { index, unmapped, how };
}

/** Reads a mapping file: JSON `{"dataset label": "model label"}` or CSV with two columns from,to. */
export function readMappingFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new WorkstationError(
      `cannot read the label mapping file ${file}: ${(error as Error).message}`,
      'not-found',
    );
  }
  if (file.toLowerCase().endsWith('.json')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new WorkstationError(`${file} is not valid JSON: ${(error as Error).message}`, 'bad-mapping');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw new WorkstationError(
        `${file} must be a JSON object {"dataset label": "model label", …}`,
        'bad-mapping',
      );
    const map = new Map<string, string>();
    for (const [k, v] of Object.entries(json)) {
      if (typeof v !== 'string')
        throw new WorkstationError(`${file}: the value for "${k}" must be a label string`, 'bad-mapping');
      map.set(k, v);
    }
    return map;
  }
  const rows = parseCsv(text);
  const start = rows.length && /^(from|source|label)$/i.test(rows[0][0] ?? '') ? 1 : 0;
  const map = new Map<string, string>();
  for (const row of rows.slice(start)) {
    if (row.length < 2 || !row[0])
      throw new WorkstationError(`${file}: every line needs two columns, from,to`, 'bad-mapping');
    map.set(row[0], row[1]);
  }
  return map;
}

/** The explicit mapping stored with a dataset (import --mapping), used by every later predict. */
export function storedMapping(db: Db, datasetId: number): Map<string, string> {
  return new Map(
    db.prepare('SELECT source, target FROM label_mappings WHERE dataset_id = ?').raw().all(datasetId) as [
      string,
      string,
    ][],
  );
}

export function storeMapping(db: Db, datasetId: number, mapping: ReadonlyMap<string, string>): void {
  const put = db.prepare(
    'INSERT OR REPLACE INTO label_mappings (dataset_id, source, target) VALUES (?, ?, ?)',
  );
  db.transaction(() => mapping.forEach((target, source) => put.run(datasetId, source, target)))();
}
