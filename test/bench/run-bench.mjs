#!/usr/bin/env node
// `npm run bench`: the performance targets, measured on this machine (not part of `npm test`).
// Runs each bench in turn; pass names to run only some: `npm run bench -- engine core ui`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const benches = {
  engine: 'engineBench.ts',
  core: 'coreBench.ts',
  ui: 'uiBench.ts',
  similar: 'similarBench.ts',
};
// Bench names select benches; everything else (`--threads 2`, `--seconds 4`) goes to each bench.
const names = process.argv.slice(2).filter((a) => a in benches);
const passThrough = process.argv.slice(2).filter((a) => !(a in benches));
let failed = 0;
for (const [name, file] of Object.entries(benches)) {
  if (names.length && !names.includes(name)) continue;
  const script = path.join(root, 'test', 'bench', file);
  if (!fs.existsSync(script)) {
    console.log(`\n=== bench ${name}: not present (${file}), skipped`);
    continue;
  }
  console.log(`\n=== bench ${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...passThrough], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
