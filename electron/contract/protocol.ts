// The service protocol: every request, response and progress event that crosses a process
// boundary, with its runtime validator. Types everywhere else are inferred from these schemas.
import { z } from 'zod';
import { CompareParams, CompareResult } from './compare';
import { reviewMethods } from './reviewMethods';
import { similarMethods } from './similarMethods';
import { SALIENCY_METHODS, SaliencyChoice, SaliencyMethod, SaliencyOptions } from './saliencyMethods';
import {
  Facets,
  GridItem,
  ImageQuery,
  QueryPage,
  QueryPageParams,
  Selection,
  Split,
  TagRef,
  Verdict,
} from './query';

export const DatasetSummary = z.object({
  id: z.number().int(),
  name: z.string(),
  roots: z.array(z.string()),
  imageCount: z.number().int(),
  labels: z.array(z.object({ label: z.string(), count: z.number().int() })),
  createdAt: z.string(),
});
export type DatasetSummary = z.infer<typeof DatasetSummary>;

export const ImportProblem = z.object({
  path: z.string(),
  reason: z.string(),
});
export type ImportProblem = z.infer<typeof ImportProblem>;

export const ImportReport = z.object({
  datasetId: z.number().int(),
  root: z.string(),
  scanned: z.number().int(),
  added: z.number().int(),
  changed: z.number().int(),
  unchanged: z.number().int(),
  missing: z.number().int(),
  skipped: z.array(ImportProblem),
  seconds: z.number(),
  /** Masks attached to the images (a masks/ folder beside them, --masks, a manifest's mask column). */
  masks: z
    .object({
      /** The mask folder, or "manifest" for a manifest's mask column. */
      folder: z.string(),
      attached: z.number().int(),
      /** Masks that match no image of the import. */
      unmatched: z.number().int(),
      /** The folder was found inside the imported one and not imported as images. */
      skippedAsImages: z.boolean(),
    })
    .optional(),
});
export type ImportReport = z.infer<typeof ImportReport>;

/** The import report's line about masks, for the CLI and the window alike. */
export function describeMasks(masks: NonNullable<ImportReport['masks']>): string {
  const where = masks.folder === 'manifest' ? "the manifest's mask column" : masks.folder;
  return (
    `masks from ${where}: ${masks.attached} attached` +
    (masks.unmatched ? `, ${masks.unmatched} matching no image` : '') +
    (masks.skippedAsImages ? ' (the masks folder was not imported as images)' : '')
  );
}

export const ImageItem = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  relPath: z.string(),
  label: z.string().nullable(),
  width: z.number().int(),
  height: z.number().int(),
  status: z.enum(['ok', 'changed', 'missing']),
});
export type ImageItem = z.infer<typeof ImageItem>;

// ---- Workstation core: runs, tags, review, stats, jobs (issue 5) ----

export const TagInfo = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  name: z.string(),
  colour: z.string(),
  hotkey: z.number().int().min(1).max(9).nullable(),
  description: z.string(),
  count: z.number().int(),
});
export type TagInfo = z.infer<typeof TagInfo>;

export const RunInfo = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  name: z.string(),
  modelId: z.number().int().nullable(),
  modelName: z.string().nullable(),
  modelSha256: z.string().nullable(),
  labels: z.array(z.string()),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  predictions: z.number().int(),
  settings: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type RunInfo = z.infer<typeof RunInfo>;

