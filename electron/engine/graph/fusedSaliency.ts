// The saliency methods as ONNX ops appended to the explain graph, so that a batch run returns only
// the maps [batch, patches] instead of every attention matrix and gradient. Each method follows
// electron/engine/methods exactly (same definitions, same options); class-token rows are sliced
// out before any arithmetic, and the rollouts propagate the class-token (or mean) row as a vector.
import { EngineError } from '../errors';
import type { MethodName, RelevanceMethodName, ResolvedMethodOptions } from '../methods';
import { DataType, type ModelProto } from '../onnx/onnxSchema';
import {
  appendExplainNodes,
  cloneForEditing,
  type ModelAnalysis,
  pooledWindowedTerm,
  type TargetSource,
} from './explainGraph';
import { GraphEditor } from './graphEditor';
import { appendRelevanceMap } from './relevanceMap';
import type { TensorInfoMap } from './shapeProbe';

export const MAP_OUTPUT = 'vsw_map';

export function methodNeedsGradients(method: MethodName | RelevanceMethodName): boolean {
  return method !== 'rollout' && method !== 'last-attn';
}

/** Builds the graph [image (, target one-hot unless targets are 'top1')] → [logits, map]. */
export function buildFusedSaliencyGraph(
  model: ModelProto,
  analysis: ModelAnalysis,
  info: TensorInfoMap | undefined,
  method: MethodName | RelevanceMethodName,
  options: ResolvedMethodOptions,
  targets: TargetSource = 'input',
): ModelProto {
  const copy = cloneForEditing(model);
  const e = new GraphEditor(copy, analysis.opset);
  if (method === 'attn-lrp' || method === 'grad-x-input') {
    if (!info) throw new Error('internal: building relevance needs the probe information');
    // Positive relevance only (evidence for the class), as the clamp of Chefer's rule.
    const raw = e.op('Relu', [appendRelevanceMap(e, analysis, info, method, targets)]);
    return finishMapGraph(copy, e, analysis, new FusedMethods(e, analysis).minMaxNormalise(raw));
  }
  const { attention, gradient } = appendExplainNodes(
    e,
    analysis,
    info,
    methodNeedsGradients(method),
    targets,
  );
  const m = new FusedMethods(e, analysis);
  let raw: string;
  switch (method) {
    case 'last-attn':
      raw = m.lastAttn(attention);
      break;
    case 'rollout':
      raw = m.rollout(attention);
      break;
    case 'grad-rollout':
      raw = m.gradRollout(attention, gradient!);
      break;
    case 'attn-grad-product':
      raw = m.attnGradProduct(attention, gradient!, options);
      break;
    default:
      throw new EngineError(`Unknown saliency method '${String(method)}'.`, 'bad-method');
  }
  return finishMapGraph(copy, e, analysis, m.minMaxNormalise(raw));
}

/** Exposes the normalised map as MAP_OUTPUT beside the logits. */
function finishMapGraph(copy: ModelProto, e: GraphEditor, analysis: ModelAnalysis, map: string): ModelProto {
  e.node('Identity', [map], {}, [MAP_OUTPUT]);
  copy.graph!.output = [copy.graph!.output![0]];
  e.addOutput(MAP_OUTPUT, DataType.FLOAT, ['batch', analysis.grid[0] * analysis.grid[1]]);
  return copy;
}

class FusedMethods {
  private readonly n: number;

  constructor(
    private readonly e: GraphEditor,
    private readonly a: ModelAnalysis,
  ) {
    this.n = a.tokens - a.prefixTokens;
  }

  /** [B, H, T, T] → class-token row over the patches, [B, H, 1, n]. */
  private clsPatchRow(t: string): string {
    return this.e.slice(t, [0, this.a.prefixTokens], [1, this.a.tokens], [2, 3]);
  }

  /**
   * The block term [B, n] (METHOD.md) of A ⊙ G, or of A alone: mean over heads of the class-token
   * row, or without a class token the received term, the mean over heads and all queries.
   */
  private term(attention: string, gradient: string | undefined, b: number): string {
    const e = this.e;
    if (this.a.windowed) {
      const x = gradient ? e.op('Mul', [attention, gradient]) : attention;
      return pooledWindowedTerm(e, this.a, b, x);
    }
    if (this.a.prefixTokens === 0) {
      const x = gradient ? e.op('Mul', [attention, gradient]) : attention;
      return e.reduce('ReduceMean', x, [1, 2], false);
    }
    const row = this.clsPatchRow(attention);
    const x = gradient ? e.op('Mul', [row, this.clsPatchRow(gradient)]) : row;
    return e.op('Mul', [e.reduce('ReduceSum', x, [1, 2], false), e.float(1 / this.a.heads)]);
  }

