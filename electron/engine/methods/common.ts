// Helpers the saliency methods share: input validation, class-token row extraction, head
// averaging and the final min-max normalisation. Float64 accumulation throughout.
import { EngineError } from '../errors';
import type { BlockAttention, ClsRows } from './types';

/** Checks that every block has the same heads/tokens, arrays of the right length, and p < T. */
export function checkBlocks(
  blocks: readonly BlockAttention[],
  prefixTokens: number,
  needGradient: boolean,
): { heads: number; tokens: number } {
  if (blocks.length === 0)
    throw new EngineError('No attention blocks were given to the saliency method.', 'no-blocks');
  const { heads, tokens } = blocks[0];
  checkPrefix(prefixTokens, tokens);
  blocks.forEach((b, i) => {
    if (b.heads !== heads || b.tokens !== tokens) {
      throw new EngineError(
        `Block ${i} has ${b.heads} heads × ${b.tokens} tokens but block 0 has ${heads} × ${tokens}.`,
        'block-shape',
      );
    }
    const size = heads * tokens * tokens;
    if (b.attention.length !== size) {
      throw new EngineError(
        `Block ${i} attention has ${b.attention.length} values; expected heads×T×T = ${size}.`,
        'block-shape',
      );
    }
    if (needGradient) {
      if (!b.gradient)
        throw new EngineError(
          `Block ${i} has no gradient; this method needs the attention gradients (run explain, not predict).`,
          'no-gradient',
        );
      if (b.gradient.length !== size) {
        throw new EngineError(
          `Block ${i} gradient has ${b.gradient.length} values; expected heads×T×T = ${size}.`,
          'block-shape',
        );
      }
    }
  });
  return { heads, tokens };
}

/** Same checks for class-token rows (heads × T each). */
export function checkRows(
  rows: readonly ClsRows[],
  prefixTokens: number,
  needGradient: boolean,
): { heads: number; tokens: number } {
  if (rows.length === 0)
    throw new EngineError('No attention blocks were given to the saliency method.', 'no-blocks');
  const { heads, tokens } = rows[0];
  checkPrefix(prefixTokens, tokens);
  rows.forEach((r, i) => {
    if (r.heads !== heads || r.tokens !== tokens || r.attention.length !== heads * tokens) {
      throw new EngineError(
        `Block ${i} class-token rows do not have ${heads} heads × ${tokens} tokens.`,
        'block-shape',
      );
    }
    if (needGradient && (!r.gradient || r.gradient.length !== heads * tokens)) {
      throw new EngineError(
        `Block ${i} has no class-token gradient of ${heads}×${tokens} values; this method needs the attention gradients.`,
        'no-gradient',
      );
    }
  });
  return { heads, tokens };
}

function checkPrefix(prefixTokens: number, tokens: number): void {
  if (!Number.isInteger(prefixTokens) || prefixTokens < 0 || prefixTokens >= tokens) {
    throw new EngineError(
      `prefixTokens must be an integer in [0, ${tokens - 1}] for ${tokens} tokens; got ${prefixTokens}.`,
      'bad-prefix',
    );
  }
}

/** Class-token (query 0) rows of a block, heads × T, as views into the block's arrays. */
export function clsRowsOf(block: BlockAttention): ClsRows {
  const { heads, tokens } = block;
  const pick = (m: Float32Array): Float32Array => {
    const out = new Float32Array(heads * tokens);
    for (let h = 0; h < heads; h++)
      out.set(m.subarray(h * tokens * tokens, h * tokens * tokens + tokens), h * tokens);
    return out;
  };
  return {
    heads,
    tokens,
    attention: pick(block.attention),
    gradient: block.gradient ? pick(block.gradient) : undefined,
  };
}

/**
 * A block's term over the patch tokens (METHOD.md): with a class token (p ≥ 1) its row, mean over
 * heads of A ⊙ G (or of A alone); without one (p = 0: global-pool models) the received term, the
 * mean over heads and over every query i of A[k, i, j] ⊙ G[k, i, j].
 */
export function blockTerm(block: BlockAttention, prefixTokens: number, withGradient: boolean): Float64Array {
  const { heads, tokens } = block;
  const n = tokens - prefixTokens;
  const a = block.attention;
  const g = withGradient ? block.gradient! : undefined;
  const term = new Float64Array(n);
  const queries = prefixTokens > 0 ? 1 : tokens;
  for (let h = 0; h < heads; h++)
    for (let q = 0; q < queries; q++) {
      const base = (h * tokens + q) * tokens + prefixTokens;
      if (g) for (let j = 0; j < n; j++) term[j] += a[base + j] * g[base + j];
      else for (let j = 0; j < n; j++) term[j] += a[base + j];
    }
  for (let j = 0; j < n; j++) term[j] /= heads * queries;
  return term;
}

/** Where the rollouts start: e₀ (the class token's row of R), or the mean of R's rows when p = 0. */
export function rolloutStart(tokens: number, prefixTokens: number): Float64Array {
  const row = new Float64Array(tokens);
  if (prefixTokens > 0) row[0] = 1;
  else row.fill(1 / tokens);
  return row;
}

/** Mean over heads of a heads × T × T tensor, optionally of f(A, G) elementwise → T × T float64. */
export function meanOverHeads(
  block: BlockAttention,
  combine?: (a: number, g: number) => number,
): Float64Array {
  const { heads, tokens } = block;
  const tt = tokens * tokens;
  const out = new Float64Array(tt);
  const a = block.attention;
  const g = block.gradient;
  for (let h = 0; h < heads; h++) {
    const base = h * tt;
    if (combine && g) for (let i = 0; i < tt; i++) out[i] += combine(a[base + i], g[base + i]);
    else for (let i = 0; i < tt; i++) out[i] += a[base + i];
  }
  for (let i = 0; i < tt; i++) out[i] /= heads;
  return out;
}

/** Min-max normalisation to [0, 1]; a constant (or empty) map becomes all zeros. */
export function minMaxNormalise(values: ArrayLike<number>): Float32Array {
  const n = values.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float32Array(n);
  const range = hi - lo;
  if (!(range > 0) || !Number.isFinite(range)) return out;
  for (let i = 0; i < n; i++) out[i] = (values[i] - lo) / range;
  return out;
}
