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

/**
 * The map upsampled to height × width pixels one output row at a time, so a caller that turns
 * each row into something else (an overlay's colours) needs no full-size array. A row blends the
 * map's two nearest rows first, then each pixel the two nearest columns of that blend.
 */
export class BilinearRows {
  private readonly xlo: Int32Array;
  private readonly xhi: Int32Array;
  private readonly xf: Float64Array;
  private readonly values: Float64Array;
  private readonly blended: Float64Array;

  constructor(
    map: ArrayLike<number>,
    private readonly rows: number,
    private readonly cols: number,
    private readonly height: number,
    readonly width: number,
  ) {
    this.xlo = new Int32Array(width);
    this.xhi = new Int32Array(width);
    this.xf = new Float64Array(width);
    for (let x = 0; x < width; x++) {
      const b = blendAt((x + 0.5) / width, cols);
      this.xlo[x] = b.lo;
      this.xhi[x] = b.hi;
      this.xf[x] = b.f;
    }
    this.values = Float64Array.from(map);
    this.blended = new Float64Array(cols);
  }

  /** Output row y into `out` (width values from `offset`). */
  row(y: number, out: Float32Array, offset = 0): void {
    const { cols, values, blended, xlo, xhi, xf } = this;
    const b = blendAt((y + 0.5) / this.height, this.rows);
    const top = b.lo * cols;
    const bottom = b.hi * cols;
    for (let c = 0; c < cols; c++) blended[c] = values[top + c] * (1 - b.f) + values[bottom + c] * b.f;
    for (let x = 0; x < this.width; x++) {
      const f = xf[x];
      out[offset + x] = blended[xlo[x]] * (1 - f) + blended[xhi[x]] * f;
    }
  }
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
  const up = new BilinearRows(map, rows, cols, height, width);
  for (let y = 0; y < height; y++) up.row(y, out, y * width);
  return out;
}
