// Conversions between TensorProto and typed arrays: reading constant values (shapes, axes, slice
// bounds, weights) and making the constants the graph builders add.
import { EngineError } from '../errors';
import { DataType, type TensorProto } from './onnxSchema';

export type TensorValues =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array;

const BYTES: Record<number, number> = {
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  16: 2,
};

const INT64_MAX = (1n << 63n) - 1n;

/** A decoded int64 (a JS number, so ±2^63 for the INT64 sentinels) back to an exact bigint. */
function toInt64(v: number): bigint {
  if (v >= 2 ** 63) return INT64_MAX;
  if (v <= -(2 ** 63)) return -INT64_MAX - 1n;
  return BigInt(Math.trunc(v));
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** The values of a tensor as a typed array (little-endian raw data or the typed repeated fields). */
export function tensorValues(t: TensorProto): TensorValues {
  const dims = t.dims ?? [];
  const n = elementCount(dims);
  const type = t.dataType ?? 0;
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    if (raw.length !== n * (BYTES[type] ?? 0))
      throw new EngineError(
        `Tensor ${t.name} has ${raw.length} bytes of data; its shape needs ${n * (BYTES[type] ?? 0)}.`,
        'corrupt-onnx',
      );
    const copy = new Uint8Array(raw); // an aligned copy (Buffer.slice would be a view)
    const buf = copy.buffer;
    switch (type) {
      case DataType.FLOAT:
        return new Float32Array(buf, 0, n);
      case DataType.DOUBLE:
        return new Float64Array(buf, 0, n);
      case DataType.INT32:
        return new Int32Array(buf, 0, n);
      case DataType.INT64:
        return new BigInt64Array(buf, 0, n);
      case DataType.UINT8:
      case DataType.BOOL:
        return copy;
      case DataType.INT8:
        return new Int8Array(buf, 0, n);
      case DataType.INT16:
        return new Int16Array(buf, 0, n);
      case DataType.UINT16:
      case DataType.FLOAT16:
      case DataType.BFLOAT16:
        return new Uint16Array(buf, 0, n);
      default:
        throw new EngineError(
          `Tensor ${t.name} has data type ${type}, which the engine cannot read.`,
          'unsupported-dtype',
        );
    }
  }
  switch (type) {
    case DataType.FLOAT:
      return Float32Array.from(t.floatData ?? []);
    case DataType.DOUBLE:
      return Float64Array.from(t.doubleData ?? []);
    case DataType.INT64:
      return BigInt64Array.from((t.int64Data ?? []).map(toInt64));
    case DataType.INT32:
      return Int32Array.from(t.int32Data ?? []);
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.BOOL:
    case DataType.INT16:
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return Int32Array.from(t.int32Data ?? []);
    default:
      throw new EngineError(
        `Tensor ${t.name} has data type ${type}, which the engine cannot read.`,
        'unsupported-dtype',
      );
  }
}

/** Integer values of a small constant (shapes, axes, indices) as numbers; INT64 sentinels clamp to ±2^63. */
export function tensorIntegers(t: TensorProto): number[] {
  return Array.from(tensorValues(t) as ArrayLike<number | bigint>, (v) => Number(v));
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  const data = Float32Array.from(values);
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer) };
}

export function int64Tensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  const data = BigInt64Array.from(Array.from(values, toInt64));
  return { name, dims, dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) };
}
