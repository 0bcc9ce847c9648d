// Benchmark of the saliency path (npm run bench, not part of npm test): images/s at batch 1 and 8
// and peak RSS of the fused attn-grad-product on ONNX Runtime (CPU), for the bundled Fashion-MNIST
// ViT and a ViT-S/16-sized random export at 224×224, against PyTorch autograd computing the same
// maps on the same cores (PyTorch at its best thread count), plus achieved GFLOP/s against a measured MatMul rate.
//
//   node --import tsx test/bench/engineBench.ts [--seconds 8] [--threads N (default: all cores)]
//
// Each model runs in its own child process so that its peak RSS is its own. The ViT-S/16 export is
// generated once into .bench/ (git-ignored) with models/tools/export_vit_s16.py.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExplainSession } from '../../electron/engine/explainSession';
import { loadModel, type ModelCard } from '../../electron/engine/modelCard';
import { serializeModel } from '../../electron/engine/onnx/modelFile';
import { listInputFiles } from '../../electron/engine/imageFiles';
import { preprocessImage } from '../../electron/engine/preprocess';

const ROOT = path.join(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const BATCHES = [1, 8];

interface Args {
  seconds: number;
  threads: number;
  child?: string;
}

function parseArgs(argv: string[]): Args {
  // Both sides get all of this machine's cores by default (PyTorch then picks its best thread count).
  const args: Args = { seconds: 8, threads: Number(process.env.VSW_BENCH_THREADS ?? os.cpus().length) };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') args.seconds = Number(argv[++i]);
    else if (argv[i] === '--threads') args.threads = Number(argv[++i]);
    else if (argv[i] === '--child') args.child = argv[++i];
  }
  return args;
}

interface ModelSpec {
  name: string;
  dir: string;
  torchModel: 'fashion-vit' | 'vit-s16';
}

const MODELS: ModelSpec[] = [
  { name: 'fashion-vit (bundled)', dir: path.join(ROOT, 'models', 'fashion-vit'), torchModel: 'fashion-vit' },
  { name: 'ViT-S/16 224² (random)', dir: path.join(ROOT, '.bench', 'vit-s16'), torchModel: 'vit-s16' },
];

interface ChildResult {
  rows: { batch: number; imagesPerSecond: number; cpuMsPerImage: number }[];
  peakRssMB: number;
  forwardGflop: number | null;
  openSeconds: number;
}

/** Forward FLOPs of a plain ViT from its card's architecture (multiply-add = 2 FLOPs). */
function forwardFlops(card: ModelCard, tokens: number, classes: number): number | null {
  const arch = card.architecture as { dim?: number; depth?: number; mlpRatio?: number } | undefined;
  const patch = card.tokens?.patchSize?.[0];
  if (!arch?.dim || !arch.depth || !arch.mlpRatio || !patch) return null;
  const D = arch.dim;
  const M = D * arch.mlpRatio;
  const T = tokens;
  const C = card.input.channels;
  const block = 2 * T * D * 3 * D + 2 * 2 * T * T * D + 2 * T * D * D + 2 * 2 * T * D * M;
  return 2 * (T - 1) * D * C * patch * patch + arch.depth * block + 2 * D * classes;
}

async function inputsFor(
  card: ModelCard | null,
  info: ExplainSession['info'],
  count: number,
): Promise<Float32Array> {
  const size = info.channels * info.height * info.width;
  const out = new Float32Array(size * count);
  const demo = path.join(ROOT, 'models', 'demo', 'fashion-mnist');
  if (card?.input.height === 28 && existsSync(demo)) {
    const files = (await listInputFiles(demo)).slice(0, count);
    for (let i = 0; i < count; i++)
      out.set(
        (await preprocessImage(path.join(demo, files[i % files.length]), card.preprocessing, info)).tensor,
        i * size,
      );
    return out;
  }
  let s = 12345; // seeded normal noise (Box–Muller) for the random-weight model
  const uniform = () => ((s = (s * 1103515245 + 12345) >>> 0) + 1) / 4294967297;
  for (let i = 0; i < out.length; i++)
    out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

/** Child: times the fused top-1 saliency (prediction and map in one run) on one model. */
async function runChild(dir: string, args: Args): Promise<void> {
  const { modelPath, card } = await loadModel(dir);
  const t0 = performance.now();
  const session = await ExplainSession.open(modelPath, { provider: 'cpu', threads: args.threads });
  const openSeconds = (performance.now() - t0) / 1000;
  const rows: ChildResult['rows'] = [];
  const info = session.info;
  const size = info.channels * info.height * info.width;
  const all = await inputsFor(card, info, Math.max(...BATCHES));
  for (const batch of BATCHES) {
    const x = all.subarray(0, batch * size);
    const iteration = async () => {
      await session.saliency(x, batch, 'top1', 'attn-grad-product');
    };
    for (let i = 0; i < 2; i++) await iteration();
    let n = 0;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    while (performance.now() - start < args.seconds * 1000) {
      await iteration();
      n++;
    }
    const cpu = process.cpuUsage(cpuStart);
    rows.push({
      batch,
      imagesPerSecond: (n * batch) / ((performance.now() - start) / 1000),
      // CPU time is steadier than wall time on a shared machine
      cpuMsPerImage: (cpu.user + cpu.system) / 1000 / (n * batch),
    });
  }
  await session.close();
  const flops = card ? forwardFlops(card, info.numTokens, info.numClasses) : null;
  const result: ChildResult = {
    rows,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    forwardGflop: flops === null ? null : flops / 1e9,
    openSeconds,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** GFLOP/s of one large float32 MatMul in ONNX Runtime on the given threads. */
async function matmulRate(threads: number): Promise<number> {
  const n = 1024;
  const dims = [{ dimValue: n }, { dimValue: n }];
  const type = { tensorType: { elemType: 1, shape: { dim: dims } } };
  const bytes = serializeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'matmul',
      node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['y'], name: 'mm' }],
      input: [
        { name: 'a', type },
        { name: 'b', type },
      ],
      output: [{ name: 'y', type }],
    },
  });
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const a = new ort.Tensor(
    'float32',
    Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13),
    [n, n],
  );
  const feeds = { a, b: a };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < 3000) {
    await session.run(feeds);
    runs++;
  }
  await session.release();
  return (2 * n ** 3 * runs) / ((performance.now() - start) / 1000) / 1e9;
}

