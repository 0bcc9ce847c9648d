// Heatmap overlays: a token map, min-max normalised, upsampled bilinearly onto the region of the
// picture the model saw (mapped back through the preprocessing's resize and crop), coloured with a
// colour map and blended over the picture at an opacity; whatever the model did not see is dimmed.
// Small pictures are blended at their own size and enlarged by a whole factor as the PNG is
// written (pngEncode.ts); large ones are reduced through sharp first.
import sharp from 'sharp';
import { EngineError } from '../errors';
import { minMaxNormalise } from '../methods/common';
import type { PreprocessGeometry } from '../preprocess';
import { colormapTable, type ColormapName } from './colormaps';
import { encodeRgbPng } from './pngEncode';
import { BilinearRows } from '../../contract/bilinear';

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

/** Where the model's input lies on the picture shown at displayWidth × displayHeight, in its pixels. */
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

/**
 * How the picture is shown: a small one enlarged by a whole factor (nearest neighbour, `scale`),
 * a large one reduced to fit maxSize (linear, `reduceTo`), others as they are (scale 1).
 */
function displayPlan(
  width: number,
  height: number,
  o: OverlayOptions,
): { scale: number; reduceTo?: { width: number; height: number } } {
  const longer = Math.max(width, height);
  if (longer < o.minSize) return { scale: Math.ceil(o.minSize / longer) };
  if (longer > o.maxSize) {
    const k = o.maxSize / longer;
    return {
      scale: 1,
      reduceTo: { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) },
    };
  }
  return { scale: 1 };
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
  const plan = displayPlan(geometry.original.width, geometry.original.height, o);
  const picture = await pictureAt(base, plan.reduceTo);
  // A small picture is blended at its own size, one heat value per pixel (all the detail it
  // has), and enlarged as it is written, like the picture under it.
  const region = modelRegion(geometry, picture.width, picture.height);
  const rgb = blendOverlay(picture, region, map, grid, o);
  return encodeRgbPng(rgb, picture.width, picture.height, plan.scale);
}

/** The picture under the heatmap, raw, 1 or 3+ channels (the first three RGB). */
interface Picture {
  data: Uint8Array;
  channels: number;
  width: number;
  height: number;
}

/**
 * The picture as the user sees it (oriented), reduced to `reduceTo` when given: decoded pixels
 * at their own size as they are, a file through sharp.
 */
async function pictureAt(base: OverlayBase, reduceTo?: { width: number; height: number }): Promise<Picture> {
  if ('pixels' in base && !reduceTo)
    return { data: base.pixels, channels: base.channels, width: base.width, height: base.height };
  let input =
    'file' in base
      ? sharp(base.file).rotate()
      : sharp(Buffer.from(base.pixels.buffer, base.pixels.byteOffset, base.pixels.length), {
          raw: { width: base.width, height: base.height, channels: base.channels },
        });
  if (reduceTo) input = input.resize(reduceTo.width, reduceTo.height, { fit: 'fill', kernel: 'linear' });
  try {
    const { data, info } = await input
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, channels: info.channels, width: info.width, height: info.height };
  } catch (e) {
    throw new EngineError(
      `Cannot render the picture under the heatmap: ${(e as Error).message}`,
      'image-read',
    );
  }
}

/** Per-value tables of a blend: colour-map entries' share over the picture (+ 0.5 to round),
 *  picture values' share under the heatmap, and picture values dimmed outside the region. */
interface BlendTables {
  heatR: Float64Array;
  heatG: Float64Array;
  heatB: Float64Array;
  under: Float64Array;
  dimmed: Uint8Array;
}

/** Tables by colour map, opacity and dimming: a folder's overlays share one set. */
const blendTableCache = new Map<string, BlendTables>();

function blendTables(o: OverlayOptions): BlendTables {
  const keep = 1 - Math.min(Math.max(o.dimOutside, 0), 1);
  const alpha = Math.round(Math.min(Math.max(o.opacity, 0), 1) * 255) / 255;
  const key = `${o.colormap} ${alpha} ${keep}`;
  let tables = blendTableCache.get(key);
  if (tables) return tables;
  const lut = colormapTable(o.colormap);
  const heat = (c: number) => Float64Array.from({ length: 256 }, (_, k) => lut[k * 3 + c] * alpha + 0.5);
  tables = {
    heatR: heat(0),
    heatG: heat(1),
    heatB: heat(2),
    under: Float64Array.from({ length: 256 }, (_, v) => v * (1 - alpha)),
    dimmed: Uint8Array.from({ length: 256 }, (_, v) => (v * keep + 0.5) | 0),
  };
  blendTableCache.set(key, tables);
  return tables;
}

