// The explain engine's entry point: opens a plain ViT ONNX export, builds (or reuses from the cache)
// its explain graph, and runs predictions, attention + gradient dumps and fused saliency maps on
// one ONNX Runtime session per graph, with provider fallback.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeFileAtomic } from './atomicFile';
import { EngineError } from './errors';
import {
  buildExplainGraph,
  analyseModel,
  type ModelAnalysis,
  TARGET_INPUT,
  EXPLAIN_GRAPH_VERSION,
  type TargetSource,
} from './graph/explainGraph';
import { buildFusedSaliencyGraph, MAP_OUTPUT, methodNeedsGradients } from './graph/fusedSaliency';
import { readModelForExplain } from './graph/fusedOpRewrite';
import { headReadoutWarning } from './graph/headReadout';
import { pruneHeadTokens } from './graph/headTokenPruning';
import { rewriteForWebGpu } from './graph/webgpuRewrites';
import { toFloat16Compute } from './graph/float16Compute';
import type { TensorInfo, TensorInfoMap } from './graph/shapeProbe';
import { blockTerm } from './methods/common';
import {
  type BlockAttention,
  type BlockTerms,
  type MapMethod,
  type MethodName,
  type MethodOptions,
  type RelevanceMethodName,
  isMapMethod,
  isPerturbationMethod,
  MAP_METHODS,
  resolveMethodOptions,
} from './methods';
import { occlusionMaps } from './perturbation';
import { serializeModel, writeModelFile } from './onnx/modelFile';
import type { ModelProto } from './onnx/onnxSchema';
import { ManagedSession, type ProviderName, type SessionSettings } from './providers';

export const FLOAT16_NOTE =
  'This is a float16 model: its maps are computed in float32 from its float16 weights (logits agree with its own float16 output to float16 rounding).';

export type { ProviderName } from './providers';

/** Token rows (images × tokens) per CPU run of a gradient graph; see gradientChunk. */
const GRADIENT_ROWS = 512;

export interface ExplainModelInfo {
  inputName: string;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  numBlocks: number;
  numHeads: number;
  numTokens: number;
  prefixTokens: number;
  grid: [number, number];
  attentionNodes: string[];
  opset: number;
  /** What the user should know about how this model is explained (e.g. a mean-pooled head). */
  warnings: string[];
  /** The model file is float16; it is run and explained as float32. */
  float16: boolean;
}

export interface OpenOptions {
  provider?: ProviderName | 'auto';
  grid?: [number, number];
  prefixTokens?: number;
  attentionNodes?: string[];
  /** Where built graphs are kept, keyed by the model's sha256; none: build in memory each open. */
  cacheDir?: string;
  log?: (message: string) => void;
  /** Intra-op threads (default: the number of cores). */
  threads?: number;
  /** ORT's CPU memory arena (default on); see SessionSettings.memArena. */
  memArena?: boolean;
  /** ORT's intra-op threads spin while waiting (default off); see SessionSettings.spinning. */
  spinning?: boolean;
  /** ORT's profiler on for every session of this model (the bench's --profile); see endProfiling. */
  profilePrefix?: string;
  /** The CUDA provider's device id (default 0). */
  cudaDevice?: number;
  /**
   * 'float16': the fused saliency graphs compute in float16 (graph/float16Compute.ts), for GPUs;
   * maps within ~2e-2 of float32's (README: GPU). The per-image explain graph stays float32.
   */
  precision?: 'float32' | 'float16';
  /**
   * Images per run of the gradient graphs (explain, and saliency of the gradient methods).
   * Default: on the CPU, runs of about GRADIENT_ROWS token rows; elsewhere the whole batch.
   */
  imagesPerRun?: number;
}

/** The ORT session settings of a model's sessions: all of them run as the explain graph's does. */
function sessionSettings(options: OpenOptions, provider: OpenOptions['provider']): SessionSettings {
  const { threads, memArena, spinning, profilePrefix, cudaDevice, log } = options;
  return { provider, threads, memArena, spinning, profilePrefix, cudaDevice, log };
}

