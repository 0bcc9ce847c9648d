// Draws a token-level saliency map over the part of the image the model saw: bilinear upsampling
// of the values, then the colour map, at the chosen opacity — all in the renderer, so changing
// the colour map or the opacity never recomputes the saliency. Reports the value under the cursor.
import { useLayoutEffect, useMemo, useRef } from 'react';
import { sampleBilinear, upsampleBilinear } from '../../../electron/contract/bilinear';

export interface TokenMap {
  grid: [number, number];
  values: number[];
}

/** 256 × RGB → 256 opaque pixels as the canvas stores them (RGBA bytes, little-endian words). */
function packLut(lut: number[]): Uint32Array {
  const bytes = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    bytes[i * 4] = lut[i * 3];
    bytes[i * 4 + 1] = lut[i * 3 + 1];
    bytes[i * 4 + 2] = lut[i * 3 + 2];
    bytes[i * 4 + 3] = 255;
  }
  return new Uint32Array(bytes.buffer);
}

interface Props {
  map: TokenMap;
  lut: number[]; // 256 × RGB
  opacity: number;
  width: number; // drawn size in CSS pixels
  height: number;
  /** Accessible name; the image view's main layer is "Heatmap". */
  label?: string;
  onHover?(value: number | null, cell: [number, number] | null): void;
}

/** The canvas's own resolution at most this on its long side; CSS scales it up smoothly. A
 *  bilinear map of a 14×14 grid looks the same, and a new map costs a quarter of the pixels. */
const MAX_BACKING = 256;

export function HeatmapCanvas({ map, lut, opacity, width, height, label = 'Heatmap', onHover }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  const scale = Math.min(1, MAX_BACKING / Math.max(width, height, 1));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));

  // Upsampling depends only on the map and the size, and ends in colour-map indices; a new colour
  // map is one 32-bit lookup per pixel, and the opacity is a style, so neither redoes the bilinear
  // values.
  const { values, grid } = map;
  const indices = useMemo(() => {
    const up = upsampleBilinear(values, grid[0], grid[1], h, w);
    const out = new Uint8Array(up.length);
    for (let i = 0; i < up.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(up[i] * 255)));
    return out;
    // grid is compared by its numbers: callers may pass a new array with the same shape
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [values, grid[0], grid[1], w, h]);
  const rgba = useMemo(() => packLut(lut), [lut]);

  // Drawn before the browser paints, so the new map shows in the same frame as the change.
  useLayoutEffect(() => {
    const context = ref.current?.getContext('2d');
    if (!context) return;
    const image = context.createImageData(w, h);
    const pixels = new Uint32Array(image.data.buffer);
    for (let i = 0; i < indices.length; i++) pixels[i] = rgba[indices[i]];
    context.putImageData(image, 0, 0);
  }, [indices, rgba, w, h]);

  return (
    <canvas
      ref={ref}
      width={w}
      height={h}
      role="img"
      aria-label={label}
      className="heatmap"
      style={{ width, height, opacity }}
      onMouseMove={(event) => {
        const box = event.currentTarget.getBoundingClientRect();
        const u = (event.clientX - box.left) / box.width;
        const v = (event.clientY - box.top) / box.height;
        const cell: [number, number] = [
          Math.min(map.grid[0] - 1, Math.floor(v * map.grid[0])),
          Math.min(map.grid[1] - 1, Math.floor(u * map.grid[1])),
        ];
        onHover?.(sampleBilinear(map.values, map.grid[0], map.grid[1], u, v), cell);
      }}
      onMouseLeave={() => onHover?.(null, null)}
    />
  );
}
