// All four methods on real ONNX Runtime sessions: ExplainSession's attention and gradients for every
// PyTorch fixture style, fed to computeMap, must give the fixtures' maps within 1e-4 (top-1 and
// top-2 targets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ExplainSession } from '../../../electron/engine/explainSession';
import { computeMap, METHOD_NAMES } from '../../../electron/engine/methods';
import { parseNpy } from '../../../electron/engine/npy';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');

interface Reference {
  prefixTokens: number;
  grid: [number, number];
  targets: Record<string, { index: number; maps: Record<string, number[]> }>;
}

// Fixtures with one attention matrix per block (windowed models are read through their terms).
const refOf = (style: string) =>
  JSON.parse(readFileSync(path.join(FIXTURES, style, 'reference.json'), 'utf8')) as {
    windowed?: boolean;
    targets: Record<string, { blocks: { clsAttention?: unknown }[] }>;
  };
const styles = existsSync(FIXTURES)
  ? readdirSync(FIXTURES).filter(
      (s) => existsSync(path.join(FIXTURES, s, 'reference.json')) && !refOf(s).windowed,
    )
  : [];

for (const style of styles) {
  test(`${style}: every method's map from ExplainSession matches PyTorch within 1e-4`, async () => {
    const dir = path.join(FIXTURES, style);
    const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
    const { data } = parseNpy(readFileSync(path.join(dir, 'input.npy')));
    const session = await ExplainSession.open(path.join(dir, 'model.onnx'), { provider: 'cpu' });
    try {
      assert.equal(session.info.prefixTokens, ref.prefixTokens);
      assert.deepEqual(session.info.grid, ref.grid);
      const names = Object.keys(ref.targets);
      // one batched run explains the top-1 and the top-2 class of the same image
      const input = new Float32Array(data.length * names.length);
      names.forEach((_, i) => input.set(data, i * data.length));
      const { perImage } = await session.explain(
        input,
        names.length,
        names.map((n) => ref.targets[n].index),
      );
      const worst: string[] = [];
      names.forEach((name, i) => {
        for (const method of METHOD_NAMES) {
          const map = computeMap(method, perImage[i], session.info.prefixTokens);
          const expected = ref.targets[name].maps[method];
          assert.equal(map.length, expected.length);
          let d = 0;
          for (let j = 0; j < map.length; j++) d = Math.max(d, Math.abs(map[j] - expected[j]));
          worst.push(`${name}/${method}: ${d.toExponential(2)}`);
          assert.ok(d <= 1e-4, `${style} ${name} ${method}: max abs diff ${d}`);
        }
      });
      if (process.env.VSW_TEST_VERBOSE) console.log(style, worst.join(', '));
    } finally {
      await session.close();
    }
  });
}