interface CachedAnalysis {
  analysis: ModelAnalysis;
  info: [string, TensorInfo][];
}

/** Where one model's graphs live in the cache (undefined: no cache). */
class GraphCache {
  constructor(private readonly dir: string | undefined) {}

  file(name: string): string | undefined {
    return this.dir ? path.join(this.dir, name) : undefined;
  }

  read(name: string): string | undefined {
    const f = this.file(name);
    return f && fs.existsSync(f) ? f : undefined;
  }
}

export class ExplainSession {
  private predictSession?: ManagedSession;
  private readonly fused = new Map<string, Promise<ManagedSession>>();
  private readonly opened = new Set<ManagedSession>();
  private lastRun?: ManagedSession;
  private closed = false;

  private constructor(
    /** What predictions run: the model file, or the float32 copy of a float16 model. */
    private readonly modelPath: string | Uint8Array,
    private readonly model: ModelProto,
    private readonly analysis: ModelAnalysis,
    private readonly probeInfo: TensorInfoMap,
    private readonly explainSession: ManagedSession,
    private readonly cache: GraphCache,
    private readonly options: OpenOptions,
    readonly info: ExplainModelInfo,
  ) {
    this.opened.add(explainSession);
  }

  /** Runs `session` and remembers it as the one that ran last. */
  private async runOn(
    session: ManagedSession,
    feeds: Record<string, ort.Tensor>,
  ): Promise<Record<string, ort.Tensor>> {
    this.opened.add(session);
    const r = await session.run(feeds);
    this.lastRun = session;
    return r;
  }

  /**
   * The provider of the session that ran last (each graph has its own session, and one that fails
   * while running moves to the CPU on its own), so reports name what really ran.
   */
  get provider(): ProviderName {
    return (this.lastRun ?? this.explainSession).provider;
  }

  /** What every session of this model said about its provider, including fallbacks while running. */
  /** What the fused saliency graphs compute in (the per-image explain graph is always float32). */
  get precision(): 'float32' | 'float16' {
    return this.options.precision ?? 'float32';
  }

  /** ORT's intra-op threads. */
  get threads(): number {
    return this.explainSession.threads;
  }

  get providerMessages(): string[] {
    return [...new Set([...this.opened].flatMap((s) => s.messages))];
  }

