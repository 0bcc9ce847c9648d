// Overlay PNGs: 8-bit RGB, optionally enlarged by a whole factor (nearest neighbour) as they are
// written, one zlib stream at level 1. Overlays are written once per image per method, so their
// encoding is on the folder pipeline's critical path: a 224² overlay drawn at full size takes
// ~1 ms of CPU here where sharp (libvips + libspng, zlib level 3) took ~2 ms, half of it fixed
// per-call cost, and pngjs ~1.6 ms (it repacks every pixel in JS). An enlarged picture is written
// from its own pixels: each band of `scale` rows is one Sub-filtered row (zeros inside each
// block) and `scale − 1` Up-filtered rows (all zeros), which zlib passes over quickly. Only this
// fixed format is written here; every other image goes through sharp.
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const SUB = 1;
const UP = 2;

/** A PNG chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * The PNG of `rgb` (width × height × 3 bytes, row-major), each pixel written as a
 * scale × scale block: the image is (width·scale) × (height·scale).
 */
export function encodeRgbPng(rgb: Uint8Array, width: number, height: number, scale = 1): Buffer {
  if (rgb.length !== width * height * 3 || !Number.isInteger(scale) || scale < 1)
    throw new RangeError(`encodeRgbPng: ${rgb.length} bytes for ${width}×${height} RGB at scale ${scale}`);
  const stride = width * 3;
  const line = width * scale * 3 + 1; // a scanline: its filter byte, then the bytes
  // Zero-filled: an Up row that repeats the one above is its filter byte alone.
  const lines = Buffer.alloc(line * height * scale);
  for (let y = 0; y < height; y++) {
    const r = y * stride;
    const first = y * scale * line;
    if (scale === 1) {
      // Up: minus the row above (the first row has none above: zeros).
      lines[first] = UP;
      for (let x = 0; x < stride; x++) lines[first + 1 + x] = rgb[r + x] - (y > 0 ? rgb[r - stride + x] : 0);
      continue;
    }
    // Sub: minus the pixel to the left, so inside a block it is zeros; each block's first pixel
    // differs from the previous block's colour.
    lines[first] = SUB;
    for (let x = 0; x < width; x++) {
      const at = first + 1 + x * scale * 3;
      for (let c = 0; c < 3; c++) lines[at + c] = rgb[r + x * 3 + c] - (x > 0 ? rgb[r + (x - 1) * 3 + c] : 0);
    }
    for (let k = 1; k < scale; k++) lines[first + k * line] = UP;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width * scale, 0);
  header.writeUInt32BE(height * scale, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB (compression, filter method and interlace stay 0)
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(lines, { level: 1 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
