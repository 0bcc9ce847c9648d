// The export job: the tagged negative set, written to a temporary folder beside the target and
// renamed into place at the end (a crash or a full disk never leaves a half export posing as a
// whole one). The whole plan (images, tags, file names, manifest fields) is frozen in export_items
// when the job first starts; each batch of files is marked done in the database, so a resumed
// export continues where it stopped and lands exactly as planned. A bad image is skipped and
// listed, never the export.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { renderOverlay } from '../../engine/heatmap';
import { computeGeometry } from '../../engine/preprocess';
import { csvField } from '../datasets/csv';
import { WorkstationError } from '../datasets/importFolder';
import { FileNamer, sanitiseSegment, tagFolderNames } from '../export/exportNames';
import { testSetLeakage, type TestSetLeakage } from '../export/testSetLeakage';
import { poolRunFor } from '../similar/findSimilar';
import { resolveTagIds, selectImageIds } from '../query/buildQuery';
import { getRun } from '../runs/runs';
import type { RunModel } from '../saliency/saliencyStore';
import type { JobContext } from './jobRunner';
import type { ExportJobParams, JobHost } from './startJobs';

export function exportKey(params: ExportJobParams): string {
  return `export:${crypto.createHash('sha256').update(JSON.stringify(params)).digest('hex')}`;
}