  static async open(modelPath: string, options: OpenOptions = {}): Promise<ExplainSession> {
    const file =
      fs.existsSync(modelPath) && fs.statSync(modelPath).isDirectory()
        ? path.join(modelPath, 'model.onnx')
        : modelPath;
    const log = options.log ?? (() => undefined);
    const perRun = options.imagesPerRun;
    if (perRun !== undefined && (!Number.isInteger(perRun) || perRun < 1))
      throw new EngineError(
        `imagesPerRun must be a positive whole number of images; got ${perRun}.`,
        'bad-option',
      );
    // A float16 export is explained (and predicted) in float32, from its own rounded weights.
    // Fused attention (ONNX Attention, ORT's com.microsoft ops) is explained as primitives.
    const { model, original, rewritten, sha256, float16 } = readModelForExplain(file);
    if (rewritten.length > 0) log(`fused ops rewritten into primitives: ${rewritten.join(', ')}`);
    const key = createHash('sha256')
      .update(
        JSON.stringify({
          sha256,
          v: EXPLAIN_GRAPH_VERSION,
          nodes: options.attentionNodes ?? null,
          grid: options.grid ?? null,
          prefix: options.prefixTokens ?? null,
        }),
      )
      .digest('hex')
      .slice(0, 32);
    const cache = new GraphCache(
      options.cacheDir ? path.join(options.cacheDir, `${sha256.slice(0, 16)}-${key}`) : undefined,
    );

    let analysis: ModelAnalysis;
    let info: TensorInfoMap;
    const cachedMeta = cache.read('analysis.json');
    const cachedGraph = cache.read('explain.onnx');
    let explainSource: string | Uint8Array | undefined;
    const started = Date.now();
    const meta = cachedMeta && cachedGraph ? readCachedAnalysis(cachedMeta, log) : undefined;
    if (meta) {
      analysis = meta.analysis;
      info = new Map(meta.info);
      explainSource = cachedGraph;
      log(`explain graph reused from the cache (${cachedGraph})`);
    } else {
      ({ analysis, info } = await analyseModel(model, options));
    }
    // The explain and fused graphs are built from the pruned model. Pruning is cheap to redo, so
    // the cache keeps the original model's probe information.
    const pruned = pruneHeadTokens(model, info, analysis.opset, analysis.tokens);
    if (!explainSource) {
      const graph = buildExplainGraph(pruned.model, analysis, pruned.info, true);
      rewriteForWebGpu(graph.model, analysis.opset);
      const target = cache.file('explain.onnx');
      if (target) {
        // The graph first, then its analysis: analysis.json present means both are whole.
        writeModelFile(graph.model, target);
        const meta: CachedAnalysis = { analysis, info: [...info] };
        writeFileAtomic(cache.file('analysis.json')!, JSON.stringify(meta));
        explainSource = target;
      } else {
        explainSource = serializeModel(graph.model);
      }
      log(`explain graph built in ${Date.now() - started} ms (${analysis.attentionNodes.length} blocks)`);
    }
    const warnings = [headReadoutWarning(model, info, analysis.tokens, analysis.prefixTokens)];
    if (float16) warnings.push(FLOAT16_NOTE);
    for (const w of warnings) if (w) log(w);
    const session = await ManagedSession.open(explainSource, sessionSettings(options, options.provider));
    const [channels, height, width] = analysis.imageDims;
    const publicInfo: ExplainModelInfo = {
      inputName: analysis.inputName,
      channels,
      height,
      width,
      numClasses: analysis.numClasses,
      numBlocks: analysis.attentionTensors.length,
      numHeads: analysis.heads,
      numTokens: analysis.tokens,
      prefixTokens: analysis.prefixTokens,
      grid: analysis.grid,
      attentionNodes: analysis.attentionNodes,
      opset: analysis.opset,
      warnings: warnings.filter((w): w is string => !!w),
      float16,
    };
    // Predictions run the original file, unless it is float16: then its float32 copy.
    const predictSource = float16 ? serializeModel(original) : file;
    return new ExplainSession(
      predictSource,
      pruned.model,
      analysis,
      pruned.info,
      session,
      cache,
      options,
      publicInfo,
    );
  }

  /** Logits [batch × classes] of the original graph. */
  async predict(input: Float32Array, batch: number): Promise<Float32Array> {
    this.checkInput(input, batch);
    this.predictSession ??= await ManagedSession.open(
      this.modelPath,
      sessionSettings(this.options, this.explainSession.provider),
    );
    const session = this.predictSession;
    const out = await this.runBatched(input, batch, undefined, async (feeds) => {
      const r = await this.runOn(session, feeds);
      return [r[this.analysis.logitsName]];
    });
    return out[0];
  }

  /** Whether the blocks have their own grids (windowed attention): then only terms() explains. */
  get windowed(): boolean {
    return this.analysis.windowed !== undefined;
  }

  /** Logits and, per image and block, the attention and the gradient of the target logit. */
  async explain(
    input: Float32Array,
    batch: number,
    targets: number[],
  ): Promise<{ logits: Float32Array; perImage: BlockAttention[][] }> {
    if (this.analysis.windowed)
      throw new EngineError(
        "This model's blocks attend within windows on grids of their own, so there is no one attention matrix per block to return; per-block terms are available.",
        'method-not-defined',
      );
    const { logits, outputs } = await this.runExplainGraph(input, batch, targets);
    const B = this.analysis.attentionTensors.length;
    const { heads, tokens } = this.analysis;
    const per = heads * tokens * tokens;
    const perImage: BlockAttention[][] = [];
    for (let i = 0; i < batch; i++) {
      perImage.push(
        Array.from({ length: B }, (_, b) => ({
          heads,
          tokens,
          attention: outputs[b].subarray(i * per, (i + 1) * per),
          gradient: outputs[B + b].subarray(i * per, (i + 1) * per),
        })),
      );
    }
    return { logits, perImage };
  }

