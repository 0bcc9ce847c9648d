// The saliency methods as ONNX ops appended to the explain graph, so that a batch run returns only
// the maps [batch, patches] instead of every attention matrix and gradient. Each method follows
// electron/engine/methods exactly (same definitions, same options); class-token rows are sliced
// out before any arithmetic, and the rollouts propagate the class-token row as a vector.
import { EngineError } from '../errors';
import type { MethodName, RelevanceMethodName, ResolvedMethodOptions } from '../methods';
import { DataType, type ModelProto } from '../onnx/onnxSchema';
import { appendExplainNodes, cloneForEditing, type ModelAnalysis, type TargetSource } from './explainGraph';
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

  /** Mean over heads of [B, H, 1, n] → [B, n]. */
  private headMeanRow(t: string): string {
    const e = this.e;
    const sum = e.reduce('ReduceSum', t, [1, 2], false);
    return e.op('Mul', [sum, e.float(1 / this.a.heads)]);
  }

  /** Mean over heads of [B, H, T, T] → [B, T, T]. */
  private headMean(t: string): string {
    return this.e.op('Mul', [this.e.reduce('ReduceSum', t, [1], false), this.e.float(1 / this.a.heads)]);
  }

  lastAttn(attention: string[]): string {
    return this.headMeanRow(this.clsPatchRow(attention[attention.length - 1]));
  }

  rollout(attention: string[]): string {
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
    // e₀ᵀ·Ā_B⋯Ā_1: start from the class row of the last block and multiply down to the first.
    let row = e.slice(rowNormalised(attention.length - 1), [0], [1], [1]); // [B, 1, T]
    for (let b = attention.length - 2; b >= 0; b--) row = e.op('MatMul', [row, rowNormalised(b)]);
    return this.patchesOfRow(row);
  }

  gradRollout(attention: string[], gradient: string[]): string {
    const e = this.e;
    const T = this.a.tokens;
    // R = (I + Ā_B)⋯(I + Ā_1), Ā_b = mean_h max(0, G ⊙ A): propagate e₀ᵀ from the last block.
    let row = e.float(
      Array.from({ length: T }, (_, i) => (i === 0 ? 1 : 0)),
      [1, 1, T],
    );
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
    for (let b = o.blocks[0]; b <= o.blocks[1]; b++) {
      let s = this.headMeanRow(e.op('Mul', [this.clsPatchRow(attention[b]), this.clsPatchRow(gradient[b])])); // [B, n]
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
