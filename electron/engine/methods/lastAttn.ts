// Last-layer attention: the class-token row of the last block over the patch tokens (without a
// class token, the mean over its queries), mean over heads, min-max normalised. The cheapest sanity baseline.
import { blockTerm, checkBlocks, checkRows, minMaxNormalise } from './common';
import type { BlockAttention, ClsRows } from './types';

export function lastAttn(blocks: readonly BlockAttention[], prefixTokens: number): Float32Array {
  checkBlocks(blocks, prefixTokens, false);
  return minMaxNormalise(blockTerm(blocks[blocks.length - 1], prefixTokens, false));
}

/** From class-token rows (heads × T per block); uses the last entry. */
export function lastAttnFromRows(rows: readonly ClsRows[], prefixTokens: number): Float32Array {
  const { heads, tokens } = checkRows(rows, prefixTokens, false);
  const a = rows[rows.length - 1].attention;
  const n = tokens - prefixTokens;
  const mean = new Float64Array(n);
  for (let h = 0; h < heads; h++) {
    const base = h * tokens + prefixTokens;
    for (let j = 0; j < n; j++) mean[j] += a[base + j];
  }
  for (let j = 0; j < n; j++) mean[j] /= heads;
  return minMaxNormalise(mean);
}
