// Float16 exports explained in float32: a copy of the model whose float16 weights, constants, casts
// and inputs/outputs are float32. Gradients of float16 attention would lose most of their digits;
// the upcast graph computes the same function with the model's own (float16-rounded) weights.
import {
  DataType,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnxSchema';
import { readModelFile } from './modelFile';
import { floatTensor, tensorValues } from './tensorData';

/** IEEE 754 half-precision bits → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function upcastTensor(t: TensorProto): TensorProto {
  if (t.dataType !== DataType.FLOAT16) return t;
  const bits = tensorValues(t) as ArrayLike<number>;
  return floatTensor(t.name ?? '', t.dims ?? [], Array.from(bits, halfToFloat));
}

function upcastValueInfo(v: ValueInfoProto): ValueInfoProto {
  const tensorType = v.type?.tensorType;
  if (tensorType?.elemType !== DataType.FLOAT16) return v;
  return { ...v, type: { ...v.type, tensorType: { ...tensorType, elemType: DataType.FLOAT } } };
}

function upcastAttribute(a: AttributeProto, node: NodeProto): AttributeProto {
  if (a.t) return { ...a, t: upcastTensor(a.t) };
  // Cast(to=float16) and friends (CastLike reads its type from its second input).
  if (a.name === 'to' && a.i === DataType.FLOAT16 && node.opType === 'Cast')
    return { ...a, i: DataType.FLOAT };
  return a;
}

export function isFloat16Model(model: ModelProto): boolean {
  const g = model.graph;
  return (
    (g?.input ?? []).some((i) => i.type?.tensorType?.elemType === DataType.FLOAT16) ||
    (g?.initializer ?? []).some((t) => t.dataType === DataType.FLOAT16)
  );
}

/** The model with every float16 tensor, cast and value type made float32. */
export function upcastFloat16(model: ModelProto): ModelProto {
  const g = model.graph!;
  return {
    ...model,
    graph: {
      ...g,
      initializer: (g.initializer ?? []).map(upcastTensor),
      node: (g.node ?? []).map((n) => ({
        ...n,
        attribute: (n.attribute ?? []).map((a) => upcastAttribute(a, n)),
      })),
      input: (g.input ?? []).map(upcastValueInfo),
      output: (g.output ?? []).map(upcastValueInfo),
      valueInfo: (g.valueInfo ?? []).map(upcastValueInfo),
    },
  };
}

/**
 * A model file as the engine runs it: float16 exports as their float32 copy (from their own
 * rounded weights), with whether that happened and the file's sha256.
 */
export function readModelAsFloat32(file: string): { model: ModelProto; sha256: string; float16: boolean } {
  const { model, sha256 } = readModelFile(file);
  const float16 = isFloat16Model(model);
  return { model: float16 ? upcastFloat16(model) : model, sha256, float16 };
}
