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
