// Reads and writes NumPy .npy files holding float32 tensors (format versions 1.0, 2.0 and 3.0),
// with errors that say what is wrong with a file and how to produce a usable one.
import { promises as fs } from 'node:fs';
import { EngineError } from './errors';

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const FIX = 'Save it with numpy.save(path, x.astype(numpy.float32)).';

export function parseNpy(buffer: Buffer, name = 'the .npy file'): NpyArray {
  if (buffer.length < 10 || !buffer.subarray(0, 6).equals(MAGIC)) {
    throw new EngineError(`${name} is not a NumPy .npy file (no \\x93NUMPY header). ${FIX}`, 'npy-format');
  }
  const major = buffer[6];
  let headerLength: number;
  let offset: number;
  if (major === 1) {
    headerLength = buffer.readUInt16LE(8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (buffer.length < 12)
      throw new EngineError(`${name} is truncated inside its header. ${FIX}`, 'npy-format');
    headerLength = buffer.readUInt32LE(8);
    offset = 12;
  } else {
    throw new EngineError(
      `${name} has .npy format version ${major}.${buffer[7]}; versions 1, 2 and 3 are supported. ${FIX}`,
      'npy-format',
    );
  }
  if (offset + headerLength > buffer.length)
    throw new EngineError(`${name} is truncated inside its header. ${FIX}`, 'npy-format');
  const header = buffer.toString(major === 3 ? 'utf8' : 'latin1', offset, offset + headerLength);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new EngineError(`${name} has a malformed .npy header: ${header.trim()}. ${FIX}`, 'npy-format');
  }
  if (descr !== '<f4' && descr !== '|f4' && descr !== '=f4') {
    throw new EngineError(
      `${name} holds dtype '${descr}'; a float32 ('<f4') tensor is needed. ${FIX}`,
      'npy-dtype',
    );
  }
  if (fortran === 'True') {
    throw new EngineError(
      `${name} is stored in Fortran order; a C-order tensor is needed. Save numpy.ascontiguousarray(x) instead.`,
      'npy-format',
    );
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new EngineError(`${name} has an invalid shape (${shapeText}).`, 'npy-format');
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = offset + headerLength;
  if (buffer.length - dataStart < count * 4) {
    throw new EngineError(
      `${name} declares shape (${shape.join(', ')}) = ${count} float32 values but holds only ${Math.floor((buffer.length - dataStart) / 4)}.`,
      'npy-format',
    );
  }
  // Copy: the data offset need not be 4-byte aligned inside the Buffer's pool.
  const data = new Float32Array(count);
  Buffer.from(data.buffer).set(buffer.subarray(dataStart, dataStart + count * 4));
  return { shape, data };
}

export async function readNpy(path: string): Promise<NpyArray> {
  let buffer: Buffer;
  try {
    buffer = await fs.readFile(path);
  } catch (e) {
    throw new EngineError(`Cannot read ${path}: ${(e as Error).message}`, 'npy-read');
  }
  return parseNpy(buffer, path);
}

/** Reads a .npy input tensor and checks it is 1×C×H×W with the model's C, H and W. */
export async function readInputTensor(
  path: string,
  expected: { channels: number; height: number; width: number },
): Promise<Float32Array> {
  const { shape, data } = await readNpy(path);
  const want = [1, expected.channels, expected.height, expected.width];
  if (shape.length !== 4 || shape.some((d, i) => d !== want[i])) {
    throw new EngineError(
      `${path} has shape (${shape.join(', ')}); the model needs a preprocessed tensor of shape (${want.join(', ')}) (1×C×H×W).`,
      'input-shape',
    );
  }
  return data;
}

export function encodeNpy(array: NpyArray): Buffer {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new EngineError(
      `Shape (${array.shape.join(', ')}) holds ${count} values but the data has ${array.data.length}.`,
      'npy-format',
    );
  }
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const v1 = dict.length + 11 < 65536;
  const prefix = v1 ? 10 : 12;
  // Pad with spaces so that the data starts at a multiple of 64 bytes; the header ends with \n.
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const head = Buffer.alloc(prefix);
  MAGIC.copy(head, 0);
  head[6] = v1 ? 1 : 2;
  head[7] = 0;
  if (v1) head.writeUInt16LE(dict.length, 8);
  else head.writeUInt32LE(dict.length, 8);
  const data = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), data]);
}

export async function writeNpy(path: string, array: NpyArray): Promise<void> {
  await fs.writeFile(path, encodeNpy(array));
}
