// The export job: the tagged negative set, written to a temporary folder beside the target and
// renamed into place at the end (a crash or a full disk never leaves a half export posing as a
// whole one). The selection is frozen in export_items when the job first starts; each batch of
// files is marked done in the database, so a resumed export continues where it stopped.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { renderOverlay } from '../../engine/heatmap';
import { computeGeometry } from '../../engine/preprocess';
import { csvField } from '../datasets/csv';
import { WorkstationError } from '../datasets/importFolder';
import { FileNamer, tagFolderNames } from '../export/exportNames';
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

interface PlannedImage {
  seq: number;
  imageId: number;
  done: boolean;
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
  tagIds: number[];
  /** Paths of this image's files inside the export, '/'-separated. */
  files: string[];
}

export interface ExportResult {
  out: string;
  images: number;
  files: number;
  folders: Record<string, number>;
  manifests: string[];
  leakage: { inEvaluationSplit: number; duplicatesOfEvaluation: number; warning: string | null };
  /** Selected images whose source file is gone from disk: left out, the first ones named. */
  missingSources: { count: number; paths: string[] };
  seconds: number;
}

function freezePlan(host: JobHost, jobId: number, params: ExportJobParams): void {
  const planned = host.db
    .prepare('SELECT COUNT(*) FROM export_items WHERE job_id = ?')
    .pluck()
    .get(jobId) as number;
  if (planned > 0) return;
  const query = { ...params.query };
  if (params.tags?.length) query.tags = { ...query.tags, any: [...(query.tags?.any ?? []), ...params.tags] };
  const ids = selectImageIds(host.db, query);
  const insert = host.db.prepare('INSERT INTO export_items (job_id, seq, image_id) VALUES (?, ?, ?)');
  host.db.transaction(() => ids.forEach((id, seq) => insert.run(jobId, seq, id)))();
}

/** Fields of a planned image that loadPlan's query returns under the same name. */
type ColumnsAsIs = 'seq' | 'label' | 'width' | 'height' | 'note' | 'split' | 'top1' | 'score';

function loadPlan(host: JobHost, jobId: number, runId: number | undefined): PlannedImage[] {
  const rows = host.db
    .prepare(
      `SELECT e.seq, e.image_id, e.done, r.path AS root, i.rel_path, i.content_hash, i.label, i.width, i.height,
         i.note, i.split, p.top1, p.score,
         (SELECT group_concat(tag_id) FROM image_tags t WHERE t.image_id = i.id) AS tag_ids
       FROM export_items e JOIN images i ON i.id = e.image_id JOIN dataset_roots r ON r.id = i.root_id
       LEFT JOIN predictions p ON p.run_id = ? AND p.image_id = i.id
       WHERE e.job_id = ? ORDER BY e.seq`,
    )
    .all(runId ?? -1, jobId) as (Pick<PlannedImage, ColumnsAsIs> & {
    image_id: number;
    done: number;
    root: string;
    rel_path: string;
    content_hash: string;
    tag_ids: string | null;
  })[];
  return rows.map(({ image_id, done, root, rel_path, content_hash, tag_ids, ...asIs }) => ({
    ...asIs,
    imageId: image_id,
    done: done === 1,
    absPath: path.join(root, rel_path),
    relPath: rel_path,
    hash: content_hash,
    tagIds: tag_ids
      ? tag_ids
          .split(',')
          .map(Number)
          .sort((a, b) => a - b)
      : [],
    files: [],
  }));
}

