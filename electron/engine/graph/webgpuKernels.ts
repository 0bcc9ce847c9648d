// The ONNX kernels of ONNX Runtime's WebGPU provider that the engine's graphs use: op type, opset
// range and the element types of the data inputs. ORT places a node whose op, opset or input
// types match no kernel on the CPU, and copies its activations GPU↔CPU. Taken from
// onnxruntime/core/providers/webgpu/webgpu_execution_provider.cc (the registrations: opset
// ranges) and the type constraints in the kernels' own files (math/binary_elementwise_ops.cc,
// tensor/cast.cc, tensor/where.cc, webgpu_supported_types.h), microsoft/onnxruntime as read at
// commit 003f772b21ab; no op here lost a kernel before 1.30. Where an adapter exists, the
// placement test checks the real 1.30 binary.
// Only the ops the engine's graphs use are listed: anything else counts as CPU-bound.
import { DataType } from '../onnx/onnxSchema';

/** WebGpuSupportedFloatTypes: float, float16. */
const FLOATS = [DataType.FLOAT, DataType.FLOAT16];
/** WebGpuSupportedNumberTypes: float, float16, int32, uint32. */
const NUMBERS = [...FLOATS, DataType.INT32, DataType.UINT32];
/** Cast's and Where's types (int64 only with graph capture, which the engine does not use). */
const WGSL_PLAIN = [...NUMBERS, DataType.BOOL];
/** Reshape, Squeeze, Unsqueeze, Flatten, Shape and Identity only move or read metadata. */
const ANY: readonly number[] = [];

interface Kernel {
  /** Opset versions with a kernel: [first, last] (last = Infinity for "and later"). */
  opsets: [number, number];
  /** Element types of the data inputs; ANY for metadata-only ops. */
  types: readonly number[];
  /** Inputs with types of their own (Where's condition). */
  inputTypes?: Record<number, readonly number[]>;
}

const from = (first: number, types: readonly number[]): Kernel => ({ opsets: [first, Infinity], types });

export const WEBGPU_KERNELS: Readonly<Record<string, Kernel>> = {
  Abs: from(6, NUMBERS),
  Add: from(7, NUMBERS),
  ArgMax: from(1, FLOATS),
  ArgMin: from(1, FLOATS),
  BatchNormalization: from(7, FLOATS),
  Cast: from(6, WGSL_PLAIN),
  Ceil: from(6, FLOATS),
  Clip: from(11, FLOATS),
  Concat: from(1, NUMBERS),
  Conv: from(1, FLOATS),
  Cos: from(7, FLOATS),
  CumSum: from(11, FLOATS),
  Div: from(7, NUMBERS),
  Einsum: from(12, [DataType.FLOAT]),
  Equal: from(7, NUMBERS),
  Erf: from(9, FLOATS),
  Exp: from(6, FLOATS),
  Expand: from(8, NUMBERS),
  Flatten: from(1, ANY),
  Floor: from(6, FLOATS),
  Gather: from(1, NUMBERS),
  Gelu: from(20, FLOATS),
  Gemm: from(7, FLOATS),
  GlobalAveragePool: from(1, FLOATS),
  Greater: from(7, NUMBERS),
  GreaterOrEqual: from(12, NUMBERS),
  LayerNormalization: from(17, FLOATS),
  LeakyRelu: from(6, FLOATS),
  Less: from(7, NUMBERS),
  LessOrEqual: from(12, NUMBERS),
  Log: from(6, FLOATS),
  MatMul: from(1, FLOATS),
  Mul: from(7, NUMBERS),
  Neg: from(6, NUMBERS),
  Not: from(1, [DataType.BOOL]),
  Pad: from(2, NUMBERS),
  Pow: from(7, NUMBERS),
  Range: from(11, [DataType.FLOAT, DataType.INT32]),
  Reciprocal: from(6, FLOATS),
  ReduceL2: from(1, NUMBERS),
  ReduceMax: from(1, NUMBERS),
  ReduceMean: from(1, NUMBERS),
  ReduceMin: from(1, NUMBERS),
  ReduceProd: from(1, NUMBERS),
  ReduceSum: from(1, NUMBERS),
  ReduceSumSquare: from(1, NUMBERS),
  Relu: from(6, FLOATS),
  Reshape: from(5, ANY),
  Shape: from(1, ANY),
  Sigmoid: from(6, FLOATS),
  Sin: from(7, FLOATS),
  Slice: from(1, NUMBERS),
  Softmax: from(1, FLOATS),
  Split: from(1, NUMBERS),
  Sqrt: from(6, FLOATS),
  Squeeze: from(1, ANY),
  Sub: from(7, NUMBERS),
  Tanh: from(6, FLOATS),
  Tile: from(6, NUMBERS),
  // The commit read registers 1–20; the 1.30 binary places an opset-21 Transpose on WebGPU too.
  Transpose: from(1, NUMBERS),
  Unsqueeze: from(1, ANY),
  Where: { opsets: [9, Infinity], types: WGSL_PLAIN, inputTypes: { 0: [DataType.BOOL] } },
};

/**
 * Why the WebGPU provider has no kernel for this node, or undefined where it has one. `types`
 * gives the element type of each activation input (undefined: not an activation, or unknown).
 */
export function missingWebGpuKernel(
  op: string,
  domain: string,
  opset: number,
  types: (number | undefined)[] = [],
): string | undefined {
  if (domain !== '' && domain !== 'ai.onnx') return `${domain}.${op} is not an ONNX op`;
  const kernel = WEBGPU_KERNELS[op];
  if (!kernel) return `${op} has no WebGPU kernel`;
  const [first, last] = kernel.opsets;
  if (opset < first || opset > last) return `${op} has no WebGPU kernel at opset ${opset}`;
  for (const [i, type] of types.entries()) {
    const allowed = kernel.inputTypes?.[i] ?? kernel.types;
    if (type !== undefined && allowed !== ANY && !allowed.includes(type))
      return `${op}'s WebGPU kernel does not take element type ${type} at input ${i}`;
  }
  return undefined;
}
