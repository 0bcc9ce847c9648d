// The workstation's services behind one object: what the service process, the CLI and the tests
// call. It owns the database connection and the cache folder of one data directory.
import path from 'node:path';
import type { DatasetSummary, ImageItem, ImportReport } from '../contract/protocol';
import { importFolder, WorkstationError } from './datasets/importFolder';
import { resolveDatasetFile } from './media/resolveDatasetFile';
import { ensureThumbnail, type ThumbnailSize } from './media/thumbnails';
import { openDatabase, type Db } from './store/openDatabase';

export interface WorkstationOptions {
  dataDir: string;
  reviewer: string;
}

export class Workstation {
  readonly db: Db;
  readonly cacheDir: string;

  constructor(readonly options: WorkstationOptions) {
    this.db = openDatabase(options.dataDir);
    this.cacheDir = path.join(options.dataDir, 'cache');
  }

  close(): void {
    this.db.close();
  }

  listDatasets(): DatasetSummary[] {
    const rows = this.db.prepare('SELECT id FROM datasets ORDER BY id').pluck().all() as number[];
    return rows.map((id) => this.datasetSummary(id));
  }

  datasetSummary(datasetId: number): DatasetSummary {
    const row = this.db.prepare('SELECT id, name, created_at FROM datasets WHERE id = ?').get(datasetId) as
      { id: number; name: string; created_at: string } | undefined;
    if (!row) throw new WorkstationError(`no dataset with id ${datasetId}`, 'not-found');
    const roots = this.db
      .prepare('SELECT path FROM dataset_roots WHERE dataset_id = ? ORDER BY id')
      .pluck()
      .all(datasetId) as string[];
    const labels = this.db
      .prepare(
        `SELECT COALESCE(label, '') AS label, COUNT(*) AS count FROM images WHERE dataset_id = ?
         GROUP BY label ORDER BY label`,
      )
      .all(datasetId) as { label: string; count: number }[];
    const imageCount = labels.reduce((sum, l) => sum + l.count, 0);
    return { id: row.id, name: row.name, roots, imageCount, labels, createdAt: row.created_at };
  }

  /** Adds a folder to the dataset `name` (created if new), or re-imports it if it is already a root. */
  async addDataset(
    folder: string,
    name: string | undefined,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ dataset: DatasetSummary; report: ImportReport }> {
    const root = path.resolve(folder);
    let datasetId: number | undefined;
    if (name) {
      datasetId = this.db.prepare('SELECT id FROM datasets WHERE name = ?').pluck().get(name) as
        number | undefined;
    } else {
      datasetId = this.db
        .prepare('SELECT dataset_id FROM dataset_roots WHERE path = ? ORDER BY id LIMIT 1')
        .pluck()
        .get(root) as number | undefined;
    }
    const created = datasetId === undefined;
    if (datasetId === undefined) datasetId = this.createDataset(name ?? (path.basename(root) || 'dataset'));
    try {
      const report = await importFolder(this.db, datasetId, root, onProgress);
      return { dataset: this.datasetSummary(datasetId), report };
    } catch (error) {
      // A dataset created for a folder that could not be imported at all is not kept.
      if (created) this.db.prepare('DELETE FROM datasets WHERE id = ?').run(datasetId);
      throw error;
    }
  }

  private createDataset(wanted: string): number {
    const exists = this.db.prepare('SELECT 1 FROM datasets WHERE name = ?').pluck();
    let name = wanted;
    for (let n = 2; exists.get(name); n++) name = `${wanted} (${n})`;
    return Number(
      this.db
        .prepare('INSERT INTO datasets (name, created_at) VALUES (?, ?)')
        .run(name, new Date().toISOString()).lastInsertRowid,
    );
  }

  lastImport(datasetId: number): ImportReport | null {
    const json = this.db
      .prepare('SELECT report FROM import_reports WHERE dataset_id = ? ORDER BY id DESC LIMIT 1')
      .pluck()
      .get(datasetId) as string | undefined;
    return json ? (JSON.parse(json) as ImportReport) : null;
  }

  /** Keyset-paginated images of a dataset, in id order. */
  imagesPage(datasetId: number, after: number | undefined, limit: number) {
    this.datasetSummary(datasetId); // throws a clear error for an unknown dataset
    const items = this.db
      .prepare(
        `SELECT id, dataset_id AS datasetId, rel_path AS relPath, label, width, height, status FROM images
         WHERE dataset_id = ? AND id > ? ORDER BY id LIMIT ?`,
      )
      .all(datasetId, after ?? 0, limit) as ImageItem[];
    const total = this.db
      .prepare('SELECT COUNT(*) FROM images WHERE dataset_id = ?')
      .pluck()
      .get(datasetId) as number;
    return { items, total, nextAfter: items.length === limit ? items[items.length - 1].id : null };
  }

  /** The file on disk for a media request, after the containment checks. */
  async mediaFile(kind: 'original' | 'thumb', datasetId: number, relPath: string, size: ThumbnailSize = 128) {
    const file = await resolveDatasetFile(this.db, datasetId, relPath);
    if (kind === 'original') return file.absPath;
    return ensureThumbnail(this.cacheDir, file.absPath, file.contentHash, size);
  }
}
