// Finds a model's ONNX file and its card: either our model.json (validated with zod) or a Hugging
// Face folder's config.json + preprocessor_config.json, normalised to one ModelCard shape. Also
// builds the preprocessing from command-line flags for a bare .onnx file.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { EngineError } from './errors';

const positiveInt = z.number().int().positive();
const size = z.object({ height: positiveInt, width: positiveInt });

/** sharp's resampling kernels; model.json may name one, Hugging Face's `resample` maps onto them. */
export const RESIZE_KERNELS = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'] as const;
export type ResizeKernel = (typeof RESIZE_KERNELS)[number];

const preprocessingSchema = z.object({
  resize: size
    .extend({ mode: z.enum(['exact', 'shorter-side']), kernel: z.enum(RESIZE_KERNELS).optional() })
    .nullable(),
  crop: size.nullable().default(null),
  colour: z.enum(['grayscale', 'rgb']),
  scale: z
    .number()
    .positive()
    .default(1 / 255),
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
});

const cardSchema = z.looseObject({
  schemaVersion: z.literal(1),
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  file: z.string().min(1).default('model.onnx'),
  labels: z.array(z.string()).optional(),
  input: z.object({
    name: z.string().optional(),
    channels: positiveInt,
    height: positiveInt,
    width: positiveInt,
  }),
  preprocessing: preprocessingSchema,
  tokens: z
    .object({
      prefix: positiveInt.optional(),
      grid: z.tuple([positiveInt, positiveInt]).optional(),
      patchSize: z.tuple([positiveInt, positiveInt]).optional(),
    })
    .optional(),
  output: z
    .object({ activation: z.enum(['softmax', 'sigmoid']).default('softmax') })
    .default({ activation: 'softmax' }),
  attention: z.object({ nodes: z.array(z.string().min(1)).min(1) }).optional(),
  // The tensor `vsw predict` stores as each image's embedding (default: the head's input, found).
  embedding: z.object({ tensor: z.string().min(1) }).optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
});

export type PreprocessingSpec = z.infer<typeof preprocessingSchema>;
export type ModelCard = z.infer<typeof cardSchema> & { name: string };

export interface LoadedModel {
  /** The ONNX file to open. */
  modelPath: string;
  /** The card, or null for a bare .onnx file with nothing beside it. */
  card: ModelCard | null;
  /** Where the card came from. */
  source: 'model-card' | 'hugging-face' | 'none';
  /** The card file(s) read, for messages. */
  cardPath: string | null;
}

function describeIssues(error: z.ZodError, where: string): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${where}: field '${i.path.join('.') || '(root)'}': ${i.message}`)
    .join('\n');
}

/** Validates a parsed model.json; `where` names the file in messages. */
export function parseModelCard(json: unknown, where: string, fallbackName = 'model'): ModelCard {
  const result = cardSchema.safeParse(json);
  if (!result.success)
    throw new EngineError(`Invalid model card.\n${describeIssues(result.error, where)}`, 'card-invalid');
  const card = { ...result.data, name: result.data.name ?? fallbackName };
  checkChannelsAgree(card.preprocessing, card.input.channels, where);
  const p = card.preprocessing;
  const out = p.crop ?? (p.resize && p.resize.mode === 'exact' ? p.resize : null);
  if (out && (out.height !== card.input.height || out.width !== card.input.width)) {
    const field = p.crop ? 'preprocessing.crop' : 'preprocessing.resize';
    throw new EngineError(
      `${where}: field '${field}' gives ${out.height}×${out.width} but 'input' is ${card.input.height}×${card.input.width}; they must agree.`,
      'card-invalid',
    );
  }
  if (card.labels && card.labels.length === 0)
    throw new EngineError(
      `${where}: field 'labels' is empty; list one label per class or leave it out.`,
      'card-invalid',
    );
  return card;
}

function checkChannelsAgree(p: PreprocessingSpec, channels: number, where: string): void {
  for (const field of ['mean', 'std'] as const) {
    if (p[field].length !== 1 && p[field].length !== channels) {
      throw new EngineError(
        `${where}: field 'preprocessing.${field}' has ${p[field].length} values; give 1 or ${channels} (the input's channels).`,
        'card-invalid',
      );
    }
  }
  if (p.colour === 'grayscale' && channels !== 1 && channels !== 3) {
    throw new EngineError(
      `${where}: field 'input.channels' is ${channels}; only 1 (grayscale) or 3 (rgb) channels can be fed from images.`,
      'card-invalid',
    );
  }
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new EngineError(`Cannot read ${file}: ${(e as Error).message}`, 'card-read');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EngineError(`${file} is not valid JSON: ${(e as Error).message}`, 'card-invalid');
  }
}

