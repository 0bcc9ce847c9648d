// Options the engine commands (explain, evaluate) share: the model and how to read it, the method
// options, and the mapping of the engine's bad-input errors to usage errors (exit code 2).
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { EngineError } from '../engine/errors';
import { ExplainSession } from '../engine/explainSession';
import { loadModel, parseNumberList, parseSize, type LoadedModel } from '../engine/modelCard';
import {
  isMapMethod,
  isMethodName,
  MAP_METHODS,
  METHOD_NAMES,
  type MapMethod,
  type MethodName,
  type MethodOptions,
} from '../engine/methods';
import { resolveDataDir } from '../workstation/dataDir';
import { UsageError } from './errors';

export interface ModelFlags {
  model: string;
  grid?: [number, number];
  prefixTokens?: number;
  provider?: 'cuda' | 'webgpu' | 'cpu';
  cudaDevice?: number;
  threads?: number;
  precision?: 'float32' | 'float16';
  cacheDir?: string;
  mean?: number[];
  std?: number[];
  size?: [number, number];
}

export interface MethodFlags {
  epsilon?: number;
  epsilonMode?: 'relative' | 'absolute';
  blocks?: [number, number];
  negatives?: 'shift' | 'clamp';
}

/** Wraps an engine parser so that commander reports its message as a usage error. */
function parser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
    }
  };
}

export function parseNonNegativeInteger(name: string) {
  return parser((text) => {
    if (!/^\d+$/.test(text)) throw new Error(`${name} must be a whole number; got '${text}'`);
    return Number(text);
  });
}

function addModelOptions(command: Command): Command {
  return command
    .requiredOption(
      '--model <path>',
      'model.onnx, or a model folder with a card (model.json or Hugging Face configs)',
    )
    .option(
      '--grid <RxC>',
      'patch grid, when it cannot be inferred from the patch-embedding Conv',
      parser((t) => parseSize(t, '--grid')),
    )
    .option(
      '--prefix-tokens <N>',
      'tokens before the patch tokens (class, distillation, registers)',
      parseNonNegativeInteger('--prefix-tokens'),
    )
    .addOption(
      new Option('--provider <name>', 'execution provider (default: cuda → webgpu → cpu)').choices([
        'cuda',
        'webgpu',
        'cpu',
      ]),
    )
    .option(
      '--cuda-device <id>',
      "the CUDA provider's GPU (default 0)",
      parseNonNegativeInteger('--cuda-device'),
    )
    .option(
      '--mean <M[,M,M]>',
      'preprocessing mean (overrides the card; needed for a bare .onnx with image input)',
      parser((t) => parseNumberList(t, '--mean')),
    )
    .option(
      '--std <S[,S,S]>',
      'preprocessing std (overrides the card; needed for a bare .onnx with image input)',
      parser((t) => parseNumberList(t, '--std')),
    )
    .option(
      '--size <HxW>',
      'resize images to this size (overrides the card; needed for a bare .onnx with image input)',
      parser((t) => parseSize(t, '--size')),
    )
    .option('--cache-dir <dir>', 'where built explain graphs are kept (default: the data folder cache)')
    .option(
      '--threads <n>',
      "ONNX Runtime's intra-op threads (default: the number of cores; 1 on a busy machine)",
      parseNonNegativeInteger('--threads'),
    )
    .addOption(
      new Option(
        '--precision <p>',
        'compute of the batched saliency graphs: float16 is for GPUs (maps within ~2e-2 of float32)',
      )
        .choices(['float32', 'float16'])
        .default('float32'),
    );
}

