// Starts `vsw serve` as a real child process (the built CLI) and returns its URL once it prints it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestContext } from 'node:test';

export const repoRoot = path.resolve(__dirname, '..', '..');

export interface ServeProcess {
  url: string; // with ?token=
  origin: string;
  token: string;
  child: ChildProcess;
  stderr: () => string;
}

export function startServe(
  t: TestContext,
  dataDir: string,
  extraArgs: string[] = [],
  options: { cwd?: string } = {},
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin', 'vsw.js'), 'serve', '--data-dir', dataDir, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd },
  );
  t.after(() => {
    child.kill('SIGTERM');
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`vsw serve printed no URL in 20 s; stderr: ${err}`)),
      20_000,
    );
    child.stdout!.on('data', (d) => {
      out += String(d);
      const match = /^Serving at (http:\/\/\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        const url = new URL(match[1]);
        resolve({
          url: match[1],
          origin: url.origin,
          token: url.searchParams.get('token')!,
          child,
          stderr: () => err,
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vsw serve exited with ${code}; stderr: ${err}`));
    });
  });
}