const exists = async (p: string): Promise<boolean> =>
  fs.stat(p).then(
    () => true,
    () => false,
  );

// ---- Hugging Face config.json + preprocessor_config.json

const hfSize = z.union([
  positiveInt,
  z.object({ height: positiveInt, width: positiveInt }),
  z.object({ shortest_edge: positiveInt }),
]);
const hfConfigSchema = z.looseObject({
  id2label: z.record(z.string(), z.string()).optional(),
  image_size: z.union([positiveInt, z.tuple([positiveInt, positiveInt])]).optional(),
  num_channels: positiveInt.default(3),
  patch_size: z.union([positiveInt, z.tuple([positiveInt, positiveInt])]).optional(),
});
const hfPreprocessorSchema = z.looseObject({
  do_resize: z.boolean().default(true),
  size: hfSize.optional(),
  resample: z.number().int().optional(),
  do_center_crop: z.boolean().default(false),
  crop_size: hfSize.optional(),
  do_rescale: z.boolean().default(true),
  rescale_factor: z
    .number()
    .positive()
    .default(1 / 255),
  do_normalize: z.boolean().default(true),
  image_mean: z.union([z.number(), z.array(z.number())]).optional(),
  image_std: z.union([z.number(), z.array(z.number().positive())]).optional(),
});

