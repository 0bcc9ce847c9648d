// `vsw explain` over a folder runs batched and pipelined: the batched reports equal the per-image
// ones (one image per run) for every method and target kind, --no-overlay writes JSON only, and an
// unreadable image is reported without stopping the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { ExplainReport } from '../../../electron/engine/explainReport';
import { cliScratch, ROOT } from './cliKit';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'timm-fused-qkv');
const { work, vswOnCpu } = cliScratch('vsw-explain-folder-');
const explain = (out: string, input: string, ...extra: string[]) =>
  vswOnCpu(out, 'explain', '--model', path.join(FIXTURE, 'model.onnx'), '--input', input, ...extra);

/** A folder of n small pictures of different colours (and different predictions). */
async function pictures(name: string, n: number): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++)
    await sharp({
      create: {
        width: 32,
        height: 32,
        channels: 3,
        background: { r: (i * 53) % 256, g: (i * 97) % 256, b: (i * 31) % 256 },
      },
    })
      .png()
      .toFile(path.join(dir, `p${i}.png`));
  return dir;
}

const PRE = ['--mean', '0.5', '--std', '0.5', '--size', '32x32'];

function reports(dir: string): Map<string, ExplainReport> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f, JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as ExplainReport]),
  );
}

for (const target of ['top1', 'top2', '3']) {
  test(`batched folder reports equal the per-image path (target ${target}, every method)`, async () => {
    const input = await pictures(`in-${target}`, 7);
    const batched = path.join(work, `batched-${target}`);
    const single = path.join(work, `single-${target}`);
    const args = [...PRE, '--method', 'all', '--target', target, '--no-overlay'];
    const a = explain(batched, input, ...args, '--batch', '3');
    assert.equal(a.code, 0, a.stderr);
    // --dump-blocks takes the per-image explain graph and computes the maps in JS.
    const b = explain(single, input, ...args, '--dump-blocks');
    assert.equal(b.code, 0, b.stderr);
    const [ra, rb] = [reports(batched), reports(single)];
    assert.equal(ra.size, 7);
    for (const [name, x] of ra) {
      const y = rb.get(name)!;
      assert.equal(x.target, y.target, name);
      x.logits.forEach((v, i) => assert.ok(Math.abs(v - y.logits[i]) < 1e-4, `${name} logit ${i}`));
      for (const [method, map] of Object.entries(x.maps)) {
        const other = y.maps[method as keyof typeof y.maps]!;
        const d = Math.max(...map.map((v, i) => Math.abs(v - other[i])));
        assert.ok(d <= 1e-4, `${name} ${method}: maps differ by ${d}`);
      }
      assert.equal(x.blocks, undefined);
    }
  });
}

test('--no-overlay writes JSON only; overlays otherwise; a bad image is listed, the rest written', async () => {
  const input = await pictures('mixed', 5);
  writeFileSync(path.join(input, 'broken.png'), 'not a png');
  copyFileSync(path.join(FIXTURE, 'input.npy'), path.join(input, 'tensor.npy'));
  const jsonOnly = path.join(work, 'json-only');
  const r = explain(jsonOnly, input, ...PRE, '--no-overlay', '--batch', '2');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /1 input\(s\) failed:\nbroken\.png: /);
  assert.deepEqual(readdirSync(jsonOnly).sort(), [
    'p0.json',
    'p1.json',
    'p2.json',
    'p3.json',
    'p4.json',
    'tensor.json',
  ]);
  const full = path.join(work, 'full');
  const f = explain(full, input, ...PRE, '--batch', '4');
  assert.equal(f.code, 1, f.stderr);
  assert.match(f.stderr, /1 input\(s\) failed:\nbroken\.png: /);
  const names = ['p0', 'p1', 'p2', 'p3', 'p4', 'tensor'];
  assert.deepEqual(
    readdirSync(full).sort(),
    names.flatMap((n) => [`${n}.attn-grad-product.png`, `${n}.json`]).sort(),
  );
  assert.equal((await sharp(path.join(full, 'p4.attn-grad-product.png')).metadata()).format, 'png');
  // The folder's overlays come from the worker pool, drawn on the pixels decoded for the model;
  // one image on its own is drawn from its file on the main thread: the same pixels.
  const one = path.join(work, 'one', 'p3.png');
  const o = explain(one, path.join(input, 'p3.png'), ...PRE);
  assert.equal(o.code, 0, o.stderr);
  const [a, b] = await Promise.all(
    [one, path.join(full, 'p3.attn-grad-product.png')].map((x) => sharp(x).raw().toBuffer()),
  );
  // Maps from a batch of four and from one image differ in float rounding, which can move a
  // pixel to the next colour-map entry (a few levels at the opacity): only a few pixels may.
  assert.equal(a.length, b.length);
  let worst = 0;
  let moved = 0;
  a.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - b[i]));
    if (v !== b[i]) moved++;
  });
  assert.ok(worst <= 4 && moved < a.length / 100, `overlays differ: ${moved} values, by up to ${worst}`);
});
