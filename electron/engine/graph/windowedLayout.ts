// The layout of models whose blocks do not share one token set (Swin: windowed attention on a grid
// that patch merging halves per stage; VOLO: outlookers, then global attention, then class
// attention): per block its kind, its own grid and, for each grid cell, where the attention holds
// that cell's key (window w, position n); and the in-graph nodes that turn a block's attention (or
// A ⊙ G) into its term on its own grid, then onto the last block's. CaiT (talking-heads
// self-attention on the patches, then class attention) takes this path too.
import { EngineError } from '../errors';
import type { GraphProto } from '../onnx/onnxSchema';
import type { AttentionSite } from './attentionFinder';
import type { GraphEditor } from './graphEditor';
import { KeyTokenTracer } from './keyTokenTrace';
import type { TensorInfoMap } from './shapeProbe';
import { patchGridFromConv } from './tokenLayout';

export interface WindowedBlock {
  /**
   * 'received': windowed or global attention with no class-token query; 'class-row': class
   * attention (one query, the class token, over [cls, patches]); 'skipped': outlook attention
   * (VOLO), which is not part of the product.
   */
  kind: 'received' | 'class-row' | 'skipped';
  /** The block's own grid [rows, cols]. */
  grid: [number, number];
  heads: number;
  windows: number;
  positions: number;
  /** For each cell of the grid (row-major), its key's flat index w·positions + n in one image. */
  cellIndex: number[];
}

export function inferWindowedBlocks(
  graph: GraphProto,
  sites: AttentionSite[],
  info: TensorInfoMap,
  probeBatch: number,
): WindowedBlock[] {
  const tracer = new KeyTokenTracer(graph, info, probeBatch);
  const blocks: WindowedBlock[] = [];
  for (const site of sites) {
    const dims = info.get(site.tensor)?.dims ?? [];
    if (dims.length === 5) {
      // Outlook attention [batch, heads, positions, K², K²]: weights made from the centre token.
      const side = Math.round(Math.sqrt(dims[2]));
      const grid: [number, number] = side * side === dims[2] ? [side, side] : [dims[2], 1];
      blocks.push({ kind: 'skipped', grid, heads: dims[1], windows: 0, positions: 0, cellIndex: [] });
      continue;
    }
    if (dims.length !== 4 || (dims[2] !== dims[3] && dims[2] !== 1))
      throw new EngineError(
        `Attention '${site.label}' has shape [${dims.join(', ')}]; the engine reads [batch·windows, heads, N, N] (windowed or global attention) and [batch, heads, 1, 1 + N] (class attention).`,
        'not-supported-yet',
      );
    // A flat token tensor reads as the previous block's grid; before any, the patch embedding's
    // (CaiT's first self-attention block).
    const previous =
      [...blocks].reverse().find((b) => b.kind !== 'skipped')?.grid ?? patchGridFromConv(graph, info);
    const keys = tracer.trace(site, previous);
    if (keys.windows * probeBatch !== dims[0] || keys.positions !== dims[3])
      throw new EngineError(
        `Attention '${site.label}' has shape [${dims.join(', ')}], but its keys trace to ${keys.windows} windows of ${keys.positions} tokens per image.`,
        'unsupported-model',
      );
    const cellIndex = new Array<number>(keys.grid[0] * keys.grid[1]).fill(-1);
    keys.cellOf.forEach((cell, flat) => {
      if (cell >= 0) cellIndex[cell] = flat;
    });
    const kind = dims[2] === 1 ? 'class-row' : 'received';
    blocks.push({
      kind,
      grid: keys.grid,
      heads: dims[1],
      windows: keys.windows,
      positions: keys.positions,
      cellIndex,
    });
  }
  const live = blocks.filter((b) => b.kind !== 'skipped');
  if (live.length === 0)
    throw new EngineError(
      'The model has only outlook attention, which the method leaves out: nothing to explain.',
      'no-attention',
    );
  const last = live[live.length - 1].grid;
  blocks.forEach((b, i) => {
    if (b.kind !== 'skipped' && (b.grid[0] % last[0] !== 0 || b.grid[1] % last[1] !== 0))
      throw new EngineError(
        `Block ${i}'s grid ${b.grid[0]}×${b.grid[1]} cannot be pooled onto the last block's ${last[0]}×${last[1]}.`,
        'unsupported-model',
      );
  });
  return blocks;
}

/**
 * The term of a block on its own grid, [batch, rows·cols]: the mean over heads and the window's
 * queries of x ([batch·windows, heads, queries, N]: A or A ⊙ G), windows put back in place. With
 * one query (class attention) that is the class-token row, its class-token key left out.
 */
export function windowedTermNodes(e: GraphEditor, x: string, block: WindowedBlock): string {
  const mean = e.reduce('ReduceMean', x, [1, 2], false);
  const perImage = e.op('Reshape', [mean, e.ints([-1, block.windows * block.positions])]);
  return e.op('Gather', [perImage, e.ints(block.cellIndex)], { axis: 1 });
}

/** A term [batch, rows·cols] average-pooled onto a coarser grid: each coarse cell the mean of its cells. */
export function poolTermNodes(
  e: GraphEditor,
  t: string,
  from: [number, number],
  to: [number, number],
): string {
  if (from[0] === to[0] && from[1] === to[1]) return t;
  const cells = e.op('Reshape', [t, e.ints([-1, to[0], from[0] / to[0], to[1], from[1] / to[1]])]);
  return e.op('Reshape', [e.reduce('ReduceMean', cells, [2, 4], false), e.ints([-1, to[0] * to[1]])]);
}
