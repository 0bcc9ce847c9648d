// The layout of models whose blocks do not share one token set (Swin: windowed attention on a grid
// that patch merging halves per stage): per block its own grid and, for each grid cell, where the
// attention holds that cell's key (window w, position n); and the in-graph nodes that turn a
// block's attention (or A ⊙ G) into its received term on its own grid, then onto the last block's.
import { EngineError } from '../errors';
import type { GraphProto } from '../onnx/onnxSchema';
import type { AttentionSite } from './attentionFinder';
import type { GraphEditor } from './graphEditor';
import { traceKeyTokens } from './keyTokenTrace';
import type { TensorInfoMap } from './shapeProbe';

export interface WindowedBlock {
  kind: 'received';
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
  const blocks = sites.map((site): WindowedBlock => {
    const dims = info.get(site.tensor)?.dims ?? [];
    if (dims.length !== 4 || dims[2] !== dims[3])
      throw new EngineError(
        `Attention '${site.label}' has shape [${dims.join(', ')}]; a windowed block's is [batch·windows, heads, N, N]. Class attention and outlook attention (VOLO, CaiT) are not supported yet.`,
        'not-supported-yet',
      );
    const keys = traceKeyTokens(graph, site, info, probeBatch);
    if (keys.windows * probeBatch !== dims[0] || keys.positions !== dims[3])
      throw new EngineError(
        `Attention '${site.label}' has shape [${dims.join(', ')}], but its keys trace to ${keys.windows} windows of ${keys.positions} tokens per image.`,
        'unsupported-model',
      );
    const cellIndex = new Array<number>(keys.grid[0] * keys.grid[1]).fill(-1);
    keys.cellOf.forEach((cell, flat) => {
      if (cell >= 0) cellIndex[cell] = flat;
    });
    return {
      kind: 'received',
      grid: keys.grid,
      heads: dims[1],
      windows: keys.windows,
      positions: keys.positions,
      cellIndex,
    };
  });
  const last = blocks[blocks.length - 1].grid;
  blocks.forEach((b, i) => {
    if (b.grid[0] % last[0] !== 0 || b.grid[1] % last[1] !== 0)
      throw new EngineError(
        `Block ${i}'s grid ${b.grid[0]}×${b.grid[1]} cannot be pooled onto the last block's ${last[0]}×${last[1]}.`,
        'unsupported-model',
      );
  });
  return blocks;
}

/**
 * The received term of a windowed block on its own grid, [batch, rows·cols]: the mean over heads and
 * the window's N queries of x ([batch·windows, heads, N, N]: A or A ⊙ G), windows put back in place.
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
