// The explain engine's entry point: opens a plain ViT ONNX export, builds (or reuses from the cache)
// its explain graph, and runs predictions, attention + gradient dumps and fused saliency maps on
// one ONNX Runtime session per graph, with provider fallback.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
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
import { pruneHeadTokens } from './graph/headTokenPruning';
import type { TensorInfo, TensorInfoMap } from './graph/shapeProbe';
import {
  type BlockAttention,
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
import { readModelFile, serializeModel, writeModelFile } from './onnx/modelFile';
import type { ModelProto } from './onnx/onnxSchema';
import { ManagedSession, type ProviderName } from './providers';

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
  /**
   * Images per run of the gradient graphs (explain, and saliency of the gradient methods).
   * Default: on the CPU, runs of about GRADIENT_ROWS token rows; elsewhere the whole batch.
   */
  imagesPerRun?: number;
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
  private closed = false;

  private constructor(
    private readonly modelPath: string,
    private readonly model: ModelProto,
    private readonly analysis: ModelAnalysis,
    private readonly probeInfo: TensorInfoMap,
    private readonly explainSession: ManagedSession,
    private readonly cache: GraphCache,
    private readonly options: OpenOptions,
    readonly info: ExplainModelInfo,
  ) {}

  get provider(): ProviderName {
    return this.explainSession.provider;
  }

  get providerMessages(): string[] {
    return this.explainSession.messages;
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
    const { model, sha256 } = readModelFile(file);
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
    if (cachedMeta && cachedGraph) {
      const meta = JSON.parse(fs.readFileSync(cachedMeta, 'utf8')) as CachedAnalysis;
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
      const target = cache.file('explain.onnx');
      if (target) {
        writeModelFile(graph.model, target);
        const meta: CachedAnalysis = { analysis, info: [...info] };
        fs.writeFileSync(cache.file('analysis.json')!, JSON.stringify(meta));
        explainSource = target;
      } else {
        explainSource = serializeModel(graph.model);
      }
      log(`explain graph built in ${Date.now() - started} ms (${analysis.attentionNodes.length} blocks)`);
    }
    const session = await ManagedSession.open(explainSource, {
      provider: options.provider,
      threads: options.threads,
      log,
    });
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
    };
    return new ExplainSession(file, pruned.model, analysis, pruned.info, session, cache, options, publicInfo);
  }

  /** Logits [batch × classes] of the original graph. */
  async predict(input: Float32Array, batch: number): Promise<Float32Array> {
    this.checkInput(input, batch);
    this.predictSession ??= await ManagedSession.open(this.modelPath, {
      provider: this.explainSession.provider,
      threads: this.options.threads,
      log: this.options.log,
    });
    const session = this.predictSession;
    const out = await this.runBatched(input, batch, undefined, async (feeds) => {
      const r = await session.run(feeds);
      return [r[this.analysis.logitsName]];
    });
    return out[0];
  }

  /** Logits and, per image and block, the attention and the gradient of the target logit. */
  async explain(
    input: Float32Array,
    batch: number,
    targets: number[],
  ): Promise<{ logits: Float32Array; perImage: BlockAttention[][] }> {
    this.checkInput(input, batch);
    this.checkTargets(targets, batch);
    const B = this.analysis.attentionTensors.length;
    const names = [
      this.analysis.logitsName,
      ...Array.from({ length: B }, (_, b) => `vsw_attention_${b}`),
      ...Array.from({ length: B }, (_, b) => `vsw_gradient_${b}`),
    ];
    const [logits, ...rest] = await this.runBatched(
      input,
      batch,
      targets,
      async (feeds) => {
        const r = await this.explainSession.run(feeds);
        return names.map((n) => r[n]);
      },
      this.gradientChunk(this.explainSession),
    );
    const { heads, tokens } = this.analysis;
    const per = heads * tokens * tokens;
    const perImage: BlockAttention[][] = [];
    for (let i = 0; i < batch; i++) {
      perImage.push(
        Array.from({ length: B }, (_, b) => ({
          heads,
          tokens,
          attention: rest[b].subarray(i * per, (i + 1) * per),
          gradient: rest[B + b].subarray(i * per, (i + 1) * per),
        })),
      );
    }
    return { logits, perImage };
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
        const r = await session.run(feeds);
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
    const key = `${method}-${digest}${targets === 'top1' ? '-top1' : ''}`;
    let pending = this.fused.get(key);
    if (!pending) {
      pending = (async () => {
        const name = `saliency-${key}.onnx`;
        let source: string | Uint8Array | undefined = this.cache.read(name);
        if (!source) {
          const graph = buildFusedSaliencyGraph(
            this.model,
            this.analysis,
            this.probeInfo,
            method,
            resolved,
            targets,
          );
          const target = this.cache.file(name);
          if (target) {
            writeModelFile(graph, target);
            source = target;
          } else source = serializeModel(graph);
        }
        return ManagedSession.open(source, {
          provider: this.explainSession.provider,
          threads: this.options.threads,
          log: this.options.log,
        });
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
   * the per-run overhead. So runs hold up to GRADIENT_ROWS token rows; other providers take the
   * whole batch.
   */
  private gradientChunk(session: ManagedSession): number | undefined {
    if (this.options.imagesPerRun !== undefined) return this.options.imagesPerRun;
    if (session.provider !== 'cpu') return undefined;
    return Math.max(1, Math.floor(GRADIENT_ROWS / this.analysis.tokens));
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

/** Index of the first largest value (the arg-max the graph's ArgMax takes). */
function argMax(row: Float32Array): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}
