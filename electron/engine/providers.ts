// Execution providers: opens an ONNX Runtime session on cuda → webgpu → cpu (or the user's pick,
// then cpu), reports which one ran, and falls back with a message instead of crashing, both when
// a provider fails to start and when it fails on the first run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { EngineError } from './errors';
import './ortLogging';

export type ProviderName = 'cuda' | 'webgpu' | 'cpu';
export type ProviderChoice = ProviderName | 'auto';

export const PROVIDER_NAMES: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];

export interface SessionSettings {
  provider?: ProviderChoice;
  /** Intra-op threads; defaults to the number of cores. */
  threads?: number;
  /**
   * The CUDA provider's GPU (device id, default 0). onnxruntime-node 1.30 passes only this CUDA
   * option to ORT (its binding reads deviceId alone), so the arena and cuDNN's convolution
   * algorithm search keep ORT's defaults (README: GPU).
   */
  cudaDevice?: number;
  /**
   * ORT's CPU memory arena (default on). Off, freed intermediates go back to the system allocator:
   * lower peak RSS, a little slower (the engine bench measures both).
   */
  memArena?: boolean;
  /** Let ORT's intra-op threads spin while waiting (default off: see sessionOptions). */
  spinning?: boolean;
  /** ORT's profiler on: each session writes `<prefix>_<time>.json` when endProfiling() is called. */
  profilePrefix?: string;
  log?: (message: string) => void;
}

/** Providers that already failed to start in this process, with why: not retried for every model. */
const failedProviders = new Map<ProviderName, string>();

function candidates(choice: ProviderChoice): ProviderName[] {
  if (choice === 'auto') return ['cuda', 'webgpu', 'cpu'];
  if (!PROVIDER_NAMES.includes(choice))
    throw new EngineError(
      `Unknown execution provider '${String(choice)}'; use cuda, webgpu, cpu or auto.`,
      'bad-provider',
    );
  return choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
}

/**
 * The CUDA provider's libraries that onnxruntime-node loads on demand; they are only there after
 * `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (README: GPU).
 */
export function missingCudaLibraries(): string[] {
  const dir = path.join(
    path.dirname(require.resolve('onnxruntime-node/package.json')),
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
  );
  const names =
    process.platform === 'win32'
      ? ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll']
      : ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
  return names.filter((n) => !fs.existsSync(path.join(dir, n)));
}

/** Why a provider cannot work here, found without trying it (cheap checks only), as one phrase. */
function knownUnavailable(provider: ProviderName, choice: ProviderChoice): string | undefined {
  const failed = failedProviders.get(provider);
  if (failed) return `${provider} unavailable: ${failed}`;
  if (provider === 'cpu') return undefined;
  const backend = ort.listSupportedBackends().find((b) => b.name === provider);
  if (!backend) return `${provider} unavailable: this onnxruntime-node build has no ${provider} provider`;
  // Asking ORT for CUDA without its libraries only makes it print an error: look first.
  if (provider === 'cuda' && missingCudaLibraries().length > 0) return 'CUDA not installed (see README: GPU)';
  if (
    provider === 'webgpu' &&
    choice === 'auto' &&
    process.platform === 'linux' &&
    !fs.existsSync('/dev/dri') &&
    !fs.existsSync('/dev/nvidia0')
  ) {
    return 'webgpu unavailable: no GPU device (/dev/dri or /dev/nvidia0) on this machine';
  }
  return undefined;
}

type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** ORT's graph optimisation level: 'all', or VSW_ORT_OPTIMIZATION for measuring a provider's placement. */
function optimizationLevel(): OptimizationLevel {
  const asked = process.env.VSW_ORT_OPTIMIZATION;
  return asked === 'disabled' || asked === 'basic' || asked === 'extended' ? asked : 'all';
}

