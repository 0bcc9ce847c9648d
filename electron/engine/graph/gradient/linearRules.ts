// Vector-Jacobian rules of the matrix products: MatMul (batched, broadcasting) and Gemm.
import { floatAttr, intAttr } from '../nodeAttributes';
import { unsupported, type VjpRule } from './vjpContext';

/** Swaps the last two axes of a rank-r tensor (ORT fuses this Transpose into the MatMul). */
function swapLastTwo(e: import('../graphEditor').GraphEditor, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return e.op('Transpose', [x], { perm });
}

const matMul: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g) return [];
  const { ctx, node } = a;
  const e = ctx.editor;
  const [x0, x1] = node.input!;
  const d0 = ctx.dims(x0);
  const d1 = ctx.dims(x1);
  if (d0.length < 2 || d1.length < 2)
    throw unsupported(node, 'MatMul with a 1-D operand has no gradient rule yet');
  const yDims = ctx.dims(node.output![0], node);
  const batch = yDims.slice(0, -2);
  const out: (string | undefined)[] = [undefined, undefined];
  if (a.needs(0)) {
    // dX0 = G · X1ᵀ, summed over the batch axes X0 was broadcast along
    const full = e.op('MatMul', [g, swapLastTwo(e, x1, d1.length)]);
    out[0] = ctx.unbroadcast(full, [...batch, d0[d0.length - 2], d0[d0.length - 1]], x0);
  }
  if (a.needs(1)) {
    // dX1 = X0ᵀ · G
    const full = e.op('MatMul', [swapLastTwo(e, x0, d0.length), g]);
    out[1] = ctx.unbroadcast(full, [...batch, d1[d1.length - 2], d1[d1.length - 1]], x1);
  }
  return out;
};

const gemm: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g) return [];
  const { node, ctx } = a;
  const e = ctx.editor;
  const [x0, x1, c] = node.input!;
  const alpha = floatAttr(node, 'alpha', 1);
  const beta = floatAttr(node, 'beta', 1);
  const transA = intAttr(node, 'transA', 0);
  const transB = intAttr(node, 'transB', 0);
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  // Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A, B' = transB ? Bᵀ : B.
  if (a.needs(0)) {
    out[0] = transA
      ? e.op('Gemm', [x1, g], { transA: transB, transB: 1, alpha: { f: alpha } }) // dA = α·B'·Gᵀ
      : e.op('Gemm', [g, x1], { transA: 0, transB: transB ? 0 : 1, alpha: { f: alpha } }); // dA = α·G·B'ᵀ
  }
  if (a.needs(1)) {
    out[1] = transB
      ? e.op('Gemm', [g, x0], { transA: 1, transB: transA ? 1 : 0, alpha: { f: alpha } }) // dB = α·Gᵀ·A'
      : e.op('Gemm', [x0, g], { transA: transA ? 0 : 1, transB: 0, alpha: { f: alpha } }); // dB = α·A'ᵀ·G
  }
  if (c && a.needs(2)) {
    const scaled = beta === 1 ? g : e.op('Mul', [g, e.float(beta)]);
    out[2] = ctx.unbroadcast(scaled, ctx.dims(node.output![0], node), c);
  }
  return out;
};

export const linearRules: Record<string, VjpRule> = { MatMul: matMul, Gemm: gemm };
