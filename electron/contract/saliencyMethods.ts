// The saliency methods a client may ask for, and their options.
import { z } from 'zod';

export const SALIENCY_METHODS = [
  'attn-grad-product',
  'rollout',
  'grad-rollout',
  'last-attn',
  'attn-lrp',
  'grad-x-input',
  'occlusion',
  'occlusion-multiscale',
] as const;
export const SaliencyMethod = z.enum(SALIENCY_METHODS);
export const SaliencyOptions = z
  .object({
    epsilon: z.number().nonnegative().optional(),
    epsilonMode: z.enum(['relative', 'absolute']).optional(),
    blocks: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).optional(),
    negatives: z.enum(['shift', 'clamp']).optional(),
  })
  .strict();

/**
 * A method, or 'default': the model's leaderboard winner (the article's method until scored), or
 * 'default-fast': the leaderboard's best method that makes a map in under 50 ms (grid thumbnails).
 */
export const SaliencyChoice = z.enum(['default', 'default-fast', ...SALIENCY_METHODS]);

const Interval = z.object({ mean: z.number(), ci95: z.tuple([z.number(), z.number()]).nullable() });

/** A model's faithfulness leaderboard (faithfulness.json beside its card), as the UI shows it. */
export const LeaderboardView = z.object({
  dataset: z.string(),
  images: z.number().int(),
  subset: z.object({ rule: z.string(), of: z.number().int() }).optional(),
  machine: z.string(),
  createdAt: z.string(),
  random: z.object({
    deletion: Interval,
    insertion: Interval,
    localisation: z.object({ maskMass: Interval, pointing: z.number() }).optional(),
  }),
  maskArea: z.number().optional(),
  methods: z.array(
    z.object({
      method: z.string(),
      deletion: Interval,
      insertion: Interval,
      localisation: z.object({ maskMass: Interval, pointing: z.number() }).optional(),
      msPerImage: Interval.optional(),
      rank: z.object({ deletion: z.number(), insertion: z.number(), mean: z.number() }),
    }),
  ),
  winner: z.object({ method: z.string(), reason: z.string() }),
});

export const ModelLeaderboard = z.object({
  name: z.string(),
  path: z.string(),
  /** Null until `vsw evaluate --leaderboard` has scored these weights. */
  leaderboard: LeaderboardView.nullable(),
  defaultMethod: z.enum(SALIENCY_METHODS),
  reason: z.string(),
});
