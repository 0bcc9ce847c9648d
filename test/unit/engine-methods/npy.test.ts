// .npy float32 reading and writing: NumPy-written files, round trips, and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { encodeNpy, parseNpy } from '../../../electron/engine/npy';

function header(dict: string, major = 1): Buffer {
  const prefix = major === 1 ? 10 : 12;
  const padded = dict.padEnd(Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix - 1) + '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(head);
  if (major === 1) head.writeUInt16LE(padded.length, 8);
  else head.writeUInt32LE(padded.length, 8);
  return Buffer.concat([head, Buffer.from(padded, 'latin1')]);
}

test('reads a tensor written by NumPy (fixture input)', () => {
  const file = path.join(__dirname, '..', '..', 'fixtures', 'timm-fused-qkv', 'input.npy');
  const ref = JSON.parse(readFileSync(path.join(path.dirname(file), 'reference.json'), 'utf8')) as {
    inputShape: number[];
  };
  const { shape, data } = parseNpy(readFileSync(file));
  assert.deepEqual(shape, ref.inputShape);
  assert.equal(
    data.length,
    shape.reduce((a, b) => a * b, 1),
  );
  assert.ok(data.every(Number.isFinite));
  assert.ok(data.some((v) => v !== 0));
});

test('round trip, version 1 and version 2 headers, unaligned data', () => {
  const data = Float32Array.from([1.5, -2, 3.25, 0, 1e-20, 7]);
  const back = parseNpy(encodeNpy({ shape: [1, 2, 3], data }));
  assert.deepEqual(back.shape, [1, 2, 3]);
  assert.deepEqual(Array.from(back.data), Array.from(data));
  const v2 = Buffer.concat([
    header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 2),
    Buffer.from(Float32Array.from([4, 5]).buffer),
  ]);
  assert.deepEqual(Array.from(parseNpy(v2).data), [4, 5]);
  const shifted = Buffer.concat([Buffer.from([0]), v2]).subarray(1);
  assert.deepEqual(Array.from(parseNpy(shifted).data), [4, 5]);
  assert.deepEqual(parseNpy(encodeNpy({ shape: [3], data: Float32Array.from([1, 2, 3]) })).shape, [3]);
});

test('wrong dtype, Fortran order, truncation and non-npy files are explained', () => {
  const f8 = Buffer.concat([
    header("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }"),
    Buffer.alloc(8),
  ]);
  assert.throws(
    () => parseNpy(f8, 'x.npy'),
    /x\.npy holds dtype '<f8'; a float32 \('<f4'\) tensor is needed/,
  );
  const fortran = Buffer.concat([
    header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"),
    Buffer.alloc(16),
  ]);
  assert.throws(() => parseNpy(fortran), /Fortran order/);
  const short = Buffer.concat([
    header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 4, 4), }"),
    Buffer.alloc(12),
  ]);
  assert.throws(() => parseNpy(short), /declares shape \(1, 3, 4, 4\) = 48 float32 values but holds only 3/);
  assert.throws(() => parseNpy(Buffer.from('PNG.........')), /not a NumPy \.npy file/);
});
