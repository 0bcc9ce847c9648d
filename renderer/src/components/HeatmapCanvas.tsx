// Draws a token-level saliency map over the part of the image the model saw: bilinear upsampling
// of the values, then the colour map, at the chosen opacity — all in the renderer, so changing
// the colour map or the opacity never recomputes the saliency. Reports the value under the cursor.
import { useEffect, useMemo, useRef } from 'react';

export interface TokenMap {
  grid: [number, number];
  values: number[];
}

/** Bilinear sample of a row-major grid at fractional cell coordinates (cell centres at i + 0.5). */
export function sampleBilinear(map: TokenMap, u: number, v: number): number {
  const [rows, cols] = map.grid;
  const x = Math.min(Math.max(u * cols - 0.5, 0), cols - 1);
  const y = Math.min(Math.max(v * rows - 0.5, 0), rows - 1);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, cols - 1);
  const y1 = Math.min(y0 + 1, rows - 1);
  const fx = x - x0;
  const fy = y - y0;
  const at = (r: number, c: number) => map.values[r * cols + c];
  return (
    (at(y0, x0) * (1 - fx) + at(y0, x1) * fx) * (1 - fy) + (at(y1, x0) * (1 - fx) + at(y1, x1) * fx) * fy
  );
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

export function HeatmapCanvas({ map, lut, opacity, width, height, label = 'Heatmap', onHover }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));

  // Upsampling depends only on the map and the size; the colour map is a cheap lookup after it,
  // and the opacity is a style, so neither recomputes the bilinear values.
  const { values, grid } = map;
  const upsampled = useMemo(() => {
    const out = new Float32Array(w * h);
    const source = { grid, values };
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out[y * w + x] = sampleBilinear(source, (x + 0.5) / w, (y + 0.5) / h);
    }
    return out;
    // grid is compared by its numbers: callers may pass a new array with the same shape
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [values, grid[0], grid[1], w, h]);

  useEffect(() => {
    const context = ref.current?.getContext('2d');
    if (!context) return;
    const image = context.createImageData(w, h);
    const data = image.data;
    for (let i = 0; i < upsampled.length; i++) {
      const index = Math.min(255, Math.max(0, Math.round(upsampled[i] * 255))) * 3;
      const o = i * 4;
      data[o] = lut[index];
      data[o + 1] = lut[index + 1];
      data[o + 2] = lut[index + 2];
      data[o + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }, [upsampled, lut, w, h]);

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
        onHover?.(sampleBilinear(map, u, v), cell);
      }}
      onMouseLeave={() => onHover?.(null, null)}
    />
  );
}
