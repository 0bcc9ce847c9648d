// One image's explanation as the `vsw explain` JSON contract describes it: logits, probabilities,
// the resolved target, the effective method options, the normalised maps and, on request, every
// block's kind, grid and term S_b (and, with a class token, its attention and gradient rows).
// Works on any session with predict/explain/terms.
import { EngineError } from './errors';
import {
  computeMap,
  mapFromTerms,
  resolveMethodOptions,
  type ResolvedMethodOptions,
  type BlockAttention,
  type BlockTerms,
  type MethodName,
  type MethodOptions,
} from './methods';
import { blockTerm } from './methods/common';

/** What this module needs of an ExplainSession (which satisfies it). */
export interface ExplainingSession {
  readonly info: {
    channels: number;
    height: number;
    width: number;
    numClasses: number;
    prefixTokens: number;
    grid: [number, number];
    numBlocks: number;
    warnings?: string[];
  };
  readonly provider: string;
  /** Blocks on grids of their own (windowed attention): only terms() explains them. */
  readonly windowed: boolean;
  predict(input: Float32Array, batch: number): Promise<Float32Array>;
  terms(
    input: Float32Array,
    batch: number,
    targets: number[],
  ): Promise<{ logits: Float32Array; perImage: BlockTerms[][] }>;
  explain(
    input: Float32Array,
    batch: number,
    targets: number[],
  ): Promise<{ logits: Float32Array; perImage: BlockAttention[][] }>;
}

export type TargetSpec = 'top1' | 'top2' | number;

export interface ExplainRequest {
  target: TargetSpec;
  methods: MethodName[];
  options?: Partial<MethodOptions>;
  dumpBlocks?: boolean;
  labels?: string[];
  activation?: 'softmax' | 'sigmoid';
}

export interface ExplainReport {
  schemaVersion: 1;
  provider: string;
  logits: number[];
  probabilities: number[];
  labels?: string[];
  options: {
    epsilon: number;
    epsilonMode: 'relative' | 'absolute';
    blocks: [number, number];
    negatives: 'shift' | 'clamp';
  };
  target: number;
  grid: [number, number];
  prefixTokens: number;
  maps: Partial<Record<MethodName, number[]>>;
  /** Methods asked for (as part of `all`) that this architecture does not define, with the reason. */
  notDefined?: Partial<Record<MethodName, string>>;
  /** What the user should know about how this model is explained (e.g. a mean-pooled head). */
  warnings?: string[];
  /** 'float16': the maps came from the float16 saliency graphs (README: GPU); absent: float32. */
  precision?: 'float16';
  blocks?: BlockReport[];
}

/** One block in the dump: its kind, own grid and term S_b (row-major); class rows where there are. */
export interface BlockReport {
  kind: 'class-row' | 'received' | 'skipped';
  grid: [number, number];
  term: number[] | null;
  clsAttention?: number[][];
  clsGradient?: number[][];
}

/** Parses --target: top1, top2 or a class index. */
export function parseTarget(text: string): TargetSpec {
  if (text === 'top1' || text === 'top2') return text;
  if (/^\d+$/.test(text)) return Number(text);
  throw new EngineError(
    `--target must be top1, top2 or a class index (0, 1, …); got '${text}'.`,
    'bad-target',
  );
}

/** The class index a target spec names, given the logits; an index must be in range. */
export function resolveTarget(spec: TargetSpec, logits: ArrayLike<number>): number {
  const n = logits.length;
  if (typeof spec === 'number') return checkTargetIndex(spec, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (spec === 'top2' && n < 2)
    throw new EngineError('--target top2 needs a model with at least 2 classes.', 'target-out-of-range');
  return order[spec === 'top1' ? 0 : 1];
}

export function checkTargetIndex(index: number, numClasses: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= numClasses) {
    throw new EngineError(
      `Target class ${index} is out of range: the model has ${numClasses} classes (0–${numClasses - 1}).`,
      'target-out-of-range',
    );
  }
  return index;
}

