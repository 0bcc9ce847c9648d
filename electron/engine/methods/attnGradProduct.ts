// The article's attention-gradient product: per block the head-mean of A ⊙ G on the class-token
// row over the patch tokens (or the received term, without a class token), shifted (or clamped) to be non-negative plus ε, multiplied over the
// chosen blocks in log space (no underflow), then min-max normalised.
import { blockTerm, checkBlocks, checkRows, minMaxNormalise } from './common';
import { resolveMethodOptions, type ResolvedMethodOptions } from './options';
import type { BlockAttention, ClsRows, MethodOptions } from './types';

export function attnGradProduct(
  blocks: readonly BlockAttention[],
  prefixTokens: number,
  options?: Partial<MethodOptions>,
): Float32Array {
  checkBlocks(blocks, prefixTokens, true);
  const opts = resolveMethodOptions(options, blocks.length);
  const terms = blocks.map((b, i) =>
    i >= opts.blocks[0] && i <= opts.blocks[1] ? blockTerm(b, prefixTokens, true) : undefined,
  );
  return productOfTerms(terms, opts);
}

/** The same method from class-token rows only (heads × T per block), e.g. from a dump or a fixture. */
export function attnGradProductFromRows(
  rows: readonly ClsRows[],
  prefixTokens: number,
  options?: Partial<MethodOptions>,
): Float32Array {
  const { heads, tokens } = checkRows(rows, prefixTokens, true);
  const opts = resolveMethodOptions(options, rows.length);
  const n = tokens - prefixTokens;
  const terms = rows.map((row, b) => {
    if (b < opts.blocks[0] || b > opts.blocks[1]) return undefined;
    const s = new Float64Array(n);
    const { attention: a, gradient: g } = row;
    for (let h = 0; h < heads; h++) {
      const base = h * tokens + prefixTokens;
      for (let j = 0; j < n; j++) s[j] += a[base + j] * g![base + j];
    }
    for (let j = 0; j < n; j++) s[j] /= heads;
    return s;
  });
  return productOfTerms(terms, opts);
}

/**
 * Steps 4–6 over the chosen blocks' terms S_b (undefined: outside the range): shift (or clamp),
 * add ε, multiply in log space, min-max normalise.
 */
export function productOfTerms(
  terms: readonly (Float64Array | undefined)[],
  opts: ResolvedMethodOptions,
): Float32Array {
  const n = terms.find((t) => t)?.length ?? 0;
  const logSum = new Float64Array(n);
  for (const term of terms) {
    if (!term) continue;
    const s = Float64Array.from(term, (v) => (opts.negatives === 'clamp' && v < 0 ? 0 : v));
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < n; j++) {
      if (s[j] < lo) lo = s[j];
      if (s[j] > hi) hi = s[j];
    }
    const range = hi - lo;
    if (range === 0) continue; // a flat block carries no ranking: factor 1
    const eps = opts.epsilonMode === 'relative' ? opts.epsilon * range : opts.epsilon;
    const shift = opts.negatives === 'shift' ? lo : 0;
    for (let j = 0; j < n; j++) logSum[j] += Math.log(s[j] - shift + eps);
  }
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (logSum[j] > max) max = logSum[j];
  // Every entry -Infinity (absolute ε = 0 with a zero in every position): no information.
  if (max === -Infinity) return new Float32Array(n);
  const product = new Float64Array(n);
  for (let j = 0; j < n; j++) product[j] = Math.exp(logSum[j] - max);
  return minMaxNormalise(product);
}
