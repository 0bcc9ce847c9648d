// Turns an image file into the model's input tensor (1×C×H×W float32) as a model card describes:
// EXIF orientation, resize (exact or shorter side), centre crop, colour conversion, scale, mean and
// std. Also returns the geometry that maps model pixels back onto the picture the user sees.
import { promises as fs } from 'node:fs';
import sharp, { type KernelEnum, type Metadata, type OutputInfo } from 'sharp';
import { EngineError } from './errors';
import type { PreprocessingSpec } from './modelCard';
import { decodePlainPng, isPlainPng, plainPngSize } from './plainPng';

export interface InputSize {
  channels: number;
  height: number;
  width: number;
}

/** How the model's input relates to the oriented picture: resize, then a crop window. */
export interface PreprocessGeometry {
  /** The picture as the user sees it (EXIF orientation applied). */
  original: { width: number; height: number };
  /** Size after the resize step. */
  resized: { width: number; height: number };
  /** The crop window in resized pixels; the model sees exactly this window. */
  crop: { left: number; top: number; width: number; height: number };
}

export interface PreprocessedImage {
  /** 1×C×H×W, row-major. */
  tensor: Float32Array;
  geometry: PreprocessGeometry;
  /** The model-sized 8-bit pixels the tensor was made from (1 or 3 channels, row-major). */
  pixels: Uint8Array;
  channels: number;
}

/** Identity geometry for a tensor given as is (.npy input): the picture is the model input. */
export function identityGeometry(height: number, width: number): PreprocessGeometry {
  return {
    original: { width, height },
    resized: { width, height },
    crop: { left: 0, top: 0, width, height },
  };
}

/** The resize and crop the card's preprocessing applies to a picture of the given size. */
export function computeGeometry(
  width: number,
  height: number,
  spec: PreprocessingSpec,
  input: InputSize,
  source = 'the image',
): PreprocessGeometry {
  let rw = width;
  let rh = height;
  const r = spec.resize;
  if (r && r.mode === 'exact') {
    rw = r.width;
    rh = r.height;
  } else if (r) {
    // Shorter side: scale so the picture covers height × width, keeping its aspect ratio
    // (as torchvision's Resize(int)): the covering side gets the target, the other is floored.
    const scale = Math.max(r.height / height, r.width / width);
    const byHeight = r.height / height >= r.width / width;
    rh = byHeight ? r.height : Math.floor(height * scale);
    rw = byHeight ? Math.floor(width * scale) : r.width;
  }
  const want = spec.crop ?? { height: input.height, width: input.width };
  if (!spec.crop && (rh !== input.height || rw !== input.width)) {
    throw new EngineError(
      `After preprocessing, ${source} is ${rh}×${rw} but the model takes ${input.height}×${input.width}. ${
        r
          ? "Add a 'crop' to the card's preprocessing or fix 'resize'."
          : 'Resize the image or add a resize to the model card.'
      }`,
      'input-size',
    );
  }
  if (want.height > rh || want.width > rw) {
    throw new EngineError(
      `The centre crop ${want.height}×${want.width} is larger than ${source} after resizing (${rh}×${rw}); fix the card's 'resize' or 'crop'.`,
      'input-size',
    );
  }
  if (want.height !== input.height || want.width !== input.width) {
    throw new EngineError(
      `The card's crop ${want.height}×${want.width} does not match the model input ${input.height}×${input.width}.`,
      'input-size',
    );
  }
  return {
    original: { width, height },
    resized: { width: rw, height: rh },
    crop: {
      left: Math.floor((rw - want.width) / 2),
      top: Math.floor((rh - want.height) / 2),
      width: want.width,
      height: want.height,
    },
  };
}

/** Size of a picture after EXIF orientation, and whether it is 8-bit gray (with or without alpha). */
export async function orientedSize(
  file: string | Buffer,
): Promise<{ width: number; height: number; gray: boolean }> {
  let meta: Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (e) {
    throw new EngineError(`Cannot read image ${describe(file)}: ${(e as Error).message}`, 'image-read');
  }
  if (!meta.width || !meta.height)
    throw new EngineError(`Cannot tell the size of image ${describe(file)}.`, 'image-read');
  const swap = (meta.orientation ?? 1) >= 5;
  const gray = meta.space === 'b-w' && !meta.hasProfile;
  return swap
    ? { width: meta.height, height: meta.width, gray }
    : { width: meta.width, height: meta.height, gray };
}

