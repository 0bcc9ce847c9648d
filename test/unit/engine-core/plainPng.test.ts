// Plain PNGs are decoded in JS (pngjs) instead of through sharp: for every colour type and
// interlacing, the pixels and the model's tensor must be exactly what the sharp path gives; PNGs
// sharp reads differently (16-bit, an ICC profile, an EXIF block) and broken ones must not be
// taken for plain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { decodePlainPng, isPlainPng } from '../../../electron/engine/plainPng';
import { preprocessImage } from '../../../electron/engine/preprocess';
import type { PreprocessingSpec } from '../../../electron/engine/modelCard';

const W = 13;
const H = 9;
const sample = (i: number, c: number) => (i * 37 + c * 91 + ((i * c) % 7) * 13) % 256;

/** A PNG of every colour type pngjs writes (alpha and palette through sharp). */
async function pngs(): Promise<Record<string, Buffer>> {
  const rgba = Buffer.from(Array.from({ length: W * H * 4 }, (_, k) => sample(k >> 2, k & 3)));
  const encode = (colorType: 0 | 2 | 4 | 6, interlace = false) => {
    const png = new PNG({ width: W, height: H, colorType, inputColorType: 6, inputHasAlpha: true });
    png.data = rgba;
    return PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true, interlace } as never);
  };
  const raw = { raw: { width: W, height: H, channels: 4 as const } };
  return {
    gray: encode(0),
    'gray+alpha': encode(4),
    rgb: encode(2),
    rgba: encode(6),
    'rgb interlaced': await sharp(rgba, raw).removeAlpha().png({ progressive: true }).toBuffer(),
    'palette, 4-bit': await sharp(rgba, raw).removeAlpha().png({ palette: true, colours: 16 }).toBuffer(),
    'palette, 8-bit': await sharp(rgba, raw).removeAlpha().png({ palette: true, colours: 200 }).toBuffer(),
    'palette+alpha': await sharp(rgba, raw).png({ palette: true, colours: 16 }).toBuffer(),
  };
}

/** `png` with a chunk of `type` added after IHDR. */
function withChunk(png: Buffer, type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}

// A valid EXIF block with no entries (big-endian TIFF header, an empty IFD): sharp parses it,
// orientation stays unset, so the sharp path must give the same pixels.
const EMPTY_EXIF = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0]);

test('plain PNGs decode to the pixels sharp gives, for every colour type', async () => {
  for (const [name, png] of Object.entries(await pngs())) {
    assert.ok(isPlainPng(png), `${name}: plain`);
    const mine = decodePlainPng(png);
    const theirs = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([mine.width, mine.height], [theirs.info.width, theirs.info.height], name);
    // sharp gives sRGB (gray replicated); expand a gray decode the same way.
    const rgb =
      mine.channels === 3
        ? mine.pixels
        : Uint8Array.from({ length: W * H * 3 }, (_, k) => mine.pixels[(k / 3) | 0]);
    assert.ok(Buffer.from(rgb).equals(theirs.data), `${name}: pixels differ from sharp's`);
    assert.equal(mine.channels, name.startsWith('gray') ? 1 : 3, `${name}: channels`);
  }
});

test("a plain PNG's tensor equals the sharp path's (the same PNG with an EXIF block), resized or not", async () => {
  const spec: PreprocessingSpec = {
    resize: null,
    crop: null,
    colour: 'rgb',
    scale: 1 / 255,
    mean: [0.5, 0.4, 0.3],
    std: [0.2, 0.25, 0.3],
  };
  // As it is (decoded by pngjs), and resized to the model's 18×26 (sharp from the bytes read).
  const sizes = [
    { resize: null, height: H, width: W },
    { resize: { height: 18, width: 26, mode: 'exact' as const }, height: 18, width: 26 },
  ];
  for (const [name, png] of Object.entries(await pngs())) {
    const viaSharp = withChunk(png, 'eXIf', EMPTY_EXIF);
    assert.ok(!isPlainPng(viaSharp), `${name}: with EXIF it goes to sharp`);
    for (const { resize, height, width } of sizes)
      for (const channels of [1, 3]) {
        const input = { channels, height, width };
        const card = { ...spec, resize, colour: channels === 1 ? ('grayscale' as const) : ('rgb' as const) };
        const fast = await preprocessImage(png, card, input);
        const slow = await preprocessImage(viaSharp, card, input);
        const label = `${name}, ${channels} channel(s), ${height}×${width}`;
        assert.deepEqual(fast.geometry, slow.geometry, label);
        assert.deepEqual(Array.from(fast.tensor), Array.from(slow.tensor), label);
      }
  }
});

test('PNGs sharp reads differently, broken ones and other formats are not plain', async () => {
  const rgb = Buffer.from(Array.from({ length: W * H * 3 }, (_, k) => sample(k, 1)));
  const raw = { raw: { width: W, height: H, channels: 3 as const } };
  const plain = await sharp(rgb, raw).png().toBuffer();
  assert.ok(isPlainPng(plain));
  const sixteen = await sharp(rgb, raw).toColourspace('rgb16').png().toBuffer();
  assert.equal(sixteen[24], 16, 'a 16-bit PNG');
  assert.ok(!isPlainPng(sixteen), '16-bit samples');
  assert.ok(!isPlainPng(withChunk(plain, 'iCCP', Buffer.from('profile\0\0'))), 'an ICC profile');
  assert.ok(!isPlainPng(withChunk(plain, 'eXIf', EMPTY_EXIF)), 'an EXIF block');
  assert.ok(!isPlainPng(plain.subarray(0, plain.length - 12)), 'no IEND: truncated');
  assert.ok(!isPlainPng(await sharp(rgb, raw).jpeg().toBuffer()), 'a JPEG');
  assert.ok(!isPlainPng(Buffer.from('not an image')), 'not an image');
});