/**
 * The picture as RGB (at its size) with the heatmap blended over the model's region at the
 * opacity and everything else darkened by dimOutside: what compositing layers "over" gives. Per
 * pixel it is a few table lookups; the rows are drawn by small functions of their own, which V8
 * optimises better than one big loop.
 */
function blendOverlay(
  picture: Picture,
  region: { left: number; top: number; width: number; height: number },
  map: ArrayLike<number>,
  grid: [number, number],
  o: OverlayOptions,
): Buffer {
  const { width, height, channels } = picture;
  const out = Buffer.allocUnsafe(width * height * 3);
  const tables = blendTables(o);
  const up = new BilinearRows(minMaxNormalise(map), grid[0], grid[1], region.height, region.width);
  const upRow = new Float32Array(region.width);
  const heatIndex = new Uint8Array(region.width);
  const step = channels >= 3 ? channels : 1;
  const row: BlendRow = { out, at: 0, data: picture.data, src: 0, step, width, from: 0, to: 0, heatIndex };
  const drawRow = step === 1 ? grayRow : colourRow;
  for (let y = 0; y < height; y++) {
    const ry = y - region.top;
    const inside = ry >= 0 && ry < region.height;
    if (inside) {
      up.row(ry, upRow);
      colourIndices(upRow, heatIndex);
    }
    row.at = y * width * 3;
    row.src = y * width * step;
    row.from = inside ? region.left : width;
    row.to = inside ? region.left + region.width : width;
    drawRow(row, tables);
  }
  return out;
}

/** Map values 0…1 → colour-map entries 0…255. */
function colourIndices(values: Float32Array, out: Uint8Array): void {
  for (let x = 0; x < values.length; x++) {
    const u = values[x];
    out[x] = u <= 0 ? 0 : u >= 1 ? 255 : (u * 255 + 0.5) | 0;
  }
}

/**
 * One row, written to `out` from `at`: dimmed left of [from, to), blended inside it
 * (heatIndex from `from`), dimmed right of it.
 */
interface BlendRow {
  out: Uint8Array;
  at: number;
  /** The picture, its first sample of the row, and samples per pixel. */
  data: Uint8Array;
  src: number;
  step: number;
  width: number;
  from: number;
  to: number;
  heatIndex: Uint8Array;
}

/** A row of a gray picture (one sample per pixel). */
function grayRow(r: BlendRow, t: BlendTables): void {
  const { out, data, src, width, from, to, heatIndex } = r;
  const { heatR, heatG, heatB, under, dimmed } = t;
  for (let x = 0, o = r.at; x < width; x++, o += 3) {
    const v = data[src + x];
    if (x >= from && x < to) {
      const k = heatIndex[x - from];
      const u = under[v];
      out[o] = (u + heatR[k]) | 0;
      out[o + 1] = (u + heatG[k]) | 0;
      out[o + 2] = (u + heatB[k]) | 0;
    } else {
      const d = dimmed[v];
      out[o] = d;
      out[o + 1] = d;
      out[o + 2] = d;
    }
  }
}

/** A row of a colour picture (the first three of its channels). */
function colourRow(r: BlendRow, t: BlendTables): void {
  const { out, data, src, step, width, from, to, heatIndex } = r;
  const { heatR, heatG, heatB, under, dimmed } = t;
  for (let x = 0, o = r.at; x < width; x++, o += 3) {
    const s = src + x * step;
    if (x >= from && x < to) {
      const k = heatIndex[x - from];
      out[o] = (under[data[s]] + heatR[k]) | 0;
      out[o + 1] = (under[data[s + 1]] + heatG[k]) | 0;
      out[o + 2] = (under[data[s + 2]] + heatB[k]) | 0;
    } else {
      out[o] = dimmed[data[s]];
      out[o + 1] = dimmed[data[s + 1]];
      out[o + 2] = dimmed[data[s + 2]];
    }
  }
}
