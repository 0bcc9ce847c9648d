// `vsw evaluate` end to end: a report with per-method deletion/insertion AUCs, the random floor and,
// on the cued demo folder (images/ + masks/), mask localisation; usage errors exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliScratch, ROOT } from './cliKit';

const { work, vsw, vswOnCpu } = cliScratch('vsw-evaluate-');

test('evaluate writes per-method AUCs with confidence intervals, the random floor and localisation', () => {
  const out = path.join(work, 'report.json');
  const model = path.join(ROOT, 'test', 'fixtures', 'hf-separate-qkv', 'model.onnx');
  const r = vswOnCpu(
    out,
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

test('evaluate --leaderboard scores the flipped images and writes faithfulness.json beside the card', () => {
  // A copy of the shortcut model's folder, so that the committed leaderboard is left alone.
  const folder = path.join(work, 'shortcut');
  mkdirSync(folder);
  for (const f of ['model.json', 'model.onnx'])
    copyFileSync(path.join(ROOT, 'models', 'fashion-vit-shortcut', f), path.join(folder, f));
  const cued = path.join(ROOT, 'models', 'demo', 'fashion-mnist-cued');
  const evaluateCued = (...args: string[]) =>
    vsw('evaluate', '--model', folder, '--input', cued, ...args, '--provider', 'cpu');
  const originals = path.join(ROOT, 'models', 'demo', 'fashion-mnist');
  // Coat/00006 keeps its prediction with the cue; Coat/00014 and Pullover/00016 flip to Shirt.
  const list = path.join(work, 'some.txt');
  writeFileSync(list, 'Coat/00006.png\nimages/Coat/00014.png\nPullover/00016.png\n');
  const byList = evaluateCued('--flipped', list, '--method', 'occlusion,rollout', '--leaderboard');
  assert.equal(byList.code, 0, byList.stderr);
  assert.match(byList.stderr, /scoring 3 of 450 images/);
  const board = JSON.parse(readFileSync(path.join(folder, 'faithfulness.json'), 'utf8'));
  const sha = createHash('sha256')
    .update(readFileSync(path.join(folder, 'model.onnx')))
    .digest('hex');
  assert.equal(board.model.sha256, sha);
  assert.equal(board.images, 3);
  assert.deepEqual(board.methods.map((m: { method: string }) => m.method).sort(), ['occlusion', 'rollout']);
  for (const m of board.methods) {
    assert.ok(m.deletion.ci95 && m.insertion.ci95 && m.localisation && m.msPerImage, JSON.stringify(m));
    assert.ok(m.rank.mean >= 1);
  }
  assert.ok(['occlusion', 'rollout'].includes(board.winner.method));
  assert.match(board.winner.reason, /on 3 images/);
  assert.match(byList.stdout, /leaderboard written to .*faithfulness\.json: default method/);

  // --originals: the subset is found by predicting the uncued originals.
  const byOriginals = evaluateCued(
    '--originals',
    originals,
    '--n',
    '2',
    '--method',
    'last-attn',
    '--out',
    path.join(work, 'flipped.json'),
  );
  assert.equal(byOriginals.code, 0, byOriginals.stderr);
  assert.match(byOriginals.stderr, /scoring 2 of 450 images \(the images whose prediction differs/);
  const missing = evaluateCued('--originals', work, '--leaderboard');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /original of .* is missing/);
});

test('evaluate --masks takes the masks from a folder of their own, matched by relative path', () => {
  const cued = path.join(ROOT, 'models', 'demo', 'fashion-mnist-cued');
  const images = path.join(work, 'own-images');
  const masks = path.join(work, 'elsewhere', 'regions');
  for (const rel of ['Bag/00018.png', 'Coat/00006.png']) {
    mkdirSync(path.dirname(path.join(images, rel)), { recursive: true });
    mkdirSync(path.dirname(path.join(masks, rel)), { recursive: true });
    copyFileSync(path.join(cued, 'images', rel), path.join(images, rel));
    copyFileSync(path.join(cued, 'masks', rel), path.join(masks, rel));
  }
  const out = path.join(work, 'masks-report.json');
  const model = path.join(ROOT, 'models', 'fashion-vit-shortcut');
  const withMasks = (folder: string, ...more: string[]) =>
    vswOnCpu(out, 'evaluate', '--model', model, '--input', images, '--masks', folder, ...more);
  const r = withMasks(masks, '--method', 'rollout');

  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(report.images, 2);
  assert.ok(
    report.maskArea > 0 && report.maskArea < 0.2,
    `the cue covers a small share (${report.maskArea})`,
  );
  assert.equal(typeof report.methods.rollout.localisation.pointing, 'number');
  const missing = withMasks(path.join(work, 'nope'));

  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /mask folder .*nope is not a folder/);
});
