// Attention rollout (Abnar & Zuidema 2020): per block the head-mean attention plus identity with
// rows re-normalised, multiplied over blocks (R = Ā_B ⋯ Ā_1); the map is R's class-token row (the mean of its rows
// without a class token) over the patch tokens. Only row 0 of R is needed, so it is propagated as a row vector: O(B·T²).
import { checkBlocks, meanOverHeads, minMaxNormalise, rolloutStart } from './common';
import type { BlockAttention } from './types';

export function rollout(blocks: readonly BlockAttention[], prefixTokens: number): Float32Array {
  const { tokens } = checkBlocks(blocks, prefixTokens, false);
  let row = rolloutStart(tokens, prefixTokens);
  // e_0ᵀ · Ā_B · … · Ā_1: multiply from the last block down to the first.
  for (let b = blocks.length - 1; b >= 0; b--) {
    const m = meanOverHeads(blocks[b]);
    for (let q = 0; q < tokens; q++) {
      m[q * tokens + q] += 1;
      let sum = 0;
      for (let k = 0; k < tokens; k++) sum += m[q * tokens + k];
      for (let k = 0; k < tokens; k++) m[q * tokens + k] /= sum;
    }
    row = rowTimesMatrix(row, m, tokens);
  }
  return minMaxNormalise(row.subarray(prefixTokens));
}

/** v · M for a row vector v (length T) and a row-major T × T matrix M. */
export function rowTimesMatrix(v: Float64Array, m: Float64Array, tokens: number): Float64Array {
  const out = new Float64Array(tokens);
  for (let q = 0; q < tokens; q++) {
    const vq = v[q];
    if (vq === 0) continue;
    const base = q * tokens;
    for (let k = 0; k < tokens; k++) out[k] += vq * m[base + k];
  }
  return out;
}
