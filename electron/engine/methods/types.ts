// Shared types of the saliency methods: method names, their options and the per-block attention
// data (attention probabilities and their gradients) every method reads.

export type MethodName = 'attn-grad-product' | 'rollout' | 'grad-rollout' | 'last-attn';

export const METHOD_NAMES: readonly MethodName[] = [
  'attn-grad-product',
  'rollout',
  'grad-rollout',
  'last-attn',
];

export interface MethodOptions {
  /** ε added to every shifted/clamped block score (attn-grad-product). */
  epsilon: number;
  /** 'relative': ε_b = epsilon × the block's range (scale-free); 'absolute': ε_b = epsilon. */
  epsilonMode: 'relative' | 'absolute';
  /** Inclusive 0-based [first, last] block range for attn-grad-product; all blocks when absent. */
  blocks?: [number, number];
  /** 'shift': S − min S (the article); 'clamp': max(S, 0) (Chefer's rule). */
  negatives: 'shift' | 'clamp';
}

export const DEFAULT_METHOD_OPTIONS: MethodOptions = {
  epsilon: 0.01,
  epsilonMode: 'relative',
  negatives: 'shift',
};

/** One image's attention for one block: heads × T × T row-major [head][query][key]. */
export interface BlockAttention {
  heads: number;
  tokens: number;
  attention: Float32Array;
  gradient?: Float32Array;
}

/** The class-token rows of one block: heads × T row-major, for attention and (optionally) gradient. */
export interface ClsRows {
  heads: number;
  tokens: number;
  attention: ArrayLike<number>;
  gradient?: ArrayLike<number>;
}

export function isMethodName(value: string): value is MethodName {
  return (METHOD_NAMES as readonly string[]).includes(value);
}

/**
 * One block's terms on its own grid (METHOD.md): S_b of A ⊙ G and of A alone, over the patch
 * tokens; 'class-row' blocks read the class token's row, 'received' blocks the mean over queries.
 */
export interface BlockTerms {
  /** 'skipped': outlook attention (VOLO), left out of the product; its terms are null. */
  kind: 'class-row' | 'received' | 'skipped';
  grid: [number, number];
  term: Float64Array | null;
  attentionTerm: Float64Array | null;
}

/** Relevance read at the patch embedding (graph/relevanceMap.ts). */
export type RelevanceMethodName = 'attn-lrp' | 'grad-x-input';
/** Maps measured by hiding parts of the image (perturbation.ts). */
export type PerturbationMethodName = 'occlusion' | 'occlusion-multiscale';

/**
 * Every map the engine makes: the attention methods above (the article's and its baselines), which
 * the pure functions compute from the attention dumps, and the faithful ones, which need the
 * session (a relevance graph or perturbed runs of the model).
 */
export type MapMethod = MethodName | RelevanceMethodName | PerturbationMethodName;

export const MAP_METHODS: readonly MapMethod[] = [
  ...METHOD_NAMES,
  'attn-lrp',
  'grad-x-input',
  'occlusion',
  'occlusion-multiscale',
];

export function isMapMethod(value: string): value is MapMethod {
  return (MAP_METHODS as readonly string[]).includes(value);
}

export function isRelevanceMethod(value: MapMethod): value is RelevanceMethodName {
  return value === 'attn-lrp' || value === 'grad-x-input';
}

export function isPerturbationMethod(value: MapMethod): value is PerturbationMethodName {
  return value === 'occlusion' || value === 'occlusion-multiscale';
}
