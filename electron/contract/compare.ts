// Two prediction runs compared at matched recall on one class (`vsw compare`, the Compare runs
// view): the request and the result, shared by the CLI's --json and the service.
import { z } from 'zod';
import { Split } from './query';

export const CompareParams = z
  .object({
    datasetId: z.number().int().positive(),
    /** The base run (its arg-max recall on the class is the default matched recall). */
    runA: z.number().int().positive(),
    /** The run compared with it (the fine-tuned model). */
    runB: z.number().int().positive(),
    /** The positive class, a label of both runs. */
    className: z.string().min(1),
    /** The recall to match instead of run A's arg-max recall, in (0, 1]. */
    recall: z.number().gt(0, 'recall must be above 0').max(1, 'recall must be at most 1').optional(),
    /** Only the images of this split (a dataset whose test split sits beside other images). */
    split: Split.optional(),
    bootstrap: z.number().int().min(0).max(100000).default(1000),
    seed: z.number().int().min(0).default(1),
  })
  .strict();
export type CompareParams = z.input<typeof CompareParams>;

const Ci = z.tuple([z.number(), z.number()]).nullable();

export const FalsePositiveChange = z.object({
  /** False positives of run A, of run B, at their matched-recall thresholds. */
  a: z.number().int(),
  b: z.number().int(),
  /** 100·(b − a)/a, null when a = 0. */
  changePct: z.number().nullable(),
  /** Bootstrap 95% percentile interval of changePct; null when it cannot be had (a = 0). */
  ci95: Ci,
});

const CurvePoint = z.tuple([z.number(), z.number()]);

export const CompareResult = z.object({
  dataset: z.string(),
  class: z.string(),
  /** The compared images (labelled, predicted by both runs) and how many are of the class. */
  images: z.number().int(),
  positives: z.number().int(),
  split: Split.nullable(),
  matchedRecall: z.number(),
  /** Where the matched recall comes from: run A's arg-max operating point, or --recall. */
  recallFrom: z.enum(['argmax', 'given']),
  runs: z.array(
    z.object({
      id: z.number().int(),
      model: z.string(),
      threshold: z.number(),
      recall: z.number(),
      falsePositives: z.number().int(),
      precision: z.number().nullable(),
    }),
  ),
  overall: FalsePositiveChange,
  patterns: z.array(FalsePositiveChange.extend({ tag: z.string(), images: z.number().int() })),
  untagged: FalsePositiveChange.extend({ images: z.number().int() }),
  /** Precision–recall curves, [recall, precision] points, at most a few hundred each. */
  curves: z.object({ a: z.array(CurvePoint), b: z.array(CurvePoint) }),
  bootstrap: z.object({
    n: z.number().int(),
    seed: z.number().int(),
    /** Thresholds are chosen again on every resample (the matched recall varies with it). */
    thresholds: z.literal('per-resample'),
    /** Resamples left out because they held no image of the class. */
    skipped: z.number().int(),
  }),
});
export type CompareResult = z.infer<typeof CompareResult>;

/** A change in percent as the table shows it: one decimal, signed, "–" when undefined. */
export function formatChange(pct: number | null): string {
  return pct === null ? '–' : `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

export function formatCi(ci: [number, number] | null): string {
  return ci ? `[${formatChange(ci[0])}, ${formatChange(ci[1])}]` : '–';
}