function addMethodOptions(command: Command): Command {
  return command
    .option(
      '--epsilon <E>',
      'ε of attn-grad-product (default 0.01)',
      parser((t) => {
        const v = Number(t);
        if (!Number.isFinite(v) || v < 0) throw new Error(`--epsilon must be a number ≥ 0; got '${t}'`);
        return v;
      }),
    )
    .addOption(
      new Option(
        '--epsilon-mode <mode>',
        "'relative' (ε × each block's range, default) or 'absolute'",
      ).choices(['relative', 'absolute']),
    )
    .option(
      '--blocks <FIRST:LAST>',
      'block range of attn-grad-product, 0-based inclusive (default: all)',
      parser((t) => {
        const m = /^(\d+):(\d+)$/.exec(t.trim());
        if (!m) throw new Error(`--blocks must look like 0:11 (FIRST:LAST); got '${t}'`);
        return [Number(m[1]), Number(m[2])] as [number, number];
      }),
    )
    .addOption(
      new Option('--negatives <mode>', "negative scores: 'shift' (default, the article) or 'clamp'").choices([
        'shift',
        'clamp',
      ]),
    );
}

export function methodOptionsFrom(flags: MethodFlags): Partial<MethodOptions> {
  return {
    epsilon: flags.epsilon,
    epsilonMode: flags.epsilonMode,
    blocks: flags.blocks,
    negatives: flags.negatives,
  };
}

/** --method: one name or 'all'. */
export function parseMethods(text: string): MethodName[] {
  return parseNames(text, METHOD_NAMES, isMethodName);
}

/** --method of the commands that take every map method (the faithful ones too). */
export function parseMapMethods(text: string): MapMethod[] {
  return parseNames(text, MAP_METHODS, isMapMethod);
}

function parseNames<T extends string>(text: string, all: readonly T[], is: (n: string) => n is T): T[] {
  if (text === 'all') return [...all];
  const names = text.split(',').map((s) => s.trim());
  for (const n of names)
    if (!is(n)) throw new UsageError(`--method must be one of ${all.join(', ')} or all; got '${n}'.`);
  return names as T[];
}

async function openModel(
  flags: ModelFlags,
  logLine: (m: string) => void,
): Promise<{ loaded: LoadedModel; session: ExplainSession }> {
  const said = new Set<string>();
  const log = (m: string) => {
    if (!said.has(m)) logLine(m);
    said.add(m);
  };
  const loaded = await loadModel(flags.model);
  const card = loaded.card;
  const session = await ExplainSession.open(loaded.modelPath, {
    provider: flags.provider ?? 'auto',
    cudaDevice: flags.cudaDevice,
    threads: flags.threads || undefined,
    precision: flags.precision,
    grid: flags.grid ?? card?.tokens?.grid,
    prefixTokens: flags.prefixTokens ?? card?.tokens?.prefix,
    attentionNodes: card?.attention?.nodes,
    cacheDir: flags.cacheDir ?? path.join(resolveDataDir(undefined), 'cache', 'explain-graphs'),
    log,
  });
  for (const m of session.providerMessages) log(m);
  return { loaded, session };
}

/** Engine errors caused by what the user typed (exit 2), as opposed to failures (exit 1). */
const USAGE_CODES = new Set([
  'bad-flag',
  'bad-option',
  'bad-target',
  'target-out-of-range',
  'needs-preprocessing',
  'model-not-found',
  'bad-method',
  'bad-provider',
  'bad-colormap',
  'original-missing',
  'mask-missing',
]);

function asUsageError(error: unknown): unknown {
  return error instanceof EngineError && USAGE_CODES.has(error.code) ? new UsageError(error.message) : error;
}

/**
 * Finishes an engine command: adds the model and method options and runs `run` as its action,
 * with the engine's bad-input errors reported as usage errors.
 */
export function engineAction<F extends ModelFlags & MethodFlags>(
  command: Command,
  run: (flags: F) => Promise<void>,
): void {
  addMethodOptions(addModelOptions(command)).action(async (flags: F) => {
    try {
      await run(flags);
    } catch (e) {
      throw asUsageError(e);
    }
  });
}

/** Opens the model (its messages go to stderr), hands it to `use`, and closes it whatever happens. */
export async function withModel<T>(
  flags: ModelFlags,
  use: (loaded: LoadedModel, session: ExplainSession) => Promise<T>,
): Promise<T> {
  const { loaded, session } = await openModel(flags, (m) => process.stderr.write(`vsw: ${m}\n`));
  try {
    return await use(loaded, session);
  } finally {
    await session.close();
  }
}
