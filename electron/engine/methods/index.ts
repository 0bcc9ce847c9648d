// Entry point of the saliency methods: computeMap dispatches a method name to its pure function.
import { EngineError } from '../errors';
import { attnGradProduct } from './attnGradProduct';
import { gradRollout } from './gradRollout';
import { lastAttn } from './lastAttn';
import { rollout } from './rollout';
import type { BlockAttention, MethodName, MethodOptions } from './types';

export * from './types';
export { attnGradProduct, attnGradProductFromRows } from './attnGradProduct';
export { lastAttn, lastAttnFromRows } from './lastAttn';
export { rollout } from './rollout';
export { gradRollout } from './gradRollout';
export { minMaxNormalise } from './common';
export { mapFromTerms, poolTerm, TERM_METHODS } from './termMaps';
export { resolveMethodOptions, type ResolvedMethodOptions } from './options';

/** The normalised token map (length = patch tokens, row-major grid) of one method for one image. */
export function computeMap(
  method: MethodName,
  blocks: BlockAttention[],
  prefixTokens: number,
  options?: Partial<MethodOptions>,
): Float32Array {
  switch (method) {
    case 'attn-grad-product':
      return attnGradProduct(blocks, prefixTokens, options);
    case 'rollout':
      return rollout(blocks, prefixTokens);
    case 'grad-rollout':
      return gradRollout(blocks, prefixTokens);
    case 'last-attn':
      return lastAttn(blocks, prefixTokens);
    default:
      throw new EngineError(
        `Unknown saliency method '${String(method)}'; use attn-grad-product, rollout, grad-rollout or last-attn.`,
        'bad-method',
      );
  }
}
