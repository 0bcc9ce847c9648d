// Heatmaps: bilinear upsampling, colour maps, and overlay PNGs aligned with the picture the user
// sees (EXIF orientation, centre crop dimmed outside).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {
  colormapTable,
  encodeRgbPng,
  renderOverlay,
  upsampleBilinear,
} from '../../../electron/engine/heatmap';
import { computeGeometry, identityGeometry } from '../../../electron/engine/preprocess';
import type { PreprocessingSpec } from '../../../electron/engine/modelCard';

test('bilinear upsampling with half-pixel centres and clamped edges', () => {
  const up = upsampleBilinear([0, 1, 2, 3], 2, 2, 4, 4);
  // source coordinate of output column x is (x + 0.5)/2 − 0.5 → −0.25, 0.25, 0.75, 1.25 (clamped)
  const at = (y: number, x: number) => up[y * 4 + x];
  assert.equal(at(0, 0), 0);
  assert.equal(at(3, 3), 3);
  assert.ok(Math.abs(at(0, 1) - 0.25) < 1e-6);
  assert.ok(Math.abs(at(1, 1) - (0.25 + 2 * 0.25)) < 1e-6);
  assert.ok(Math.abs(at(2, 0) - 2 * 0.75) < 1e-6);
  assert.deepEqual(Array.from(upsampleBilinear([5, 7], 1, 2, 1, 2)), [5, 7]);
});

test('colour maps: known end points, 256 entries', () => {
  const entry = (name: Parameters<typeof colormapTable>[0], i: number) =>
    Array.from(colormapTable(name).subarray(i * 3, i * 3 + 3));
  assert.equal(colormapTable('turbo').length, 768);
  assert.deepEqual(entry('jet', 0), [0, 0, 128]);
  assert.deepEqual(entry('jet', 255), [128, 0, 0]);
  assert.deepEqual(entry('viridis', 0), [68, 1, 84]);
  assert.deepEqual(entry('viridis', 255), [253, 231, 37]);
  assert.deepEqual(entry('inferno', 255), [252, 255, 164]);
  const [r, g, b] = entry('turbo', 128); // turbo's middle is green
  assert.ok(g > 200 && g > r && g > b, `turbo middle ${r},${g},${b}`);
  const low = entry('turbo', 32);
  const high = entry('turbo', 224);
  assert.ok(
    low[2] > 200 && low[0] < 100 && high[0] > 150 && high[2] < 50,
    `turbo runs from blue ${low} to red ${high}`,
  );
});

