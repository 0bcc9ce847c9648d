// Token maps read at the patch embedding (the Conv that cuts the image into patches): the
// relevance x ⊙ ĝ of its output, summed over the embedding channels, with ĝ the AttnLRP-modified
// gradient ('attn-lrp') or the exact one ('grad-x-input', gradient × input). One forward and one
// backward pass, like the attention methods.
import { EngineError } from '../errors';
import type { GraphProto } from '../onnx/onnxSchema';
import { targetSeed, type ModelAnalysis, type TargetSource } from './explainGraph';
import { buildGradients } from './gradient/gradientBuilder';
import { GradientContext } from './gradient/vjpContext';
import type { GraphEditor } from './graphEditor';
import type { TensorInfoMap } from './shapeProbe';
import { poolTermNodes } from './windowedLayout';

export type RelevanceKind = 'attn-lrp' | 'grad-x-input';

/**
 * The patch-embedding Conv's output, [batch, channels, rows, cols]: the Conv that makes the token
 * grid or, for hierarchical models (Swin's first stage, VOLO's finer outlooker grid), the last
 * Conv whose grid is a whole multiple of it.
 */
export function patchEmbeddingTensor(
  graph: GraphProto,
  info: TensorInfoMap,
  grid: [number, number],
): { tensor: string; grid: [number, number] } {
  let finer: { tensor: string; grid: [number, number] } | undefined;
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Conv') continue;
    const out = node.output?.[0] ?? '';
    const dims = info.get(out)?.dims;
    if (dims?.length !== 4) continue;
    if (dims[2] === grid[0] && dims[3] === grid[1]) return { tensor: out, grid };
    if (dims[2] % grid[0] === 0 && dims[3] % grid[1] === 0) finer = { tensor: out, grid: [dims[2], dims[3]] };
  }
  if (finer) return finer;
  throw new EngineError(
    `Relevance at the patch embedding is not defined for this architecture: no Conv makes the ${grid[0]}×${grid[1]} patch grid.`,
    'method-not-defined',
  );
}

/** Appends the nodes of the raw (unnormalised) token relevance [batch, rows·cols]; returns its name. */
export function appendRelevanceMap(
  editor: GraphEditor,
  analysis: ModelAnalysis,
  info: TensorInfoMap,
  kind: RelevanceKind,
  targets: TargetSource,
): string {
  const { tensor: patches, grid } = patchEmbeddingTensor(editor.graph, info, analysis.grid);
  const [gradient] = buildGradients(new GradientContext(editor, info), {
    output: analysis.logitsName,
    seed: targetSeed(editor, analysis, targets),
    wrt: [patches],
    relevance: kind === 'attn-lrp' ? 'attn-lrp' : undefined,
  });
  const perChannel = editor.op('Mul', [patches, gradient]);
  const summed = editor.reduce('ReduceSum', perChannel, [1], false); // [B, rows, cols]
  const flat = editor.op('Reshape', [summed, editor.ints([-1, grid[0] * grid[1]])]);
  return poolTermNodes(editor, flat, grid, analysis.grid);
}
