// `vsw explain` end to end on real ONNX Runtime sessions: the JSON contract, --dump-blocks, PNG and
// folder outputs, and exit codes 2 (usage) and 1 (failure) with the reason on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { cliScratch, ROOT } from './cliKit';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'timm-fused-qkv');
const { work, vsw, vswOnCpu } = cliScratch('vsw-explain-');
/** `vsw explain --model <the fixture> --input <input> ...extra`, on the CPU, into `out`. */
const explain = (out: string, input: string, ...extra: string[]) =>
  vswOnCpu(out, 'explain', '--model', path.join(FIXTURE, 'model.onnx'), '--input', input, ...extra);

interface Reference {
  logits: number[];
  grid: [number, number];
  prefixTokens: number;
  numBlocks: number;
  numHeads: number;
  targets: Record<
    string,
    {
      index: number;
      blocks: { clsAttention: number[][]; clsGradient: number[][] }[];
      maps: Record<string, number[]>;
    }
  >;
}
const ref = JSON.parse(readFileSync(path.join(FIXTURE, 'reference.json'), 'utf8')) as Reference;

test('explain .npy → JSON with exactly the contract fields; all four maps and the dumped attention match PyTorch', () => {
  const out = path.join(work, 'one.json');
  const r = explain(
    out,
    path.join(FIXTURE, 'input.npy'),
    '--method',
    'all',
    '--target',
    'top2',
    '--dump-blocks',
  );
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(
    Object.keys(json).sort(),
    [
      'blocks',
      'grid',
      'logits',
      'maps',
      'options',
      'prefixTokens',
      'probabilities',
      'provider',
      'schemaVersion',
      'target',
    ].sort(),
  );
  assert.equal(json.schemaVersion, 1);
  assert.equal(json.provider, 'cpu');
  assert.equal(json.target, ref.targets.top2.index);
  assert.deepEqual(json.grid, ref.grid);
  assert.equal(json.prefixTokens, ref.prefixTokens);
  assert.deepEqual(json.options, {
    epsilon: 0.01,
    epsilonMode: 'relative',
    blocks: [0, ref.numBlocks - 1],
    negatives: 'shift',
  });
  json.logits.forEach((v: number, i: number) => assert.ok(Math.abs(v - ref.logits[i]) < 1e-4));
  assert.ok(Math.abs(json.probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-9);
  assert.deepEqual(Object.keys(json.maps).sort(), [
    'attn-grad-product',
    'grad-rollout',
    'last-attn',
    'rollout',
  ]);
  for (const m of ['attn-grad-product', 'rollout', 'grad-rollout', 'last-attn']) {
    json.maps[m].forEach((v: number, i: number) =>
      assert.ok(Math.abs(v - ref.targets.top2.maps[m][i]) <= 1e-4, `${m}[${i}]`),
    );
  }
  assert.equal(json.blocks.length, ref.numBlocks);
  for (const [b, block] of json.blocks.entries()) {
    assert.equal(block.clsAttention.length, ref.numHeads);
    assert.equal(block.clsGradient.length, ref.numHeads);
    for (const key of ['clsAttention', 'clsGradient'] as const) {
      const want = ref.targets.top2.blocks[b][key].flat();
      const got = (block[key] as number[][]).flat();
      const err = Math.hypot(...got.map((v, i) => v - want[i])) / Math.hypot(...want);
      assert.ok(err < 1e-4, `block ${b} ${key} rel err ${err}`);
    }
  }
});

test('explain image → PNG overlays per method; a bare .onnx needs --mean/--std/--size', async () => {
  const img = path.join(work, 'pic.png');
  await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 90, g: 160, b: 30 } } })
    .png()
    .toFile(img);
  const bare = explain(path.join(work, 'pic.png.json'), img);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /needs --mean, --std and --size/);
  const out = path.join(work, 'pic-out.png');
  const r = explain(
    out,
    img,
    '--mean',
    '0.5,0.5,0.5',
    '--std',
    '0.5',
    '--size',
    '32x32',
    '--method',
    'rollout,last-attn',
  );
  assert.equal(r.code, 0, r.stderr);
  for (const m of ['rollout', 'last-attn']) {
    const meta = await sharp(path.join(work, `pic-out.${m}.png`)).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual([meta.width, meta.height], [240, 240]); // 40 px picture enlarged ×6
  }
});

test('explain one image --out x.jpg writes a JPEG overlay; another image extension is refused with exit 2', async () => {
  const img = path.join(work, 'jpeg-in.png');
  await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 200, g: 60, b: 30 } } })
    .png()
    .toFile(img);
  const spec = ['--mean', '0.5', '--std', '0.5', '--size', '32x32', '--method', 'last-attn'];
  const out = path.join(work, 'overlay.jpg');
  const r = explain(out, img, ...spec);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(statSync(out).isFile(), 'a file, not a folder named overlay.jpg');
  const meta = await sharp(out).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.deepEqual([meta.width, meta.height], [240, 240]);
  const webp = path.join(work, 'overlay.webp');
  const refused = explain(webp, img, ...spec);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /overlays are written as \.png or \.jpg/);
  assert.equal(existsSync(webp), false, 'nothing is created');
});

test('explain folder → per-image JSON and PNG at the relative path', async () => {
  const input = path.join(work, 'folder');
  mkdirSync(path.join(input, 'cats'), { recursive: true });
  copyFileSync(path.join(FIXTURE, 'input.npy'), path.join(input, 'cats', 'a.npy'));
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 10, g: 20, b: 30 } } })
    .png()
    .toFile(path.join(input, 'b.png'));
  const out = path.join(work, 'folder-out');
  const r = explain(out, input, '--mean', '0.5', '--std', '0.5', '--size', '32x32', '--method', 'last-attn');
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['cats/a.json', 'cats/a.last-attn.png', 'b.json', 'b.last-attn.png'])
    assert.ok(existsSync(path.join(out, f)), f);
  const bad = explain(path.join(work, 'x.json'), input);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--out must be a folder/);
});

test('usage errors exit 2, failures exit 1, with the reason on stderr', () => {
  const model = path.join(FIXTURE, 'model.onnx');
  const npy = path.join(FIXTURE, 'input.npy');
  const range = explain(path.join(work, 'r.json'), npy, '--target', '99');
  assert.equal(range.code, 2);
  assert.match(range.stderr, /Target class 99 is out of range: the model has 5 classes/);
  const missing = vsw('explain', '--input', npy, '--out', path.join(work, 'm.json'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--model/);
  const method = vsw(
    'explain',
    '--model',
    model,
    '--input',
    npy,
    '--method',
    'lrp',
    '--out',
    path.join(work, 'l.json'),
  );
  assert.equal(method.code, 2);
  assert.match(method.stderr, /--method must be one of/);
  const corrupt = path.join(work, 'corrupt.onnx');
  writeFileSync(corrupt, Buffer.from('this is not a protobuf model at all'));
  const c = vswOnCpu(path.join(work, 'c.json'), 'explain', '--model', corrupt, '--input', npy);
  assert.equal(c.code, 1);
  assert.ok(c.stderr.trim().length > 0);
  const other = path.join(ROOT, 'test', 'fixtures', 'hf-separate-qkv', 'model.onnx');
  const shape = vswOnCpu(path.join(work, 's.json'), 'explain', '--model', other, '--input', npy);
  assert.equal(shape.code, 1);
  assert.match(
    shape.stderr,
    /has shape \(1, 3, 32, 32\); the model needs a preprocessed tensor of shape \(1, 3, 24, 24\)/,
  );
});
