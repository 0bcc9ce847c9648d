// Model cards: model.json validation with field-naming errors, Hugging Face configs, bare .onnx
// files, and preprocessing from command-line flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel, parseModelCard, preprocessingFromFlags } from '../../../electron/engine/modelCard';
import { EngineError } from '../../../electron/engine/errors';
import { testModelCard } from '../../helpers/modelCards';

const ONNX = path.join(__dirname, '..', '..', 'fixtures', 'timm-fused-qkv', 'model.onnx');
const card = testModelCard({
  name: 'tiny',
  labels: ['a', 'b', 'c', 'd', 'e'],
  channels: 3,
  side: 32,
  prefix: 1,
  grid: [4, 4],
  patchSize: [8, 8],
});

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'vsw-card-'));
}

test('a folder with model.json, and the .onnx beside it, both find the card', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(ONNX, path.join(dir, 'model.onnx'));
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(card));
  const a = await loadModel(dir);
  assert.equal(a.source, 'model-card');
  assert.equal(a.modelPath, path.join(dir, 'model.onnx'));
  assert.deepEqual(a.card?.labels, card.labels);
  assert.equal(a.card?.output.activation, 'softmax');
  const b = await loadModel(path.join(dir, 'model.onnx'));
  assert.equal(b.source, 'model-card');
});

test('invalid cards name the field', () => {
  type Card = {
    schemaVersion: unknown;
    input: Record<string, unknown>;
    preprocessing: Record<string, unknown>;
  };
  const bad = (patch: (c: Card) => void) => {
    const c = structuredClone(card) as unknown as Card;
    patch(c);
    return () => parseModelCard(c, 'model.json');
  };
  assert.throws(
    bad((c) => (c.preprocessing.mean = 'x')),
    (e: unknown) => e instanceof EngineError && /field 'preprocessing\.mean'/.test(e.message),
  );
  assert.throws(
    bad((c) => (c.input.height = -1)),
    /field 'input\.height'/,
  );
  assert.throws(
    bad((c) => (c.preprocessing.colour = 'cmyk')),
    /field 'preprocessing\.colour'/,
  );
  assert.throws(
    bad((c) => (c.preprocessing.std = [0.5, 0.5])),
    /field 'preprocessing\.std' has 2 values; give 1 or 3/,
  );
  assert.throws(
    bad((c) => (c.preprocessing.resize = { height: 30, width: 32, mode: 'exact' })),
    /'preprocessing\.resize' gives 30×32 but 'input' is 32×32/,
  );
  assert.throws(
    bad((c) => (c.schemaVersion = 2)),
    /field 'schemaVersion'/,
  );
});

test('Hugging Face config.json + preprocessor_config.json become a card', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'onnx'));
  copyFileSync(ONNX, path.join(dir, 'onnx', 'model.onnx'));
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ id2label: { 1: 'dog', 0: 'cat' }, image_size: 224, num_channels: 3, patch_size: 16 }),
  );
  writeFileSync(
    path.join(dir, 'preprocessor_config.json'),
    JSON.stringify({
      do_resize: true,
      size: { shortest_edge: 256 },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: 224, width: 224 },
      image_mean: [0.485, 0.456, 0.406],
      image_std: [0.229, 0.224, 0.225],
    }),
  );
  const m = await loadModel(dir);
  assert.equal(m.source, 'hugging-face');
  assert.equal(m.modelPath, path.join(dir, 'onnx', 'model.onnx'));
  assert.deepEqual(m.card?.labels, ['cat', 'dog']);
  assert.deepEqual(m.card?.input, { channels: 3, height: 224, width: 224 });
  assert.deepEqual(m.card?.preprocessing.resize, {
    height: 256,
    width: 256,
    mode: 'shorter-side',
    kernel: 'cubic',
  });
  assert.deepEqual(m.card?.preprocessing.crop, { height: 224, width: 224 });
  assert.equal(m.card?.preprocessing.scale, 1 / 255);
  assert.deepEqual(m.card?.tokens?.grid, [14, 14]);
  writeFileSync(
    path.join(dir, 'preprocessor_config.json'),
    JSON.stringify({ do_center_crop: true, image_mean: [0.5] }),
  );
  await assert.rejects(loadModel(dir), /field 'crop_size' is missing while 'do_center_crop' is true/);
});

test('a bare .onnx has no card; flags must give the preprocessing', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(ONNX, path.join(dir, 'net.onnx'));
  const m = await loadModel(path.join(dir, 'net.onnx'));
  assert.equal(m.card, null);
  assert.equal((await loadModel(dir)).modelPath, path.join(dir, 'net.onnx'));
  assert.throws(
    () => preprocessingFromFlags({ mean: [0.5] }, 3),
    /needs --mean, --std and --size .* missing --std, --size/,
  );
  const spec = preprocessingFromFlags({ mean: [0.5], std: [0.25], size: [32, 32] }, 3);
  assert.equal(spec.colour, 'rgb');
  assert.deepEqual(spec.resize, { height: 32, width: 32, mode: 'exact', kernel: 'linear' });
  await assert.rejects(loadModel(path.join(dir, 'missing.onnx')), /Model not found/);
});
