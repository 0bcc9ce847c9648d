// Vector-Jacobian rules of the element-wise ops (binary ops undo their broadcasting) and of the
// pass-through ops (Identity, Dropout, Cast).
import { DataType } from '../../onnx/onnxSchema';
import { stringAttr } from '../nodeAttributes';
import { geluGradient } from './geluPattern';
import { broadcastDims, type VjpArgs, type VjpRule } from './vjpContext';

/** Helper for unary ops: dX = f(gY, X, Y). */
function unary(f: (a: VjpArgs, g: string, x: string, y: string) => string): VjpRule {
  return (a) => {
    const g = a.gradOut(0);
    if (!g || !a.needs(0)) return [];
    return [f(a, g, a.node.input![0], a.node.output![0])];
  };
}

/** Helper for binary broadcasting ops: partial gradients before un-broadcasting. */
function binary(
  f: (
    a: VjpArgs,
    g: string,
    x0: string,
    x1: string,
    y: string,
  ) => [(() => string) | undefined, (() => string) | undefined],
): VjpRule {
  return (a) => {
    const g = a.gradOut(0);
    if (!g) return [];
    const [x0, x1] = a.node.input!;
    const y = a.node.output![0];
    const yDims = broadcastDims(a.ctx.dims(x0), a.ctx.dims(x1));
    const [d0, d1] = f(a, g, x0, x1, y);
    return [
      a.needs(0) && d0 ? a.ctx.unbroadcast(d0(), yDims, x0) : undefined,
      a.needs(1) && d1 ? a.ctx.unbroadcast(d1(), yDims, x1) : undefined,
    ];
  };
}

const add = binary((_a, g) => [() => g, () => g]);
const sub = binary((a, g) => [() => g, () => a.ctx.editor.op('Neg', [g])]);
const mul = binary((a, g, x0, x1) => [
  () => a.ctx.editor.op('Mul', [g, x1]),
  () => a.ctx.editor.op('Mul', [g, x0]),
]);
const div = binary((a, g, _x0, x1, y) => {
  const e = a.ctx.editor;
  // y = x0 / x1: d/dx0 = g / x1; d/dx1 = −g·y / x1
  return [() => e.op('Div', [g, x1]), () => e.op('Neg', [e.op('Div', [e.op('Mul', [g, y]), x1])])];
});

const pow = binary((a, g, x0, x1, y) => {
  const e = a.ctx.editor;
  const exponent = a.ctx.isFloat(x1) ? x1 : e.op('Cast', [x1], { to: DataType.FLOAT });
  // y = x0^x1: d/dx0 = g·x1·x0^(x1−1); d/dx1 = g·y·ln x0
  return [
    () => {
      const known = a.ctx.scalar(x1);
      if (known === 2) return e.op('Mul', [g, e.op('Mul', [x0, e.float(2)])]);
      if (known === 1) return g;
      const grad = e.op('Mul', [exponent, e.op('Pow', [x0, e.op('Sub', [exponent, e.float(1)])])]);
      return e.op('Mul', [g, grad]);
    },
    () => e.op('Mul', [g, e.op('Mul', [y, e.op('Log', [x0])])]),
  ];
});

const sum: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g) return [];
  const ins = a.node.input!;
  const yDims = broadcastDims(...ins.map((x) => a.ctx.dims(x)));
  return ins.map((x, i) => (a.needs(i) ? a.ctx.unbroadcast(g, yDims, x) : undefined));
};

