// Reads one candidate image: its bytes (for the content hash), its header (size, format) and a
// cheap end-of-file check that catches truncated PNG, JPEG, GIF and WebP files without decoding.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';

/** Above this many pixels an image is refused as a likely decompression bomb. */
export const MAX_IMAGE_PIXELS = 100_000_000;

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);
const UNSUPPORTED_IMAGE_EXTENSIONS = new Map([
  ['.heic', 'HEIC is not readable by the bundled image library (sharp); convert it to JPEG or PNG'],
  ['.heif', 'HEIF is not readable by the bundled image library (sharp); convert it to JPEG or PNG'],
  ['.bmp', 'BMP is not readable by the bundled image library (sharp); convert it to PNG'],
]);

export interface ProbedImage {
  hash: string;
  sizeBytes: number;
  mtimeMs: number;
  width: number;
  height: number;
  format: string;
}

export class ImageProblem extends Error {}

export function hashBytes(bytes: Buffer): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export async function probeImage(absPath: string): Promise<ProbedImage> {
  const ext = path.extname(absPath).toLowerCase();
  const unsupported = UNSUPPORTED_IMAGE_EXTENSIONS.get(ext);
  if (unsupported) throw new ImageProblem(unsupported);
  if (!IMAGE_EXTENSIONS.has(ext)) {
    throw new ImageProblem(`not an image file (extension "${ext || 'none'}")`);
  }
  const stat = await fs.stat(absPath);
  if (stat.size === 0) throw new ImageProblem('empty file (0 bytes)');
  const bytes = await fs.readFile(absPath);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageProblem(`not a readable image: ${(error as Error).message}`);
  }
  if (!meta.width || !meta.height || !meta.format)
    throw new ImageProblem('image header has no size or format');
  if (meta.width * meta.height > MAX_IMAGE_PIXELS) {
    throw new ImageProblem(
      `too many pixels (${meta.width}×${meta.height} > ${MAX_IMAGE_PIXELS}); refused as a possible decompression bomb`,
    );
  }
  const truncation = detectTruncation(meta.format, bytes);
  if (truncation) throw new ImageProblem(truncation);
  // EXIF orientations 5–8 swap the displayed width and height.
  const swap = (meta.orientation ?? 1) >= 5;
  return {
    hash: hashBytes(bytes),
    sizeBytes: stat.size,
    mtimeMs: Math.floor(stat.mtimeMs),
    width: swap ? meta.height : meta.width,
    height: swap ? meta.width : meta.height,
    format: meta.format,
  };
}

function detectTruncation(format: string, bytes: Buffer): string | null {
  const tail = bytes.subarray(Math.max(0, bytes.length - 64));
  switch (format) {
    case 'png':
      return tail.includes(Buffer.from('IEND', 'latin1')) ? null : 'truncated PNG (no IEND chunk at the end)';
    case 'jpeg':
      return tail.includes(Buffer.from([0xff, 0xd9])) ? null : 'truncated JPEG (no end-of-image marker)';
    case 'gif':
      return tail.includes(0x3b) ? null : 'truncated GIF (no trailer byte)';
    case 'webp':
      return bytes.length >= 8 && bytes.readUInt32LE(4) + 8 <= bytes.length
        ? null
        : 'truncated WebP (file shorter than its RIFF header says)';
    default:
      return null;
  }
}
