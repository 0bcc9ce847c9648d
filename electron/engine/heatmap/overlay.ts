// Heatmap overlays: a token map, min-max normalised, upsampled bilinearly onto the region of the
// picture the model saw (mapped back through the preprocessing's resize and crop), coloured with a
// colour map and composited with sharp at an opacity; whatever the model did not see is dimmed.
import sharp from 'sharp';
import { EngineError } from '../errors';
import { minMaxNormalise } from '../methods/common';
import type { PreprocessGeometry } from '../preprocess';
import { colormapTable, type ColormapName } from './colormaps';
import { upsampleBilinear } from '../../contract/bilinear';

export interface OverlayOptions {
  colormap: ColormapName;
  /** Opacity of the heatmap over the picture, 0…1. */
  opacity: number;
  /** How much to darken the part of the picture the model did not see (centre crop), 0…1. */
  dimOutside: number;
  /** Small pictures are enlarged by a whole factor (nearest neighbour) until the longer side reaches this. */
  minSize: number;
  /** Large pictures are reduced so the longer side is at most this. */
  maxSize: number;
}

export const DEFAULT_OVERLAY_OPTIONS: OverlayOptions = {
  colormap: 'turbo',
  opacity: 0.5,
  dimOutside: 0.6,
  minSize: 224,
  maxSize: 2048,
};

/**
 * The picture under the heatmap: an image file (oriented by EXIF), or its 8-bit pixels already
 * decoded (gray or RGB, row-major, as the user sees it), which spares a second decode.
 */
export type OverlayBase =
  { file: string | Buffer } | { pixels: Uint8Array; channels: 1 | 3; width: number; height: number };

/** A grayscale rendering of a 1×C×H×W tensor: mean over channels, min-max to 0…255. */
export function tensorToGray(
  tensor: Float32Array,
  channels: number,
  height: number,
  width: number,
): Uint8Array {
  const plane = height * width;
  const mean = new Float64Array(plane);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < plane; i++) mean[i] += tensor[c * plane + i] / channels;
  const n = minMaxNormalise(mean);
  const out = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) out[i] = Math.round(n[i] * 255);
  return out;
}

/** Where the model's input lies on the displayed picture, in display pixels. */
export function modelRegion(
  geometry: PreprocessGeometry,
  displayWidth: number,
  displayHeight: number,
): { left: number; top: number; width: number; height: number } {
  const { original, resized, crop } = geometry;
  const kx = (original.width / resized.width) * (displayWidth / original.width);
  const ky = (original.height / resized.height) * (displayHeight / original.height);
  const left = Math.round(crop.left * kx);
  const top = Math.round(crop.top * ky);
  const right = Math.min(displayWidth, Math.round((crop.left + crop.width) * kx));
  const bottom = Math.min(displayHeight, Math.round((crop.top + crop.height) * ky));
  return { left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
}

function displaySize(
  width: number,
  height: number,
  o: OverlayOptions,
): { width: number; height: number; kernel: 'nearest' | 'linear' } {
  const longer = Math.max(width, height);
  if (longer < o.minSize) {
    const k = Math.ceil(o.minSize / longer);
    return { width: width * k, height: height * k, kernel: 'nearest' };
  }
  if (longer > o.maxSize) {
    const k = o.maxSize / longer;
    return {
      width: Math.max(1, Math.round(width * k)),
      height: Math.max(1, Math.round(height * k)),
      kernel: 'linear',
    };
  }
  return { width, height, kernel: 'nearest' };
}

/** Heatmap region as RGBA: colour from the map, alpha = opacity. */
export function colouredHeatmap(
  map: ArrayLike<number>,
  grid: [number, number],
  width: number,
  height: number,
  colormap: ColormapName,
  opacity: number,
): Buffer {
  const normalised = minMaxNormalise(map);
  const up = upsampleBilinear(normalised, grid[0], grid[1], height, width);
  const lut = colormapTable(colormap);
  const alpha = Math.round(Math.min(Math.max(opacity, 0), 1) * 255);
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < up.length; i++) {
    const k = Math.round(Math.min(Math.max(up[i], 0), 1) * 255) * 3;
    rgba[i * 4] = lut[k];
    rgba[i * 4 + 1] = lut[k + 1];
    rgba[i * 4 + 2] = lut[k + 2];
    rgba[i * 4 + 3] = alpha;
  }
  return rgba;
}

/** Renders the overlay PNG of a token map (grid rows × cols) over the picture. */
export async function renderOverlay(
  base: OverlayBase,
  map: ArrayLike<number>,
  grid: [number, number],
  geometry: PreprocessGeometry,
  options?: Partial<OverlayOptions>,
): Promise<Buffer> {
  const o: OverlayOptions = { ...DEFAULT_OVERLAY_OPTIONS, ...options };
  if (map.length !== grid[0] * grid[1])
    throw new EngineError(
      `The map has ${map.length} values but the grid ${grid[0]}×${grid[1]} needs ${grid[0] * grid[1]}.`,
      'map-shape',
    );
  const { original } = geometry;
  const display = displaySize(original.width, original.height, o);
  const picture = await pictureAt(base, display);
  const region = modelRegion(geometry, display.width, display.height);
  const rgb = blendOverlay(picture.data, picture.channels, display, region, map, grid, o);
  // One PNG encode, in sharp's thread pool; the blending above is a single pass in JS.
  return sharp(rgb, { raw: { width: display.width, height: display.height, channels: 3 } })
    .png({ compressionLevel: PNG_COMPRESSION })
    .toBuffer();
}

