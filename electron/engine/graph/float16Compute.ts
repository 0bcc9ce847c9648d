// A float16 copy of a built (float32) graph, for GPUs: weights, constants and activations in
// float16, with the steps where float16 loses the map kept in float32 (softmax, the reductions
// that accumulate, LayerNormalization, exp/log, cumulative sums): their inputs are cast up and
// their outputs back down. Inputs and outputs stay float32, so callers feed and read the same
// tensors. Not wired into a session yet: the engine bench and its test measure its error.
import {
  DataType,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../onnx/onnxSchema';
import { tensorValues } from '../onnx/tensorData';

/** Ops computed in float32, with the indices of their float inputs. */
const FLOAT32_ISLANDS: Readonly<Record<string, readonly number[]>> = {
  Softmax: [0],
  ReduceSum: [0],
  ReduceMean: [0],
  LayerNormalization: [0, 1, 2],
  CumSum: [0],
  Exp: [0],
  Log: [0],
};

const halfView = new DataView(new ArrayBuffer(4));

/** Round-to-nearest-even float32 → IEEE 754 half bits (overflow → ±Infinity). */
export function floatToHalfBits(value: number): number {
  halfView.setFloat32(0, value);
  const x = halfView.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exponent = ((x >>> 23) & 0xff) - 127 + 15;
  const mantissa = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    const m = mantissa | 0x800000;
    const shift = 14 - exponent;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

function halfTensor(t: TensorProto): TensorProto {
  if (t.dataType !== DataType.FLOAT) return t;
  const values = tensorValues(t) as ArrayLike<number>;
  const bits = Uint16Array.from(values, floatToHalfBits);
  return { name: t.name, dims: t.dims, dataType: DataType.FLOAT16, rawData: new Uint8Array(bits.buffer) };
}

function halfNode(n: NodeProto): NodeProto {
  return {
    ...n,
    attribute: (n.attribute ?? []).map((a) => {
      if (a.t) return { ...a, t: halfTensor(a.t) };
      if (a.name === 'to' && n.opType === 'Cast' && a.i === DataType.FLOAT)
        return { ...a, i: DataType.FLOAT16 };
      return a;
    }),
  };
}

const cast = (input: string, output: string, to: number, name: string): NodeProto => ({
  opType: 'Cast',
  name,
  input: [input],
  output: [output],
  attribute: [{ name: 'to', type: 2, i: to }],
});

/** The float16 copy of `model` (see the file's comment); `model` is left as it is. */
export function toFloat16Compute(model: ModelProto): ModelProto {
  const g = model.graph!;
  const isFloat = (v: { type?: { tensorType?: { elemType?: number } } }) =>
    v.type?.tensorType?.elemType === DataType.FLOAT;
  const stored = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = new Set(
    (g.input ?? [])
      .filter(isFloat)
      .map((i) => i.name ?? '')
      .filter((name) => !stored.has(name)),
  );
  const outputs = new Set((g.output ?? []).filter(isFloat).map((o) => o.name ?? ''));
  const inner = (name: string) => (inputs.has(name) || outputs.has(name) ? `${name}/f16` : name);
  const nodes: NodeProto[] = [];
  for (const name of inputs) nodes.push(cast(name, inner(name), DataType.FLOAT16, `${name}/to_f16`));
  let island = 0;
  for (const original of g.node ?? []) {
    const n = halfNode(original);
    n.input = (n.input ?? []).map((x) => (x ? inner(x) : x));
    n.output = (n.output ?? []).map((x) => (x ? inner(x) : x));
    const floats = n.domain ? undefined : FLOAT32_ISLANDS[n.opType ?? ''];
    if (!floats) {
      nodes.push(n);
      continue;
    }
    const tag = `f32_${island++}`;
    n.input = n.input.map((x, i) => {
      if (!x || !floats.includes(i)) return x;
      nodes.push(cast(x, `${x}/${tag}`, DataType.FLOAT, `${tag}/in${i}`));
      return `${x}/${tag}`;
    });
    const outs = n.output;
    n.output = outs.map((x) => (x ? `${x}/${tag}` : x));
    nodes.push(n);
    outs.forEach((x, i) => x && nodes.push(cast(`${x}/${tag}`, x, DataType.FLOAT16, `${tag}/out${i}`)));
  }
  for (const name of outputs) nodes.push(cast(inner(name), name, DataType.FLOAT, `${name}/to_f32`));
  const graph: GraphProto = {
    ...g,
    node: nodes,
    initializer: (g.initializer ?? []).map(halfTensor),
    // Intermediate types change; ORT infers them again.
    valueInfo: [],
  };
  return { ...model, graph };
}
