// Deletion/insertion evaluation: the statistics and image helpers by hand, and a real run through an
// ONNX Runtime session on the cued demo images checking the curves' invariants and localisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ExplainSession } from '../../../electron/engine/explainSession';
import {
  auc,
  evaluateFaithfulness,
  gaussianBlur,
  massInside,
  meanInterval,
  pixelsAtStep,
  rankPixels,
  scanEvaluationFolder,
  type EvaluationItem,
} from '../../../electron/engine/evaluate';
import { loadModelPixels, preprocessImage } from '../../../electron/engine/preprocess';
import type { PreprocessingSpec } from '../../../electron/engine/modelCard';

const ROOT = path.join(__dirname, '..', '..', '..');

test('statistics and helpers', () => {
  assert.equal(auc([1, 1, 1]), 1);
  assert.equal(auc([1, 0]), 0.5);
  assert.ok(Math.abs(auc([0, 1, 0, 1, 0]) - 0.5) < 1e-12);
  const i = meanInterval([1, 2, 3]);
  assert.equal(i.mean, 2);
  assert.equal(i.sd, 1);
  assert.ok(Math.abs(i.ci95![1] - (2 + 4.303 / Math.sqrt(3))) < 1e-9);
  assert.equal(meanInterval([5]).ci95, null);
  // 1/32 of a 28×28 image: 24 or 25 pixels per step, all 784 at the end
  const counts = Array.from({ length: 33 }, (_, k) => pixelsAtStep(k, 32, 784));
  assert.equal(counts[32], 784);
  assert.ok(counts.slice(1).every((c, k) => c - counts[k] === 24 || c - counts[k] === 25));
  assert.deepEqual(Array.from(rankPixels(Float32Array.from([0.2, 0.9, 0.2, 0.5]))), [1, 3, 0, 2]);
  assert.equal(massInside(Float32Array.from([1, 3, 0, 0]), Uint8Array.from([0, 1, 0, 0])), 0.75);
  assert.equal(massInside(new Float32Array(4), Uint8Array.from([0, 1, 0, 0])), 0.25);
  const flat = gaussianBlur(new Float32Array(2 * 25).fill(3), 2, 5, 5, 1.5);
  assert.ok(
    flat.every((v) => Math.abs(v - 3) < 1e-6),
    'a constant image stays constant',
  );
  const dot = new Float32Array(49);
  dot[24] = 1;
  const b = gaussianBlur(dot, 1, 7, 7, 1);
  assert.ok(b[24] < 1 && b[24] > b[25] && Math.abs(b[23] - b[25]) < 1e-7 && Math.abs(b[17] - b[31]) < 1e-7);
});

test('a real evaluation on the cued demo images: curve invariants, random floor, localisation', async () => {
  const files = await scanEvaluationFolder(path.join(ROOT, 'models', 'demo', 'fashion-mnist-cued'), 3);
  assert.equal(files.length, 3);
  assert.ok(files.every((f) => f.mask && f.label));
  const session = await ExplainSession.open(
    path.join(ROOT, 'test', 'fixtures', 'hf-separate-qkv', 'model.onnx'),
    { provider: 'cpu' },
  );
  try {
    const info = session.info;
    const spec: PreprocessingSpec = {
      resize: { height: info.height, width: info.width, mode: 'exact' },
      crop: null,
      colour: 'rgb',
      scale: 1 / 255,
      mean: [0.5],
      std: [0.5],
    };
    const items: EvaluationItem[] = files.map((f) => ({
      id: f.rel,
      load: async () => {
        const { tensor } = await preprocessImage(f.file, spec, info);
        const { pixels, channels } = await loadModelPixels(f.mask!, spec, info, 'nearest');
        return {
          tensor,
          mask: Uint8Array.from({ length: info.height * info.width }, (_, i) =>
            pixels[i * channels] > 127 ? 1 : 0,
          ),
        };
      },
    }));
    const seen: number[] = [];
    const report = await evaluateFaithfulness(session, items, {
      methods: ['rollout', 'last-attn'],
      baseline: 'black',
      blackValue: [-1],
      steps: 32,
      batch: 50,
      seed: 1,
      onProgress: (d) => seen.push(d),
    });
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.equal(report.images, 3);
    assert.deepEqual(Object.keys(report.methods), ['rollout', 'last-attn', 'random']);
    const curves = Object.values(report.methods).map((s) => s!);
    for (const s of curves) {
      assert.equal(s.deletion.curve.length, 33);
      // deletion starts and insertion ends at the unperturbed image; both are the same for every map
      assert.ok(Math.abs(s.deletion.curve[0] - s.insertion.curve[32]) < 1e-6);
      assert.ok(Math.abs(s.deletion.curve[0] - curves[0].deletion.curve[0]) < 1e-6);
      assert.ok(Math.abs(s.deletion.curve[32] - curves[0].deletion.curve[32]) < 1e-6);
      assert.ok(Math.abs(s.insertion.curve[0] - curves[0].insertion.curve[0]) < 1e-6);
      assert.ok(s.deletion.auc.mean >= 0 && s.deletion.auc.mean <= 1);
      assert.ok(s.localisation && s.localisation.maskMass.mean >= 0 && s.localisation.maskMass.mean <= 1);
    }
    const meanP = report.perImage.reduce((a, r) => a + r.probability, 0) / 3;
    assert.ok(
      Math.abs(curves[0].deletion.curve[0] - meanP) < 1e-6,
      'the score is the probability of the predicted class',
    );
    assert.ok(
      report.maskArea! > 0.05 && report.maskArea! < 0.2,
      `an 8×8 cue is about 8% of the image: ${report.maskArea}`,
    );
  } finally {
    await session.close();
  }
});