/**
 * The picture at the display size, raw. Decoded pixels enlarged by a whole factor are replicated
 * here (what sharp's nearest-neighbour resize gives), without a round trip through sharp.
 */
async function pictureAt(
  base: OverlayBase,
  display: { width: number; height: number; kernel: 'nearest' | 'linear' },
): Promise<{ data: Uint8Array; channels: number }> {
  if ('pixels' in base && display.kernel === 'nearest' && display.width % base.width === 0) {
    const k = display.width / base.width;
    if (display.height === base.height * k)
      return {
        data: replicate(base.pixels, base.width, base.height, base.channels, k),
        channels: base.channels,
      };
  }
  const input =
    'file' in base
      ? sharp(base.file).rotate()
      : sharp(Buffer.from(base.pixels.buffer, base.pixels.byteOffset, base.pixels.length), {
          raw: { width: base.width, height: base.height, channels: base.channels },
        });
  try {
    const { data, info } = await input
      .resize(display.width, display.height, { fit: 'fill', kernel: display.kernel })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, channels: info.channels };
  } catch (e) {
    throw new EngineError(
      `Cannot render the picture under the heatmap: ${(e as Error).message}`,
      'image-read',
    );
  }
}

/** Each pixel as a k×k block. */
function replicate(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  k: number,
): Uint8Array {
  if (k === 1) return pixels;
  const rowBytes = width * k * channels;
  const out = new Uint8Array(rowBytes * height * k);
  for (let y = 0; y < height; y++) {
    const row = out.subarray(y * k * rowBytes, (y * k + 1) * rowBytes);
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) {
        const v = pixels[(y * width + x) * channels + c];
        for (let i = 0; i < k; i++) row[(x * k + i) * channels + c] = v;
      }
    for (let i = 1; i < k; i++)
      out.copyWithin((y * k + i) * rowBytes, y * k * rowBytes, (y * k + 1) * rowBytes);
  }
  return out;
}

/** zlib level of overlay PNGs: 3 encodes several times faster than the default 6, files ~10 % larger. */
const PNG_COMPRESSION = 3;

/**
 * The picture (raw, 1 or 3 channels) as RGB with the heatmap blended over the model's region at
 * the opacity and everything else darkened by dimOutside: what compositing layers "over" gives.
 */
function blendOverlay(
  picture: Uint8Array,
  channels: number,
  display: { width: number; height: number },
  region: { left: number; top: number; width: number; height: number },
  map: ArrayLike<number>,
  grid: [number, number],
  o: OverlayOptions,
): Buffer {
  const { width, height } = display;
  const out = Buffer.alloc(width * height * 3);
  const keep = 1 - Math.min(Math.max(o.dimOutside, 0), 1);
  const alpha = Math.round(Math.min(Math.max(o.opacity, 0), 1) * 255) / 255;
  // The colour map pre-multiplied by the opacity, so a pixel costs one multiply-add per channel.
  const lut = colormapTable(o.colormap);
  const heat = Float32Array.from(lut, (v) => v * alpha);
  const up = upsampleBilinear(minMaxNormalise(map), grid[0], grid[1], region.height, region.width);
  // Per picture value: its share under the heatmap, and its dimmed value outside the region.
  const under = new Float64Array(256);
  const dimmed = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    under[v] = v * (1 - alpha);
    dimmed[v] = (v * keep + 0.5) | 0;
  }
  const step = channels >= 3 ? channels : 1;
  const spread = channels >= 3 ? 1 : 0;
  for (let y = 0; y < height; y++) {
    const ry = y - region.top;
    const rowInside = ry >= 0 && ry < region.height;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const src = p * step;
      const o3 = p * 3;
      const rx = x - region.left;
      if (rowInside && rx >= 0 && rx < region.width) {
        const u = up[ry * region.width + rx];
        const k = ((u <= 0 ? 0 : u >= 1 ? 255 : u * 255 + 0.5) | 0) * 3;
        out[o3] = (under[picture[src]] + heat[k] + 0.5) | 0;
        out[o3 + 1] = (under[picture[src + spread]] + heat[k + 1] + 0.5) | 0;
        out[o3 + 2] = (under[picture[src + 2 * spread]] + heat[k + 2] + 0.5) | 0;
      } else {
        out[o3] = dimmed[picture[src]];
        out[o3 + 1] = dimmed[picture[src + spread]];
        out[o3 + 2] = dimmed[picture[src + 2 * spread]];
      }
    }
  }
  return out;
}