  /** Mean over heads of [B, H, T, T] → [B, T, T]. */
  private headMean(t: string): string {
    return this.e.op('Mul', [this.e.reduce('ReduceSum', t, [1], false), this.e.float(1 / this.a.heads)]);
  }

  /** The rollouts' starting row [·, 1, T]: e₀ᵀ, or the mean of R's rows without a class token. */
  private startRow(): string {
    const T = this.a.tokens;
    const p = this.a.prefixTokens;
    return this.e.float(
      Array.from({ length: T }, (_, i) => (p === 0 ? 1 / T : i === 0 ? 1 : 0)),
      [1, 1, T],
    );
  }

  lastAttn(attention: string[]): string {
    const last = this.liveBlocks(0, attention.length - 1).pop()!;
    return this.term(attention[last], undefined, last);
  }

  /** The blocks in [first, last] that take part in the product (outlook blocks do not). */
  private liveBlocks(first: number, last: number): number[] {
    const out: number[] = [];
    for (let b = first; b <= last; b++) if (this.a.windowed?.[b].kind !== 'skipped') out.push(b);
    return out;
  }

  /** The rollouts multiply T × T matrices of one token set: windowed stacks have none. */
  private checkOneTokenSet(method: string): void {
    if (this.a.windowed)
      throw new EngineError(
        `${method} is not defined for this architecture (windowed attention on hierarchical grids); use attn-grad-product or last-attn.`,
        'method-not-defined',
      );
  }

  rollout(attention: string[]): string {
    this.checkOneTokenSet('Attention rollout');
    const e = this.e;
    const T = this.a.tokens;
    const identity = e.float(
      Array.from({ length: T * T }, (_, i) => (i % (T + 1) === 0 ? 1 : 0)),
      [T, T],
    );
    const rowNormalised = (b: number): string => {
      const m = e.op('Add', [this.headMean(attention[b]), identity]);
      return e.op('Div', [m, e.reduce('ReduceSum', m, [2], true)]);
    };
    // e₀ᵀ·Ā_B⋯Ā_1 (or the mean row): multiply from the last block down to the first.
    let row = this.startRow();
    for (let b = attention.length - 1; b >= 0; b--) row = e.op('MatMul', [row, rowNormalised(b)]);
    return this.patchesOfRow(row);
  }

  gradRollout(attention: string[], gradient: string[]): string {
    this.checkOneTokenSet('Gradient-weighted rollout');
    const e = this.e;
    // R = (I + Ā_B)⋯(I + Ā_1), Ā_b = mean_h max(0, G ⊙ A): propagate e₀ᵀ from the last block.
    let row = this.startRow();
    for (let b = attention.length - 1; b >= 0; b--) {
      const weighted = this.headMean(e.op('Relu', [e.op('Mul', [gradient[b], attention[b]])]));
      row = e.op('Add', [row, e.op('MatMul', [row, weighted])]);
    }
    return this.patchesOfRow(row);
  }

  /** [B, 1, T] → patch entries [B, n]. */
  private patchesOfRow(row: string): string {
    const e = this.e;
    return e.op('Reshape', [e.slice(row, [this.a.prefixTokens], [this.a.tokens], [2]), e.ints([-1, this.n])]);
  }

  attnGradProduct(attention: string[], gradient: string[], o: ResolvedMethodOptions): string {
    const e = this.e;
    const logs: string[] = [];
    for (const b of this.liveBlocks(o.blocks[0], o.blocks[1])) {
      let s = this.term(attention[b], gradient[b], b); // [B, n]
      if (o.negatives === 'clamp') s = e.op('Relu', [s]);
      const lo = e.reduce('ReduceMin', s, [1], true);
      const range = e.op('Sub', [e.reduce('ReduceMax', s, [1], true), lo]);
      const eps =
        o.epsilonMode === 'relative' ? e.op('Mul', [range, e.float(o.epsilon)]) : e.float(o.epsilon);
      const base = o.negatives === 'shift' ? e.op('Sub', [s, lo]) : s;
      const log = e.op('Log', [e.op('Add', [base, eps])]);
      // A flat block carries no ranking: factor 1 (log 0), as the pure function does.
      logs.push(e.op('Where', [e.op('Equal', [range, e.float(0)]), e.float(0), log]));
    }
    const total = logs.length === 1 ? logs[0] : e.op('Sum', logs);
    return e.op('Exp', [e.op('Sub', [total, e.reduce('ReduceMax', total, [1], true)])]);
  }

  /** Per row: (x − min) / (max − min); a constant row becomes zeros. */
  minMaxNormalise(x: string): string {
    const e = this.e;
    const lo = e.reduce('ReduceMin', x, [1], true);
    const range = e.op('Sub', [e.reduce('ReduceMax', x, [1], true), lo]);
    return e.op('Where', [
      e.op('Greater', [range, e.float(0)]),
      e.op('Div', [e.op('Sub', [x, lo]), range]),
      e.float(0),
    ]);
  }
}
