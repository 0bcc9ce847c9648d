// Faithfulness and localisation of saliency maps (METHOD.md "How a map is judged"): deletion and
// insertion curves (RISE, Petsiuk et al. 2018) in steps of 1/32 of the pixels, their AUCs per image
// and as means with 95% confidence intervals, a random map as the floor, and, where masks of the
// deciding region exist, the share of each map's mass inside the mask. Every perturbed image goes
// through one session in batches.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EngineError } from './errors';
import { activate, explainTokenMaps, type ExplainingSession } from './explainReport';
import { upsampleBilinear } from '../contract/bilinear';
import { listInputFiles } from './imageFiles';
import {
  isMethodName,
  minMaxNormalise,
  resolveMethodOptions,
  TERM_METHODS,
  type MapMethod,
  type MethodOptions,
} from './methods';

export type Baseline = 'mean' | 'black' | 'blur';
/** A method's name, or 'random' for the floor. */
export type ScoredMap = MapMethod | 'random';

/** What the evaluation needs of a session: the attention dumps and the fused or perturbed maps. */
export interface EvaluatingSession extends ExplainingSession {
  saliency(
    input: Float32Array,
    batch: number,
    targets: number[],
    method: MapMethod,
    options?: Partial<MethodOptions>,
  ): Promise<{ maps: Float32Array[]; grid: [number, number] }>;
}

export interface FaithfulnessOptions {
  methods: MapMethod[];
  /**
   * Time each method's map as the workstation makes it (one warm `saliency` call per image and
   * method, an extra run for the attention methods, whose scored maps come from the dumps).
   */
  timeMethods?: boolean;
  methodOptions?: Partial<MethodOptions>;
  /** What deleted pixels become: 'mean' (0 after normalisation: the dataset mean), 'black', 'blur'. */
  baseline: Baseline;
  /** Curve steps; each adds or removes 1/steps of the pixels. */
  steps: number;
  /** Images per ONNX Runtime run. */
  batch: number;
  /** Gaussian σ in input pixels for the blurred image (insertion start, 'blur' baseline); default max(H, W) / 8. */
  blurSigma?: number;
  /** Normalised value of a black pixel per channel ((0 − mean) / std), for the 'black' baseline. */
  blackValue?: number[];
  /** Seed of the random maps. */
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

export interface EvaluationItem {
  /** Shown in the report (e.g. the path relative to the dataset). */
  id: string;
  label?: string;
  /** The class to score and explain; default: the model's top-1 on the unperturbed image. */
  target?: number;
  /** Preprocessed 1×C×H×W tensor and, optionally, the H×W mask of the region that decides the class (1 inside). */
  load(): Promise<{ tensor: Float32Array; mask?: Uint8Array }>;
}

export interface Interval {
  mean: number;
  sd: number;
  ci95: [number, number] | null;
  n: number;
}

export interface CurveSummary {
  auc: Interval;
  /** Mean score at each step, 0 … steps. */
  curve: number[];
}

export interface MethodSummary {
  deletion: CurveSummary;
  insertion: CurveSummary;
  /** Share of the map's mass inside the mask, and the share of images whose hottest pixel is inside. */
  localisation?: { maskMass: Interval; pointing: number };
  /** Milliseconds to make one image's map (with timeMethods). */
  msPerImage?: Interval;
}

export interface ImageResult {
  id: string;
  label?: string;
  target: number;
  probability: number;
  deletion: Partial<Record<ScoredMap, number>>;
  insertion: Partial<Record<ScoredMap, number>>;
  maskMass?: Partial<Record<ScoredMap, number>>;
  /** Whether the map's hottest pixel lies inside the mask (the pointing game). */
  pointing?: Partial<Record<ScoredMap, boolean>>;
  maskArea?: number;
  /** Milliseconds per method's map (with timeMethods). */
  ms?: Partial<Record<ScoredMap, number>>;
}

export interface FaithfulnessReport {
  images: number;
  steps: number;
  pixelsPerStep: number;
  baseline: Baseline;
  insertionStart: 'blur';
  blurSigma: number;
  score: string;
  options: ReturnType<typeof resolveMethodOptions>;
  methods: Partial<Record<ScoredMap, MethodSummary>>;
  /** Mean share of the image inside the masks: the mass a uniform map would have there. */
  maskArea?: number;
  perImage: ImageResult[];
}

// ---- statistics

const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Mean with a two-sided 95% confidence interval from Student's t (normal beyond 30 degrees of freedom, corrected). */
export function meanInterval(values: number[]): Interval {
  const n = values.length;
  const mean = n ? values.reduce((a, b) => a + b, 0) / n : NaN;
  if (n < 2) return { mean, sd: 0, ci95: null, n };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const df = n - 1;
  const t = df <= 30 ? T975[df - 1] : 1.96 + 2.4 / df;
  const half = (t * sd) / Math.sqrt(n);
  return { mean, sd, ci95: [mean - half, mean + half], n };
}

/** Trapezoid area under scores taken at evenly spaced points of [0, 1]. */
export function auc(scores: ArrayLike<number>): number {
  const steps = scores.length - 1;
  let area = 0;
  for (let k = 0; k < steps; k++) area += (scores[k] + scores[k + 1]) / 2;
  return area / steps;
}

// ---- images

/** Separable Gaussian blur of each channel plane (edges clamped). */
export function gaussianBlur(
  tensor: Float32Array,
  channels: number,
  height: number,
  width: number,
  sigma: number,
): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++)
    sum += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  const plane = height * width;
  const tmp = new Float64Array(plane);
  const out = new Float32Array(tensor.length);
  for (let c = 0; c < channels; c++) {
    const src = tensor.subarray(c * plane, (c + 1) * plane);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let v = 0;
        for (let i = -radius; i <= radius; i++)
          v += kernel[i + radius] * src[y * width + Math.min(width - 1, Math.max(0, x + i))];
        tmp[y * width + x] = v;
      }
    }
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let v = 0;
        for (let i = -radius; i <= radius; i++)
          v += kernel[i + radius] * tmp[Math.min(height - 1, Math.max(0, y + i)) * width + x];
        out[c * plane + y * width + x] = v;
      }
    }
  }
  return out;
}