export const AuditEntry = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  reviewer: z.string(),
  at: z.string(),
  action: z.string(),
  summary: z.string(),
  undone: z.boolean(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const Stats = z.object({
  images: z.number().int(),
  runId: z.number().int().nullable(),
  tags: z.array(z.object({ tagId: z.number().int(), name: z.string(), count: z.number().int() })),
  untagged: z.number().int(),
  classes: z.array(
    z.object({ label: z.string().nullable(), images: z.number().int(), predicted: z.number().int() }),
  ),
  tagByPredClass: z.array(
    z.object({ tagId: z.number().int(), tag: z.string(), predClass: z.string(), count: z.number().int() }),
  ),
  /** Rows: true class, columns: predicted class, over images whose label maps to the run's labels. */
  confusion: z
    .object({
      labels: z.array(z.string()),
      matrix: z.array(z.array(z.number().int())),
      unmappedLabel: z.number().int(),
      perClass: z.array(
        z.object({
          label: z.string(),
          support: z.number().int(),
          precision: z.number().nullable(),
          recall: z.number().nullable(),
        }),
      ),
    })
    .nullable(),
  review: z.object({
    reviewed: z.number().int(),
    unreviewed: z.number().int(),
    verdicts: z.record(z.string(), z.number().int()),
  }),
});
export type Stats = z.infer<typeof Stats>;

export const JOB_KINDS = ['predict', 'explain', 'export'] as const;
export const JobInfo = z.object({
  id: z.number().int(),
  kind: z.enum(JOB_KINDS),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  done: z.number().int(),
  total: z.number().int(),
  params: z.unknown(),
  result: z.unknown().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type JobInfo = z.infer<typeof JobInfo>;

export { SALIENCY_METHODS, SaliencyMethod, SaliencyOptions };

export const PredictParams = z
  .object({
    datasetId: z.number().int().positive(),
    /** An .onnx file or a model folder (model.json beside model.onnx, or Hugging Face configs). */
    model: z.string().min(1),
    batch: z.number().int().min(1).max(1024).default(32),
    provider: z.enum(['auto', 'cuda', 'webgpu', 'cpu']).default('auto'),
  })
  .strict();

export const ExplainSetParams = z
  .object({
    query: ImageQuery,
    method: SaliencyMethod,
    options: SaliencyOptions.default({}),
    /** Whose map: the top-1 class (default), the true class, or a named class. */
    target: z.union([z.enum(['top1', 'true']), z.object({ label: z.string() }).strict()]).default('top1'),
    batch: z.number().int().min(1).max(256).default(16),
  })
  .strict();

export const ExportParams = z
  .object({
    query: ImageQuery,
    /** Only images with any of these tags (`--tags a,b`). */
    tags: z.array(TagRef).optional(),
    layout: z.enum(['imagefolder', 'flat']),
    /** imagefolder: one folder per tag, or one `negative` folder. */
    group: z.enum(['tag', 'negative']).default('tag'),
    manifests: z.array(z.enum(['csv', 'jsonl', 'hf'])).default(['csv']),
    media: z.enum(['copy', 'hardlink', 'symlink']),
    /** Heatmap overlay PNGs beside the images, with this method (needs a run). */
    overlays: SaliencyMethod.optional(),
    out: z.string().min(1),
    /** Also the images of another dataset (an unlabelled pool) carrying these tags (default: `tags`). */
    pool: z
      .object({ datasetId: z.number().int().positive(), tags: z.array(z.string().min(1)).optional() })
      .strict()
      .optional(),
    /** The comparison's test set, checked for exported duplicates (hash) and near-duplicates (embedding). */
    testSet: z
      .object({ datasetId: z.number().int().positive(), runId: z.number().int().positive().optional() })
      .strict()
      .optional(),
    /** Cosine at and above which an exported image is a near-duplicate of a test image. */
    dupThreshold: z.number().min(0).max(1).optional(),
  })
  .strict();
export type ExportParams = z.infer<typeof ExportParams>;

const TagId = z.object({ tagId: z.number().int().positive() }).strict();
const Changed = z.object({ changed: z.number().int() });
const JobStarted = z.object({ jobId: z.number().int() });

const Empty = z.object({}).strict();
const DatasetRef = z.object({ datasetId: z.number().int().positive() }).strict();

/** Every request the service answers: its params and its result. */
export const methods = {
  'app.info': {
    params: Empty,
    result: z.object({
      version: z.string(),
      dataDir: z.string(),
      reviewer: z.string(),
      shell: z.enum(['electron', 'serve']),
    }),
  },
  'datasets.list': { params: Empty, result: z.array(DatasetSummary) },
  'datasets.add': {
    params: z
      .object({
        path: z.string().min(1, 'path must not be empty'),
        name: z.string().min(1).optional(),
        /** A label mapping file (JSON {"from":"to"} or CSV from,to) stored with the dataset. */
        mapping: z.string().min(1).optional(),
        /** A folder of masks, matched to the images by relative path. */
        masks: z.string().min(1).optional(),
      })
      .strict(),
    result: z.object({ dataset: DatasetSummary, report: ImportReport }),
  },
  'datasets.lastImport': { params: DatasetRef, result: ImportReport.nullable() },
  'images.page': {
    params: z
      .object({
        datasetId: z.number().int().positive(),
        after: z.number().int().nonnegative().optional(),
        limit: z.number().int().min(1).max(5000).default(500),
      })
      .strict(),
    result: z.object({
      items: z.array(ImageItem),
      total: z.number().int(),
      nextAfter: z.number().int().nullable(),
    }),
  },

  // ---- Workstation core (issue 5) ----
  'datasets.relocate': {
    params: z
      .object({ datasetId: z.number().int().positive(), from: z.string().min(1), to: z.string().min(1) })
      .strict(),
    result: z.object({ roots: z.array(z.string()), found: z.number().int(), missing: z.number().int() }),
  },
  'images.query': { params: QueryPageParams, result: QueryPage },
  'images.facets': { params: z.object({ query: ImageQuery }).strict(), result: Facets },
  /** Only the tag facets (per-tag counts and untagged): what a tag change alters. */
  'images.tagFacets': {
    params: z.object({ query: ImageQuery }).strict(),
    result: Facets.pick({ tags: true, untagged: true }),
  },
  'images.get': {
    params: z
      .object({ imageId: z.number().int().positive(), runId: z.number().int().positive().optional() })
      .strict(),
    result: z.object({
      item: GridItem,
      /** With a run: the full probability vector, one entry per label, in label order. */
      probabilities: z.array(z.object({ label: z.string(), p: z.number() })).nullable(),
      tags: z.array(z.object({ tagId: z.number().int(), reviewer: z.string(), addedAt: z.string() })),
    }),
  },
  /** The image's mask as 0/1 pixels (base64, row-major), scaled to fit maxSide (nearest). */
  'images.mask': {
    params: z
      .object({
        imageId: z.number().int().positive(),
        maxSide: z.number().int().min(8).max(2048).default(512),
      })
      .strict(),
    result: z.object({ width: z.number().int(), height: z.number().int(), bits: z.string() }),
  },
  'images.setNote': {
    params: z.object({ imageId: z.number().int().positive(), note: z.string().max(10000) }).strict(),
    result: Changed,
  },
  'images.setReview': {
    params: z
      .object({
        selection: Selection,
        reviewed: z.boolean().optional(),
        verdict: Verdict.nullable().optional(),
      })
      .strict(),
    result: Changed,
  },
  'images.setSplit': { params: z.object({ selection: Selection, split: Split }).strict(), result: Changed },
  'tags.list': { params: DatasetRef, result: z.array(TagInfo) },
  'tags.create': {
    params: z
      .object({
        datasetId: z.number().int().positive(),
        name: z.string().trim().min(1).max(200),
        colour: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/, 'colour must be #rrggbb')
          .optional(),
        hotkey: z.number().int().min(1).max(9).nullable().optional(),
        description: z.string().max(2000).optional(),
      })
      .strict(),
    result: TagInfo,
  },
  'tags.update': {
    params: TagId.extend({
      name: z.string().trim().min(1).max(200).optional(),
      colour: z
        .string()
        .regex(/^#[0-9a-fA-F]{6}$/, 'colour must be #rrggbb')
        .optional(),
      hotkey: z.number().int().min(1).max(9).nullable().optional(),
      description: z.string().max(2000).optional(),
    }).strict(),
    result: TagInfo,
  },
  'tags.merge': {
    params: z
      .object({ sourceTagId: z.number().int().positive(), targetTagId: z.number().int().positive() })
      .strict(),
    result: TagInfo,
  },
  'tags.delete': { params: TagId, result: Changed },
  'tags.apply': { params: TagId.extend({ selection: Selection }).strict(), result: Changed },
  'tags.remove': { params: TagId.extend({ selection: Selection }).strict(), result: Changed },
  'audit.list': {
    params: z
      .object({
        datasetId: z.number().int().positive(),
        limit: z.number().int().min(1).max(1000).default(50),
      })
      .strict(),
    result: z.array(AuditEntry),
  },
  'audit.undo': { params: DatasetRef, result: z.object({ undone: AuditEntry.nullable() }) },
  'runs.list': { params: DatasetRef, result: z.array(RunInfo) },
  /** Deletes a run and its predictions and cached maps (not while its job runs). */
  'runs.delete': { params: z.object({ runId: z.number().int().positive() }).strict(), result: Changed },
  'stats.get': { params: z.object({ query: ImageQuery }).strict(), result: Stats },
  /** Two runs at matched recall on a class (`vsw compare`): false positives overall, per tag, untagged. */
  'compare.runs': { params: CompareParams, result: CompareResult },
  'saliency.get': {
    params: z
      .object({
        imageId: z.number().int().positive(),
        runId: z.number().int().positive(),
        method: SaliencyChoice,
        options: SaliencyOptions.default({}),
        /** Class label to explain; default: the run's top-1 class for the image. */
        target: z.string().optional(),
      })
      .strict(),
    result: z.object({
      target: z.string(),
      /** The method used ('default' resolved), and why where it was the model's default. */
      method: SaliencyMethod,
      reason: z.string().nullable(),
      grid: z.tuple([z.number().int(), z.number().int()]),
      map: z.array(z.number()),
      cached: z.boolean(),
      /** What the reviewer should know about how this model is explained (e.g. a mean-pooled head). */
      warnings: z.array(z.string()),
    }),
  },
  'jobs.predict': { params: PredictParams, result: JobStarted.extend({ runId: z.number().int() }) },
  'jobs.explain': { params: ExplainSetParams, result: JobStarted },
  'jobs.export': { params: ExportParams, result: JobStarted },
  'jobs.list': { params: Empty, result: z.array(JobInfo) },
  'jobs.cancel': { params: z.object({ jobId: z.number().int().positive() }).strict(), result: Changed },
  /** Continues a cancelled, failed or interrupted job from its checkpoint. */
  'jobs.resume': { params: z.object({ jobId: z.number().int().positive() }).strict(), result: JobStarted },
  /** Removes a job that is not running (an export's partial folder too). */
  'jobs.delete': { params: z.object({ jobId: z.number().int().positive() }).strict(), result: Changed },

  // ---- Reviewer UI (issue 6): see reviewMethods.ts ----
  ...reviewMethods,
  // ---- Find more like these (issue 13): see similarMethods.ts ----
  ...similarMethods,
} as const;

export type MethodName = keyof typeof methods;
export type Params<M extends MethodName> = z.input<(typeof methods)[M]['params']>;
export type Result<M extends MethodName> = z.infer<(typeof methods)[M]['result']>;

/** Events the service pushes without a request (job progress and the like). */
export const ServiceEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    job: z.string(),
    done: z.number(),
    total: z.number(),
    rate: z.number().optional(),
    etaSeconds: z.number().optional(),
  }),
  z.object({ type: z.literal('datasetsChanged') }),
  // ---- Workstation core (issue 5) ----
  z.object({ type: z.literal('job.started'), job: JobInfo }),
  z.object({
    type: z.literal('job.progress'),
    jobId: z.number().int(),
    kind: z.enum(JOB_KINDS),
    done: z.number(),
    total: z.number(),
    rate: z.number(),
    etaSeconds: z.number().nullable(),
  }),
  z.object({ type: z.literal('job.finished'), job: JobInfo }),
  z.object({ type: z.literal('job.failed'), job: JobInfo }),
  z.object({ type: z.literal('job.cancelled'), job: JobInfo }),
  z.object({ type: z.literal('job.deleted'), jobId: z.number().int() }),
  z.object({ type: z.literal('tagsChanged'), datasetId: z.number().int() }),
  z.object({ type: z.literal('imagesChanged'), datasetId: z.number().int() }),
  z.object({ type: z.literal('runsChanged'), datasetId: z.number().int() }),
]);
export type ServiceEvent = z.infer<typeof ServiceEvent>;

export const RequestMessage = z.object({
  kind: z.literal('request'),
  id: z.number().int(),
  method: z.string(),
  params: z.unknown(),
});
export const ResponseMessage = z.discriminatedUnion('ok', [
  z.object({ kind: z.literal('response'), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({
    kind: z.literal('response'),
    id: z.number().int(),
    ok: z.literal(false),
    error: z.object({ message: z.string(), code: z.string() }),
  }),
]);
export const EventMessage = z.object({ kind: z.literal('event'), event: ServiceEvent });
export type RequestMessage = z.infer<typeof RequestMessage>;
export type ResponseMessage = z.infer<typeof ResponseMessage>;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

/** Formats a zod error so that it names the offending field, e.g. `params.datasetId: expected number`. */
export function describeZodError(prefix: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => `${[prefix, ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ');
}
