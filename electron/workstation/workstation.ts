// The workstation's services behind one object: what the service process, the CLI and the tests
// call. It owns the database connection and the cache folder of one data directory.
import path from 'node:path';
import type { DatasetSummary, ImageItem, ImportReport, ServiceEvent } from '../contract/protocol';
import { importFolder, rootIdFor, WorkstationError } from './datasets/importFolder';
import { attachMaskFolder, siblingMaskFolder } from './datasets/attachMasks';
import { resolveDatasetFile } from './media/resolveDatasetFile';
import { ensureThumbnail, type ThumbnailSize } from './media/thumbnails';
import { openDatabase, type Db } from './store/openDatabase';
import { reviewerId } from './store/reviewers';
import { JobRunner } from './jobs/jobRunner';
import { SaliencyStore } from './saliency/saliencyStore';
import type { JobHost } from './jobs/startJobs';
import { importManifest, isManifestFile } from './datasets/importManifest';
import { readMappingFile, storeMapping, storedMapping } from './labels/labelMapping';
import fs from 'node:fs';

export interface WorkstationOptions {
  dataDir: string;
  reviewer: string;
}

export class Workstation {
  readonly db: Db;
  readonly cacheDir: string;
  readonly embeddingsDir: string;
  readonly jobs: JobRunner;
  private readonly listeners = new Set<(event: ServiceEvent) => void>();
  private reviewer?: number;

  constructor(readonly options: WorkstationOptions) {
    this.db = openDatabase(options.dataDir);
    this.cacheDir = path.join(options.dataDir, 'cache');
    this.embeddingsDir = path.join(options.dataDir, 'embeddings');
    this.jobs = new JobRunner(this.db, (event) => this.emit(event));
    this.saliency = new SaliencyStore(this.db, this.cacheDir);
  }

  readonly saliency: SaliencyStore;
  /** Where jobs write messages (provider fallbacks, unmapped labels); the CLI sets stderr. */
  log: (message: string) => void = () => undefined;

  /** What job bodies need: the database, the runner, caches and the reviewer. */
  get jobHost(): JobHost {
    return {
      db: this.db,
      jobs: this.jobs,
      cacheDir: this.cacheDir,
      embeddingsDir: this.embeddingsDir,
      reviewerName: this.options.reviewer,
      reviewerId: this.reviewerId,
      saliency: this.saliency,
      log: (m) => this.log(m),
    };
  }

  /** Job progress and change events, for the service to push to its clients (and the CLI's bar). */
  onEvent(listener: (event: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ServiceEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Changes the reviewer recorded on events from now on (Settings → Reviewer name). */
  setReviewer(name: string): void {
    this.options.reviewer = name;
    this.reviewer = undefined;
  }

  /** The id of this session's reviewer (created on first use). */
  get reviewerId(): number {
    this.reviewer ??= reviewerId(this.db, this.options.reviewer);
    return this.reviewer;
  }

  async close(): Promise<void> {
    await this.saliency.close();
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
    mappingFile?: string,
    masksFolder?: string,
  ): Promise<{
    dataset: DatasetSummary;
    report: ImportReport;
    runId?: number | null;
    unmappedLabels?: string[];
  }> {
    const root = path.resolve(folder);
    const mapping = mappingFile ? readMappingFile(mappingFile) : new Map<string, string>();
    if (isManifestFile(root) && fs.existsSync(root) && fs.statSync(root).isFile()) {
      const datasetId =
        (name
          ? (this.db.prepare('SELECT id FROM datasets WHERE name = ?').pluck().get(name) as
              number | undefined)
          : undefined) ?? this.createDataset(name ?? path.basename(root).replace(/\.[^.]*$/, ''));
      storeMapping(this.db, datasetId, mapping);
      const result = await importManifest(
        this.db,
        datasetId,
        root,
        storedMapping(this.db, datasetId),
        onProgress,
      );
      if (masksFolder) await this.attachMasks(result.report, masksFolder, false);
      return { dataset: this.datasetSummary(datasetId), ...result };
    }
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
      const sibling = masksFolder ? null : await siblingMaskFolder(root);
      const report = await importFolder(
        this.db,
        datasetId,
        root,
        onProgress,
        sibling?.inside ? 'masks' : undefined,
      );
      const masks = masksFolder ?? sibling?.folder;
      if (masks) await this.attachMasks(report, masks, sibling?.inside ?? false);
      storeMapping(this.db, datasetId, mapping);
      return { dataset: this.datasetSummary(datasetId), report };
    } catch (error) {
      // A dataset created for a folder that could not be imported at all is not kept.
      if (created) this.db.prepare('DELETE FROM datasets WHERE id = ?').run(datasetId);
      throw error;
    }
  }

  /** Attaches a mask folder to the images of an import's root and records it in its report. */
  private async attachMasks(report: ImportReport, folder: string, skippedAsImages: boolean): Promise<void> {
    const rootId = rootIdFor(this.db, report.datasetId, report.root);
    report.masks = await attachMaskFolder(this.db, rootId, folder, skippedAsImages);
    this.db
      .prepare(
        'UPDATE import_reports SET report = ? WHERE id = (SELECT MAX(id) FROM import_reports WHERE dataset_id = ?)',
      )
      .run(JSON.stringify(report), report.datasetId);
  }

  /** The dataset called `name`, or a clear error listing the ones there are. */
  datasetByName(name: string): number {
    const id = this.db.prepare('SELECT id FROM datasets WHERE name = ?').pluck().get(name) as
      number | undefined;
    if (id !== undefined) return id;
    const names = this.db.prepare('SELECT name FROM datasets ORDER BY name').pluck().all() as string[];
    throw new WorkstationError(
      `no dataset named "${name}"; ${names.length ? `there are: ${names.join(', ')}` : 'import one first with `vsw import`'}`,
      'not-found',
    );
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
  async mediaFile(
    kind: 'original' | 'thumb' | 'mask',
    datasetId: number,
    relPath: string,
    size: ThumbnailSize = 128,
  ) {
    const file = await resolveDatasetFile(this.db, datasetId, relPath);
    if (kind === 'original') return file.absPath;
    if (kind === 'mask') {
      const mask = this.db.prepare('SELECT mask_path FROM images WHERE id = ?').pluck().get(file.imageId) as
        string | null;
      if (!mask) throw new WorkstationError(`${relPath} has no mask`, 'not-found');
      return mask;
    }
    return ensureThumbnail(this.cacheDir, file.absPath, file.contentHash, size);
  }
}