/** Pixel indices by decreasing saliency (ties: lower index first). */
export function rankPixels(values: Float32Array): Uint32Array {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => values[b] - values[a] || a - b);
  return Uint32Array.from(order);
}

/** Pixels changed after step k of `steps`: round(k · N / steps). */
export function pixelsAtStep(k: number, steps: number, pixels: number): number {
  return Math.round((k * pixels) / steps);
}

/** A seeded uniform random map (mulberry32). */
export function randomMap(length: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/** Share of a non-negative pixel map's mass inside a mask; a map with no mass counts as uniform. */
export function massInside(map: Float32Array, mask: Uint8Array): number {
  let inside = 0;
  let total = 0;
  let area = 0;
  for (let i = 0; i < map.length; i++) {
    total += map[i];
    if (mask[i]) {
      inside += map[i];
      area++;
    }
  }
  return total > 0 ? inside / total : area / map.length;
}

// ---- the evaluation

interface PerturbationJob {
  map: ScoredMap;
  kind: 'deletion' | 'insertion';
  step: number;
}

/** Runs the deletion and insertion curves of every method (and a random map) over the items. */
export async function evaluateFaithfulness(
  session: EvaluatingSession,
  items: EvaluationItem[],
  options: FaithfulnessOptions,
): Promise<FaithfulnessReport> {
  const { channels: C, height: H, width: W, grid } = session.info;
  if (items.length === 0) throw new EngineError('There are no images to evaluate.', 'no-images');
  if (!Number.isInteger(options.steps) || options.steps < 1)
    throw new EngineError(`steps must be a positive integer; got ${options.steps}.`, 'bad-option');
  if (options.baseline === 'black' && !options.blackValue)
    throw new EngineError("The 'black' baseline needs the preprocessing's mean and std.", 'bad-option');
  const plane = H * W;
  const size = C * plane;
  const steps = options.steps;
  const sigma = options.blurSigma ?? Math.max(H, W) / 8;
  let resolved: ReturnType<typeof resolveMethodOptions> | undefined;
  // Windowed models define only the methods that read per-block terms.
  // (the faithful methods read the patch embedding or the image, on every architecture)
  const defined = session.windowed
    ? options.methods.filter((m) => !isMethodName(m) || TERM_METHODS.includes(m))
    : options.methods;
  const scored: ScoredMap[] = [...defined, 'random'];
  const jobs: PerturbationJob[] = [];
  for (const map of scored)
    for (const kind of ['deletion', 'insertion'] as const)
      for (let step = 0; step <= steps; step++) jobs.push({ map, kind, step });

  const perImage: ImageResult[] = [];
  const curves = new Map<string, number[][]>(); // `${map}/${kind}` → per image scores
  const batch = Math.max(1, Math.floor(options.batch));
  options.onProgress?.(0, items.length);
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    const { tensor, mask } = await item.load();
    if (tensor.length !== size)
      throw new EngineError(
        `${item.id}: the input has ${tensor.length} values; the model needs ${C}×${H}×${W}.`,
        'input-size',
      );
    const logits = await session.predict(tensor, 1);
    const probs = activate(logits.subarray(0, session.info.numClasses));
    const target = item.target ?? probs.indexOf(Math.max(...probs));
    const attention = defined.filter(isMethodName);
    const explained = attention.length
      ? await explainTokenMaps(session, tensor, target, attention, options.methodOptions)
      : undefined;
    resolved ??= explained?.options ?? resolveMethodOptions(options.methodOptions, session.info.numBlocks);
    const pixelMaps = new Map<ScoredMap, Float32Array>();
    const ms: Partial<Record<ScoredMap, number>> = {};
    for (const m of defined) {
      if (isMethodName(m))
        pixelMaps.set(m, upsampleBilinear(explained!.maps.get(m)!, grid[0], grid[1], H, W));
      if (!isMethodName(m) || options.timeMethods) {
        const started = performance.now();
        const made = await session.saliency(tensor, 1, [target], m, resolved);
        ms[m] = performance.now() - started;
        if (!isMethodName(m))
          pixelMaps.set(m, upsampleBilinear(made.maps[0], made.grid[0], made.grid[1], H, W));
      }
    }
    pixelMaps.set(
      'random',
      upsampleBilinear(
        minMaxNormalise(randomMap(grid[0] * grid[1], options.seed + index)),
        grid[0],
        grid[1],
        H,
        W,
      ),
    );
    const ranks = new Map<ScoredMap, Uint32Array>([...pixelMaps].map(([m, v]) => [m, rankPixels(v)]));

    const blurred = gaussianBlur(tensor, C, H, W, sigma);
    const baseline = new Float32Array(size);
    if (options.baseline === 'blur') baseline.set(blurred);
    else if (options.baseline === 'black')
      for (let c = 0; c < C; c++)
        baseline.fill(
          options.blackValue![options.blackValue!.length === 1 ? 0 : c],
          c * plane,
          (c + 1) * plane,
        );

    const scores = new Float64Array(jobs.length);
    for (let start = 0; start < jobs.length; start += batch) {
      const count = Math.min(batch, jobs.length - start);
      const input = new Float32Array(count * size);
      for (let j = 0; j < count; j++) {
        const job = jobs[start + j];
        const from = job.kind === 'deletion' ? tensor : blurred;
        const to = job.kind === 'deletion' ? baseline : tensor;
        const out = input.subarray(j * size, (j + 1) * size);
        out.set(from);
        const order = ranks.get(job.map)!;
        const n = pixelsAtStep(job.step, steps, plane);
        for (let r = 0; r < n; r++) {
          const p = order[r];
          for (let c = 0; c < C; c++) out[c * plane + p] = to[c * plane + p];
        }
      }
      const out = await session.predict(input, count);
      const k = out.length / count;
      for (let j = 0; j < count; j++) scores[start + j] = activate(out.subarray(j * k, (j + 1) * k))[target];
    }

    const result: ImageResult = {
      id: item.id,
      label: item.label,
      target,
      probability: probs[target],
      deletion: {},
      insertion: {},
      ...(options.timeMethods ? { ms } : {}),
    };
    jobs.forEach((job, j) => {
      if (job.step !== 0) return;
      const curve = Array.from(scores.subarray(j, j + steps + 1));
      result[job.kind][job.map] = auc(curve);
      const key = `${job.map}/${job.kind}`;
      if (!curves.has(key)) curves.set(key, []);
      curves.get(key)!.push(curve);
    });
    if (mask) {
      if (mask.length !== plane)
        throw new EngineError(
          `${item.id}: the mask has ${mask.length} pixels; the model input has ${plane}.`,
          'mask-size',
        );
      result.maskMass = {};
      result.pointing = {};
      for (const [m, v] of pixelMaps) {
        result.maskMass[m] = massInside(v, mask);
        result.pointing[m] = mask[ranks.get(m)![0]] !== 0;
      }
      result.maskArea = mask.reduce((a, b) => a + (b ? 1 : 0), 0) / plane;
    }
    perImage.push(result);
    options.onProgress?.(index + 1, items.length);
  }

  const methods: Partial<Record<ScoredMap, MethodSummary>> = {};
  for (const m of scored) {
    const summary = (kind: 'deletion' | 'insertion'): CurveSummary => {
      const all = curves.get(`${m}/${kind}`) ?? [];
      return {
        auc: meanInterval(perImage.map((r) => r[kind][m]!)),
        curve: Array.from({ length: steps + 1 }, (_, k) => all.reduce((a, c) => a + c[k], 0) / all.length),
      };
    };
    const s: MethodSummary = { deletion: summary('deletion'), insertion: summary('insertion') };
    // The first image's time includes building and loading the method's graph: left out.
    const warm = perImage.length > 1 ? perImage.slice(1) : perImage;
    if (options.timeMethods && m !== 'random') s.msPerImage = meanInterval(warm.map((r) => r.ms![m]!));
    const withMask = perImage.filter((r) => r.maskMass);
    if (withMask.length > 0) {
      s.localisation = {
        maskMass: meanInterval(withMask.map((r) => r.maskMass![m]!)),
        pointing: withMask.filter((r) => r.pointing![m]).length / withMask.length,
      };
    }
    methods[m] = s;
  }
  const withMask = perImage.filter((r) => r.maskArea !== undefined);
  return {
    images: perImage.length,
    steps,
    pixelsPerStep: plane / steps,
    baseline: options.baseline,
    insertionStart: 'blur',
    blurSigma: sigma,
    score: "softmax probability of the model's top-1 class on the unperturbed image",
    options: resolved!,
    methods,
    ...(withMask.length > 0
      ? { maskArea: withMask.reduce((a, r) => a + r.maskArea!, 0) / withMask.length }
      : {}),
    perImage,
  };
}