function torchAvailable(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : `PyTorch is not installed for ${PYTHON} (${r.stderr.trim().split('\n').pop()})`;
}

interface TorchResult {
  imagesPerSecond: number;
  cpuMsPerImage: number | null;
  peakRssMB: number | null;
  threads: number;
}

/** PyTorch on the same cores at its best thread setting (1 … threads): it can collapse with more. */
function bestTorch(model: string, batch: number, args: Args): TorchResult | string {
  let best: TorchResult | string = 'not run';
  for (let threads = 1; threads <= args.threads; threads++) {
    const r = torchBench(model, batch, args, threads);
    if (typeof r !== 'string' && (typeof best === 'string' || r.imagesPerSecond > best.imagesPerSecond))
      best = r;
    else if (typeof best === 'string') best = r;
  }
  return best;
}

function torchBench(model: string, batch: number, args: Args, threads: number): TorchResult | string {
  const env = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
    MKL_NUM_THREADS: String(threads),
  };
  const script = path.join(ROOT, 'models', 'tools', 'torch_saliency_bench.py');
  const cmd = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'maxrss_kb=%M', PYTHON] : [PYTHON];
  const r = spawnSync(
    cmd[0],
    [
      ...cmd.slice(1),
      script,
      '--model',
      model,
      '--batch',
      String(batch),
      '--threads',
      String(threads),
      '--seconds',
      String(args.seconds),
    ],
    { encoding: 'utf8', env, cwd: ROOT },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as { imagesPerSecond: number; cpuSecondsPerImage?: number };
    const rss = /maxrss_kb=(\d+)/.exec(r.stderr)?.[1];
    return {
      imagesPerSecond: parsed.imagesPerSecond,
      cpuMsPerImage: parsed.cpuSecondsPerImage === undefined ? null : parsed.cpuSecondsPerImage * 1000,
      peakRssMB: rss ? Number(rss) / 1024 : null,
      threads,
    };
  } catch {
    return `torch bench failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`;
  }
}