  /**
   * Logits and, per image and block, the block's terms on its own grid (METHOD.md): of A ⊙ G for
   * the target logit, and of A alone. Every architecture the engine opens has them.
   */
  async terms(
    input: Float32Array,
    batch: number,
    targets: number[],
  ): Promise<{ logits: Float32Array; perImage: BlockTerms[][] }> {
    const windowed = this.analysis.windowed;
    if (!windowed) {
      const { logits, perImage } = await this.explain(input, batch, targets);
      const p = this.analysis.prefixTokens;
      const kind = p > 0 ? 'class-row' : 'received';
      const grid = this.analysis.grid;
      return {
        logits,
        perImage: perImage.map((blocks) =>
          blocks.map((b) => ({
            kind,
            grid,
            term: blockTerm(b, p, true),
            attentionTerm: blockTerm(b, p, false),
          })),
        ),
      };
    }
    const { logits, outputs } = await this.runExplainGraph(input, batch, targets);
    const live = this.outputBlocks();
    return {
      logits,
      perImage: Array.from({ length: batch }, (_, i) =>
        windowed.map((block, b): BlockTerms => {
          const k = live.indexOf(b);
          if (k < 0) return { kind: block.kind, grid: block.grid, term: null, attentionTerm: null };
          const n = block.grid[0] * block.grid[1];
          const part = (t: Float32Array): Float64Array => Float64Array.from(t.subarray(i * n, (i + 1) * n));
          return {
            kind: block.kind,
            grid: block.grid,
            term: part(outputs[live.length + k]),
            attentionTerm: part(outputs[k]),
          };
        }),
      ),
    };
  }

  /** The blocks the explain graph has outputs for: all, less outlook blocks. */
  private outputBlocks(): number[] {
    const all = this.analysis.attentionTensors.map((_, b) => b);
    return all.filter((b) => this.analysis.windowed?.[b].kind !== 'skipped');
  }

  /** Runs the explain graph: logits, then every block's attention output, then every gradient output. */
  private async runExplainGraph(
    input: Float32Array,
    batch: number,
    targets: number[],
  ): Promise<{ logits: Float32Array; outputs: Float32Array[] }> {
    this.checkInput(input, batch);
    this.checkTargets(targets, batch);
    const live = this.outputBlocks();
    const names = [
      this.analysis.logitsName,
      ...live.map((b) => `vsw_attention_${b}`),
      ...live.map((b) => `vsw_gradient_${b}`),
    ];
    const [logits, ...rest] = await this.runBatched(
      input,
      batch,
      targets,
      async (feeds) => {
        const r = await this.runOn(this.explainSession, feeds);
        return names.map((n) => r[n]);
      },
      this.gradientChunk(this.explainSession),
    );
    return { logits, outputs: rest };
  }

