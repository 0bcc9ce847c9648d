// Bilinear upsampling of a token map (rows × cols, row-major) to an image size, with pixel centres
// aligned as in image resizing (align_corners = false) and edges clamped.

export function upsampleBilinear(
  map: ArrayLike<number>,
  rows: number,
  cols: number,
  height: number,
  width: number,
): Float32Array {
  const out = new Float32Array(height * width);
  const sy = rows / height;
  const sx = cols / width;
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const fxs = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const gx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), cols - 1);
    x0s[x] = Math.floor(gx);
    x1s[x] = Math.min(x0s[x] + 1, cols - 1);
    fxs[x] = gx - x0s[x];
  }
  for (let y = 0; y < height; y++) {
    const gy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), rows - 1);
    const y0 = Math.floor(gy);
    const y1 = Math.min(y0 + 1, rows - 1);
    const fy = gy - y0;
    for (let x = 0; x < width; x++) {
      const fx = fxs[x];
      const top = map[y0 * cols + x0s[x]] * (1 - fx) + map[y0 * cols + x1s[x]] * fx;
      const bottom = map[y1 * cols + x0s[x]] * (1 - fx) + map[y1 * cols + x1s[x]] * fx;
      out[y * width + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}
