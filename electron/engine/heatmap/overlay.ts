// Heatmap overlays: a token map, min-max normalised, upsampled bilinearly onto the region of the
// picture the model saw (mapped back through the preprocessing's resize and crop), coloured with a
// colour map and composited with sharp at an opacity; whatever the model did not see is dimmed.
import sharp, { type OverlayOptions as SharpLayer } from 'sharp';
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

/** The picture under the heatmap: an image file (oriented by EXIF), or 8-bit gray pixels. */
export type OverlayBase = { file: string | Buffer } | { gray: Uint8Array; width: number; height: number };

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
  const input =
    'file' in base
      ? sharp(base.file).rotate()
      : sharp(Buffer.from(base.gray.buffer, base.gray.byteOffset, base.gray.length), {
          raw: { width: base.width, height: base.height, channels: 1 },
        });
  let picture: Buffer;
  try {
    picture = await input
      .resize(display.width, display.height, { fit: 'fill', kernel: display.kernel })
      .removeAlpha()
      .toColourspace('srgb')
      .png()
      .toBuffer();
  } catch (e) {
    throw new EngineError(
      `Cannot render the picture under the heatmap: ${(e as Error).message}`,
      'image-read',
    );
  }
  const region = modelRegion(geometry, display.width, display.height);
  const layers: SharpLayer[] = [];
  const outsideExists =
    region.left > 0 || region.top > 0 || region.width < display.width || region.height < display.height;
  if (outsideExists && o.dimOutside > 0) {
    // A black veil over everything but the model's region.
    const veil = Buffer.alloc(display.width * display.height * 4);
    const a = Math.round(Math.min(o.dimOutside, 1) * 255);
    for (let y = 0; y < display.height; y++) {
      for (let x = 0; x < display.width; x++) {
        const inside =
          x >= region.left &&
          x < region.left + region.width &&
          y >= region.top &&
          y < region.top + region.height;
        veil[(y * display.width + x) * 4 + 3] = inside ? 0 : a;
      }
    }
    layers.push({
      input: veil,
      raw: { width: display.width, height: display.height, channels: 4 },
      left: 0,
      top: 0,
    });
  }
  const heat = colouredHeatmap(map, grid, region.width, region.height, o.colormap, o.opacity);
  layers.push({
    input: heat,
    raw: { width: region.width, height: region.height, channels: 4 },
    left: region.left,
    top: region.top,
  });
  return sharp(picture).composite(layers).png().toBuffer();
}
