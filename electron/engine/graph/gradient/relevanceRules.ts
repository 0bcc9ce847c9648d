// AttnLRP (Achtibat et al., ICML 2024) as modified vector-Jacobian rules. Relevance is carried in
// gradient × input form: a tensor x holds relevance R_x = x ⊙ ĝ_x, where ĝ is the modified
// gradient these rules propagate. Linear ops keep their exact gradient (the ε-rule with ε → 0:
// R_x = x ⊙ Wᵀĝ_y, conserved up to the bias's share b ⊙ ĝ_y). The rules written down in
// models/README.md ("AttnLRP rules"):
// - LayerNorm: the normalisation 1/σ is held constant, so the op is linear in x (centring kept).
// - A division by a tensor that depends on the input: the denominator is held constant (the same
//   rule for a LayerNorm spelled out as (x − μ) / √(σ² + ε)).
// - Softmax: its exact gradient, which in this form is the paper's rule R_x = x ⊙ (R_y − s·ΣR_y).
// - MatMul and Mul of two activations (Q·Kᵀ, A·V): the uniform rule, half of the gradient to each
//   operand, so that R_a + R_b = R_y exactly.
// - Element-wise nonlinearities (GELU, ReLU, tanh, erf, exp, …): the identity rule ĝ_x = ĝ_y ⊙ y/x,
//   so R_x = R_y.
import type { GraphEditor } from '../graphEditor';
import { intAttr } from '../nodeAttributes';
import { elementwiseRules } from './elementwiseRules';
import { linearRules } from './linearRules';
import { normalizationRules } from './normalizationRules';
import { poolingRules } from './poolingRules';
import { shapeRules } from './shapeRules';
import { normaliseAxis, unsupported, type VjpArgs, type VjpRule } from './vjpContext';

/** Stabiliser of the identity rule's y/x: x moved away from 0 by this much, keeping its sign. */
export const IDENTITY_EPSILON = 1e-6;

/** ĝ_y ⊙ y / x, with x pushed away from zero (x ≥ 0 → x + ε, else x − ε). */
export function identityRule(e: GraphEditor, g: string, x: string, y: string): string {
  const eps = e.float(IDENTITY_EPSILON);
  const stable = e.op('Where', [e.op('Less', [x, e.float(0)]), e.op('Sub', [x, eps]), e.op('Add', [x, eps])]);
  return e.op('Mul', [g, e.op('Div', [y, stable])]);
}

const identity: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  return [identityRule(a.ctx.editor, g, a.node.input![0], a.node.output![0])];
};

/** Pow with a constant exponent is element-wise in x; a varying exponent has no rule here. */
const pow: VjpRule = (a) => {
  if (a.needs(1))
    throw unsupported(a.node, 'AttnLRP has no rule for a power whose exponent depends on the input');
  return identity(a);
};

/** A product of two activations splits its relevance evenly: each operand gets half the gradient. */
function uniform(rule: VjpRule): VjpRule {
  return (a) => {
    const both = a.needs(0) && a.needs(1);
    if (!both) return rule(a);
    const e = a.ctx.editor;
    return rule({
      ...a,
      gradOut: (k) => {
        const g = a.gradOut(k);
        return g === undefined ? undefined : e.op('Mul', [g, e.float(0.5)]);
      },
    });
  };
}

/** x0 / x1 with the denominator held constant. */
const div: VjpRule = (a: VjpArgs) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  const [x0, x1] = a.node.input!;
  const e = a.ctx.editor;
  const y = a.node.output![0];
  const yDims = a.ctx.dims(y, a.node);
  return [a.ctx.unbroadcast(e.op('Div', [g, x1]), yDims, x0)];
};

/** LayerNormalization with 1/σ held constant: dX = (ĝ − mean ĝ)/σ, ĝ = G ⊙ scale; the bias is a sink. */
const layerNorm: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g) return [];
  const { node, ctx } = a;
  if (a.needs(1))
    throw unsupported(node, 'LayerNormalization whose scale depends on the input has no AttnLRP rule');
  const e = ctx.editor;
  const [x, scale, bias] = node.input!;
  const dims = ctx.dims(x);
  const axis = normaliseAxis(intAttr(node, 'axis', -1), dims.length);
  const axes = Array.from({ length: dims.length - axis }, (_, i) => axis + i);
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (a.needs(0)) {
    const epsilon = node.attribute?.find((t) => t.name === 'epsilon')?.f ?? 1e-5;
    const centred = e.op('Sub', [x, e.reduce('ReduceMean', x, axes, true)]);
    const variance = e.reduce('ReduceMean', e.op('Mul', [centred, centred]), axes, true);
    const invStd = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [variance, e.float(epsilon)])])]);
    const gh = scale ? e.op('Mul', [g, scale]) : g;
    out[0] = e.op('Mul', [e.op('Sub', [gh, e.reduce('ReduceMean', gh, axes, true)]), invStd]);
  }
  if (bias && a.needs(2)) out[2] = ctx.unbroadcast(g, ctx.dims(node.output![0], node), bias);
  return out;
};

/** The AttnLRP rule set: the plain rules, with the ones above in place of the nonlinear ones. */
export const ATTN_LRP_RULES: Readonly<Record<string, VjpRule>> = {
  ...elementwiseRules,
  ...linearRules,
  ...shapeRules,
  ...normalizationRules,
  ...poolingRules,
  LayerNormalization: layerNorm,
  MatMul: uniform(linearRules.MatMul),
  Gemm: uniform(linearRules.Gemm),
  Mul: uniform(elementwiseRules.Mul),
  Div: div,
  Pow: pow,
  Gelu: identity,
  Relu: identity,
  Tanh: identity,
  Sigmoid: identity,
  Erf: identity,
  Exp: identity,
  Log: identity,
  Sqrt: identity,
  Reciprocal: identity,
  Sin: identity,
  Cos: identity,
};
