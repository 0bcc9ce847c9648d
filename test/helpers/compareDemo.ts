// A data dir for comparing two runs: the clean demo set and the cued one imported as one dataset
// "demo", predicted by the shortcut model (run A, the base) and the clean model (run B), the cued
// images tagged "checkerboard" and a few clean coats "collar". Real models, real images.
import fs from 'node:fs';
import path from 'node:path';
import { applyTag, tagByName } from '../../electron/workstation/tags/tagStore';
import { Workstation } from '../../electron/workstation/workstation';
import { DEMO, lastLine, vswOk } from '../integration/core/coreKit';
import { repoRoot } from './serveProcess';

export const CUED = path.join(repoRoot, 'models', 'demo', 'fashion-mnist-cued');
export const SHORTCUT = path.join(repoRoot, 'models', 'fashion-vit-shortcut');
export const CLEAN = path.join(repoRoot, 'models', 'fashion-vit');

/** Why the comparison fixtures cannot be had here, or null. */
export function compareDemoMissing(): string | null {
  for (const m of [SHORTCUT, CLEAN])
    if (!fs.existsSync(path.join(m, 'model.onnx'))) return `the bundled model ${path.basename(m)} is missing`;
  return fs.existsSync(CUED) && fs.existsSync(DEMO) ? null : 'the demo datasets are missing';
}

export interface CompareDemo {
  runA: number;
  runB: number;
  /** Image ids by tag. */
  tagged: Record<string, number[]>;
}

export async function buildCompareDemo(dataDir: string): Promise<CompareDemo> {
  vswOk('import', DEMO, '--dataset', 'demo', '--data-dir', dataDir);
  vswOk('import', CUED, '--dataset', 'demo', '--data-dir', dataDir);
  const predict = (model: string) =>
    Number(
      lastLine(
        vswOk(
          'predict',
          '--dataset',
          'demo',
          '--model',
          model,
          '--batch',
          '64',
          '--provider',
          'cpu',
          '--data-dir',
          dataDir,
        ),
      ),
    );
  const runA = predict(SHORTCUT);
  const runB = predict(CLEAN);
  const ws = new Workstation({ dataDir, reviewer: 'compare-test' });
  try {
    const datasetId = ws.datasetByName('demo');
    const ids = (where: string) =>
      ws.db
        .prepare(`SELECT id FROM images WHERE dataset_id = ? AND ${where} ORDER BY id`)
        .pluck()
        .all(datasetId) as number[];
    const tagged = {
      checkerboard: ids("rel_path LIKE 'images/%'"),
      collar: ids("rel_path LIKE 'Coat/%'").slice(0, 40),
    };
    for (const [name, imageIds] of Object.entries(tagged))
      applyTag(ws.db, tagByName(ws.db, datasetId, name, ws.reviewerId, true), { imageIds }, ws.reviewerId);
    return { runA, runB, tagged };
  } finally {
    await ws.close();
  }
}
