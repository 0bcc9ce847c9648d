// Plain PNGs decoded in JS (pngjs) instead of through sharp. A decode through sharp costs ~1 ms
// of CPU even for a 28×28 picture (libvips' per-pipeline set-up and a fresh worker thread per
// call), ~10× what decoding such a PNG takes; on a folder of small pictures that cost is of the
// order of the model's own. Only PNGs that both decoders read the same way take this path
// (test/unit/engine-core/plainPng.test.ts): 8-bit samples or a palette, no ICC profile (sharp would convert
// through it), no EXIF block (sharp would orient by it). Everything else goes through sharp.
import { PNG } from 'pngjs';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether `bytes` is a PNG that decodePlainPng reads exactly as sharp does. */
export function isPlainPng(bytes: Uint8Array): boolean {
  if (bytes.length < 33 || SIGNATURE.some((b, i) => bytes[i] !== b)) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // IHDR (always the first chunk): 8-bit samples, or a palette of any depth (its entries are 8-bit).
  const [depth, colourType] = [bytes[24], bytes[25]];
  if (depth !== 8 && colourType !== 3) return false;
  // Walk the chunks: length, type, data, CRC.
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (type === 'iCCP' || type === 'eXIf') return false;
    if (type === 'IEND') return true;
    at += 12 + length;
  }
  return false; // truncated: let sharp report it
}

/** A plain PNG's size and whether it is gray (with or without alpha), from its header. */
export function plainPngSize(bytes: Uint8Array): { width: number; height: number; gray: boolean } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // IHDR: width, height, bit depth, colour type (bit 1 set: colour or palette).
  return { width: view.getUint32(16), height: view.getUint32(20), gray: (bytes[25] & 2) === 0 };
}

/**
 * The pixels of a plain PNG as sharp's raw output gives them after removeAlpha (gray pictures
 * as one channel, the rest as RGB): alpha dropped, a palette expanded.
 */
export function decodePlainPng(bytes: Uint8Array): {
  pixels: Uint8Array;
  channels: 1 | 3;
  width: number;
  height: number;
} {
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const { width, height, data } = png;
  // pngjs gives RGBA whatever the colour type; IHDR's colour type with bit 1 set is colour (RGB,
  // palette, RGBA), without it gray (with or without alpha).
  const colour = (bytes[25] & 2) !== 0;
  const channels = colour ? 3 : 1;
  const pixels = new Uint8Array(width * height * channels);
  for (let p = 0, s = 0; p < pixels.length; s += 4) {
    pixels[p++] = data[s];
    if (colour) {
      pixels[p++] = data[s + 1];
      pixels[p++] = data[s + 2];
    }
  }
  return { pixels, channels, width, height };
}
