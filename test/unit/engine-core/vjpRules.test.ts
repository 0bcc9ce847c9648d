// Every vector-Jacobian rule, on small hand-built graphs run by ONNX Runtime, against central
// finite differences; includes the forms only later opsets have (ReduceMean axes input and Split
// num_outputs from 18, Gelu from 20) and broadcasting in both directions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataType } from '../../../electron/engine/onnx/onnxSchema';
import type { GraphEditor } from '../../../electron/engine/graph/graphEditor';
import { buildModel, gradientError, randomArray, rng } from './graphTestKit';

const TOLERANCE = 3e-3;

function weight(e: GraphEditor, dims: number[], seed: number, scale = 0.5): string {
  const n = dims.reduce((a, b) => a * b, 1);
  return e.float(Array.from(randomArray(n, rng(seed), scale)), dims);
}

interface Case {
  name: string;
  opset: number;
  dims: number[];
  build: (e: GraphEditor) => string;
}

const cases: Case[] = [
  {
    name: 'MatMul (x on the left, weight broadcast over the batch)',
    opset: 17,
    dims: [2, 3, 4],
    build: (e) => e.op('MatMul', ['x', weight(e, [4, 5], 1)]),
  },
  {
    name: 'MatMul (x on the right, batched left operand)',
    opset: 17,
    dims: [4, 5],
    build: (e) => e.op('MatMul', [weight(e, [2, 3, 4], 2), 'x']),
  },
  {
    name: 'MatMul of x with itself (both operands)',
    opset: 13,
    dims: [2, 3, 3],
    build: (e) => e.op('MatMul', ['x', e.op('Transpose', ['x'], { perm: [0, 2, 1] })]),
  },
  {
    name: 'Gemm',
    opset: 13,
    dims: [3, 4],
    build: (e) =>
      e.op('Gemm', ['x', weight(e, [5, 4], 3), weight(e, [5], 4)], {
        transB: 1,
        alpha: { f: 0.7 },
        beta: { f: 1.3 },
      }),
  },
  {
    name: 'Gemm transA (x as B)',
    opset: 13,
    dims: [4, 5],
    build: (e) => e.op('Gemm', [weight(e, [4, 3], 5), 'x', weight(e, [1, 5], 6)], { transA: 1 }),
  },
  {
    name: 'Gemm with x as C, broadcast',
    opset: 13,
    dims: [1, 5],
    build: (e) => e.op('Gemm', [weight(e, [3, 4], 7), weight(e, [4, 5], 8), 'x'], { beta: { f: 2 } }),
  },
  {
    name: 'Add/Sub with broadcasting of x',
    opset: 13,
    dims: [1, 4],
    build: (e) => e.op('Sub', [e.op('Add', ['x', weight(e, [3, 1], 9)]), e.op('Mul', ['x', 'x'])]),
  },
  {
    name: 'Mul/Div both ways',
    opset: 13,
    dims: [2, 3],
    build: (e) =>
      e.op('Div', [
        e.op('Mul', ['x', weight(e, [3], 10)]),
        e.op('Add', [e.op('Mul', ['x', 'x']), e.float(1.5)]),
      ]),
  },
  {
    name: 'Pow (constant 2 and 3), Sqrt, Reciprocal, Neg',
    opset: 13,
    dims: [2, 3],
    build: (e) => {
      const sq = e.op('Pow', ['x', e.float(2)]);
      const cube = e.op('Pow', ['x', e.float(3)]);
      const r = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [sq, e.float(1)])])]);
      return e.op('Neg', [e.op('Add', [r, cube])]);
    },
  },
  { name: 'Pow with x as exponent', opset: 13, dims: [2, 3], build: (e) => e.op('Pow', [e.float(1.7), 'x']) },
  {
    name: 'Erf (exact GELU as exported before opset 20)',
    opset: 14,
    dims: [2, 5],
    build: (e) => {
      const erf = e.op('Erf', [e.op('Div', ['x', e.float(Math.SQRT2)])]);
      return e.op('Mul', [e.op('Mul', ['x', e.op('Add', [erf, e.float(1)])]), e.float(0.5)]);
    },
  },
  {
    name: 'Tanh, Sigmoid, Relu',
    opset: 13,
    dims: [3, 4],
    build: (e) =>
      e.op('Add', [e.op('Tanh', ['x']), e.op('Mul', [e.op('Sigmoid', ['x']), e.op('Relu', ['x'])])]),
  },
  { name: 'Gelu (opset 20, exact)', opset: 20, dims: [2, 6], build: (e) => e.op('Gelu', ['x']) },
  {
    name: 'Gelu (opset 20, tanh)',
    opset: 20,
    dims: [2, 6],
    build: (e) => e.op('Gelu', ['x'], { approximate: 'tanh' }),
  },
  {
    name: 'Softmax (last axis and axis 1)',
    opset: 13,
    dims: [2, 3, 4],
    build: (e) => e.op('Mul', [e.op('Softmax', ['x'], { axis: -1 }), e.op('Softmax', ['x'], { axis: 1 })]),
  },
  {
    name: 'LayerNormalization (opset 17)',
    opset: 17,
    dims: [2, 3, 6],
    build: (e) =>
      e.op('LayerNormalization', ['x', weight(e, [6], 11), weight(e, [6], 12)], {
        axis: -1,
        epsilon: { f: 1e-5 },
      }),
  },
  {
    name: 'LayerNormalization over two axes',
    opset: 17,
    dims: [2, 3, 4],
    build: (e) => e.op('LayerNormalization', ['x', weight(e, [3, 4], 13)], { axis: 1 }),
  },
  {
    name: 'ReduceMean (axes attribute, opset 13) and ReduceSum (axes input)',
    opset: 13,
    dims: [2, 3, 4],
    build: (e) => {
      const m = e.op('ReduceMean', ['x'], { axes: [-1], keepdims: 1 });
      const s = e.op('ReduceSum', [e.op('Mul', ['x', 'x']), e.ints([1])], { keepdims: 0 });
      return e.op('Add', [e.op('Mul', ['x', m]), e.unsqueeze(s, [1])]);
    },
  },
  {
    name: 'ReduceMean with axes as input (opset 18)',
    opset: 18,
    dims: [2, 3, 4],
    build: (e) => {
      const m = e.op('ReduceMean', ['x', e.ints([1, 2])], { keepdims: 0 });
      return e.op('Mul', [m, m]);
    },
  },
  {
    name: 'Transpose, Reshape, Flatten, Squeeze, Unsqueeze',
    opset: 13,
    dims: [2, 3, 4],
    build: (e) => {
      const t = e.op('Transpose', ['x'], { perm: [2, 0, 1] });
      const r = e.op('Reshape', [t, e.ints([4, 6])]);
      const u = e.unsqueeze(r, [0]);
      const f = e.op('Flatten', [u], { axis: 1 });
      const s = e.squeeze(f, [0]);
      return e.op('Mul', [s, weight(e, [24], 14)]);
    },
  },
  {
    name: 'Concat, Split (sizes input) and Split with num_outputs (opset 18)',
    opset: 18,
    dims: [2, 4],
    build: (e) => {
      const c = e.op('Concat', ['x', e.op('Mul', ['x', 'x']), weight(e, [2, 3], 15)], { axis: 1 });
      const [a, b] = e.node('Split', [c, e.ints([5, 6])], { axis: 1 }, 2);
      const [p, q, r] = e.node('Split', ['x'], { axis: 1, num_outputs: 2 }, 2).concat(['']);
      void r;
      return e.op('Concat', [e.op('Mul', [a, a]), b, e.op('Tanh', [p]), q], { axis: 1 });
    },
  },
  {
    name: 'Split with an unused output',
    opset: 13,
    dims: [6, 2],
    build: (e) => e.node('Split', ['x', e.ints([2, 4])], { axis: 0 }, 2)[1],
  },
  {
    name: 'Slice (one axis, negative bounds) and Slice (two axes)',
    opset: 13,
    dims: [3, 5],
    build: (e) => {
      const a = e.op('Slice', ['x', e.ints([1]), e.ints([-1]), e.ints([1])]);
      const b = e.op('Slice', ['x', e.ints([0, 2]), e.ints([2, 9999]), e.ints([0, 1])]);
      return e.op('Concat', [e.op('Mul', [a, a]), e.op('Tanh', [b])], { axis: 0 });
    },
  },
  {
    name: 'Gather (scalar index, the q/k/v pattern) and Gather (range)',
    opset: 13,
    dims: [3, 2, 4],
    build: (e) => {
      const q = e.op('Gather', ['x', e.ints([0], [])], { axis: 0 });
      const k = e.op('Gather', ['x', e.ints([1], [])], { axis: 0 });
      const v = e.op('Gather', ['x', e.ints([2], [])], { axis: 0 });
      const tail = e.op('Gather', ['x', e.ints([1, 2])], { axis: 2 });
      const s = e.op('MatMul', [q, e.op('Transpose', [k], { perm: [1, 0] })]);
      return e.op(
        'Concat',
        [e.op('MatMul', [e.op('Softmax', [s]), v]), e.op('Reshape', [tail, e.ints([2, 6])])],
        { axis: 1 },
      );
    },
  },
  {
    name: 'Slice with steps: positive, negative and two axes (the rotary halves of EVA)',
    opset: 13,
    dims: [2, 7, 6],
    build: (e) => {
      const even = e.op('Slice', ['x', e.ints([0]), e.ints([9999]), e.ints([2]), e.ints([2])]);
      const odd = e.op('Slice', ['x', e.ints([1]), e.ints([9999]), e.ints([-1]), e.ints([2])]);
      const back = e.op('Slice', ['x', e.ints([-2]), e.ints([-9999]), e.ints([1]), e.ints([-3])]);
      const both = e.op('Slice', ['x', e.ints([5, 1]), e.ints([0, 6]), e.ints([1, 2]), e.ints([-2, 3])]);
      const a = e.op('Mul', [even, e.op('Tanh', [odd])]);
      return e.op(
        'Concat',
        [
          e.op('Reshape', [a, e.ints([2, -1])]),
          e.op('Reshape', [e.op('Mul', [back, back]), e.ints([2, -1])]),
          e.op('Reshape', [both, e.ints([2, -1])]),
        ],
        { axis: 1 },
      );
    },
  },
  {
    name: 'Pad (constant, with a crop) and Pad with axes (opset 18)',
    opset: 18,
    dims: [2, 3, 4],
    build: (e) => {
      const p = e.op('Pad', ['x', e.ints([0, 1, -1, 0, 2, 1]), e.float(0.5)]);
      const q = e.op('Pad', ['x', e.ints([1, 2]), e.float(0), e.ints([-1])]);
      return e.op(
        'Concat',
        [
          e.op('Reshape', [e.op('Mul', [p, p]), e.ints([2, -1])]),
          e.op('Reshape', [e.op('Tanh', [q]), e.ints([2, -1])]),
        ],
        { axis: 1 },
      );
    },
  },
  {
    name: 'AveragePool (strided, and padded without the pads in the count)',
    opset: 13,
    dims: [1, 2, 5, 6],
    build: (e) => {
      const a = e.op('AveragePool', ['x'], { kernel_shape: [2, 2], strides: [2, 2] });
      const b = e.op('AveragePool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
      return e.op(
        'Concat',
        [
          e.op('Reshape', [e.op('Mul', [a, a]), e.ints([1, -1])]),
          e.op('Reshape', [e.op('Tanh', [b]), e.ints([1, -1])]),
        ],
        { axis: 1 },
      );
    },
  },
  {
    name: 'AveragePool counting the pads',
    opset: 13,
    dims: [1, 1, 4, 4],
    build: (e) =>
      e.op('AveragePool', [e.op('Mul', ['x', 'x'])], {
        kernel_shape: [3, 3],
        pads: [1, 1, 1, 1],
        count_include_pad: 1,
      }),
  },
  {
    name: 'GlobalAveragePool',
    opset: 13,
    dims: [2, 3, 4, 5],
    build: (e) => e.op('GlobalAveragePool', [e.op('Mul', ['x', 'x'])]),
  },
  {
    name: 'Gather with repeated, unordered and two-dimensional indices (as_strided)',
    opset: 18,
    dims: [2, 5, 3],
    build: (e) => e.op('Gather', [e.op('Tanh', ['x']), e.ints([4, 0, 0, 2, 1, 4], [2, 3])], { axis: 1 }),
  },
  {
    name: 'ReduceMax over one axis (to the argmax) and ReduceMin over two',
    opset: 13,
    dims: [2, 5, 3],
    build: (e) => {
      // Values kept 0.1 apart by a shuffled ramp, so that the finite difference never crosses a tie.
      const ramp = [...Array(30).keys()].map((i) => ((i * 17) % 30) / 10);
      const spread = e.op('Add', [e.op('Mul', ['x', e.float(0.02)]), e.float(ramp, [2, 5, 3])]);
      const m = e.op('ReduceMax', [spread], { axes: [1], keepdims: 0 });
      const n = e.op('ReduceMin', [spread], { axes: [0, 2], keepdims: 1 });
      return e.op('Concat', [e.op('Reshape', [m, e.ints([-1])]), e.op('Reshape', [n, e.ints([-1])])], {
        axis: 0,
      });
    },
  },
  {
    name: 'Col2Im (VOLO fold: 3×3 windows, padding 1, stride 2)',
    opset: 18,
    dims: [1, 2 * 9, 9],
    build: (e) =>
      e.op('Col2Im', [e.op('Mul', ['x', 'x']), e.ints([6, 6]), e.ints([3, 3])], {
        pads: [1, 1, 1, 1],
        strides: [2, 2],
      }),
  },
  {
    name: 'Sin and Cos',
    opset: 13,
    dims: [2, 4],
    build: (e) => e.op('Mul', [e.op('Sin', ['x']), e.op('Cos', [e.op('Mul', ['x', e.float(1.7)])])]),
  },
  {
    name: 'Expand and Where',
    opset: 13,
    dims: [1, 4],
    build: (e) => {
      const big = e.op('Expand', ['x', e.ints([3, 4])]);
      const cond = e.op('Greater', [weight(e, [3, 4], 16), e.float(0)]);
      return e.op('Where', [cond, e.op('Mul', [big, big]), e.op('Neg', [big])]);
    },
  },
  {
    name: 'Identity, Dropout, Cast through double',
    opset: 13,
    dims: [2, 3],
    build: (e) => {
      const d = e.op('Cast', [e.op('Mul', [e.op('Dropout', [e.op('Identity', ['x'])]), e.float(3)])], {
        to: DataType.DOUBLE,
      });
      return e.op('Cast', [e.op('Mul', [d, d])], { to: DataType.FLOAT });
    },
  },
];

describe('vector-Jacobian rules against finite differences (ONNX Runtime)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const model = buildModel(c.opset, c.dims, c.build);
      const err = await gradientError(model, c.dims);
      assert.ok(err < TOLERANCE, `relative error ${err}`);
    });
  }
});