export function partialFolder(out: string, jobId: number): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.vsw-partial-${jobId}`);
}

/** One image of the frozen plan: everything the export writes of it, fixed when it starts. */
interface PlannedImage {
  absPath: string;
  relPath: string;
  hash: string;
  label: string | null;
  width: number;
  height: number;
  note: string | null;
  split: string;
  top1: number | null;
  score: number | null;
  /** The image's tags by name, as they were when the export started. */
  tags: string[];
  /** Paths of this image's files inside the export, '/'-separated. */
  files: string[];
  /** Paths of their heatmap overlays (with --overlays), one per file. */
  overlays: string[];
  /** Where the image comes from: the exported dataset, or the pool (`--pool`); absent in old plans. */
  source?: 'dataset' | 'pool';
  sourceDataset?: string;
}

interface PlanItem {
  seq: number;
  imageId: number;
  done: boolean;
  /** Why the image is left out (its file is missing, unreadable, undecodable), or null. */
  skipped: string | null;
  plan: PlannedImage;
}

export interface ExportResult {
  out: string;
  /** Images the query and tags selected. */
  selected: number;
  /** Images exported (selected less skipped). */
  images: number;
  files: number;
  folders: Record<string, number>;
  manifests: string[];
  /** Selected images left out, with the reason: their file was missing or could not be read. */
  skipped: { path: string; reason: string }[];
  /** Of the skipped, images whose status was already `missing` (never selected for copying). */
  missing: number;
  leakage: {
    inEvaluationSplit: number;
    duplicatesOfEvaluation: number;
    warning: string | null;
    /** With a test set (`--test-dataset`): exported duplicates and near-duplicates of its images. */
    testSet?: TestSetLeakage;
  };
  /** Exported images by source. */
  sources: { dataset: number; pool: number };
  /** Selected images whose source file is gone from disk: left out, the first ones named. */
  missingSources: { count: number; paths: string[] };
  seconds: number;
}

const MISSING = 'missing: the file was gone at the last import (re-import or relocate the dataset)';

/** Fields of a planned image that the live query returns under the same name. */
type ColumnsAsIs = 'label' | 'width' | 'height' | 'note' | 'split' | 'top1' | 'score';

interface LiveRow extends Pick<PlannedImage, ColumnsAsIs> {
  id: number;
  root: string;
  rel_path: string;
  content_hash: string;
  status: string;
  tag_ids: string | null;
}

/** The images as they are now, in the order given. */
function liveRows(host: JobHost, imageIds: number[], runId: number | undefined): LiveRow[] {
  const rows = host.db
    .prepare(
      `SELECT i.id, r.path AS root, i.rel_path, i.content_hash, i.status, i.label, i.width, i.height,
         i.note, i.split, p.top1, p.score,
         (SELECT group_concat(tag_id) FROM image_tags t WHERE t.image_id = i.id) AS tag_ids
       FROM images i JOIN dataset_roots r ON r.id = i.root_id
       LEFT JOIN predictions p ON p.run_id = ? AND p.image_id = i.id
       WHERE i.id IN (SELECT value FROM json_each(?))`,
    )
    .all(runId ?? -1, JSON.stringify(imageIds)) as LiveRow[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return imageIds.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Freezes the whole plan when the export first starts: which images, in which order, their tags,
 * their files' names and manifest fields. A resume reads this and nothing live, so the export
 * lands exactly as planned even if tags change in between. Images already `missing` are put in
 * the plan as skipped, so they are counted, and never copied.
 */
function freezePlan(host: JobHost, jobId: number, params: ExportJobParams): void {
  const frozen = host.db
    .prepare('SELECT seq, image_id, plan FROM export_items WHERE job_id = ? ORDER BY seq')
    .all(jobId) as { seq: number; image_id: number; plan: string | null }[];
  if (frozen.length > 0 && frozen.every((f) => f.plan !== null)) return;
  const datasetId = params.query.datasetId;
  let ids: number[];
  if (frozen.length > 0) {
    ids = frozen.map((f) => f.image_id); // a plan frozen before plans were whole: complete it
  } else {
    const query = { ...params.query };
    if (params.tags?.length)
      query.tags = { ...query.tags, any: [...(query.tags?.any ?? []), ...params.tags] };
    ids = selectImageIds(host.db, query);
  }
  const datasetName = nameOf(host, datasetId);
  const only = params.tags?.length ? new Set(resolveTagIds(host.db, datasetId, params.tags)) : null;
  const tags = tagsOf(host, datasetId);
  const folderOf = tagFolderNames(tags);
  const groups: PlanGroup[] = [
    {
      rows: liveRows(host, ids, params.query.runId),
      tagName: new Map(tags.map((t) => [t.id, t.name])),
      folderOf,
      only,
      source: 'dataset',
      sourceDataset: datasetName,
    },
  ];
  if (params.pool && frozen.length === 0) groups.push(poolGroup(host, params, tags, folderOf));
  const namer = new FileNamer();
  const upsert = host.db.prepare(
    `INSERT INTO export_items (job_id, seq, image_id, plan, skipped) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (job_id, seq) DO UPDATE SET plan = excluded.plan,
       skipped = coalesce(export_items.skipped, excluded.skipped)`,
  );
  let seq = 0;
  host.db.transaction(() => {
    for (const group of groups)
      for (const row of group.rows) {
        const plan = planImage(row, group, params, namer);
        upsert.run(
          jobId,
          frozen[seq]?.seq ?? seq,
          row.id,
          JSON.stringify(plan),
          row.status === 'missing' ? MISSING : null,
        );
        seq++;
      }
  })();
}

/** The rows of one source (the dataset, or the pool) and how their tags name folders. */
interface PlanGroup {
  rows: LiveRow[];
  tagName: Map<number, string>;
  folderOf: Map<number, string>;
  /** The tags exported (others are listed, not foldered), or null for all. */
  only: Set<number> | null;
  source: 'dataset' | 'pool';
  sourceDataset: string;
}

function nameOf(host: JobHost, datasetId: number): string {
  return host.db.prepare('SELECT name FROM datasets WHERE id = ?').pluck().get(datasetId) as string;
}

function tagsOf(host: JobHost, datasetId: number): { id: number; name: string }[] {
  return host.db.prepare('SELECT id, name FROM tags WHERE dataset_id = ?').all(datasetId) as {
    id: number;
    name: string;
  }[];
}

/** The pool's images carrying the pool tags (confirmed candidates), foldered like the dataset's tag of the same name. */
function poolGroup(
  host: JobHost,
  params: ExportJobParams,
  datasetTags: { id: number; name: string }[],
  datasetFolders: Map<number, string>,
): PlanGroup {
  const pool = params.pool!;
  const names =
    pool.tags ??
    (params.tags ?? []).map((ref) =>
      typeof ref === 'string' ? ref : (datasetTags.find((t) => t.id === ref)?.name ?? String(ref)),
    );
  if (!names.length)
    throw new WorkstationError(
      '--pool needs the tags to take from the pool: give --tags or --pool-tags',
      'bad-params',
    );
  const poolTags = tagsOf(host, pool.datasetId).filter((t) => names.includes(t.name));
  const folderByName = new Map(datasetTags.map((t) => [t.name, datasetFolders.get(t.id)!]));
  const ids = host.db
    .prepare(
      `SELECT DISTINCT image_id FROM image_tags WHERE tag_id IN (SELECT value FROM json_each(?)) ORDER BY image_id`,
    )
    .pluck()
    .all(JSON.stringify(poolTags.map((t) => t.id))) as number[];
  return {
    rows: liveRows(host, ids, undefined),
    tagName: new Map(tagsOf(host, pool.datasetId).map((t) => [t.id, t.name])),
    folderOf: new Map(
      poolTags.map((t) => [t.id, folderByName.get(t.name) ?? sanitiseSegment(t.name, `tag-${t.id}`)]),
    ),
    only: new Set(poolTags.map((t) => t.id)),
    source: 'pool',
    sourceDataset: nameOf(host, pool.datasetId),
  };
}

/** Everything the export writes of one image, fixed now. */
function planImage(row: LiveRow, group: PlanGroup, params: ExportJobParams, namer: FileNamer): PlannedImage {
  const tagIds = row.tag_ids
    ? row.tag_ids
        .split(',')
        .map(Number)
        .sort((a, b) => a - b)
    : [];
  let folders: string[];
  if (row.status === 'missing') folders = [];
  else if (params.layout === 'flat') folders = ['images'];
  else if (params.group === 'negative') folders = ['negative'];
  else {
    const kept = tagIds.filter((id) => !group.only || group.only.has(id));
    folders = kept.length ? kept.map((id) => group.folderOf.get(id)!) : ['untagged'];
  }
  const names = folders.map((folder) => namer.name(folder, row.rel_path, row.content_hash));
  return {
    absPath: path.join(row.root, row.rel_path),
    relPath: row.rel_path,
    hash: row.content_hash,
    label: row.label,
    width: row.width,
    height: row.height,
    note: row.note,
    split: row.split,
    top1: row.top1,
    score: row.score,
    tags: tagIds.map((id) => group.tagName.get(id) ?? String(id)),
    files: folders.map((folder, k) => `${folder}/${names[k]}`),
    overlays: params.overlays
      ? folders.map((folder, k) => `${folder}/${namer.overlay(folder, names[k])}`)
      : [],
    source: group.source,
    sourceDataset: group.sourceDataset,
  };
}

function loadPlan(host: JobHost, jobId: number): PlanItem[] {
  const rows = host.db
    .prepare(
      'SELECT seq, image_id, done, skipped, plan FROM export_items WHERE job_id = ? AND plan IS NOT NULL ORDER BY seq',
    )
    .all(jobId) as { seq: number; image_id: number; done: number; skipped: string | null; plan: string }[];
  return rows.map((r) => ({
    seq: r.seq,
    imageId: r.image_id,
    done: r.done === 1,
    skipped: r.skipped,
    plan: JSON.parse(r.plan) as PlannedImage,
  }));
}

/** Why a source file cannot be exported (gone, unreadable, a folder), or null when it can. */
async function unreadable(source: string): Promise<string | null> {
  try {
    const handle = await fs.promises.open(source, 'r');
    try {
      if (!(await handle.stat()).isFile()) return 'not a file any more';
    } finally {
      await handle.close();
    }
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'the file has vanished since the import';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied reading the file';
    if (code === 'EISDIR') return 'not a file any more';
    return `cannot read the file (${code ?? (error as Error).message})`;
  }
}

async function placeFile(source: string, target: string, media: ExportJobParams['media']): Promise<void> {
  await fs.promises.mkdir(path.dirname(target), { recursive: true });
  await fs.promises.rm(target, { force: true }); // a resumed export rewrites what it may have half-written
  if (media === 'symlink') return fs.promises.symlink(source, target);
  if (media === 'hardlink') {
    try {
      return await fs.promises.link(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new WorkstationError(
        `cannot hardlink ${source} into the export (${code}): hardlinks need the same file system; use --media copy or symlink`,
        'export-failed',
      );
    }
  }
  const temp = `${target}.tmp`;
  await fs.promises.copyFile(source, temp);
  await fs.promises.rename(temp, target);
}

export async function runExport(
  host: JobHost,
  ctx: JobContext,
  params: ExportJobParams,
): Promise<ExportResult> {
  const started = performance.now();
  const out = params.out;
  if (fs.existsSync(out))
    throw new WorkstationError(`${out} already exists; choose another --out or remove it first`, 'exists');
  const runId = params.query.runId;
  if (params.overlays && runId === undefined)
    throw new WorkstationError('--overlays needs a prediction run: give --run RUN', 'bad-params');
  const datasetId = params.query.datasetId;
  freezePlan(host, ctx.jobId, params);
  const items = loadPlan(host, ctx.jobId);
  const run = runId !== undefined ? getRun(host.db, runId, datasetId) : null;
  const temp = partialFolder(out, ctx.jobId);
  await fs.promises.mkdir(temp, { recursive: true });

  let model: RunModel | null = null;
  if (params.overlays && run) model = await host.saliency.runModel(run.id);
  const markDone = host.db.prepare(
    'UPDATE export_items SET done = 1, skipped = ? WHERE job_id = ? AND seq = ?',
  );
  let done = items.filter((p) => p.done || p.skipped).length;
  ctx.progress(done, items.length);
  const BATCH = 32;
  const todo = items.filter((p) => !p.done && !p.skipped);
  for (let start = 0; start < todo.length; start += BATCH) {
    ctx.checkCancelled();
    const batch = todo.slice(start, start + BATCH);
    // One bad image (vanished, unreadable, undecodable) is skipped and reported, never the export.
    await Promise.all(
      batch.map(async (item) => {
        item.skipped = await unreadable(item.plan.absPath);
        if (item.skipped) return;
        try {
          for (const file of item.plan.files)
            await placeFile(item.plan.absPath, path.join(temp, file), params.media);
        } catch (error) {
          // The source went bad between the check and the copy: skip it. Anything else (a full
          // disk, an unwritable destination) fails the export, to be resumed once fixed.
          item.skipped = await unreadable(item.plan.absPath);
          if (!item.skipped) throw error;
          for (const file of item.plan.files) await fs.promises.rm(path.join(temp, file), { force: true });
        }
      }),
    );
    if (model && params.overlays)
      await writeOverlays(
        host,
        model,
        params.overlays,
        temp,
        batch.filter((b) => !b.skipped),
      );
    host.db.transaction(() => batch.forEach((b) => markDone.run(b.skipped, ctx.jobId, b.seq)))();
    done += batch.length;
    ctx.progress(done, items.length);
  }
  const exported = items.filter((p) => !p.skipped);
  const plan = exported.map((p) => p.plan);
  const skipped = items.filter((p) => p.skipped).map((p) => ({ path: p.plan.relPath, reason: p.skipped! }));

  // Manifests, one row per exported file, listing all of the image's tags.
  const datasetName = nameOf(host, datasetId);
  const rows = plan.flatMap((image) =>
    image.files.map((file) => ({
      file_name: file,
      source_path: image.absPath,
      label: image.label,
      prediction: run && image.top1 !== null ? (run.labels[image.top1] ?? String(image.top1)) : null,
      score: image.score,
      tags: image.tags,
      note: image.note,
      split: image.split,
      content_hash: image.hash,
      source: image.source ?? 'dataset',
      source_dataset: image.sourceDataset ?? datasetName,
    })),
  );
  const manifests: string[] = [];
  for (const kind of params.manifests) {
    if (kind === 'csv') {
      const header =
        'file_name,source_path,label,prediction,score,tags,note,split,content_hash,source,source_dataset';
      const lines = rows.map((r) =>
        [
          r.file_name,
          r.source_path,
          r.label,
          r.prediction,
          r.score,
          r.tags.join(';'),
          r.note,
          r.split,
          r.content_hash,
          r.source,
          r.source_dataset,
        ]
          .map(csvCell)
          .join(','),
      );
      await fs.promises.writeFile(path.join(temp, 'manifest.csv'), [header, ...lines].join('\n') + '\n');
      manifests.push('manifest.csv');
    } else {
      const name = kind === 'hf' ? 'metadata.jsonl' : 'manifest.jsonl';
      await fs.promises.writeFile(
        path.join(temp, name),
        rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''),
      );
      manifests.push(name);
    }
  }

  const leakage: ExportResult['leakage'] = leakageOf(
    host,
    exported.map((p) => p.imageId),
  );
  if (params.testSet) {
    const poolRun =
      params.pool && runId !== undefined ? safePoolRun(host, runId, params.pool.datasetId) : null;
    const testSet = testSetLeakage(
      host.db,
      host.embeddingsDir,
      exported.map((p) => ({
        imageId: p.imageId,
        relPath: p.plan.relPath,
        source: p.plan.source ?? 'dataset',
        runId: p.plan.source === 'pool' ? poolRun : (runId ?? null),
      })),
      params.testSet,
      params.dupThreshold,
    );
    leakage.testSet = testSet;
    const parts: string[] = [];
    if (testSet.hashDuplicates)
      parts.push(
        `${testSet.hashDuplicates} exported image(s) are the same file (content hash) as a test image of "${testSet.dataset}"`,
      );
    if (testSet.nearDuplicates)
      parts.push(
        `${testSet.nearDuplicates} are near-duplicates (embedding cosine ≥ ${testSet.threshold}) of test images`,
      );
    if (parts.length) {
      const e = testSet.examples[0];
      const test = `test-set leakage: ${parts.join('; ')} (e.g. ${e.path} ~ ${e.testPath}); remove them before fine-tuning or the comparison flatters the new model`;
      leakage.warning = leakage.warning ? `${leakage.warning} ${test}` : test;
    }
  }
  const sources = {
    dataset: plan.filter((p) => (p.source ?? 'dataset') === 'dataset').length,
    pool: plan.filter((p) => p.source === 'pool').length,
  };
  const folders: Record<string, number> = {};
  for (const r of rows) {
    const folder = r.file_name.split('/')[0];
    folders[folder] = (folders[folder] ?? 0) + 1;
  }
  const modelRow = run?.modelId
    ? (host.db.prepare('SELECT name, sha256, path FROM models WHERE id = ?').get(run.modelId) as {
        name: string;
        sha256: string;
        path: string;
      })
    : null;
  // Sources gone from disk since the import: left out (in `skipped`) and named here.
  const gone = items.filter((p) => p.skipped && !fs.existsSync(p.plan.absPath));
  const result: ExportResult = {
    out,
    selected: items.length,
    images: plan.length,
    files: rows.length,
    folders,
    manifests,
    skipped,
    missing: skipped.filter((s) => s.reason === MISSING).length,
    leakage,
    sources,
    missingSources: { count: gone.length, paths: gone.slice(0, 20).map((p) => p.plan.absPath) },
    seconds: 0,
  };
  const provenance = {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    reviewer: host.reviewerName,
    dataset: datasetName,
    query: params.query,
    pool: params.pool
      ? { dataset: nameOf(host, params.pool.datasetId), tags: params.pool.tags ?? null }
      : null,
    sources,
    tags: params.tags ?? null,
    run: run ? { id: run.id, labels: run.labels } : null,
    model: modelRow,
    layout: params.layout,
    group: params.layout === 'imagefolder' ? params.group : null,
    media: params.media,
    overlays: params.overlays ?? null,
    manifests,
    counts: {
      selected: items.length,
      images: plan.length,
      files: rows.length,
      folders,
      skipped: skipped.length,
      missing: result.missing,
    },
    skipped,
    leakage,
  };
  await fs.promises.writeFile(path.join(temp, 'export.json'), JSON.stringify(provenance, null, 2) + '\n');
  if (fs.existsSync(out))
    throw new WorkstationError(
      `${out} appeared while exporting; the finished export is left in ${temp}`,
      'exists',
    );
  await fs.promises.rename(temp, out);
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/**
 * The heatmap overlays of a batch's images. An image that cannot be decoded any more is skipped
 * (its copied files removed), as one that cannot be read.
 */
async function writeOverlays(
  host: JobHost,
  model: RunModel,
  method: NonNullable<ExportJobParams['overlays']>,
  temp: string,
  batch: PlanItem[],
): Promise<void> {
  const withTarget = batch.filter((b) => b.plan.top1 !== null);
  const maps = await host.saliency.mapsOrFailures(
    model,
    withTarget.map((b) => ({ imageId: b.imageId, absPath: b.plan.absPath, target: b.plan.top1! })),
    method,
    {},
  );
  await Promise.all(
    withTarget.map(async (item, k) => {
      const map = maps[k];
      const { plan } = item;
      let png: Buffer | null = null;
      if ('map' in map) {
        const geometry = computeGeometry(plan.width, plan.height, model.card.preprocessing, model.card.input);
        png = await renderOverlay({ file: plan.absPath }, map.map, map.grid, geometry).catch(() => null);
      }
      if (!png) {
        item.skipped = `cannot be decoded any more: ${'reason' in map ? map.reason : 'the overlay failed'}`;
        for (const file of plan.files) await fs.promises.rm(path.join(temp, file), { force: true });
        return;
      }
      for (const overlay of plan.overlays) await fs.promises.writeFile(path.join(temp, overlay), png);
    }),
  );
}

/** A CSV cell that a spreadsheet will not run: text starting with = + - @ (or a tab or CR) gets a
 * leading apostrophe (OWASP's advice against CSV injection). Numbers are written as they are. */
function csvCell(value: string | number | null | undefined): string {
  return csvField(typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}

/** The pool's run of the export run's model, or null (the near-duplicate check then says so). */
function safePoolRun(host: JobHost, runId: number, poolId: number): number | null {
  try {
    return poolRunFor(host.db, runId, poolId);
  } catch {
    return null;
  }
}

/** Exported images that are in a validation or test split, or are byte-identical to one that is. */
function leakageOf(host: JobHost, imageIds: number[]): ExportResult['leakage'] {
  const ids = JSON.stringify(imageIds);
  const inEvaluationSplit = host.db
    .prepare(`SELECT COUNT(*) FROM images WHERE id IN (SELECT value FROM json_each(?)) AND split <> 'pool'`)
    .pluck()
    .get(ids) as number;
  const duplicatesOfEvaluation = host.db
    .prepare(
      `SELECT COUNT(*) FROM images e WHERE e.id IN (SELECT value FROM json_each(?)) AND e.split = 'pool'
       AND EXISTS (SELECT 1 FROM images v WHERE v.content_hash = e.content_hash AND v.split <> 'pool' AND v.id <> e.id)`,
    )
    .pluck()
    .get(ids) as number;
  const parts: string[] = [];
  if (inEvaluationSplit)
    parts.push(`${inEvaluationSplit} exported image(s) are in a validation or test split`);
  if (duplicatesOfEvaluation)
    parts.push(
      `${duplicatesOfEvaluation} exported image(s) are duplicates (same content hash) of validation or test images`,
    );
  return {
    inEvaluationSplit,
    duplicatesOfEvaluation,
    warning: parts.length
      ? `leakage: ${parts.join('; ')}. Training on them would inflate the measured gain; move them out of the export or out of the evaluation split.`
      : null,
  };
}
