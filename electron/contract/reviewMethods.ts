// Protocol methods the reviewer UI needs beyond the core's: the image view's per-block strip and
// faithfulness scores, the colour maps' tables, the bundled models, and service-side settings.
import { z } from 'zod';
import { ModelLeaderboard, SaliencyChoice, SaliencyMethod, SaliencyOptions } from './saliencyMethods';

const ImageTarget = z
  .object({
    imageId: z.number().int().positive(),
    runId: z.number().int().positive(),
    /** Class label to explain; default: the run's top-1 class for the image. */
    target: z.string().optional(),
  })
  .strict();

const RegionCheck = z.object({
  id: z.number().int(),
  imageId: z.number().int(),
  runId: z.number().int(),
  method: z.string(),
  target: z.string(),
  /** Share of the pixels hidden. */
  fraction: z.number(),
  /** p(target) on the image, with the map's top pixels hidden, a random region, the map's bottom pixels. */
  before: z.number(),
  after: z.number(),
  random: z.number(),
  bottom: z.number(),
  decisive: z.boolean(),
  reviewer: z.string().nullable(),
  checkedAt: z.string(),
});

export const ProviderChoice = z.enum(['auto', 'cuda', 'webgpu', 'cpu']);
export const Precision = z.enum(['float32', 'float16']);

const ServiceSettings = z.object({
  reviewer: z.string(),
  provider: ProviderChoice,
  /** The GPU the CUDA provider uses (its device id). */
  cudaDevice: z.number().int().min(0),
  /** The saliency graphs' compute precision (float16: for GPUs, maps within ~3e-2). */
  precision: Precision,
  /** The execution provider the last model session actually ran on. */
  lastProvider: z.string().nullable(),
  providerMessages: z.array(z.string()),
});

export const reviewMethods = {
  'saliency.blocks': {
    params: ImageTarget,
    result: z.object({
      target: z.string(),
      grid: z.tuple([z.number().int(), z.number().int()]),
      /**
       * Per block: its kind ('class-row', 'received' or 'skipped', METHOD.md), its own grid, and
       * S_b on that grid (row-major), shifted and min-max normalised for display (empty: skipped).
       */
      blocks: z.array(
        z.object({
          kind: z.enum(['class-row', 'received', 'skipped']),
          grid: z.tuple([z.number().int(), z.number().int()]),
          values: z.array(z.number()),
        }),
      ),
    }),
  },
  'evaluate.image': {
    params: ImageTarget.extend({ methods: z.array(SaliencyMethod).optional() }).strict(),
    result: z.object({
      target: z.string(),
      /** Areas under the deletion (lower is better) and insertion (higher is better) curves. */
      results: z.array(z.object({ method: z.string(), deletion: z.number(), insertion: z.number() })),
    }),
  },
  'region.check': {
    params: ImageTarget.extend({
      method: SaliencyChoice,
      options: SaliencyOptions.default({}),
    }).strict(),
    result: RegionCheck,
  },
  'models.leaderboard': {
    /** The model of a run, or a model path (file or folder). */
    params: z
      .object({ runId: z.number().int().positive().optional(), model: z.string().min(1).optional() })
      .strict()
      .refine((p) => (p.runId === undefined) !== (p.model === undefined), 'give runId or model'),
    result: ModelLeaderboard,
  },
  'region.list': {
    params: z.object({ imageId: z.number().int().positive() }).strict(),
    result: z.array(RegionCheck),
  },
  'heatmap.colormaps': {
    params: z.object({}).strict(),
    result: z.object({
      turbo: z.array(z.number().int()),
      jet: z.array(z.number().int()),
      viridis: z.array(z.number().int()),
      inferno: z.array(z.number().int()),
    }),
  },
  'models.bundled': {
    params: z.object({}).strict(),
    result: z.array(z.object({ name: z.string(), path: z.string(), description: z.string() })),
  },
  'settings.get': { params: z.object({}).strict(), result: ServiceSettings },
  'settings.set': {
    params: z
      .object({
        reviewer: z.string().trim().min(1).max(200).optional(),
        provider: ProviderChoice.optional(),
        cudaDevice: z.number().int().min(0).max(63).optional(),
        precision: Precision.optional(),
      })
      .strict(),
    result: ServiceSettings,
  },
} as const;
