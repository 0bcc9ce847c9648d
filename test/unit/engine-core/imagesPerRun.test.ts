// A batch split into several runs of the gradient graphs (imagesPerRun, and the CPU default for
// big images) gives exactly what one run of the whole batch gives, for explain and saliency.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { EngineError } from '../../../electron/engine/errors';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { writeModelFile } from '../../../electron/engine/onnx/modelFile';
import { buildTinyVit, randomArray, rng } from './graphTestKit';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-per-run-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = path.join(tmp, 'vit', 'model.onnx');
writeModelFile(buildTinyVit(), file);

const IMAGE = 64;
const BATCH = 5;

describe('imagesPerRun', () => {
  it('runs of 2 images give the same logits, gradients and maps as one run of 5', async () => {
    const whole = await ExplainSession.open(file, { provider: 'cpu', imagesPerRun: BATCH });
    const split = await ExplainSession.open(file, { provider: 'cpu', imagesPerRun: 2 });
    try {
      const xs = randomArray(BATCH * IMAGE, rng(3));
      const targets = [0, 2, 1, 1, 0];
      const a = await whole.explain(xs, BATCH, targets);
      const b = await split.explain(xs, BATCH, targets);
      assert.ok(a.logits.every((v, i) => Math.abs(v - b.logits[i]) < 1e-6));
      for (let i = 0; i < BATCH; i++)
        for (let k = 0; k < a.perImage[i].length; k++) {
          const ga = a.perImage[i][k].gradient!;
          const gb = b.perImage[i][k].gradient!;
          assert.ok(
            ga.every((v, j) => Math.abs(v - gb[j]) < 1e-6),
            `image ${i} block ${k}`,
          );
        }
      const ma = await whole.saliency(xs, BATCH, 'top1', 'attn-grad-product');
      const mb = await split.saliency(xs, BATCH, 'top1', 'attn-grad-product');
      assert.deepEqual(mb.targets, ma.targets);
      for (let i = 0; i < BATCH; i++)
        assert.ok(
          ma.maps[i].every((v, j) => Math.abs(v - mb.maps[i][j]) < 1e-6),
          `map ${i}`,
        );
    } finally {
      await whole.close();
      await split.close();
    }
  });

  it('rejects a count that is not a positive whole number', async () => {
    await assert.rejects(
      ExplainSession.open(file, { provider: 'cpu', imagesPerRun: 0 }),
      (e: EngineError) => e.code === 'bad-option' && /positive whole number/.test(e.message),
    );
  });
});
