// saliency(…, 'top1', …): the target is each image's arg-max logit found inside the same run; the
// maps must equal those for explicitly given top-1 targets, for dynamic- and fixed-batch exports.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { METHOD_NAMES } from '../../../electron/engine/methods';
import { writeModelFile } from '../../../electron/engine/onnx/modelFile';
import { buildTinyVit, randomArray, rng } from './graphTestKit';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-top1-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const IMAGE = 64;
const BATCH = 5;

function argMaxRows(logits: Float32Array, classes: number): number[] {
  return Array.from({ length: logits.length / classes }, (_, i) => {
    const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
    return row.indexOf(Math.max(...row));
  });
}

describe("saliency with targets 'top1'", () => {
  for (const fixedBatch of [false, true]) {
    it(`equals the maps for the predicted classes (fixedBatch=${fixedBatch})`, async () => {
      const file = path.join(tmp, `fixed-${fixedBatch}`, 'model.onnx');
      writeModelFile(buildTinyVit({ fixedBatch }), file);
      const session = await ExplainSession.open(file, { provider: 'cpu', cacheDir: path.join(tmp, 'cache') });
      try {
        const xs = randomArray(BATCH * IMAGE, rng(1));
        const predicted = argMaxRows(await session.predict(xs, BATCH), session.info.numClasses);
        assert.ok(new Set(predicted).size > 1, 'the test images should not all predict one class');
        for (const method of METHOD_NAMES) {
          const given = await session.saliency(xs, BATCH, predicted, method);
          const top1 = await session.saliency(xs, BATCH, 'top1', method);
          assert.deepEqual(top1.targets, predicted, method);
          for (let i = 0; i < BATCH; i++)
            assert.ok(
              top1.maps[i].every((v, k) => Math.abs(v - given.maps[i][k]) < 1e-6),
              `${method}, image ${i}`,
            );
        }
      } finally {
        await session.close();
      }
    });
  }
});
