// The exact (erf) GELU as exporters spell it out, y = x·½·(1 + erf(x/√2)), recognised as one unit
// so that its gradient is a short element-wise chain of x alone. Differentiating the five ops one
// by one would keep their intermediate tensors alive for the backward pass, which stops ONNX
// Runtime from fusing the forward into one Gelu kernel and costs memory traffic in both passes.
import type { NodeProto } from '../../onnx/onnxSchema';
import type { GraphEditor } from '../graphEditor';
import type { GradientContext } from './vjpContext';

/** One spelled-out GELU: `last` is the index of the node that produces y. */
export interface GeluUnit {
  x: string;
  y: string;
  last: number;
}

const CLOSE = 1e-4;

function near(value: number | undefined, expected: number): boolean {
  return value !== undefined && Math.abs(value - expected) <= CLOSE * Math.abs(expected);
}

/**
 * Finds every erf GELU among `nodes` whose inner tensors are used by nothing else (so nothing is
 * lost by skipping their own gradients). Accepted spellings: x/√2 or x·(1/√2); 1 + erf in either
 * order; (x·(1+erf))·½ or (x·½)·(1+erf), each product in either order.
 */
export function findGeluUnits(nodes: readonly NodeProto[], ctx: GradientContext): GeluUnit[] {
  const producer = new Map<string, number>();
  const uses = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) producer.set(o, i);
    for (const x of n.input ?? []) if (x) uses.set(x, (uses.get(x) ?? 0) + 1);
  });
  const outputs = new Set((ctx.editor.graph.output ?? []).map((o) => o.name));
  const inner = (t: string): boolean => uses.get(t) === 1 && !outputs.has(t);
  const made = (t: string, op: string): NodeProto | undefined => {
    const i = producer.get(t);
    return i !== undefined && nodes[i].opType === op && !nodes[i].domain ? nodes[i] : undefined;
  };
  /** For a two-input node, the input that is not the scalar constant `value` (or undefined). */
  const otherThanScalar = (n: NodeProto, value: number): string | undefined => {
    const [a, b] = n.input ?? [];
    if (near(ctx.scalar(b), value)) return a;
    if (near(ctx.scalar(a), value)) return b;
    return undefined;
  };
  /** x where t = 1 + erf(x/√2), with every tensor inside used once. */
  const onePlusErf = (t: string): string | undefined => {
    const add = made(t, 'Add');
    if (!add || !inner(t)) return undefined;
    const e = otherThanScalar(add, 1);
    const erf = e && inner(e) ? made(e, 'Erf') : undefined;
    const scaled = erf?.input?.[0];
    if (!scaled || !inner(scaled)) return undefined;
    const div = made(scaled, 'Div');
    if (div) return near(ctx.scalar(div.input![1]), Math.SQRT2) ? div.input![0] : undefined;
    const mul = made(scaled, 'Mul');
    return mul ? otherThanScalar(mul, Math.SQRT1_2) : undefined;
  };
  const units: GeluUnit[] = [];
  nodes.forEach((node, last) => {
    if (node.opType !== 'Mul' || node.domain) return;
    const [a, b] = node.input ?? [];
    const y = node.output?.[0];
    if (!a || !b || !y) return;
    // (x·(1+erf))·½
    const product = otherThanScalar(node, 0.5);
    const pm = product && inner(product) ? made(product, 'Mul') : undefined;
    if (pm) {
      const [p, q] = pm.input!;
      for (const [x, t] of [
        [p, q],
        [q, p],
      ])
        if (onePlusErf(t) === x) return void units.push({ x, y, last });
    }
    // (x·½)·(1+erf)
    for (const [h, t] of [
      [a, b],
      [b, a],
    ]) {
      const half = inner(h) ? made(h, 'Mul') : undefined;
      const x = half ? otherThanScalar(half, 0.5) : undefined;
      if (x && onePlusErf(t) === x) return void units.push({ x, y, last });
    }
  });
  return units;
}

/**
 * g ⊙ GELU′(x) for the exact GELU, from x alone: with s = x/√2,
 * GELU′(x) = Φ(x) + x·φ(x) = ½·(1 + erf(s) + (2/√π)·s·e^(−s²)); the factor 2/√π rides in the
 * exponent. Eight element-wise passes; the trailing ½ is a scalar that ORT folds into the MatMul
 * that consumes it.
 */
export function geluGradient(e: GraphEditor, g: string, x: string): string {
  const s = e.op('Mul', [x, e.float(Math.SQRT1_2)]);
  const bump = e.op('Exp', [e.op('Sub', [e.float(Math.log(2 / Math.sqrt(Math.PI))), e.op('Mul', [s, s])])]);
  const twice = e.op('Sum', [e.op('Erf', [s]), e.op('Mul', [s, bump]), e.float(1)]);
  return e.op('Mul', [e.op('Mul', [g, twice]), e.float(0.5)]);
}