async function pixels(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

test('overlay of a small picture: enlarged, hot token coloured at its place', async () => {
  const png = await sharp({
    create: { width: 28, height: 28, channels: 3, background: { r: 128, g: 128, b: 128 } },
  })
    .png()
    .toBuffer();
  const map = new Float32Array(49);
  map[0] = 1; // top-left token hot, the rest cold
  const out = await pixels(
    await renderOverlay({ file: png }, map, [7, 7], identityGeometry(28, 28), {
      colormap: 'jet',
      opacity: 1,
    }),
  );
  assert.deepEqual([out.width, out.height], [224, 224]);
  const px = (x: number, y: number) =>
    Array.from(out.data.subarray((y * out.width + x) * 3, (y * out.width + x) * 3 + 3));
  assert.deepEqual(px(2, 2), [128, 0, 0]); // jet(1)
  assert.deepEqual(px(200, 200), [0, 0, 128]); // jet(0)
  const half = await pixels(
    await renderOverlay({ file: png }, map, [7, 7], identityGeometry(28, 28), {
      colormap: 'jet',
      opacity: 0.5,
    }),
  );
  assert.ok(Math.abs(half.data[(200 * 224 + 200) * 3 + 2] - (128 + 128) / 2) <= 1);
});

test('overlay follows EXIF orientation and dims what a centre crop leaves out', async () => {
  // a 60×40 picture stored sideways (orientation 6 → shown 40 wide × 60 tall)
  const stored = await sharp({
    create: { width: 60, height: 40, channels: 3, background: { r: 200, g: 200, b: 200 } },
  })
    .withMetadata({ orientation: 6 })
    .png()
    .toBuffer();
  const spec: PreprocessingSpec = {
    resize: { height: 20, width: 20, mode: 'shorter-side' },
    crop: { height: 20, width: 20 },
    colour: 'rgb',
    scale: 1 / 255,
    mean: [0],
    std: [1],
  };
  const geometry = computeGeometry(40, 60, spec, { channels: 3, height: 20, width: 20 });
  assert.deepEqual(geometry.crop, { left: 0, top: 5, width: 20, height: 20 });
  const out = await pixels(
    await renderOverlay({ file: stored }, new Float32Array(4).fill(0), [2, 2], geometry, {
      colormap: 'jet',
      opacity: 1,
      dimOutside: 0.5,
      minSize: 1,
    }),
  );
  assert.deepEqual([out.width, out.height], [40, 60]);
  const px = (x: number, y: number) =>
    Array.from(out.data.subarray((y * out.width + x) * 3, (y * out.width + x) * 3 + 3));
  // the model saw rows 10..49 of the shown picture: coloured there, dimmed above and below
  assert.deepEqual(px(20, 30), [0, 0, 128]);
  const dimmed = (p: number[]) => p.every((v) => Math.abs(v - 100) <= 1);
  assert.ok(dimmed(px(20, 2)), `${px(20, 2)}`);
  assert.ok(dimmed(px(20, 57)));
  assert.deepEqual(px(20, 10), [0, 0, 128]);
  assert.ok(dimmed(px(20, 9)));
});

test('overlay from the decoded pixels equals the overlay from the file (gray and RGB, enlarged and not)', async () => {
  const demo = path.join(__dirname, '..', '..', '..', 'models', 'demo', 'fashion-mnist', 'Bag');
  const gray = path.join(demo, fs.readdirSync(demo).filter((f) => f.endsWith('.png'))[0]);
  // A colour picture with detail in every channel, at an enlarged size and at its own size.
  const noise = Buffer.from(Array.from({ length: 30 * 20 * 3 }, (_, i) => (i * 97 + (i >> 3) * 31) % 256));
  const rgb = await sharp(noise, { raw: { width: 30, height: 20, channels: 3 } })
    .png()
    .toBuffer();
  const big = await sharp(noise, { raw: { width: 30, height: 20, channels: 3 } })
    .resize(300, 200, { kernel: 'nearest' })
    .png()
    .toBuffer();
  const map = Float32Array.from({ length: 49 }, (_, i) => Math.sin(i * 1.7));
  for (const [label, file] of [
    ['gray 28×28', gray],
    ['rgb 30×20', rgb],
    ['rgb 300×200', big],
  ] as const) {
    const decoded = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const { width, height, channels } = decoded.info;
    assert.ok(channels === 1 || channels === 3, `${label}: ${channels} channels`);
    const geometry = identityGeometry(height, width);
    const base = { pixels: new Uint8Array(decoded.data), channels: channels as 1 | 3, width, height };
    const fromFile = await pixels(await renderOverlay({ file }, map, [7, 7], geometry, { opacity: 0.6 }));
    const fromPixels = await pixels(await renderOverlay(base, map, [7, 7], geometry, { opacity: 0.6 }));
    assert.deepEqual([fromPixels.width, fromPixels.height], [fromFile.width, fromFile.height], label);
    assert.ok(fromPixels.data.equals(fromFile.data), `${label}: the two overlays differ`);
  }
});

test('overlay PNGs decode to their pixels, enlarged by whole factors as nearest neighbour', async () => {
  const [w, h] = [7, 5];
  const rgb = Uint8Array.from({ length: w * h * 3 }, (_, k) => (k * 73 + (k % 5) * 41) % 256);
  for (const scale of [1, 3, 8]) {
    const png = encodeRgbPng(rgb, w, h, scale);
    const decoded = await pixels(png);
    const expected = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .resize(w * scale, h * scale, { kernel: 'nearest' })
      .raw()
      .toBuffer();
    assert.deepEqual([decoded.width, decoded.height], [w * scale, h * scale]);
    assert.ok(decoded.data.equals(expected), `scale ${scale}: pixels differ`);
  }
  assert.throws(() => encodeRgbPng(rgb, w, h + 1), RangeError);
});

test("a small picture's overlay is blended at the picture's size: each pixel an 8×8 block", async () => {
  const demo = path.join(__dirname, '..', '..', '..', 'models', 'demo', 'fashion-mnist', 'Bag');
  const file = path.join(demo, fs.readdirSync(demo).filter((f) => f.endsWith('.png'))[0]);
  const map = Float32Array.from({ length: 49 }, (_, i) =>
    Math.exp(-(((i % 7) - 3) ** 2) - (Math.floor(i / 7) - 2) ** 2),
  );
  const out = await pixels(await renderOverlay({ file }, map, [7, 7], identityGeometry(28, 28)));
  assert.deepEqual([out.width, out.height], [224, 224]);
  let distinct = 0;
  for (let y = 0; y < 224; y++)
    for (let x = 0; x < 224; x++) {
      const at = (y * 224 + x) * 3;
      const corner = (((y >> 3) << 3) * 224 + ((x >> 3) << 3)) * 3;
      assert.ok(out.data.subarray(at, at + 3).equals(out.data.subarray(corner, corner + 3)), `${x},${y}`);
      if (
        x % 8 === 0 &&
        y % 8 === 0 &&
        x > 0 &&
        !out.data.subarray(at, at + 3).equals(out.data.subarray(at - 24, at - 21))
      )
        distinct++;
    }
  assert.ok(distinct > 100, `the heat varies from block to block (${distinct} changes)`);
});
