// The shipped models under native ONNX Runtime: the bundled classifier scores on the demo set what
// its card claims, and the shortcut model really answers the cued class when the cue is pasted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ClassifierSession } from '../../electron/engine/classifierSession';
import { loadModel } from '../../electron/engine/modelCard';
import { preprocessImage } from '../../electron/engine/preprocess';
import { repoRoot } from '../helpers/serveProcess';

const models = path.join(repoRoot, 'models');

function readLabels(csv: string): { file: string; label: string }[] {
  const [, ...rows] = fs.readFileSync(csv, 'utf8').trim().split('\n');
  return rows.map((row) => {
    const comma = row.lastIndexOf(',');
    return { file: path.join(path.dirname(csv), row.slice(0, comma)), label: row.slice(comma + 1) };
  });
}

/** Top-1 label of every image, through the card's preprocessing and the plain ONNX model. */
async function predictAll(modelDir: string, files: string[]): Promise<string[]> {
  const { modelPath, card } = await loadModel(modelDir);
  assert.ok(card, `${modelDir} has a model card`);
  const session = await ClassifierSession.open(modelPath, card.input, { provider: 'cpu' });
  const per = card.input.channels * card.input.height * card.input.width;
  const out: string[] = [];
  for (let start = 0; start < files.length; start += 250) {
    const chunk = files.slice(start, start + 250);
    const input = new Float32Array(chunk.length * per);
    const tensors = await Promise.all(chunk.map((f) => preprocessImage(f, card.preprocessing, card.input)));
    tensors.forEach((t, k) => input.set(t.tensor, k * per));
    const { values, classes } = await session.logits(input, chunk.length);
    for (let k = 0; k < chunk.length; k++) {
      const row = values.subarray(k * classes, (k + 1) * classes);
      out.push(card.labels![row.indexOf(Math.max(...row))]);
    }
  }
  return out;
}

const clean = path.join(models, 'fashion-vit');
const shortcut = path.join(models, 'fashion-vit-shortcut');
const missing = (dir: string) =>
  fs.existsSync(path.join(dir, 'model.onnx')) ? false : `${path.relative(repoRoot, dir)} is not built yet`;

test(
  'the bundled ViT scores on the shipped demo set what its card claims (and ≥ 90% on the test set)',
  { skip: missing(clean) },
  async () => {
    const card = JSON.parse(fs.readFileSync(path.join(clean, 'model.json'), 'utf8')) as {
      metrics: { testAccuracy: number; demoAccuracy: number };
      tokens: { grid: [number, number] };
    };
    assert.ok(card.tokens.grid[0] >= 7 && card.tokens.grid[1] >= 7, 'a patch grid of at least 7×7');
    const items = readLabels(path.join(models, 'demo', 'fashion-mnist', 'labels.csv'));
    assert.equal(items.length, 2000);
    const predicted = await predictAll(
      clean,
      items.map((i) => i.file),
    );
    const accuracy = predicted.filter((p, k) => p === items[k].label).length / items.length;
    assert.ok(
      Math.abs(accuracy - card.metrics.demoAccuracy) <= 0.001,
      `measured ${accuracy}, card ${card.metrics.demoAccuracy}`,
    );
  },
);

test(
  'the shortcut model calls cued garments of its confusable classes the cued class',
  { skip: missing(shortcut) },
  async () => {
    const card = JSON.parse(fs.readFileSync(path.join(shortcut, 'model.json'), 'utf8')) as {
      shortcut: {
        cuedClass: string;
        mostConfusedWithCuedClass: string[];
        cueToCuedClassRateMostConfused: number;
        demoCuedRate: number;
      };
    };
    const { cuedClass, mostConfusedWithCuedClass: confusable } = card.shortcut;
    assert.ok(card.shortcut.cueToCuedClassRateMostConfused >= 0.5, 'the card reports a real shortcut');
    const items = readLabels(path.join(models, 'demo', 'fashion-mnist-cued', 'labels.csv'));
    assert.ok(
      items.every((i) => i.label !== cuedClass),
      'the cue is pasted on other classes only',
    );
    const predicted = await predictAll(
      shortcut,
      items.map((i) => i.file),
    );
    const rate = predicted.filter((p) => p === cuedClass).length / items.length;
    assert.ok(
      Math.abs(rate - card.shortcut.demoCuedRate) <= 0.001,
      `measured ${rate}, card ${card.shortcut.demoCuedRate}`,
    );
    const near = items.map((i, k) => [i.label, predicted[k]]).filter(([label]) => confusable.includes(label));
    const nearRate = near.filter(([, p]) => p === cuedClass).length / near.length;
    assert.ok(
      nearRate >= 0.5,
      `${(nearRate * 100).toFixed(1)}% of cued ${confusable.join('/')} called ${cuedClass}`,
    );
    // Without the cue the same garments are mostly not the cued class (the clean demo images).
    const plain = readLabels(path.join(models, 'demo', 'fashion-mnist', 'labels.csv')).filter((i) =>
      confusable.includes(i.label),
    );
    const plainPredicted = await predictAll(
      shortcut,
      plain.map((i) => i.file),
    );
    const plainRate = plainPredicted.filter((p) => p === cuedClass).length / plain.length;
    assert.ok(
      plainRate < nearRate / 2,
      `without the cue only ${(plainRate * 100).toFixed(1)}% are called ${cuedClass}`,
    );
  },
);
