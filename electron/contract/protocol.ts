// The service protocol: every request, response and progress event that crosses a process
// boundary, with its runtime validator. Types everywhere else are inferred from these schemas.
import { z } from 'zod';

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
});
export type ImportReport = z.infer<typeof ImportReport>;

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
      .object({ path: z.string().min(1, 'path must not be empty'), name: z.string().min(1).optional() })
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