const sqrt = unary((a, g, _x, y) =>
  a.ctx.editor.op('Div', [a.ctx.editor.op('Mul', [g, a.ctx.editor.float(0.5)]), y]),
);
const reciprocal = unary((a, g, _x, y) => {
  const e = a.ctx.editor;
  return e.op('Neg', [e.op('Mul', [g, e.op('Mul', [y, y])])]);
});
const neg = unary((a, g) => a.ctx.editor.op('Neg', [g]));
const erf = unary((a, g, x) => {
  const e = a.ctx.editor;
  const gauss = e.op('Exp', [e.op('Neg', [e.op('Mul', [x, x])])]);
  return e.op('Mul', [g, e.op('Mul', [gauss, e.float(2 / Math.sqrt(Math.PI))])]);
});
const tanh = unary((a, g, _x, y) => {
  const e = a.ctx.editor;
  return e.op('Mul', [g, e.op('Sub', [e.float(1), e.op('Mul', [y, y])])]);
});
const sigmoid = unary((a, g, _x, y) => {
  const e = a.ctx.editor;
  return e.op('Mul', [g, e.op('Mul', [y, e.op('Sub', [e.float(1), y])])]);
});
const relu = unary((a, g, x) => {
  const e = a.ctx.editor;
  return e.op('Where', [e.op('Greater', [x, e.float(0)]), g, e.float(0)]);
});
const exp = unary((a, g, _x, y) => a.ctx.editor.op('Mul', [g, y]));
const log = unary((a, g, x) => a.ctx.editor.op('Div', [g, x]));

const gelu = unary((a, g, x) => {
  const e = a.ctx.editor;
  if (stringAttr(a.node, 'approximate', 'none') === 'tanh') {
    // y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³)
    const c = Math.sqrt(2 / Math.PI);
    const x2 = e.op('Mul', [x, x]);
    const u = e.op('Mul', [
      e.op('Mul', [x, e.op('Add', [e.float(1), e.op('Mul', [x2, e.float(0.044715)])])]),
      e.float(c),
    ]);
    const t = e.op('Tanh', [u]);
    const du = e.op('Mul', [e.op('Add', [e.float(1), e.op('Mul', [x2, e.float(3 * 0.044715)])]), e.float(c)]);
    const sech2 = e.op('Sub', [e.float(1), e.op('Mul', [t, t])]);
    const d = e.op('Add', [
      e.op('Mul', [e.op('Add', [e.float(1), t]), e.float(0.5)]),
      e.op('Mul', [e.op('Mul', [x, e.float(0.5)]), e.op('Mul', [sech2, du])]),
    ]);
    return e.op('Mul', [g, d]);
  }
  return geluGradient(e, g, x);
});

// Rotary embeddings' Sin/Cos are usually constants of position; when they do carry a gradient:
const sin = unary((a, g, x) => a.ctx.editor.op('Mul', [g, a.ctx.editor.op('Cos', [x])]));
const cos = unary((a, g, x) =>
  a.ctx.editor.op('Neg', [a.ctx.editor.op('Mul', [g, a.ctx.editor.op('Sin', [x])])]),
);

const identity = unary((_a, g) => g);
const cast = unary((a, g, x) => {
  const type = a.ctx.info.get(x)?.type;
  const to = type === 'float64' ? DataType.DOUBLE : type === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
  return a.ctx.info.get(a.node.output![0])?.type === type ? g : a.ctx.editor.op('Cast', [g], { to });
});

const where: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g) return [];
  const [c, x0, x1] = a.node.input!;
  const e = a.ctx.editor;
  const yDims = broadcastDims(a.ctx.dims(c), a.ctx.dims(x0), a.ctx.dims(x1));
  const zero = e.float(0);
  return [
    undefined,
    a.needs(1) ? a.ctx.unbroadcast(e.op('Where', [c, g, zero]), yDims, x0) : undefined,
    a.needs(2) ? a.ctx.unbroadcast(e.op('Where', [c, zero, g]), yDims, x1) : undefined,
  ];
};

export const elementwiseRules: Record<string, VjpRule> = {
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Sum: sum,
  Sqrt: sqrt,
  Reciprocal: reciprocal,
  Neg: neg,
  Erf: erf,
  Tanh: tanh,
  Sigmoid: sigmoid,
  Relu: relu,
  Exp: exp,
  Log: log,
  Gelu: gelu,
  Sin: sin,
  Cos: cos,
  Identity: identity,
  Dropout: identity,
  Cast: cast,
  Where: where,
};
