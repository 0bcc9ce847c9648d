// The methods defined on per-block terms alone (METHOD.md, "Models without a class-token row in
// every block"): each block's S_b on its own grid, average-pooled onto the model's grid, then the
// article's product; last-layer attention from the last block's term of A. The rollouts need one
// token set for every block and are not defined here.
import { EngineError } from '../errors';
import { productOfTerms } from './attnGradProduct';
import { minMaxNormalise } from './common';
import { resolveMethodOptions } from './options';
import type { BlockTerms, MethodName, MethodOptions } from './types';

/** The methods defined on every architecture, windowed ones included. */
export const TERM_METHODS: readonly MethodName[] = ['attn-grad-product', 'last-attn'];

/** A term on a finer grid averaged onto a coarser one: each coarse cell the mean of the r × r it covers. */
export function poolTerm(
  term: ArrayLike<number>,
  from: [number, number],
  to: [number, number],
): Float64Array {
  const out = new Float64Array(to[0] * to[1]);
  const ry = from[0] / to[0];
  const rx = from[1] / to[1];
  for (let y = 0; y < from[0]; y++)
    for (let x = 0; x < from[1]; x++)
      out[Math.floor(y / ry) * to[1] + Math.floor(x / rx)] += term[y * from[1] + x] / (ry * rx);
  return out;
}

export function mapFromTerms(
  method: MethodName,
  blocks: readonly BlockTerms[],
  grid: [number, number],
  options?: Partial<MethodOptions>,
): Float32Array {
  switch (method) {
    case 'attn-grad-product': {
      const opts = resolveMethodOptions(options, blocks.length);
      const terms = blocks.map((b, i) =>
        i >= opts.blocks[0] && i <= opts.blocks[1] && b.term ? poolTerm(b.term, b.grid, grid) : undefined,
      );
      return productOfTerms(terms, opts);
    }
    case 'last-attn': {
      const last = [...blocks].reverse().find((b) => b.attentionTerm);
      if (!last) throw new EngineError('The model has no attention block to read.', 'no-blocks');
      return minMaxNormalise(poolTerm(last.attentionTerm!, last.grid, grid));
    }
    default:
      throw new EngineError(
        `${method} is not defined for this architecture (windowed attention on hierarchical grids); use attn-grad-product or last-attn.`,
        'method-not-defined',
      );
  }
}
