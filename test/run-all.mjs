#!/usr/bin/env node
// `npm test`: builds, then runs every suite (typecheck, lint, unit, integration, browser
// end-to-end) and ends with one line `N passed, N failed, N skipped` summed over all of them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2); // optional: names of suites to run
const totals = { passed: 0, failed: 0, skipped: 0 };
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function run(command, args, extraEnv = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...extraEnv },
  });
  return result.status ?? 1;
}

function step(name, command, args) {
  if (only.length && !only.includes(name)) return;
  console.log(`\n=== ${name}: ${[path.basename(command), ...args].join(' ')}`);
  const ok = run(command, args) === 0;
  totals[ok ? 'passed' : 'failed']++;
  console.log(`=== ${name}: ${ok ? 'passed' : 'FAILED'}`);
}

function testFiles(dir) {
  const out = [];
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.test.ts')) out.push(path.relative(root, p));
    }
  };
  walk(path.join(root, dir));
  return out.sort();
}

function nodeTests(name, dirs) {
  if (only.length && !only.includes(name)) return;
  const files = dirs.flatMap(testFiles);
  console.log(`\n=== ${name}: ${files.length} files`);
  if (files.length === 0) return;
  const tap = path.join(root, 'test-artifacts', `${name}.tap`);
  fs.mkdirSync(path.dirname(tap), { recursive: true });
  const status = run(process.execPath, [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ]);
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  const count = (key) => Number((text.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  const skipped = count('skipped') + count('todo');
  totals.passed += passed;
  totals.failed += failed || (status !== 0 ? 1 : 0);
  totals.skipped += skipped;
  console.log(`=== ${name}: ${passed} passed, ${failed} failed, ${skipped} skipped (exit ${status})`);
}

step('build', 'npm', ['run', '--silent', 'build']);
step('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
step('eslint', bin('eslint'), ['.', '--max-warnings=0']);
step('prettier', bin('prettier'), ['--check', '.']);
nodeTests('unit', ['test/unit']);
nodeTests('integration', ['test/integration']);
nodeTests('e2e', ['test/e2e']);

console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed === 0 ? 0 : 1);