export function activate(logits: ArrayLike<number>, activation: 'softmax' | 'sigmoid' = 'softmax'): number[] {
  const values = Array.from(logits);
  if (activation === 'sigmoid') return values.map((v) => 1 / (1 + Math.exp(-v)));
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

function clsRows(block: BlockAttention, data: Float32Array): number[][] {
  const { heads, tokens } = block;
  return Array.from({ length: heads }, (_, h) =>
    Array.from(data.subarray(h * tokens * tokens, h * tokens * tokens + tokens)),
  );
}

/**
 * One image's token maps of the given methods for one target, the resolved options and every
 * block's dump entry. Windowed models are read through their per-block terms; a method they do
 * not define is listed in notDefined (an error when it is the only method asked for).
 */
export async function explainTokenMaps(
  session: ExplainingSession,
  input: Float32Array,
  target: number,
  methods: MethodName[],
  methodOptions: Partial<MethodOptions> | undefined,
): Promise<{
  logits: Float32Array;
  maps: Map<MethodName, Float32Array>;
  notDefined: Partial<Record<MethodName, string>>;
  options: ResolvedMethodOptions;
  dump: BlockReport[];
}> {
  const { info } = session;
  const maps = new Map<MethodName, Float32Array>();
  const notDefined: Partial<Record<MethodName, string>> = {};
  if (session.windowed) {
    const { logits, perImage } = await session.terms(input, 1, [target]);
    const terms = perImage[0];
    const options = resolveMethodOptions(methodOptions, terms.length);
    for (const method of methods) {
      try {
        maps.set(method, mapFromTerms(method, terms, info.grid, options));
      } catch (e) {
        if (!(e instanceof EngineError) || e.code !== 'method-not-defined' || methods.length === 1) throw e;
        notDefined[method] = e.message;
      }
    }
    const dump = terms.map((t) => ({ kind: t.kind, grid: t.grid, term: t.term && Array.from(t.term) }));
    return { logits, maps, notDefined, options, dump };
  }
  const { logits, perImage } = await session.explain(input, 1, [target]);
  const blocks = perImage[0];
  const options = resolveMethodOptions(methodOptions, blocks.length);
  for (const method of methods) maps.set(method, computeMap(method, blocks, info.prefixTokens, options));
  const p = info.prefixTokens;
  const dump = blocks.map((b): BlockReport => ({
    kind: p > 0 ? 'class-row' : 'received',
    grid: info.grid,
    term: Array.from(blockTerm(b, p, true)),
    ...(p > 0
      ? { clsAttention: clsRows(b, b.attention), clsGradient: b.gradient ? clsRows(b, b.gradient) : [] }
      : {}),
  }));
  return { logits, maps, notDefined, options, dump };
}

export function checkLabels(request: ExplainRequest, numClasses: number): void {
  if (request.labels && request.labels.length !== numClasses)
    throw new EngineError(
      `The model card lists ${request.labels.length} labels but the model has ${numClasses} classes; fix the card's 'labels'.`,
      'card-mismatch',
    );
}

/** The report of one image from its logits, resolved target, options and maps. */
export function buildReport(
  session: Pick<ExplainingSession, 'info' | 'provider'>,
  request: ExplainRequest,
  logits: Float32Array,
  target: number,
  options: ResolvedMethodOptions,
  maps: Map<MethodName, Float32Array>,
  notDefined: Partial<Record<MethodName, string>> = {},
  precision: 'float32' | 'float16' = 'float32',
): ExplainReport {
  const { info } = session;
  return {
    schemaVersion: 1,
    provider: session.provider,
    logits: Array.from(logits),
    probabilities: activate(logits, request.activation),
    ...(request.labels ? { labels: request.labels } : {}),
    options: {
      epsilon: options.epsilon,
      epsilonMode: options.epsilonMode,
      blocks: options.blocks,
      negatives: options.negatives,
    },
    target,
    grid: info.grid,
    prefixTokens: info.prefixTokens,
    maps: Object.fromEntries([...maps].map(([m, v]) => [m, Array.from(v)])),
    ...(Object.keys(notDefined).length ? { notDefined } : {}),
    ...(info.warnings?.length ? { warnings: info.warnings } : {}),
    ...(precision === 'float16' ? { precision } : {}),
  };
}

/** Explains one preprocessed image (1×C×H×W) and returns the JSON report and the maps. */
export async function explainImage(
  session: ExplainingSession,
  input: Float32Array,
  request: ExplainRequest,
): Promise<{ report: ExplainReport; maps: Map<MethodName, Float32Array> }> {
  const { info } = session;
  checkLabels(request, info.numClasses);
  // A named class needs no first pass; top1/top2 need the logits first.
  const target =
    typeof request.target === 'number'
      ? checkTargetIndex(request.target, info.numClasses)
      : resolveTarget(request.target, await session.predict(input, 1));
  const { logits, maps, notDefined, options, dump } = await explainTokenMaps(
    session,
    input,
    target,
    request.methods,
    request.options,
  );
  const report = buildReport(
    session,
    request,
    logits.subarray(0, info.numClasses),
    target,
    options,
    maps,
    notDefined,
  );
  if (request.dumpBlocks) report.blocks = dump;
  return { report, maps };
}