  /**
   * The method's normalised maps computed inside the graph: only logits and maps leave ORT.
   * `targets` 'top1' explains each image's arg-max class, found inside the same run (no separate
   * predict); the classes used come back as `targets`.
   */
  async saliency(
    input: Float32Array,
    batch: number,
    targets: number[] | 'top1',
    method: MapMethod,
    options?: Partial<MethodOptions>,
  ): Promise<{ logits: Float32Array; maps: Float32Array[]; targets: number[]; grid: [number, number] }> {
    this.checkInput(input, batch);
    if (!isMapMethod(method))
      throw new EngineError(
        `Unknown saliency method '${String(method)}'; use one of ${MAP_METHODS.join(', ')}.`,
        'bad-method',
      );
    const k = this.analysis.numClasses;
    if (isPerturbationMethod(method)) {
      const logits = await this.predict(input, batch);
      const used =
        targets === 'top1'
          ? Array.from({ length: batch }, (_, i) => argMax(logits.subarray(i * k, (i + 1) * k)))
          : targets;
      this.checkTargets(used, batch);
      const { maps, grid } = await occlusionMaps(this, input, batch, used, method);
      return { logits, maps, targets: used, grid };
    }
    const needsTargets = methodNeedsGradients(method);
    const top1 = targets === 'top1';
    if (needsTargets && !top1) this.checkTargets(targets, batch);
    const session = await this.fusedSession(method, options, needsTargets && top1 ? 'top1' : 'input');
    const [logits, maps] = await this.runBatched(
      input,
      batch,
      needsTargets && !top1 ? targets : undefined,
      async (feeds) => {
        const r = await this.runOn(session, feeds);
        return [r[this.analysis.logitsName], r[MAP_OUTPUT]];
      },
      needsTargets ? this.gradientChunk(session) : undefined,
    );
    const n = this.analysis.grid[0] * this.analysis.grid[1];
    return {
      logits,
      maps: Array.from({ length: batch }, (_, i) => maps.subarray(i * n, (i + 1) * n)),
      targets: top1
        ? Array.from({ length: batch }, (_, i) => argMax(logits.subarray(i * k, (i + 1) * k)))
        : targets,
      grid: this.analysis.grid,
    };
  }

  /** Writes the profile of every session opened so far (opened with profilePrefix). */
  endProfiling(): void {
    for (const s of this.opened) s.endProfiling();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.explainSession.release();
    await this.predictSession?.release();
    for (const s of this.fused.values()) await (await s.catch(() => undefined))?.release();
  }

