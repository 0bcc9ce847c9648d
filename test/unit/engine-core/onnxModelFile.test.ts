// The ONNX protobuf codec and model files: byte-exact round trips of real exports, unknown fields
// kept, int64 sentinels kept, external data read and written, and the hash that keys the cache.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  parseModel,
  readModelFile,
  serializeModel,
  writeModelFile,
} from '../../../electron/engine/onnx/modelFile';
import { int64Tensor, tensorValues } from '../../../electron/engine/onnx/tensorData';
import { buildTinyVit, randomArray, rng, runModel } from './graphTestKit';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-onnx-file-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'timm-fused-qkv', 'model.onnx');

describe('ONNX model files', () => {
  it(
    're-encodes a PyTorch export byte for byte',
    { skip: !fs.existsSync(FIXTURE) && 'fixture not generated yet' },
    () => {
      const bytes = fs.readFileSync(FIXTURE);
      const again = serializeModel(parseModel(bytes));
      assert.equal(Buffer.compare(Buffer.from(again), bytes), 0);
    },
  );

  it('keeps fields it does not know (here: a future ModelProto field 99 and a NodeProto field 9)', () => {
    const model = buildTinyVit();
    model.unknownFields = [Uint8Array.from([0x98, 0x06, 0x2a])]; // field 99, varint 42
    model.graph!.node![0].unknownFields = [Uint8Array.from([0x4a, 0x02, 0x68, 0x69])]; // field 9, "hi"
    const back = parseModel(serializeModel(model));
    assert.deepEqual(Array.from(back.unknownFields![0]), [0x98, 0x06, 0x2a]);
    assert.deepEqual(Array.from(back.graph!.node![0].unknownFields![0]), [0x4a, 0x02, 0x68, 0x69]);
  });

  it('keeps INT64 sentinels (slice ends of 2^63 − 1) and negative integers', () => {
    const model = buildTinyVit();
    const t = int64Tensor('big', [3], [Number.MAX_SAFE_INTEGER, -1, 0]);
    t.int64Data = [2 ** 63, -(2 ** 63), -5]; // how the decoder returns INT64_MAX / INT64_MIN
    delete t.rawData;
    model.graph!.initializer!.push(t);
    model.graph!.node![0].attribute!.push({ name: 'x', type: 7, ints: [2 ** 63, -3] });
    const bytes = serializeModel(model);
    const back = parseModel(bytes);
    const big = back.graph!.initializer!.find((i) => i.name === 'big')!;
    assert.deepEqual(Array.from(tensorValues(big) as BigInt64Array), [
      9223372036854775807n,
      -9223372036854775808n,
      -5n,
    ]);
    assert.deepEqual(Buffer.compare(Buffer.from(serializeModel(back)), Buffer.from(bytes)), 0);
  });

  it('writes and reads external data, and ONNX Runtime runs the written file', async () => {
    const model = buildTinyVit();
    const file = path.join(tmp, 'external', 'model.onnx');
    writeModelFile(model, file, { externalDataThreshold: 64 });
    assert.ok(fs.existsSync(`${file}.data`));
    assert.ok(fs.statSync(file).size < fs.statSync(`${file}.data`).size);
    const loaded = readModelFile(file);
    const x = randomArray(64, rng(5));
    const feeds = { x: new ort.Tensor('float32', x, [1, 1, 8, 8]) };
    const expected = (await runModel(model, feeds))[model.graph!.output![0].name!].data as Float32Array;
    const fromReader = (await runModel(loaded.model, feeds))[model.graph!.output![0].name!]
      .data as Float32Array;
    const session = await ort.InferenceSession.create(file);
    const fromOrt = (await session.run(feeds))[model.graph!.output![0].name!].data as Float32Array;
    await session.release();
    assert.deepEqual(fromReader, expected);
    assert.deepEqual(fromOrt, expected);
    // The hash covers the external weights too.
    const before = loaded.sha256;
    const data = fs.readFileSync(`${file}.data`);
    data[data.length - 1] ^= 1;
    fs.writeFileSync(`${file}.data`, data);
    assert.notEqual(readModelFile(file).sha256, before);
  });

  it('names a missing external data file', () => {
    const file = path.join(tmp, 'missing', 'model.onnx');
    writeModelFile(buildTinyVit(), file, { externalDataThreshold: 64 });
    fs.rmSync(`${file}.data`);
    assert.throws(() => readModelFile(file), /external weights file model\.onnx\.data/);
  });
});
