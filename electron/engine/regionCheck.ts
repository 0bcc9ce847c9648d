// "Check this region": the one-click causal check of a map. The top 10% of the map's pixels (the
// map laid over the image as the heatmap shows it) are replaced with the dataset mean (0 after the
// card's normalisation) and p(target) is read before and after. For contrast the same is done for
// a random region of the same size (the evaluation's random map: token-sized blobs, seeded) and for
// the map's bottom 10%. The four images go through one run.
import { upsampleBilinear } from '../contract/bilinear';
import { EngineError } from './errors';
import { randomMap, rankPixels } from './evaluate';
import { activate } from './explainReport';
import type { PerturbedModel } from './perturbation';

export interface RegionCheck {
  target: number;
  /** Share of the pixels hidden in each variant. */
  fraction: number;
  pixels: number;
  before: number;
  /** The map's top pixels hidden. */
  after: number;
  /** A random region of the same size hidden. */
  random: number;
  /** The map's bottom pixels hidden. */
  bottom: number;
  /** The highlighted region decides the class: hiding it at least halves p(target), and costs at least twice what a random region costs. */
  decisive: boolean;
}

export const CHECK_FRACTION = 0.1;

/** Whether a check's outcome calls the region decisive (see RegionCheck.decisive). */
export function isDecisive(before: number, after: number, random: number): boolean {
  const drop = before - after;
  return drop >= 0.5 * before && drop >= 2 * Math.max(0, before - random);
}

export async function checkRegion(
  model: PerturbedModel,
  image: Float32Array,
  target: number,
  map: ArrayLike<number>,
  grid: [number, number],
  options: { seed?: number; activation?: 'softmax' | 'sigmoid' } = {},
): Promise<RegionCheck> {
  const { channels: C, height: H, width: W, numClasses: K } = model.info;
  const plane = H * W;
  if (image.length !== C * plane)
    throw new EngineError(
      `The image has ${image.length} values; the model needs ${C}×${H}×${W}.`,
      'bad-input',
    );
  if (map.length !== grid[0] * grid[1])
    throw new EngineError(`The map has ${map.length} values for a ${grid[0]}×${grid[1]} grid.`, 'bad-input');
  const pixels = Math.round(CHECK_FRACTION * plane);
  const ranked = rankPixels(upsampleBilinear(map, grid[0], grid[1], H, W));
  const [rows, cols] = model.info.grid;
  const randomRanked = rankPixels(
    upsampleBilinear(randomMap(rows * cols, options.seed ?? 1), rows, cols, H, W),
  );
  const regions = [
    ranked.subarray(0, pixels),
    randomRanked.subarray(0, pixels),
    ranked.subarray(plane - pixels),
  ];
  const input = new Float32Array(4 * C * plane);
  input.set(image);
  regions.forEach((region, j) => {
    const copy = input.subarray((j + 1) * C * plane, (j + 2) * C * plane);
    copy.set(image);
    for (const p of region) for (let c = 0; c < C; c++) copy[c * plane + p] = 0;
  });
  const logits = await model.predict(input, 4);
  const [before, after, random, bottom] = [0, 1, 2, 3].map(
    (j) => activate(logits.subarray(j * K, (j + 1) * K), options.activation)[target],
  );
  return {
    target,
    fraction: pixels / plane,
    pixels,
    before,
    after,
    random,
    bottom,
    decisive: isDecisive(before, after, random),
  };
}