  private fusedSession(
    method: MethodName | RelevanceMethodName,
    options: Partial<MethodOptions> | undefined,
    targets: TargetSource,
  ): Promise<ManagedSession> {
    const resolved = resolveMethodOptions(options, this.analysis.attentionTensors.length);
    // Only the options a method reads are part of its graph's identity.
    const relevant = method === 'attn-grad-product' ? resolved : {};
    const digest = createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 12);
    const half = this.options.precision === 'float16';
    const key = `${method}-${digest}${targets === 'top1' ? '-top1' : ''}${half ? '-f16' : ''}`;
    let pending = this.fused.get(key);
    if (!pending) {
      pending = (async () => {
        const name = `saliency-${key}.onnx`;
        let source: string | Uint8Array | undefined = this.cache.read(name);
        if (!source) {
          let graph = buildFusedSaliencyGraph(
            this.model,
            this.analysis,
            this.probeInfo,
            method,
            resolved,
            targets,
          );
          rewriteForWebGpu(graph, this.analysis.opset);
          if (half) graph = toFloat16Compute(graph);
          const target = this.cache.file(name);
          if (target) {
            writeModelFile(graph, target);
            source = target;
          } else source = serializeModel(graph);
        }
        return ManagedSession.open(source, sessionSettings(this.options, this.explainSession.provider));
      })();
      pending.catch(() => this.fused.delete(key));
      this.fused.set(key, pending);
    }
    return pending;
  }

  private checkInput(input: Float32Array, batch: number): void {
    if (this.closed) throw new EngineError('This explain session is closed.', 'session-closed');
    const [c, h, w] = this.analysis.imageDims;
    if (!Number.isInteger(batch) || batch < 1)
      throw new EngineError(`Batch size must be a positive integer; got ${batch}.`, 'bad-input');
    if (input.length !== batch * c * h * w) {
      throw new EngineError(
        `The input has ${input.length} values, but ${batch} image(s) of ${c}×${h}×${w} (the model's input size) need ${batch * c * h * w}; resize the image to ${h}×${w} with ${c} channel(s).`,
        'input-size-mismatch',
      );
    }
  }

  private checkTargets(targets: number[], batch: number): void {
    if (targets.length !== batch)
      throw new EngineError(
        `Give one target class per image: ${batch} image(s) but ${targets.length} target(s).`,
        'bad-target',
      );
    for (const t of targets) {
      if (!Number.isInteger(t) || t < 0 || t >= this.analysis.numClasses) {
        throw new EngineError(
          `Target class ${t} is out of range: the model has ${this.analysis.numClasses} classes (0–${this.analysis.numClasses - 1}).`,
          'target-out-of-range',
        );
      }
    }
  }

  /**
   * Images per run of a gradient graph. On the CPU, a big batch of big images is slower per image
   * than small runs: the activations the backward pass keeps no longer fit in the caches (ViT-S/16
   * at 224²: ~10 % per image between batch 8 and 1), while small models want big runs to spread
   * the per-run overhead. So runs hold up to GRADIENT_ROWS token rows per pair of threads (each
   * core's share stays cache-sized, and 16 cores get runs big enough to keep them all busy:
   * ViT-S/16 runs 2 images on 2 cores, 20 on 16); other providers take the whole batch.
   */
  private gradientChunk(session: ManagedSession): number | undefined {
    if (this.options.imagesPerRun !== undefined) return this.options.imagesPerRun;
    if (session.provider !== 'cpu') return undefined;
    const threads = this.explainSession.threads;
    const rows = GRADIENT_ROWS * Math.max(1, Math.floor(threads / 2));
    // Windowed models: the first stage has the most tokens.
    const first = this.analysis.windowed?.[0].grid;
    const tokens = first ? first[0] * first[1] : this.analysis.tokens;
    return Math.max(1, Math.floor(rows / tokens));
  }

  /**
   * Feeds images (and one-hot targets) in runs of up to `chunk` images (one at a time where the
   * export has its batch fixed at 1); concatenates each fetched output along the batch.
   */
  private async runBatched(
    input: Float32Array,
    batch: number,
    targets: number[] | undefined,
    run: (feeds: Record<string, ort.Tensor>) => Promise<ort.Tensor[]>,
    chunk: number = batch,
  ): Promise<Float32Array[]> {
    const [c, h, w] = this.analysis.imageDims;
    const classes = this.analysis.numClasses;
    const feedsFor = (start: number, count: number): Record<string, ort.Tensor> => {
      const feeds: Record<string, ort.Tensor> = {
        [this.analysis.inputName]: new ort.Tensor(
          'float32',
          input.subarray(start * c * h * w, (start + count) * c * h * w),
          [count, c, h, w],
        ),
      };
      if (targets) {
        const onehot = new Float32Array(count * classes);
        for (let i = 0; i < count; i++) onehot[i * classes + targets[start + i]] = 1;
        feeds[TARGET_INPUT] = new ort.Tensor('float32', onehot, [count, classes]);
      }
      return feeds;
    };
    const step = this.analysis.fixedBatch ? 1 : Math.max(1, Math.min(chunk, batch));
    if (step >= batch) {
      const outs = await run(feedsFor(0, batch));
      return outs.map((t) => t.data as Float32Array);
    }
    const parts: Float32Array[][] = [];
    for (let i = 0; i < batch; i += step)
      parts.push((await run(feedsFor(i, Math.min(step, batch - i)))).map((t) => t.data as Float32Array));
    return parts[0].map((_, k) => {
      const perImage = parts[0][k].length / Math.min(step, batch);
      const out = new Float32Array(perImage * batch);
      parts.forEach((p, i) => out.set(p[k], i * step * perImage));
      return out;
    });
  }
}

/**
 * The cached analysis, or undefined when the file is torn or not this version's (an older version
 * wrote it without fsync): the caller rebuilds the graphs and rewrites the cache.
 */
function readCachedAnalysis(file: string, log: (message: string) => void): CachedAnalysis | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<CachedAnalysis>;
    if (meta.analysis?.version !== EXPLAIN_GRAPH_VERSION || !Array.isArray(meta.info))
      throw new Error('not a complete analysis of this version');
    return meta as CachedAnalysis;
  } catch (error) {
    log(`the cached analysis ${file} is damaged (${(error as Error).message}); rebuilding the graphs`);
    return undefined;
  }
}

/** Index of the first largest value (the arg-max the graph's ArgMax takes). */
function argMax(row: Float32Array): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}