/** PIL resampling codes (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming) → sharp kernel. */
const PIL_KERNELS: Record<number, ResizeKernel> = {
  0: 'nearest',
  1: 'lanczos3',
  2: 'linear',
  3: 'cubic',
  4: 'linear',
  5: 'linear',
};

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** A ModelCard from Hugging Face's two configuration files (already parsed). */
export function cardFromHuggingFace(
  configJson: unknown,
  preprocessorJson: unknown,
  folder: string,
  file: string,
): ModelCard {
  const cfg = hfConfigSchema.safeParse(configJson);
  if (!cfg.success)
    throw new EngineError(
      `Invalid Hugging Face config.\n${describeIssues(cfg.error, path.join(folder, 'config.json'))}`,
      'card-invalid',
    );
  const pre = hfPreprocessorSchema.safeParse(preprocessorJson);
  const preWhere = path.join(folder, 'preprocessor_config.json');
  if (!pre.success)
    throw new EngineError(
      `Invalid Hugging Face preprocessor config.\n${describeIssues(pre.error, preWhere)}`,
      'card-invalid',
    );
  const c = cfg.data;
  const p = pre.data;
  const channels = c.num_channels;
  const imageSize = c.image_size !== undefined ? pair(c.image_size) : undefined;

  let resize: PreprocessingSpec['resize'] = null;
  if (p.do_resize) {
    const s = p.size ?? (imageSize ? { height: imageSize[0], width: imageSize[1] } : undefined);
    if (s === undefined)
      throw new EngineError(
        `${preWhere}: field 'size' is missing and config.json has no 'image_size'; give one of them.`,
        'card-invalid',
      );
    const kernel = p.resample !== undefined ? (PIL_KERNELS[p.resample] ?? 'linear') : 'linear';
    if (typeof s === 'number') resize = { height: s, width: s, mode: 'exact', kernel };
    else if ('shortest_edge' in s)
      resize = { height: s.shortest_edge, width: s.shortest_edge, mode: 'shorter-side', kernel };
    else resize = { ...s, mode: 'exact', kernel };
  }
  let crop: PreprocessingSpec['crop'] = null;
  if (p.do_center_crop) {
    const s = p.crop_size;
    if (s === undefined)
      throw new EngineError(
        `${preWhere}: field 'crop_size' is missing while 'do_center_crop' is true.`,
        'card-invalid',
      );
    if (typeof s === 'number') crop = { height: s, width: s };
    else if ('shortest_edge' in s) crop = { height: s.shortest_edge, width: s.shortest_edge };
    else crop = s;
  }
  const inputSize =
    crop ??
    (resize && resize.mode === 'exact'
      ? resize
      : imageSize
        ? { height: imageSize[0], width: imageSize[1] }
        : null);
  if (!inputSize)
    throw new EngineError(
      `${preWhere}: cannot tell the model's input size; give 'crop_size', an exact 'size' or config.json 'image_size'.`,
      'card-invalid',
    );
  const list = (v: number | number[] | undefined, fallback: number): number[] =>
    v === undefined ? [fallback] : typeof v === 'number' ? [v] : v;
  const mean = p.do_normalize ? list(p.image_mean, 0.5) : [0];
  const std = p.do_normalize ? list(p.image_std, 0.5) : [1];
  let labels: string[] | undefined;
  if (c.id2label) {
    const entries = Object.entries(c.id2label).map(([k, v]) => [Number(k), v] as const);
    if (entries.some(([k]) => !Number.isInteger(k) || k < 0 || k >= entries.length)) {
      throw new EngineError(
        `${path.join(folder, 'config.json')}: field 'id2label' must map 0…${entries.length - 1} to labels.`,
        'card-invalid',
      );
    }
    labels = new Array<string>(entries.length);
    for (const [k, v] of entries) labels[k] = v;
  }
  const patch = c.patch_size !== undefined ? pair(c.patch_size) : undefined;
  const card: ModelCard = {
    schemaVersion: 1,
    name: path.basename(folder),
    file,
    labels,
    input: { channels, height: inputSize.height, width: inputSize.width },
    preprocessing: {
      resize,
      crop,
      colour: channels === 1 ? 'grayscale' : 'rgb',
      scale: p.do_rescale ? p.rescale_factor : 1,
      mean,
      std,
    },
    tokens: patch
      ? {
          patchSize: patch,
          grid:
            inputSize.height % patch[0] === 0 && inputSize.width % patch[1] === 0
              ? [inputSize.height / patch[0], inputSize.width / patch[1]]
              : undefined,
        }
      : undefined,
    output: { activation: 'softmax' },
  };
  checkChannelsAgree(card.preprocessing, channels, preWhere);
  return card;
}

async function loadHuggingFace(folder: string, file: string): Promise<ModelCard> {
  return cardFromHuggingFace(
    await readJson(path.join(folder, 'config.json')),
    await readJson(path.join(folder, 'preprocessor_config.json')),
    folder,
    file,
  );
}

async function hasHuggingFace(folder: string): Promise<boolean> {
  return (
    (await exists(path.join(folder, 'config.json'))) &&
    (await exists(path.join(folder, 'preprocessor_config.json')))
  );
}

/**
 * Resolves `--model`: a folder with model.json (or Hugging Face configs, or a single .onnx), or a
 * path to an .onnx file (its card is used when the card beside it names that file).
 */
