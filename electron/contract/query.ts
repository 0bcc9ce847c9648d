// The one image query: what the grid shows, and what explain-set, stats and export select. Filters,
// sort and the keyset cursor are validated here; the SQL is built in workstation/query/.
import { z } from 'zod';

/** A tag given by id (the UI) or by name (the command line). */
export const TagRef = z.union([z.number().int().positive(), z.string().min(1)]);
export type TagRef = z.infer<typeof TagRef>;

export const VERDICTS = ['model-error', 'label-wrong', 'unsure'] as const;
export const Verdict = z.enum(VERDICTS);
export type Verdict = z.infer<typeof Verdict>;

export const SPLITS = ['pool', 'validation', 'test'] as const;
export const Split = z.enum(SPLITS);
export type Split = z.infer<typeof Split>;

export const ImageQuery = z
  .object({
    datasetId: z.number().int().positive(),
    /** The prediction run whose classes and scores the prediction filters and the score sort use. */
    runId: z.number().int().positive().optional(),
    /** Ground-truth class: a label of the run's model (with a run), else the image's imported label. */
    trueClass: z.string().optional(),
    /** Top-1 predicted class (needs runId). */
    predClass: z.string().optional(),
    /**
     * Errors for class c at threshold t (needs runId). fp: top-1 = c, p_c ≥ t, label ≠ c.
     * fn: label = c and (top-1 ≠ c or p_c < t). Without a class, for any class: fp is every
     * labelled image misclassified with top-1 score ≥ t; fn every labelled image not
     * classified right with score ≥ t.
     */
    errors: z
      .object({
        kind: z.enum(['fp', 'fn']),
        class: z.string().min(1).optional(),
        threshold: z.number().min(0).max(1).default(0.5),
      })
      .strict()
      .optional(),
    /** Range of the top-1 score, inclusive (needs runId). */
    score: z
      .object({ min: z.number().min(0).max(1).optional(), max: z.number().min(0).max(1).optional() })
      .strict()
      .optional(),
    /** any: has at least one of them; all: has every one; none: has none of them. */
    tags: z
      .object({
        any: z.array(TagRef).optional(),
        all: z.array(TagRef).optional(),
        none: z.array(TagRef).optional(),
      })
      .strict()
      .optional(),
    untagged: z.boolean().optional(),
    /** Only images with (true) or without (false) a mask. */
    hasMask: z.boolean().optional(),
    reviewed: z.boolean().optional(),
    /** A verdict, or 'none' for images without one. */
    verdict: z.union([Verdict, z.literal('none')]).optional(),
    split: Split.optional(),
    status: z.enum(['ok', 'changed', 'missing']).optional(),
    /**
     * By the image's latest "Check this region": 'decisive' (hiding the map's top 10% at least
     * halved p(target) and cost twice a random region), 'not-decisive', or 'unchecked'.
     */
    regionCheck: z.enum(['decisive', 'not-decisive', 'unchecked']).optional(),
    /** Case-insensitive text in the image's path or note. */
    text: z.string().optional(),
    /** Only these images (a selection). */
    imageIds: z.array(z.number().int().positive()).max(1_000_000).optional(),
    sort: z
      .object({
        by: z.enum(['score', 'path', 'random', 'id']),
        direction: z.enum(['asc', 'desc']).optional(),
        /** Seed of the stable random order. */
        seed: z.number().int().nonnegative().default(0),
      })
      .strict()
      .default({ by: 'path', seed: 0 }),
  })
  .strict();
export type ImageQuery = z.infer<typeof ImageQuery>;
export type ImageQueryInput = z.input<typeof ImageQuery>;

/** One row of the grid. */
export const GridItem = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  relPath: z.string(),
  contentHash: z.string(),
  label: z.string().nullable(),
  width: z.number().int(),
  height: z.number().int(),
  status: z.enum(['ok', 'changed', 'missing']),
  note: z.string().nullable(),
  reviewed: z.boolean(),
  verdict: Verdict.nullable(),
  split: Split,
  tagIds: z.array(z.number().int()),
  /** A mask of the deciding region is attached (media kind "mask"). */
  hasMask: z.boolean(),
  /** With a run: its top-1 class, score and the image's mapped true class (null: unmapped label). */
  prediction: z
    .object({
      predClass: z.string(),
      predIndex: z.number().int(),
      score: z.number(),
      trueClass: z.string().nullable(),
    })
    .nullable(),
});
export type GridItem = z.infer<typeof GridItem>;

export const QueryPageParams = z
  .object({
    query: ImageQuery,
    /** The cursor a previous page returned; absent for the first page. */
    after: z.string().optional(),
    limit: z.number().int().min(1).max(5000).default(200),
  })
  .strict();

export const QueryPage = z.object({
  items: z.array(GridItem),
  /** Pass as `after` for the next page; null when this was the last one. */
  nextCursor: z.string().nullable(),
});
export type QueryPage = z.infer<typeof QueryPage>;

const Count = z.object({ count: z.number().int() });
export const Facets = z.object({
  total: z.number().int(),
  tags: z.array(Count.extend({ tagId: z.number().int(), name: z.string() })),
  untagged: z.number().int(),
  /** Selected images with a mask. */
  masked: z.number().int(),
  trueClass: z.array(Count.extend({ label: z.string().nullable() })),
  predClass: z.array(Count.extend({ label: z.string() })),
  reviewed: z.object({ reviewed: z.number().int(), unreviewed: z.number().int() }),
  verdict: z.array(Count.extend({ verdict: Verdict.nullable() })),
  split: z.array(Count.extend({ split: Split })),
  status: z.array(Count.extend({ status: z.string() })),
});
export type Facets = z.infer<typeof Facets>;

/** A selection for tag and review actions: explicit images, or every image a query matches. */
export const Selection = z.union([
  z.object({ imageIds: z.array(z.number().int().positive()).min(1).max(1_000_000) }).strict(),
  z.object({ query: ImageQuery }).strict(),
]);
export type Selection = z.infer<typeof Selection>;

/** Parses `--query JSON` (the dataset and run may come from other flags). */
export function parseQueryJson(
  text: string | undefined,
  base: { datasetId: number; runId?: number },
): ImageQuery {
  let raw: unknown = {};
  if (text !== undefined) {
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new Error(
        `--query is not valid JSON (${(error as Error).message}); give e.g. '{"untagged":true}'`,
        { cause: error },
      );
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new Error('--query must be a JSON object, e.g. \'{"errors":{"kind":"fp","class":"Shirt"}}\'');
  }
  const merged = { ...(raw as object), datasetId: base.datasetId } as Record<string, unknown>;
  if (base.runId !== undefined) merged.runId = base.runId;
  const parsed = ImageQuery.safeParse(merged);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${['query', ...i.path.map(String)].join('.')}: ${i.message}`);
    throw new Error(`--query is not a valid query: ${why.join('; ')}`);
  }
  return parsed.data;
}
