// The folder pipeline's worker pool: inputs loaded in workers equal loadInput's, overlays drawn
// there equal renderOverlay's, outputs are written with their folders, and a bad item fails alone
// while the rest of its batch goes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderOverlay } from '../../../electron/engine/heatmap';
import { ImageWorkerPool } from '../../../electron/engine/imageWorkerPool';
import { loadInput } from '../../../electron/engine/inputLoader';
import { loadModel } from '../../../electron/engine/modelCard';
import { identityGeometry } from '../../../electron/engine/preprocess';

const ROOT = path.join(__dirname, '..', '..', '..');
const DEMO = path.join(ROOT, 'models', 'demo', 'fashion-mnist', 'Coat');
const files = fs
  .readdirSync(DEMO)
  .filter((f) => f.endsWith('.png'))
  .slice(0, 6)
  .map((f) => path.join(DEMO, f));

test('loads in the workers equal loadInput, and an unreadable file fails alone', async () => {
  const { card } = await loadModel(path.join(ROOT, 'models', 'fashion-vit'));
  const model = { channels: 1, height: 28, width: 28 };
  const pool = new ImageWorkerPool(2);
  try {
    const missing = path.join(DEMO, 'missing.png');
    const loaded = await pool.loadInputs([...files, missing], card!.preprocessing, model);
    assert.equal(loaded.length, files.length + 1);
    for (const [i, file] of files.entries()) {
      const direct = await loadInput(file, card!.preprocessing, model);
      assert.deepEqual(loaded[i], direct, path.basename(file));
    }
    const failure = loaded[files.length];
    assert.ok(failure instanceof Error && /missing\.png/.test(failure.message), String(failure));
  } finally {
    await pool.close();
  }
});

test('overlays and reports written by the workers; a bad picture fails its image only', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-pool-'));
  const pool = new ImageWorkerPool(2);
  try {
    const geometry = identityGeometry(28, 28);
    const drawing = (file: string, i: number) => ({
      base: { file },
      map: Float32Array.from({ length: 49 }, (_, k) => Math.cos(k * (i + 1))),
      grid: [7, 7] as [number, number],
      geometry,
      options: { colormap: 'viridis' as const },
    });
    const images = [...files, path.join(DEMO, 'missing.png')].map((file, i) => ({
      text: { file: path.join(out, `nested/${i}/report.json`), text: `{"image":${i}}` },
      overlays: [{ file: path.join(out, `nested/${i}/overlay.png`), ...drawing(file, i) }],
    }));
    const results = await pool.writeOutputs(images);
    assert.deepEqual(
      results.slice(0, files.length),
      files.map(() => null),
    );
    assert.match(String(results[files.length]?.message), /Cannot render the picture under the heatmap/);
    for (const [i, file] of files.entries()) {
      assert.equal(fs.readFileSync(path.join(out, `nested/${i}/report.json`), 'utf8'), `{"image":${i}}`);
      const { base, map, grid, options } = drawing(file, i);
      const direct = await renderOverlay(base, map, grid, geometry, options);
      assert.ok(fs.readFileSync(path.join(out, `nested/${i}/overlay.png`)).equals(direct), `overlay ${i}`);
    }
    // The failed image's overlay came first, so nothing of it was written.
    assert.ok(!fs.existsSync(path.join(out, `nested/${files.length}`)));
    const png = await pool.render(drawing(files[0], 0));
    assert.ok(png.equals(fs.readFileSync(path.join(out, 'nested/0/overlay.png'))));
  } finally {
    await pool.close();
    fs.rmSync(out, { recursive: true, force: true });
  }
  await assert.rejects(pool.loadInputs(files, null, { channels: 1, height: 28, width: 28 }), /closed/);
});