const describe = (file: string | Buffer): string => (typeof file === 'string' ? file : '(buffer)');

/**
 * The model-sized pixels of a picture (oriented, resized, cropped) as 8-bit samples with 1 or 3
 * channels, plus the geometry. `kernel` overrides the card's resampling (masks use 'nearest').
 */
export async function loadModelPixels(
  file: string | Buffer,
  spec: PreprocessingSpec,
  input: InputSize,
  kernel?: keyof KernelEnum,
): Promise<{ pixels: Uint8Array; channels: number; geometry: PreprocessGeometry }> {
  // A plain PNG's size is in its header (and it has no EXIF orientation): one at the model's size
  // is decoded here, one to resize or crop goes to sharp from the bytes already read.
  const bytes = await plainPngBytes(file);
  const size = bytes ? plainPngSize(bytes) : await orientedSize(file);
  const geometry = computeGeometry(size.width, size.height, spec, input, describe(file));
  if (bytes && isWhole(geometry)) {
    const { pixels, channels } = decodePlainPng(bytes);
    return { pixels, channels, geometry };
  }
  let pipeline = sharp(bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : file).rotate();
  if (geometry.resized.width !== size.width || geometry.resized.height !== size.height) {
    pipeline = pipeline.resize(geometry.resized.width, geometry.resized.height, {
      fit: 'fill',
      kernel: kernel ?? spec.resize?.kernel ?? 'linear',
    });
  }
  const { crop } = geometry;
  if (crop.width !== geometry.resized.width || crop.height !== geometry.resized.height)
    pipeline = pipeline.extract(crop);
  // sharp's raw output is sRGB unless told otherwise: a gray picture stays one channel (the same
  // values, a third of the samples to convert and to blend under an overlay).
  if (size.gray) pipeline = pipeline.toColourspace('b-w');
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await pipeline.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new EngineError(`Cannot decode image ${describe(file)}: ${(e as Error).message}`, 'image-read');
  }
  return {
    pixels: new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length),
    channels: raw.info.channels,
    geometry,
  };
}

/** A PNG's bytes where it is plain (see plainPng.ts), else undefined: sharp reads the file. */
async function plainPngBytes(file: string | Buffer): Promise<Uint8Array | undefined> {
  if (typeof file === 'string' && !/\.png$/i.test(file)) return undefined;
  // An unreadable file is left for sharp to report, in its words.
  const bytes = typeof file === 'string' ? await fs.readFile(file).catch(() => undefined) : file;
  return bytes && isPlainPng(bytes) ? bytes : undefined;
}

/** Whether the model sees the picture as it is: no resize, no crop. */
export function isWhole({ original, resized, crop }: PreprocessGeometry): boolean {
  return (
    resized.width === original.width &&
    resized.height === original.height &&
    crop.width === original.width &&
    crop.height === original.height
  );
}

/** Image → 1×C×H×W float32 per the card: colour conversion, then (v·scale − mean[c]) / std[c]. */
export async function preprocessImage(
  file: string | Buffer,
  spec: PreprocessingSpec,
  input: InputSize,
): Promise<PreprocessedImage> {
  const { pixels, channels, geometry } = await loadModelPixels(file, spec, input);
  const plane = input.height * input.width;
  const tensor = new Float32Array(input.channels * plane);
  const outChannels = input.channels;
  for (let c = 0; c < outChannels; c++) {
    const mean = spec.mean.length === 1 ? spec.mean[0] : spec.mean[c];
    const std = spec.std.length === 1 ? spec.std[0] : spec.std[c];
    for (let i = 0; i < plane; i++) {
      let v: number;
      if (channels === 1)
        v = pixels[i]; // grayscale source: replicated into every channel
      else if (spec.colour === 'grayscale' || outChannels === 1) {
        // ITU-R 601-2 luminance, as PIL's convert('L'); equal channels stay exact.
        const r = pixels[i * channels];
        const g = pixels[i * channels + 1];
        const b = pixels[i * channels + 2];
        v = r === g && g === b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
      } else v = pixels[i * channels + c];
      tensor[c * plane + i] = (v * spec.scale - mean) / std;
    }
  }
  return { tensor, geometry, pixels, channels };
}
