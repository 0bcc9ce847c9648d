// Gradient-weighted rollout (Chefer et al. 2021): Ā_b = mean over heads of max(0, G_b ⊙ A_b);
// R = I, then R ← R + Ā_b·R block by block, so R = (I + Ā_B)⋯(I + Ā_1); the map is R's
// class-token row (mean of its rows without one) over the patch tokens, propagated as a row vector: O(B·T²).
import { checkBlocks, meanOverHeads, minMaxNormalise, rolloutStart } from './common';
import { rowTimesMatrix } from './rollout';
import type { BlockAttention } from './types';

export function gradRollout(blocks: readonly BlockAttention[], prefixTokens: number): Float32Array {
  const { tokens } = checkBlocks(blocks, prefixTokens, true);
  let row = rolloutStart(tokens, prefixTokens);
  for (let b = blocks.length - 1; b >= 0; b--) {
    const m = meanOverHeads(blocks[b], (a, g) => {
      const x = a * g;
      return x > 0 ? x : 0;
    });
    const next = rowTimesMatrix(row, m, tokens);
    for (let k = 0; k < tokens; k++) next[k] += row[k];
    row = next;
  }
  return minMaxNormalise(row.subarray(prefixTokens));
}