export async function loadModel(modelArg: string): Promise<LoadedModel> {
  const target = path.resolve(modelArg);
  const stat = await fs.stat(target).catch(() => null);
  if (!stat)
    throw new EngineError(
      `Model not found: ${modelArg}. Give an .onnx file or a folder holding model.json and the .onnx file.`,
      'model-not-found',
    );
  if (stat.isDirectory()) {
    const cardPath = path.join(target, 'model.json');
    if (await exists(cardPath)) {
      const card = parseModelCard(await readJson(cardPath), cardPath, path.basename(target));
      const modelPath = path.resolve(target, card.file);
      if (!(await exists(modelPath)))
        throw new EngineError(
          `${cardPath}: field 'file' names ${card.file}, which does not exist in ${modelArg}.`,
          'model-not-found',
        );
      return { modelPath, card, source: 'model-card', cardPath };
    }
    for (const rel of ['model.onnx', path.join('onnx', 'model.onnx')]) {
      const modelPath = path.join(target, rel);
      if ((await exists(modelPath)) && (await hasHuggingFace(target))) {
        return {
          modelPath,
          card: await loadHuggingFace(target, rel),
          source: 'hugging-face',
          cardPath: path.join(target, 'preprocessor_config.json'),
        };
      }
    }
    const onnx = (await fs.readdir(target)).filter((f) => f.toLowerCase().endsWith('.onnx'));
    if (onnx.length === 1)
      return { modelPath: path.join(target, onnx[0]), card: null, source: 'none', cardPath: null };
    throw new EngineError(
      `${modelArg} holds ${onnx.length === 0 ? 'no' : 'several'} .onnx files and no model.json; give the .onnx file itself or add a model card.`,
      'model-not-found',
    );
  }
  if (!target.toLowerCase().endsWith('.onnx'))
    throw new EngineError(`--model ${modelArg} is neither an .onnx file nor a folder.`, 'model-not-found');
  const folder = path.dirname(target);
  const cardPath = path.join(folder, 'model.json');
  if (await exists(cardPath)) {
    const card = parseModelCard(await readJson(cardPath), cardPath, path.basename(folder));
    if (path.resolve(folder, card.file) === target)
      return { modelPath: target, card, source: 'model-card', cardPath };
  }
  // Hugging Face exports keep the .onnx either beside the configs or in an onnx/ subfolder.
  for (const dir of [folder, path.dirname(folder)]) {
    if (await hasHuggingFace(dir)) {
      return {
        modelPath: target,
        card: await loadHuggingFace(dir, path.relative(dir, target)),
        source: 'hugging-face',
        cardPath: path.join(dir, 'preprocessor_config.json'),
      };
    }
  }
  return { modelPath: target, card: null, source: 'none', cardPath: null };
}

/** Parses "M" or "M,M,M" (used by --mean and --std). */
export function parseNumberList(text: string, flag: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v)))
    throw new EngineError(`${flag} must be a number or comma-separated numbers; got '${text}'.`, 'bad-flag');
  return values;
}

/** Parses "HxW" (used by --size and --grid). */
export function parseSize(text: string, flag: string): [number, number] {
  const m = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/i.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
    throw new EngineError(`${flag} must look like 224x224 (rows x cols); got '${text}'.`, 'bad-flag');
  return [Number(m[1]), Number(m[2])];
}

/**
 * Preprocessing for a bare .onnx and an image input, from --mean, --std and --size: exact resize
 * to the size, pixels scaled by 1/255, then (x − mean) / std; colour from the model's channels.
 */
export function preprocessingFromFlags(
  flags: { mean?: number[]; std?: number[]; size?: [number, number] },
  channels: number,
): PreprocessingSpec {
  const missing = (['mean', 'std', 'size'] as const).filter((k) => flags[k] === undefined);
  if (missing.length > 0) {
    throw new EngineError(
      `The model has no card (model.json or Hugging Face configs), so an image input needs --mean, --std and --size to preprocess it; missing ${missing.map((m) => `--${m}`).join(', ')}. Or pass an already preprocessed .npy tensor.`,
      'needs-preprocessing',
    );
  }
  const spec: PreprocessingSpec = {
    resize: { height: flags.size![0], width: flags.size![1], mode: 'exact', kernel: 'linear' },
    crop: null,
    colour: channels === 1 ? 'grayscale' : 'rgb',
    scale: 1 / 255,
    mean: flags.mean!,
    std: flags.std!,
  };
  if (flags.std!.some((s) => s <= 0)) throw new EngineError('--std values must be positive.', 'bad-flag');
  checkChannelsAgree(spec, channels, 'flags');
  return spec;
}
