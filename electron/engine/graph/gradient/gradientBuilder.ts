// Reverse-mode differentiation of an ONNX graph, emitted as ONNX nodes: given a seed gradient for
// one output and a set of tensors, appends the nodes that compute d(seed · output)/d(tensor) for
// each. Only the part of the graph that lies between those tensors and the output is differentiated;
// integer and shape subgraphs carry no gradient. An op on that path without a rule is an error.
import { EngineError } from '../../errors';
import type { NodeProto } from '../../onnx/onnxSchema';
import { elementwiseRules } from './elementwiseRules';
import { findGeluUnits, geluGradient } from './geluPattern';
import { linearRules } from './linearRules';
import { normalizationRules } from './normalizationRules';
import { poolingRules } from './poolingRules';
import { ATTN_LRP_RULES, identityRule } from './relevanceRules';
import { shapeRules } from './shapeRules';
import { type Contribution, describe, GradientContext, type VjpRule } from './vjpContext';

export const VJP_RULES: Readonly<Record<string, VjpRule>> = {
  ...elementwiseRules,
  ...linearRules,
  ...shapeRules,
  ...normalizationRules,
  ...poolingRules,
};

export interface GradientRequest {
  /** The differentiated output (e.g. the logits). */
  output: string;
  /** The seed: a tensor of the output's shape (e.g. the one-hot targets). */
  seed: string;
  /** Tensors to return gradients for, in any order. */
  wrt: string[];
  /**
   * Modified rules in place of the exact ones (AttnLRP's, relevanceRules.ts); their GELU units
   * take the identity rule too. Default: the exact gradient.
   */
  relevance?: 'attn-lrp';
}

/** Appends the gradient nodes; returns tensor names of d(Σ seed ⊙ output)/d(wrt[i]). */
export function buildGradients(ctx: GradientContext, request: GradientRequest): string[] {
  const nodes = ctx.editor.graph.node ?? [];
  const forwardCount = nodes.length;
  const onPath = tensorsOnPath(nodes, request, ctx);
  for (const w of request.wrt) {
    if (!onPath.has(w))
      throw new EngineError(
        `Tensor '${w}' does not influence '${request.output}', so it has no gradient; check the attention nodes named for this model.`,
        'no-gradient-path',
      );
  }
  const gelus = new Map(findGeluUnits(nodes.slice(0, forwardCount), ctx).map((u) => [u.last, u]));
  const rules = request.relevance ? ATTN_LRP_RULES : VJP_RULES;
  const acc = new GradientAccumulator(ctx);
  acc.add(request.output, request.seed);
  for (let i = forwardCount - 1; i >= 0; i--) {
    const node = nodes[i];
    const gelu = gelus.get(i);
    if (gelu) {
      // The GELU's inner nodes get no gradient of their own, so the loop passes over them.
      if (acc.has(gelu.y) && onPath.has(gelu.x)) {
        const g = acc.final(gelu.y);
        acc.add(
          gelu.x,
          request.relevance
            ? identityRule(ctx.editor, g, gelu.x, gelu.y)
            : geluGradient(ctx.editor, g, gelu.x),
        );
      }
      continue;
    }
    const ins = node.input ?? [];
    const needs = (k: number): boolean => !!ins[k] && onPath.has(ins[k]);
    if (!ins.some((_, k) => needs(k))) continue;
    const outs = node.output ?? [];
    if (!outs.some((o) => acc.has(o))) continue;
    if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') throw noRule(node);
    const rule = rules[node.opType ?? ''];
    if (!rule) throw noRule(node);
    const grads = rule({
      node,
      ctx,
      needs,
      gradOut: (k) => (outs[k] && acc.has(outs[k]) ? acc.final(outs[k]) : undefined),
    });
    grads.forEach((g, k) => {
      if (g !== undefined && needs(k)) acc.add(ins[k], g);
    });
  }
  return request.wrt.map((w) => {
    if (!acc.has(w))
      throw new EngineError(
        `No gradient reached tensor '${w}' from '${request.output}'.`,
        'no-gradient-path',
      );
    return acc.final(w);
  });
}

function noRule(node: NodeProto): EngineError {
  return new EngineError(
    `The gradient path from the attention to the logits goes through node ${describe(node)}, and the engine has no gradient rule for op type ${node.opType}${node.domain ? ` (domain ${node.domain})` : ''}. This export is not supported yet; please report the op.`,
    'unsupported-op',
  );
}

/**
 * Float tensors that both depend on some `wrt` tensor and influence `output`: only these carry
 * gradients.
 */
function tensorsOnPath(nodes: NodeProto[], request: GradientRequest, ctx: GradientContext): Set<string> {
  const downstream = new Set(request.wrt);
  for (const node of nodes) {
    if ((node.input ?? []).some((x) => x && downstream.has(x))) {
      for (const o of node.output ?? []) if (o && ctx.isFloat(o)) downstream.add(o);
    }
  }
  const upstream = new Set([request.output]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if ((node.output ?? []).some((o) => upstream.has(o)))
      for (const x of node.input ?? []) if (x) upstream.add(x);
  }
  return new Set([...downstream].filter((t) => upstream.has(t)));
}

/** Sums gradient contributions per tensor, joining placed pieces with Concat where they tile. */
class GradientAccumulator {
  private readonly parts = new Map<string, Contribution[]>();
  private readonly done = new Map<string, string>();

  constructor(private readonly ctx: GradientContext) {}

  has(name: string): boolean {
    return this.done.has(name) || this.parts.has(name);
  }

  add(name: string, c: Contribution): void {
    if (this.done.has(name)) throw new Error(`internal: gradient of ${name} added after it was used`);
    const list = this.parts.get(name) ?? [];
    list.push(c);
    this.parts.set(name, list);
  }

  final(name: string): string {
    const ready = this.done.get(name);
    if (ready) return ready;
    const list = this.parts.get(name) ?? [];
    const result = this.combine(name, list);
    this.done.set(name, result);
    this.parts.delete(name);
    return result;
  }

  private combine(name: string, list: Contribution[]): string {
    const e = this.ctx.editor;
    const full = list.filter((c): c is string => typeof c === 'string');
    const placed = list.filter((c): c is Exclude<Contribution, string> => typeof c !== 'string');
    if (placed.length > 0) {
      const dims = this.ctx.dims(name);
      const axis = placed[0].axis;
      const sorted = [...placed].sort((p, q) => p.start - q.start);
      const tiles =
        placed.every((p) => p.axis === axis) &&
        sorted[0].start === 0 &&
        sorted[sorted.length - 1].end === dims[axis] &&
        sorted.every((p, i) => i === 0 || p.start === sorted[i - 1].end);
      if (tiles)
        full.push(
          sorted.length === 1
            ? sorted[0].tensor
            : e.op(
                'Concat',
                sorted.map((p) => p.tensor),
                { axis },
              ),
        );
      else {
        for (const p of placed) {
          const pads = new Array<number>(2 * dims.length).fill(0);
          pads[p.axis] = p.start;
          pads[dims.length + p.axis] = dims[p.axis] - p.end;
          full.push(e.op('Pad', [p.tensor, e.ints(pads)]));
        }
      }
    }
    if (full.length === 1) return full[0];
    return e.op('Sum', full);
  }
}
