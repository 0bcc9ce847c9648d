// Preprocessing real image files with sharp: exact values, EXIF orientation, colour conversion,
// shorter-side resize with centre crop, and the size-mismatch error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { computeGeometry, preprocessImage } from '../../../electron/engine/preprocess';
import type { PreprocessingSpec } from '../../../electron/engine/modelCard';
import { EngineError } from '../../../electron/engine/errors';

/** One channel, pixel values as they are: no resize, crop, scaling or normalisation. */
const RAW_GRAY: PreprocessingSpec = {
  resize: null,
  crop: null,
  colour: 'grayscale',
  scale: 1,
  mean: [0],
  std: [1],
};

const gray = (width: number, height: number, values: number[]) =>
  sharp(Buffer.from(values), { raw: { width, height, channels: 1 } });

test('a grayscale PNG becomes (v/255 − mean)/std exactly, row-major', async () => {
  const values = Array.from({ length: 28 * 28 }, (_, i) => (i * 7) % 256);
  const png = await gray(28, 28, values).png().toBuffer();
  const spec: PreprocessingSpec = {
    resize: { height: 28, width: 28, mode: 'exact' },
    crop: null,
    colour: 'grayscale',
    scale: 1 / 255,
    mean: [0.286],
    std: [0.353],
  };
  const { tensor, geometry } = await preprocessImage(png, spec, { channels: 1, height: 28, width: 28 });
  assert.equal(tensor.length, 784);
  for (let i = 0; i < 784; i++)
    assert.ok(Math.abs(tensor[i] - Math.fround((values[i] / 255 - 0.286) / 0.353)) < 1e-6, `pixel ${i}`);
  assert.deepEqual(geometry.crop, { left: 0, top: 0, width: 28, height: 28 });
});

test('EXIF orientation is applied before anything else', async () => {
  // stored 4 wide × 2 tall: [1 2 3 4 / 5 6 7 8]; orientation 6 shows it rotated 90° clockwise
  const png = await gray(4, 2, [1, 2, 3, 4, 5, 6, 7, 8]).withMetadata({ orientation: 6 }).png().toBuffer();
  const { tensor, geometry } = await preprocessImage(png, RAW_GRAY, { channels: 1, height: 4, width: 2 });
  assert.deepEqual(Array.from(tensor), [5, 1, 6, 2, 7, 3, 8, 4]);
  assert.deepEqual(geometry.original, { width: 2, height: 4 });
});

test('colour → grayscale uses luminance; grayscale → rgb replicates with per-channel mean/std', async () => {
  const solid = await sharp({
    create: { width: 3, height: 3, channels: 3, background: { r: 200, g: 100, b: 50 } },
  })
    .png()
    .toBuffer();
  const g = await preprocessImage(solid, RAW_GRAY, { channels: 1, height: 3, width: 3 });
  assert.ok(Math.abs(g.tensor[4] - (0.299 * 200 + 0.587 * 100 + 0.114 * 50)) < 1e-4);
  const rgb: PreprocessingSpec = {
    resize: null,
    crop: null,
    colour: 'rgb',
    scale: 1 / 255,
    mean: [0.5, 0.4, 0.3],
    std: [0.5, 0.25, 0.1],
  };
  const c = await preprocessImage(solid, rgb, { channels: 3, height: 3, width: 3 });
  assert.ok(Math.abs(c.tensor[0] - (200 / 255 - 0.5) / 0.5) < 1e-5);
  assert.ok(Math.abs(c.tensor[9] - (100 / 255 - 0.4) / 0.25) < 1e-5);
  assert.ok(Math.abs(c.tensor[18] - (50 / 255 - 0.3) / 0.1) < 1e-5);
  const grayPng = await gray(2, 2, [77, 77, 77, 77]).png().toBuffer();
  const r = await preprocessImage(grayPng, rgb, { channels: 3, height: 2, width: 2 });
  assert.deepEqual(
    Array.from(r.tensor).map((v) => v.toFixed(4)),
    [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2].map((c) => ((77 / 255 - rgb.mean[c]) / rgb.std[c]).toFixed(4)),
  );
});

test('shorter-side resize then centre crop: geometry and pixels', async () => {
  const spec: PreprocessingSpec = {
    resize: { height: 20, width: 20, mode: 'shorter-side', kernel: 'nearest' },
    crop: { height: 20, width: 20 },
    colour: 'grayscale',
    scale: 1,
    mean: [0],
    std: [1],
  };
  const geometry = computeGeometry(60, 40, spec, { channels: 1, height: 20, width: 20 });
  assert.deepEqual(geometry.resized, { width: 30, height: 20 });
  assert.deepEqual(geometry.crop, { left: 5, top: 0, width: 20, height: 20 });
  // columns 0..14 black, 15..44 white, 45..59 black; nearest halving samples column 2j+1, so the
  // white band covers resized columns 7..21, and the crop (resized columns 5..24) shows it at 2..16.
  const values = Array.from({ length: 60 * 40 }, (_, i) => (i % 60 >= 15 && i % 60 < 45 ? 255 : 0));
  const { tensor } = await preprocessImage(await gray(60, 40, values).png().toBuffer(), spec, {
    channels: 1,
    height: 20,
    width: 20,
  });
  const row = Array.from(tensor.subarray(200, 220));
  assert.deepEqual(
    row.map((v) => (v > 128 ? 1 : 0)),
    [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
  );
});

test('an image whose size does not fit the model says so', async () => {
  const png = await gray(30, 30, Array(900).fill(0)).png().toBuffer();
  await assert.rejects(
    preprocessImage(png, RAW_GRAY, { channels: 1, height: 28, width: 28 }),
    (e: unknown) => e instanceof EngineError && /is 30×30 but the model takes 28×28/.test(e.message),
  );
  await assert.rejects(
    preprocessImage(Buffer.from('not an image'), RAW_GRAY, { channels: 1, height: 28, width: 28 }),
    /Cannot read image/,
  );
});
