// The bench's --profile: an ExplainSession opened with profilePrefix writes ORT's profile of its
// runs, and the summary counts them (runs, kernels per run, time per op type and provider).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { describeOrtProfile, summariseOrtProfile } from '../../bench/ortProfile';

test("ORT's profile of an explain session's runs, summarised", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-profile-'));
  try {
    const model = path.join(__dirname, '..', '..', '..', 'models', 'fashion-vit');
    const session = await ExplainSession.open(model, {
      provider: 'cpu',
      threads: 1,
      profilePrefix: path.join(dir, 'fashion'),
    });
    const { channels, height, width } = session.info;
    const x = Float32Array.from({ length: 2 * channels * height * width }, (_, i) => Math.sin(i));
    for (let i = 0; i < 3; i++) await session.saliency(x, 2, 'top1', 'attn-grad-product');
    session.endProfiling();
    await session.close();
    const profiles = fs
      .readdirSync(dir)
      .map((f) => path.join(dir, f))
      .map((file) => ({ file, summary: summariseOrtProfile(JSON.parse(fs.readFileSync(file, 'utf8'))) }));
    // The explain graph's session was opened but never ran; the fused graph's ran three times.
    const fused = profiles.find((p) => p.summary.runs > 0);
    assert.ok(fused, `a profile with runs among ${profiles.length}`);
    assert.equal(fused.summary.runs, 3);
    assert.ok(Number.isInteger(fused.summary.kernelsPerRun) && fused.summary.kernelsPerRun > 100);
    const kernels = fused.summary.ops.reduce((a, o) => a + o.kernels, 0);
    assert.equal(kernels, 3 * fused.summary.kernelsPerRun);
    assert.ok(fused.summary.ops.some((o) => o.op === 'MatMul' && o.provider === 'CPU'));
    assert.ok(fused.summary.kernelMsPerRun > 0 && fused.summary.kernelMsPerRun <= fused.summary.runMs);
    assert.match(describeOrtProfile(fused.file), /^3 runs, [\d.]+ ms each; \d+ kernels per run/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
