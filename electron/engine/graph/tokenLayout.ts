// Works out the token layout of the attention: heads, tokens, the patch grid (from the
// patch-embedding Conv's output size, or an override) and the prefix tokens (class, distillation,
// register tokens) before the patches; none in global-pool models, whose blocks are then read by
// the received term. Rejects the layouts this engine does not handle yet.
import { EngineError } from '../errors';
import type { GraphProto } from '../onnx/onnxSchema';
import type { AttentionSite } from './attentionFinder';
import type { TensorInfoMap } from './shapeProbe';

export interface TokenLayout {
  heads: number;
  tokens: number;
  grid: [number, number];
  prefixTokens: number;
  /** Rank of the attention tensor as exported: 4 ([B, H, T, T]) or 3 ([B·H, T, T], torch MHA). */
  attentionRank: 3 | 4;
}

export interface LayoutOverrides {
  grid?: [number, number];
  prefixTokens?: number;
}

/** The output grid [rows, cols] of the first Conv whose kernel equals its stride (patch embedding). */
export function patchGridFromConv(graph: GraphProto, info: TensorInfoMap): [number, number] | undefined {
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Conv') continue;
    const dims = info.get(node.output?.[0] ?? '')?.dims;
    if (dims && dims.length === 4) return [dims[2], dims[3]];
  }
  return undefined;
}

export function inferTokenLayout(
  graph: GraphProto,
  sites: AttentionSite[],
  info: TensorInfoMap,
  probeBatch: number,
  overrides: LayoutOverrides,
): TokenLayout {
  const shapes = sites.map((s) => {
    const dims = info.get(s.tensor)?.dims;
    if (!dims)
      throw new EngineError(`The shape of attention '${s.label}' could not be determined.`, 'unknown-shape');
    return dims;
  });
  const first = shapes[0];
  const odd = shapes.findIndex((d) => d.length !== 3 && d.length !== 4);
  if (odd >= 0) {
    // e.g. VOLO's outlook attention, [batch, heads, positions, K², K²]: read block by block.
    throw new EngineError(
      `Attention '${sites[odd].label}' has shape [${shapes[odd].join(', ')}]; expected [batch, heads, T, T] or [batch·heads, T, T].`,
      'not-supported-yet',
    );
  }
  for (let i = 0; i < shapes.length; i++) {
    const d = shapes[i];
    const [tq, tk] = d.slice(-2);
    if (tq !== tk) {
      throw new EngineError(
        `Attention '${sites[i].label}' has ${tq} queries over ${tk} keys: this is class attention (CaiT/VOLO-style class-attention blocks), which is not supported yet.`,
        'not-supported-yet',
      );
    }
    if (d.length !== first.length || d.some((v, k) => v !== first[k])) {
      throw new EngineError(
        `Attention shapes differ between blocks ([${first.join(', ')}] vs [${d.join(', ')}] at '${sites[i].label}'): hierarchical or windowed attention (e.g. Swin) is not supported yet.`,
        'not-supported-yet',
      );
    }
  }
  const tokens = first[first.length - 1];
  const heads = first.length === 4 ? first[1] : first[0] / probeBatch;
  if (!Number.isInteger(heads) || heads < 1)
    throw new EngineError(
      `Cannot tell the number of heads from attention shape [${first.join(', ')}].`,
      'unsupported-model',
    );
  const grid = overrides.grid ?? patchGridFromConv(graph, info);
  if (!grid) {
    throw new EngineError(
      'Cannot infer the patch grid: the model has no patch-embedding Conv. Give the grid with --grid RxC (or tokens.grid in the model card).',
      'no-grid',
    );
  }
  const patches = grid[0] * grid[1];
  const prefixTokens = overrides.prefixTokens ?? tokens - patches;
  if (tokens < patches) {
    throw new EngineError(
      `The attention spans ${tokens} tokens but the patch grid ${grid[0]}×${grid[1]} has ${patches} patches: windowed attention (e.g. Swin) is not supported yet (or the grid override is wrong).`,
      'not-supported-yet',
    );
  }
  if (prefixTokens + patches !== tokens) {
    throw new EngineError(
      `${prefixTokens} prefix tokens + a ${grid[0]}×${grid[1]} grid make ${prefixTokens + patches} tokens, but the attention has ${tokens}; fix --grid / --prefix-tokens.`,
      'bad-layout',
    );
  }
  return { heads, tokens, grid, prefixTokens, attentionRank: first.length as 3 | 4 };
}
