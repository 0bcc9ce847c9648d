// Shared by the CLI tests of this folder: `vsw` run from source (through tsx) with its data dir in
// a scratch folder that is removed when the test process exits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliScratch {
  work: string;
  vsw: (...args: string[]) => CliRun;
  /** `vsw ...args --provider cpu --out <out>`. */
  vswOnCpu: (out: string, ...args: string[]) => CliRun;
}

/** A scratch folder named after `prefix` and a `vsw` that keeps its data dir inside it. */
export function cliScratch(prefix: string): CliScratch {
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const vsw = (...args: string[]): CliRun => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'electron', 'cli', 'vsw.ts'), ...args],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, VSW_DATA_DIR: path.join(work, 'data') },
      },
    );
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const vswOnCpu = (out: string, ...args: string[]) => vsw(...args, '--provider', 'cpu', '--out', out);
  return { work, vsw, vswOnCpu };
}