/** Decides every file's path up front, from the frozen plan alone, so a resume names them alike. */
function assignFiles(
  plan: PlannedImage[],
  params: ExportJobParams,
  folderOf: Map<number, string>,
  only: Set<number> | null,
) {
  const namer = new FileNamer();
  for (const image of plan) {
    let folders: string[];
    if (params.layout === 'flat') folders = ['images'];
    else if (params.group === 'negative') folders = ['negative'];
    else {
      const tagIds = image.tagIds.filter((id) => !only || only.has(id));
      folders = tagIds.length ? tagIds.map((id) => folderOf.get(id)!) : ['untagged'];
    }
    image.files = folders.map((folder) => `${folder}/${namer.name(folder, image.relPath, image.hash)}`);
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
  const only = params.tags?.length ? new Set(resolveTagIds(host.db, datasetId, params.tags)) : null;
  freezePlan(host, ctx.jobId, params);
  const planned = loadPlan(host, ctx.jobId, runId);
  // A source gone from disk is left out and named in the result; the rest still exports.
  const missing = planned.filter((p) => !fs.existsSync(p.absPath));
  const plan = missing.length ? planned.filter((p) => !missing.includes(p)) : planned;
  const tags = host.db.prepare('SELECT id, name FROM tags WHERE dataset_id = ?').all(datasetId) as {
    id: number;
    name: string;
  }[];
  const tagName = new Map(tags.map((t) => [t.id, t.name]));
  const folderOf = tagFolderNames(tags);
  assignFiles(plan, params, folderOf, only);
  const run = runId !== undefined ? getRun(host.db, runId, datasetId) : null;
  const temp = partialFolder(out, ctx.jobId);
  await fs.promises.mkdir(temp, { recursive: true });

  let model: RunModel | null = null;
  if (params.overlays && run) model = await host.saliency.runModel(run.id);
  const markDone = host.db.prepare('UPDATE export_items SET done = 1 WHERE job_id = ? AND seq = ?');
  let done = plan.filter((p) => p.done).length;
  ctx.progress(done, plan.length);
  const BATCH = 32;
  const todo = plan.filter((p) => !p.done);
  for (let start = 0; start < todo.length; start += BATCH) {
    ctx.checkCancelled();
    const batch = todo.slice(start, start + BATCH);
    await Promise.all(
      batch.flatMap((image) =>
        image.files.map((file) => placeFile(image.absPath, path.join(temp, file), params.media)),
      ),
    );
    if (model && params.overlays) {
      const withTarget = batch.filter((b) => b.top1 !== null);
      const maps = await host.saliency.maps(
        model,
        withTarget.map((b) => ({ imageId: b.imageId, absPath: b.absPath, target: b.top1! })),
        params.overlays,
        {},
      );
      await Promise.all(
        withTarget.map(async (image, k) => {
          const geometry = computeGeometry(
            image.width,
            image.height,
            model.card.preprocessing,
            model.card.input,
          );
          const png = await renderOverlay({ file: image.absPath }, maps[k].map, maps[k].grid, geometry);
          for (const file of image.files) {
            const target = path.join(temp, file.replace(/(\.[^./]*)?$/, '.overlay.png'));
            await fs.promises.writeFile(target, png);
          }
        }),
      );
    }
    host.db.transaction(() => batch.forEach((b) => markDone.run(ctx.jobId, b.seq)))();
    done += batch.length;
    ctx.progress(done, plan.length);
  }

  // Manifests, one row per exported file, listing all of the image's tags.
  const rows = plan.flatMap((image) =>
    image.files.map((file) => ({
      file_name: file,
      source_path: image.absPath,
      label: image.label,
      prediction: run && image.top1 !== null ? (run.labels[image.top1] ?? String(image.top1)) : null,
      score: image.score,
      tags: image.tagIds.map((id) => tagName.get(id) ?? String(id)),
      note: image.note,
      split: image.split,
      content_hash: image.hash,
    })),
  );
  const manifests: string[] = [];
  for (const kind of params.manifests) {
    if (kind === 'csv') {
      const header = 'file_name,source_path,label,prediction,score,tags,note,split,content_hash';
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
        ]
          .map(csvField)
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

  const leakage = leakageOf(
    host,
    plan.map((p) => p.imageId),
  );
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
  const result: ExportResult = {
    out,
    images: plan.length,
    files: rows.length,
    folders,
    manifests,
    leakage,
    missingSources: { count: missing.length, paths: missing.slice(0, 20).map((p) => p.absPath) },
    seconds: 0,
  };
  const provenance = {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    reviewer: host.reviewerName,
    dataset: host.db.prepare('SELECT name FROM datasets WHERE id = ?').pluck().get(datasetId),
    query: params.query,
    tags: params.tags ?? null,
    run: run ? { id: run.id, labels: run.labels } : null,
    model: modelRow,
    layout: params.layout,
    group: params.layout === 'imagefolder' ? params.group : null,
    media: params.media,
    overlays: params.overlays ?? null,
    manifests,
    counts: { images: plan.length, files: rows.length, folders },
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
