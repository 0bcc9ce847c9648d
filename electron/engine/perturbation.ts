// Maps measured by hiding parts of the image: each hidden region is replaced with the dataset mean
// (0 after the card's normalisation) and the model's drop in confidence for the target is recorded.
// Many masked copies go through one ONNX Runtime run per chunk.
// - 'occlusion' (token occlusion): one window per patch (an r × r group of patches on grids
//   larger than 14 × 14); the map, on the token grid, is the drop of p(target).
// - 'occlusion-multiscale': a cue that spans several patches survives the loss of any one of them
//   (its patches back each other up), so patch-sized windows under-read it and bigger ones smear
//   it. Windows of one and one and a half patches slide at half-patch steps; each half-patch cell
//   gets the mean drop of log p(target) over the windows that hide it, summed over the two sizes.
//   The log makes a window that takes p from 0.9 to 0.05 count far more than one that takes it to
//   0.7: the map ranks regions by how decisive they are, not by how much they nibble.
// Drops below zero (hiding the region made the class more likely) count as zero: the map shows
// the evidence for the class. Maps are min-max normalised like every other method's.
import { EngineError } from './errors';
import type { PerturbationMethodName } from './methods';
import { minMaxNormalise } from './methods';

export interface PerturbedModel {
  readonly info: {
    channels: number;
    height: number;
    width: number;
    numClasses: number;
    grid: [number, number];
  };
  predict(input: Float32Array, batch: number): Promise<Float32Array>;
}

/** A plan of hidden windows over a grid of cells (cellH × cellW pixels each). */
export interface OcclusionPlan {
  grid: [number, number];
  cellH: number;
  cellW: number;
  /** Window sizes in cells; each size's windows step by `stride` cells, starting past the top-left edge so every cell is hidden equally often. */
  sizes: number[];
  stride: number;
  /** What a window's drop is measured on: p(target), or log p(target). */
  score: 'probability' | 'log-probability';
}

/** Masked copies per ONNX Runtime run. */
const CHUNK = 256;
/** Largest token-occlusion grid before patches are grouped r × r. */
const MAX_CELLS_PER_SIDE = 14;

export function occlusionPlan(method: PerturbationMethodName, info: PerturbedModel['info']): OcclusionPlan {
  const [rows, cols] = info.grid;
  const patchH = info.height / rows;
  const patchW = info.width / cols;
  if (method === 'occlusion') {
    const r = Math.max(1, Math.ceil(Math.max(rows, cols) / MAX_CELLS_PER_SIDE));
    return { grid: [rows, cols], cellH: patchH, cellW: patchW, sizes: [r], stride: r, score: 'probability' };
  }
  const halfH = Math.max(1, Math.round(patchH / 2));
  const halfW = Math.max(1, Math.round(patchW / 2));
  return {
    grid: [Math.ceil(info.height / halfH), Math.ceil(info.width / halfW)],
    cellH: halfH,
    cellW: halfW,
    sizes: [2, 3],
    stride: 1,
    score: 'log-probability',
  };
}

interface Window {
  size: number;
  row: number;
  col: number;
}

function windowsOf(plan: OcclusionPlan): Window[] {
  const [rows, cols] = plan.grid;
  const out: Window[] = [];
  for (const size of plan.sizes) {
    // Non-overlapping tiles when the stride equals the size; else every offset that touches the grid.
    const first = plan.stride === size ? 0 : -size + plan.stride;
    for (let row = first; row < rows; row += plan.stride)
      for (let col = first; col < cols; col += plan.stride) out.push({ size, row, col });
  }
  return out;
}

function softmaxAt(logits: Float32Array, k: number, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < k; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += Math.exp(logits[i] - max);
  return Math.exp(logits[target] - max) / sum;
}

/** The occlusion map of one preprocessed image (C×H×W) for one class, on `plan.grid`. */
export async function occlusionMap(
  model: PerturbedModel,
  image: Float32Array,
  target: number,
  plan: OcclusionPlan,
): Promise<Float32Array> {
  const { channels: C, height: H, width: W, numClasses: K } = model.info;
  const plane = H * W;
  const [rows, cols] = plan.grid;
  const windows = windowsOf(plan);
  // Log p floored at 1e-12 so that a window that removes the class entirely stays finite.
  const measure = (p: number) => (plan.score === 'probability' ? p : Math.log(Math.max(p, 1e-12)));
  const p0 = measure(softmaxAt(await model.predict(image, 1), K, target));
  const drops = new Float64Array(windows.length);
  for (let start = 0; start < windows.length; start += CHUNK) {
    const count = Math.min(CHUNK, windows.length - start);
    const input = new Float32Array(count * C * plane);
    for (let j = 0; j < count; j++) {
      const w = windows[start + j];
      const copy = input.subarray(j * C * plane, (j + 1) * C * plane);
      copy.set(image);
      const y0 = Math.max(0, w.row * plan.cellH);
      const y1 = Math.min(H, (w.row + w.size) * plan.cellH);
      const x0 = Math.max(0, w.col * plan.cellW);
      const x1 = Math.min(W, (w.col + w.size) * plan.cellW);
      for (let c = 0; c < C; c++)
        for (let y = y0; y < y1; y++) copy.fill(0, c * plane + y * W + x0, c * plane + y * W + x1);
    }
    const logits = await model.predict(input, count);
    for (let j = 0; j < count; j++)
      drops[start + j] = p0 - measure(softmaxAt(logits.subarray(j * K), K, target));
  }
  // Per size, each cell's mean drop over the windows that hide it; summed over the sizes.
  const map = new Float64Array(rows * cols);
  for (const size of plan.sizes) {
    const sum = new Float64Array(rows * cols);
    const count = new Float64Array(rows * cols);
    windows.forEach((w, j) => {
      if (w.size !== size) return;
      for (let r = Math.max(0, w.row); r < Math.min(rows, w.row + size); r++)
        for (let c = Math.max(0, w.col); c < Math.min(cols, w.col + size); c++) {
          sum[r * cols + c] += drops[j];
          count[r * cols + c]++;
        }
    });
    for (let i = 0; i < map.length; i++) if (count[i] > 0) map[i] += Math.max(0, sum[i] / count[i]);
  }
  return minMaxNormalise(map);
}

/** Maps of a batch of images (batch × C×H×W) for their targets. */
export async function occlusionMaps(
  model: PerturbedModel,
  input: Float32Array,
  batch: number,
  targets: number[],
  method: PerturbationMethodName,
): Promise<{ maps: Float32Array[]; grid: [number, number] }> {
  const plan = occlusionPlan(method, model.info);
  const per = input.length / batch;
  if (!Number.isInteger(per)) throw new EngineError('internal: input is not a whole batch', 'bad-input');
  const maps: Float32Array[] = [];
  for (let i = 0; i < batch; i++)
    maps.push(await occlusionMap(model, input.subarray(i * per, (i + 1) * per), targets[i], plan));
  return { maps, grid: plan.grid };
}