function ensureVitS16(dir: string, torchMissing: string | null): string | null {
  if (existsSync(path.join(dir, 'model.onnx'))) return null;
  if (torchMissing) return `cannot generate the ViT-S/16 export: ${torchMissing}`;
  process.stderr.write('generating the ViT-S/16 export into .bench/vit-s16 …\n');
  const r = spawnSync(PYTHON, [path.join(ROOT, 'models', 'tools', 'export_vit_s16.py'), dir], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
  });
  return r.status === 0 ? null : `export_vit_s16.py failed: ${r.stderr.trim().split('\n').pop()}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) return runChild(args.child, args);
  const torchMissing = torchAvailable();
  const cpu = (await import('node:os')).cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `engine bench: ${cpu}, ${args.threads} core(s) for both: ONNX Runtime uses ${args.threads} thread(s), PyTorch its best of 1…${args.threads}; ${args.seconds} s per measurement`,
  );
  if (torchMissing) console.log(`PyTorch side skipped: ${torchMissing}`);
  const peak = await matmulRate(args.threads);
  console.log(`ONNX Runtime MatMul 1024×1024×1024: ${peak.toFixed(1)} GFLOP/s`);
  const table: string[][] = [
    [
      'model',
      'batch',
      'ORT img/s',
      'PyTorch img/s',
      'ratio',
      'ORT CPU ms/img',
      'PyTorch CPU ms/img',
      'CPU ratio',
      'ORT GFLOP/s',
      '% of MatMul',
      'ORT peak RSS',
      'PyTorch peak RSS',
    ],
  ];
  for (const m of MODELS) {
    const skip =
      m.torchModel === 'vit-s16'
        ? ensureVitS16(m.dir, torchMissing)
        : existsSync(path.join(m.dir, 'model.onnx'))
          ? null
          : `${path.relative(ROOT, m.dir)}/model.onnx is not there yet`;
    if (skip) {
      console.log(`${m.name}: skipped (${skip})`);
      continue;
    }
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        __filename,
        '--child',
        m.dir,
        '--threads',
        String(args.threads),
        '--seconds',
        String(args.seconds),
      ],
      { encoding: 'utf8', cwd: ROOT },
    );
    let res: ChildResult;
    try {
      res = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as ChildResult;
    } catch {
      console.log(`${m.name}: failed: ${child.stderr.trim().split('\n').slice(-3).join(' ')}`);
      continue;
    }
    console.log(`${m.name}: explain session opened in ${res.openSeconds.toFixed(1)} s`);
    for (const row of res.rows) {
      const t = torchMissing ? torchMissing : bestTorch(m.torchModel, row.batch, args);
      const torch = typeof t === 'string' ? null : t;
      if (typeof t === 'string' && !torchMissing) console.log(`  PyTorch batch ${row.batch}: ${t}`);
      // The ORT path per image: the explain graph's forward + its activation-gradient backward ≈ 2 forwards.
      const gflops = res.forwardGflop === null ? null : row.imagesPerSecond * 2 * res.forwardGflop;
      table.push([
        m.name,
        String(row.batch),
        row.imagesPerSecond.toFixed(1),
        torch ? `${torch.imagesPerSecond.toFixed(1)} (${torch.threads}t)` : '—',
        torch ? `${(row.imagesPerSecond / torch.imagesPerSecond).toFixed(2)}×` : '—',
        row.cpuMsPerImage.toFixed(1),
        torch?.cpuMsPerImage ? torch.cpuMsPerImage.toFixed(1) : '—',
        torch?.cpuMsPerImage ? `${(torch.cpuMsPerImage / row.cpuMsPerImage).toFixed(2)}×` : '—',
        gflops === null ? '—' : gflops.toFixed(1),
        gflops === null ? '—' : `${((100 * gflops) / peak).toFixed(0)}%`,
        `${res.peakRssMB.toFixed(0)} MB`,
        torch?.peakRssMB ? `${torch.peakRssMB.toFixed(0)} MB` : '—',
      ]);
    }
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  for (const row of table) console.log(row.map((v, c) => v.padEnd(widths[c])).join('  '));
  console.log(
    'GFLOP/s counts 2 forward passes per image (the explain graph predicts the top-1 class and explains it in one run: forward + activation-gradient backward).',
  );
  await faithfulMethodTimes(args);
}

/**
 * Time per image of the faithful methods on the bundled model (issue 12's target: token occlusion
 * under 1 s on the CPU at 7×7), against the article's method's single pass on the same image in the
 * same run: median of 9 warm runs each.
 */
async function faithfulMethodTimes(args: Args): Promise<void> {
  const dir = path.join(ROOT, 'models', 'fashion-vit');
  if (!existsSync(path.join(dir, 'model.onnx')))
    return console.log('faithful methods: fashion-vit missing, skipped');
  const { card } = await loadModel(dir);
  const session = await ExplainSession.open(dir, { provider: 'cpu', threads: args.threads });
  try {
    const demo = path.join(ROOT, 'models', 'demo', 'fashion-mnist');
    const [first] = await listInputFiles(demo);
    const { tensor } = await preprocessImage(path.join(demo, first), card!.preprocessing, session.info);
    const median = async (method: Parameters<ExplainSession['saliency']>[3]): Promise<number> => {
      await session.saliency(tensor, 1, 'top1', method);
      const times: number[] = [];
      for (let i = 0; i < 9; i++) {
        const started = performance.now();
        await session.saliency(tensor, 1, 'top1', method);
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b)[4];
    };
    const reference = await median('attn-grad-product');
    console.log(`\nfashion-vit, one image, CPU ${args.threads} thread(s): median of 9 warm runs`);
    console.log(`  attn-grad-product (reference): ${reference.toFixed(1)} ms`);
    for (const m of ['attn-lrp', 'grad-x-input', 'occlusion', 'occlusion-multiscale'] as const) {
      const ms = await median(m);
      const target = m === 'occlusion' ? `  (target < 1000 ms: ${ms < 1000 ? 'met' : 'NOT met'})` : '';
      console.log(`  ${m}: ${ms.toFixed(1)} ms, ${(ms / reference).toFixed(1)}× the reference${target}`);
    }
  } finally {
    await session.close();
  }
}

void main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
