// `vsw evaluate` end to end: a report with per-method deletion/insertion AUCs, the random floor and,
// on the cued demo folder (images/ + masks/), mask localisation; usage errors exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'vsw-evaluate-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function vsw(...args: string[]) {
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
}

test('evaluate writes per-method AUCs with confidence intervals, the random floor and localisation', () => {
  const out = path.join(work, 'report.json');
  const model = path.join(ROOT, 'test', 'fixtures', 'hf-separate-qkv', 'model.onnx');
  const r = vsw(
    'evaluate',
    '--model',
    model,
    '--input',
    path.join(ROOT, 'models', 'demo', 'fashion-mnist-cued'),
    '--n',
    '4',
    '--method',
    'rollout,last-attn',
    '--mean',
    '0.5',
    '--std',
    '0.5',
    '--size',
    '24x24',
    '--baseline',
    'blur',
    '--provider',
    'cpu',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(report.schemaVersion, 1);
  assert.equal(report.images, 4);
  assert.equal(report.steps, 32);
  assert.equal(report.baseline, 'blur');
  assert.deepEqual(Object.keys(report.methods), ['rollout', 'last-attn', 'random']);
  type Summary = {
    deletion: { auc: { n: number; mean: number; ci95: [number, number] } };
    insertion: { curve: number[] };
    localisation: { maskMass: { mean: number } };
  };
  for (const s of Object.values(report.methods) as Summary[]) {
    assert.equal(s.deletion.auc.n, 4);
    assert.ok(s.deletion.auc.ci95[0] <= s.deletion.auc.mean && s.deletion.auc.mean <= s.deletion.auc.ci95[1]);
    assert.equal(s.insertion.curve.length, 33);
    assert.ok(typeof s.localisation.maskMass.mean === 'number');
  }
  assert.equal(report.perImage.length, 4);
  assert.match(r.stdout, /deletion AUC/);
  assert.match(r.stdout, /random/);
  const bad = vsw(
    'evaluate',
    '--model',
    model,
    '--input',
    path.join(ROOT, 'models', 'demo', 'fashion-mnist-cued'),
    '--baseline',
    'grey',
    '--out',
    out,
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /grey/);
});
