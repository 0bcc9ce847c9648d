// Shared pieces of the workstation-core integration tests: running the built `vsw`, the model to
// predict with (the bundled one when present, else a tiny fixture ViT with a card written here),
// and read-only looks into a data dir's database.
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { testModelCard } from '../../helpers/modelCards';
import { repoRoot } from '../../helpers/serveProcess';

export const VSW = path.join(repoRoot, 'bin', 'vsw.js');
export const DEMO = path.join(repoRoot, 'models', 'demo', 'fashion-mnist');
export const BUNDLED = path.join(repoRoot, 'models', 'fashion-vit');

export const FASHION_LABELS = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export function vsw(...args: string[]) {
  const r = spawnSync(process.execPath, [VSW, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function vswOk(...args: string[]): string {
  const r = vsw(...args);
  if (r.code !== 0) throw new Error(`vsw ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `vsw predict` of the demo dataset with a model on the CPU, `batch` images per run. */
export function predictDemoArgs(dataDir: string, modelDir: string, batch: number): string[] {
  return [
    'predict',
    '--dataset',
    'demo',
    '--model',
    modelDir,
    '--batch',
    String(batch),
    '--provider',
    'cpu',
    '--data-dir',
    dataDir,
  ];
}

export function spawnVsw(...args: string[]): ChildProcess {
  return spawn(process.execPath, [VSW, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1];
}

/**
 * A model folder to predict with: the bundled Fashion-MNIST ViT when it is there, else the
 * `registers` fixture (a 1×28×28, 5-class random-weight ViT) with a card naming 5 Fashion labels.
 */
export function predictModel(scratch: string): { dir: string; labels: string[]; bundled: boolean } {
  if (fs.existsSync(path.join(BUNDLED, 'model.json')) && fs.existsSync(path.join(BUNDLED, 'model.onnx'))) {
    const card = JSON.parse(fs.readFileSync(path.join(BUNDLED, 'model.json'), 'utf8')) as {
      labels: string[];
    };
    return { dir: BUNDLED, labels: card.labels, bundled: true };
  }
  const dir = path.join(scratch, 'tiny-model');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(
    path.join(repoRoot, 'test', 'fixtures', 'registers', 'model.onnx'),
    path.join(dir, 'model.onnx'),
  );
  const labels = FASHION_LABELS.slice(0, 5);
  fs.writeFileSync(
    path.join(dir, 'model.json'),
    JSON.stringify(
      testModelCard({ name: 'tiny-registers', labels, channels: 1, side: 28, prefix: 5, grid: [4, 4] }),
    ),
  );
  return { dir, labels, bundled: false };
}

/** A read-only connection to a data dir's database (WAL lets it read while a process writes). */
export function peek(dataDir: string): Database.Database {
  return new Database(path.join(dataDir, 'vsw.sqlite'), { readonly: true, fileMustExist: true });
}

export function integrityOk(dataDir: string): void {
  const db = new Database(path.join(dataDir, 'vsw.sqlite'));
  try {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new Error(`PRAGMA integrity_check: ${String(result)}`);
  } finally {
    db.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `probe` returns true (or throws after `timeoutMs`). */
export async function waitFor(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if (probe()) return;
    } catch {
      // the database may not exist yet
    }
    await sleep(15);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A copy of the first `perClass` images of each class of the demo set, in `scratch`/subset. */
export function demoSubset(scratch: string, perClass: number): string {
  const root = path.join(scratch, 'subset');
  for (const label of fs.readdirSync(DEMO)) {
    const dir = path.join(DEMO, label);
    if (!fs.statSync(dir).isDirectory()) continue;
    fs.mkdirSync(path.join(root, label), { recursive: true });
    for (const file of fs.readdirSync(dir).sort().slice(0, perClass))
      fs.copyFileSync(path.join(dir, file), path.join(root, label, file));
  }
  return root;
}