function sessionOptions(
  provider: ProviderName,
  threads: number,
  settings: SessionSettings,
): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    provider === 'cuda' ? [{ name: 'cuda', deviceId: settings.cudaDevice ?? 0 }] : [provider];
  return {
    executionProviders,
    graphOptimizationLevel: optimizationLevel(),
    enableCpuMemArena: settings.memArena ?? true,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // ORT's intra-op threads spin while they wait for work by default. Where other work shares
    // the cores (decoding, overlays, the workstation, other processes), a spinning thread burns
    // the time the thread it waits for needs: off, the bundled model ran 2× faster on the loaded
    // 2-core machine (README: Performance). The bench measures both (--spin).
    extra: { session: { intra_op: { allow_spinning: settings.spinning ? '1' : '0' } } },
    // A provider that cannot start logs its own errors; we report the fallback ourselves.
    logSeverityLevel: provider === 'cpu' ? 2 : 4,
    ...(settings.profilePrefix ? { enableProfiling: true, profileFilePrefix: settings.profilePrefix } : {}),
  };
}

function createSession(
  source: string | Uint8Array,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  return typeof source === 'string'
    ? ort.InferenceSession.create(source, options)
    : ort.InferenceSession.create(source, options);
}

/** Intra-op threads when none are given: every core this process may use. */
export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function shortReason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  // ORT's messages start with a source location and a failed check; the reason is the last sentence.
  return (text.split('\n')[0].split('was false. ').pop() ?? text).slice(0, 300);
}

/**
 * One ONNX Runtime session with its provider fallback. `messages` says what was tried and why it
 * fell back; `provider` is the one that runs.
 */
export class ManagedSession {
  private constructor(
    private session: ort.InferenceSession,
    private current: ProviderName,
    private readonly source: string | Uint8Array,
    /** ORT's intra-op threads. */
    readonly threads: number,
    readonly messages: string[],
    private readonly settings: SessionSettings,
  ) {}

  get provider(): ProviderName {
    return this.current;
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  static async open(source: string | Uint8Array, settings: SessionSettings = {}): Promise<ManagedSession> {
    const choice = settings.provider ?? 'auto';
    const threads = settings.threads ?? defaultThreads();
    const messages: string[] = [];
    const say = (m: string): void => {
      messages.push(m);
      settings.log?.(m);
    };
    const list = candidates(choice);
    // Providers passed over are reported in one line with the outcome, e.g. "CUDA not installed
    // (see README: GPU); using CPU".
    const passed: string[] = [];
    const report = (outcome: string): void => {
      if (passed.length) say(`${passed.join('; ')}; ${outcome}`);
    };
    for (const provider of list) {
      const skip = knownUnavailable(provider, choice);
      if (skip) {
        passed.push(skip);
        continue;
      }
      try {
        const session = await createSession(source, sessionOptions(provider, threads, settings));
        report(`using ${provider === 'cpu' ? 'CPU' : provider}`);
        return new ManagedSession(session, provider, source, threads, messages, settings);
      } catch (e) {
        const why = shortReason(e);
        if (provider === 'cpu')
          throw new EngineError(`ONNX Runtime cannot load the model on the CPU: ${why}`, 'model-load-failed');
        failedProviders.set(provider, `failed to start (${why})`);
        passed.push(`${provider} unavailable: failed to start (${why})`);
      }
    }
    report('no provider left');
    throw new EngineError(`No execution provider could run the model: ${messages.join('; ')}`, 'no-provider');
  }

  /** Runs; a non-CPU provider that fails at run time is replaced by the CPU once, with a message. */
  async run(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, ort.Tensor>> {
    try {
      return (fetches ? await this.session.run(feeds, fetches) : await this.session.run(feeds)) as Record<
        string,
        ort.Tensor
      >;
    } catch (e) {
      if (this.current === 'cpu') throw e;
      const m = `${this.current} failed while running (${shortReason(e)}); fell back to cpu`;
      this.messages.push(m);
      this.settings.log?.(m);
      failedProviders.set(this.current, `failed while running (${shortReason(e)})`);
      await this.session.release().catch(() => undefined);
      this.session = await createSession(this.source, sessionOptions('cpu', this.threads, this.settings));
      this.current = 'cpu';
      return this.run(feeds, fetches);
    }
  }

  /** Writes ORT's profile of the runs so far (sessions opened with profilePrefix). */
  endProfiling(): void {
    if (this.settings.profilePrefix) this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
