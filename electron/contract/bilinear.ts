// How a token-level map (rows × cols, row-major) lies over an image: bilinear, with pixel centres
// aligned as in image resizing (align_corners = false) and edges clamped. The engine's PNG
// overlays and evaluation and the renderer's heatmap canvas all place maps this way.

/** Where u ∈ [0, 1] falls along an axis of `cells` cells (centres at i + 0.5): the two cells it
 *  blends and the second one's weight. */
function blendAt(u: number, cells: number): { lo: number; hi: number; f: number } {
  const x = Math.min(Math.max(u * cells - 0.5, 0), cells - 1);
  const lo = Math.floor(x);
  return { lo, hi: Math.min(lo + 1, cells - 1), f: x - lo };
}

/** The map's value at fractional image coordinates u, v ∈ [0, 1] (e.g. under the cursor). */
export function sampleBilinear(
  map: ArrayLike<number>,
  rows: number,
  cols: number,
  u: number,
  v: number,
): number {
  const x = blendAt(u, cols);
  const y = blendAt(v, rows);
  const at = (r: number, c: number) => map[r * cols + c];
  return (
    (at(y.lo, x.lo) * (1 - x.f) + at(y.lo, x.hi) * x.f) * (1 - y.f) +
    (at(y.hi, x.lo) * (1 - x.f) + at(y.hi, x.hi) * x.f) * y.f
  );
}

/** The map upsampled to height × width pixels. */
export function upsampleBilinear(
  map: ArrayLike<number>,
  rows: number,
  cols: number,
  height: number,
  width: number,
): Float32Array {
  const out = new Float32Array(height * width);
  // Column blends in typed arrays: the inner loop runs per pixel (50,000 for a 224² overlay).
  const xlo = new Int32Array(width);
  const xhi = new Int32Array(width);
  const xf = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const b = blendAt((x + 0.5) / width, cols);
    xlo[x] = b.lo;
    xhi[x] = b.hi;
    xf[x] = b.f;
  }
  const values = Float64Array.from(map);
  for (let y = 0; y < height; y++) {
    const b = blendAt((y + 0.5) / height, rows);
    const top = b.lo * cols;
    const bottom = b.hi * cols;
    for (let x = 0; x < width; x++) {
      const f = xf[x];
      const upper = values[top + xlo[x]] * (1 - f) + values[top + xhi[x]] * f;
      const lower = values[bottom + xlo[x]] * (1 - f) + values[bottom + xhi[x]] * f;
      out[y * width + x] = upper * (1 - b.f) + lower * b.f;
    }
  }
  return out;
}