// ---- datasets

export interface EvaluationFile {
  /** Path relative to the images folder. */
  rel: string;
  file: string;
  mask?: string;
  /** The parent folder's name (ImageFolder layout), if any. */
  label?: string;
}

/**
 * The images of an evaluation folder. With `images/` and `masks/` inside it (or given the
 * `images/` folder with a sibling `masks/`), every image's mask is at the same relative path
 * under `masks/`. `n` picks that many images evenly spread over the sorted list.
 */
export async function scanEvaluationFolder(
  folder: string,
  n?: number,
  /** A mask folder of its own (same relative paths as the images). */
  maskFolder?: string,
): Promise<EvaluationFile[]> {
  const isDir = async (p: string) => (await fs.stat(p).catch(() => null))?.isDirectory() ?? false;
  let images = folder;
  let masks: string | undefined;
  if (maskFolder !== undefined) {
    if (!(await isDir(maskFolder)))
      throw new EngineError(`The mask folder ${maskFolder} is not a folder.`, 'mask-missing');
    masks = maskFolder;
  } else if ((await isDir(path.join(folder, 'images'))) && (await isDir(path.join(folder, 'masks')))) {
    images = path.join(folder, 'images');
    masks = path.join(folder, 'masks');
  } else if (
    path.basename(path.resolve(folder)) === 'images' &&
    (await isDir(path.join(folder, '..', 'masks')))
  ) {
    masks = path.join(folder, '..', 'masks');
  }
  const all = await listInputFiles(images);
  const picked =
    n !== undefined && n < all.length
      ? Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)])
      : all;
  const out: EvaluationFile[] = [];
  for (const rel of picked) {
    const parts = rel.split('/');
    const entry: EvaluationFile = {
      rel,
      file: path.join(images, rel),
      label: parts.length > 1 ? parts[parts.length - 2] : undefined,
    };
    if (masks) {
      const m = path.join(masks, rel);
      if (!(await fs.stat(m).catch(() => null)))
        throw new EngineError(`The mask of ${rel} is missing: expected ${m}.`, 'mask-missing');
      entry.mask = m;
    }
    out.push(entry);
  }
  return out;
}
