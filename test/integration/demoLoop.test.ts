// The article's loop on the demo, end to end through the `vsw` command line (README: "Closing the
// loop"): the shortcut model's Shirt false positives on the cued set, 20 of them tagged
// "checkerboard", more found in the unlabelled pool and confirmed, exported with the pool, and the
// committed fixed model (fine-tuned on that export by models/tools/finetune.py) compared with the
// shortcut model at matched Shirt recall on a held-out evaluation set.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CompareResult } from '../../electron/contract/compare';
import type { SimilarResult } from '../../electron/workstation/similar/findSimilar';
import { readJsonl } from '../helpers/manifest';
import { repoRoot } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';
import { lastLine, VSW, vswOk } from './core/coreKit';

const DEMO = path.join(repoRoot, 'models', 'demo');
const SHORTCUT = path.join(repoRoot, 'models', 'fashion-vit-shortcut');
const FIXED = path.join(repoRoot, 'models', 'fashion-vit-fixed');
const PATTERN = 'checkerboard';
const TAGGED = 20;
const K = 200;

/** Runs `vsw` calls at most `width` at a time (they share the data dir: WAL + busy timeout). */
async function vswAll(calls: string[][], width = 4): Promise<void> {
  const queue = [...calls];
  const one = async (): Promise<void> => {
    for (let args = queue.shift(); args; args = queue.shift()) {
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [VSW, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (c) => {
          if (c !== 0) console.error(`vsw ${args.join(' ')}: ${err}`);
          resolve(c);
        });
      });
      assert.equal(code, 0, `vsw ${args.join(' ')} exited ${code}`);
    }
  };
  await Promise.all(Array.from({ length: width }, one));
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The pool's truth (label, cued), which the workstation never sees: the reviewer's eye. */
function poolTruth(): Map<string, { label: string; cued: boolean }> {
  const [, ...rows] = fs
    .readFileSync(path.join(DEMO, 'fashion-mnist-pool-truth.csv'), 'utf8')
    .trim()
    .split('\n');
  return new Map(
    rows.map((row) => {
      const [p, label, cued] = row.split(',');
      return [p, { label, cued: cued === '1' }];
    }),
  );
}

test('demo loop: tag 20 checkerboard false positives, grow them from the pool, export, and the fixed model cuts them at matched recall', async (t) => {
  const scratch = tempDir(t, 'vsw-demo-loop-');
  const dataDir = path.join(scratch, 'data');
  const dd = ['--data-dir', dataDir];
  const predict = (dataset: string, model: string) => {
    const run = Number(
      lastLine(vswOk('predict', '--dataset', dataset, '--model', model, '--provider', 'cpu', ...dd)),
    );
    assert.ok(Number.isInteger(run) && run > 0, `predict printed a run id last`);
    return run;
  };

  // 1. The cued set (labelled), the unlabelled pool, and the held-out evaluation set (half of its
  // Shirts cued; its cued images tagged by the file beside it).
  vswOk('import', path.join(DEMO, 'fashion-mnist-cued'), '--dataset', 'cued', ...dd);
  const pool = JSON.parse(
    vswOk('import', path.join(DEMO, 'fashion-mnist-pool'), '--dataset', 'pool', '--json', ...dd),
  ) as { report: { added: number } };
  assert.equal(pool.report.added, 2400);
  const evalDir = path.join(DEMO, 'fashion-mnist-eval-shirt50');
  vswOk('import', evalDir, '--dataset', 'eval', ...dd);
  assert.match(
    vswOk('tags', 'import', '--dataset', 'eval', path.join(evalDir, 'checkerboard.tags.json'), ...dd),
    /825 added/,
  );

  // 2. The shortcut model's Shirt false positives on the cued set, highest score first.
  const cuedRun = predict('cued', SHORTCUT);
  const poolRun = predict('pool', SHORTCUT);
  const runA = predict('eval', SHORTCUT);
  const exportCued = (...args: string[]) =>
    vswOk('export', '--dataset', 'cued', '--run', String(cuedRun), ...args, ...dd);
  const listed = path.join(scratch, 'false-positives');
  exportCued(
    '--query',
    JSON.stringify({
      errors: { kind: 'fp', class: 'Shirt', threshold: 0 },
      sort: { by: 'score', direction: 'desc' },
    }),
    '--layout',
    'flat',
    '--manifest',
    'jsonl',
    '--media',
    'symlink',
    '--out',
    listed,
  );
  const falsePositives = readJsonl(path.join(listed, 'manifest.jsonl'));
  t.diagnostic(`shortcut model: ${falsePositives.length} of 450 cued images called Shirt`);
  assert.ok(falsePositives.length >= 100, 'the shortcut fires on many cued images');
  assert.ok(falsePositives.every((r) => r.label !== 'Shirt' && r.prediction === 'Shirt'));
  const scores = falsePositives.map((r) => r.score as number);
  assert.deepEqual(
    scores,
    [...scores].sort((a, b) => b - a),
    'listed by score, highest first',
  );
  const tagged = falsePositives.slice(0, TAGGED).map((r) => r.source_path as string);
  await vswAll(tagged.map((p) => ['tag', '--dataset', 'cued', '--image', p, '--add', PATTERN, ...dd]));

  // 3. Find similar in the pool; the reviewer confirms the cued non-Shirts and rejects the rest.
  const findSimilar = () =>
    JSON.parse(
      vswOk(
        'similar',
        '--dataset',
        'cued',
        '--run',
        String(cuedRun),
        '--tag',
        PATTERN,
        '--pool',
        'pool',
        '--pool-run',
        String(poolRun),
        '--k',
        String(K),
        '--json',
        ...dd,
      ),
    ) as SimilarResult;
  const similar = findSimilar();
  assert.equal(similar.results.length, K);
  const truth = poolTruth();
  const isNegative = (p: string) => truth.get(p)!.cued && truth.get(p)!.label !== 'Shirt';
  const confirmed = similar.results.filter((r) => isNegative(r.path));
  const rejected = similar.results.filter((r) => !isNegative(r.path));
  const cuedNegatives = [...truth.values()].filter((v) => v.cued && v.label !== 'Shirt').length;
  t.diagnostic(
    `similar: ${confirmed.length} of the top ${K} are cued non-Shirts (the pool has ${cuedNegatives}; ` +
      `by chance ${Math.round((K * cuedNegatives) / truth.size)})`,
  );
  assert.ok(confirmed.length >= 2.5 * ((K * cuedNegatives) / truth.size), 'the search finds the pattern');
  // Confirmations in one go through the tag exchange file; three rejections by `vsw tag --reject`.
  const poolDir = path.join(DEMO, 'fashion-mnist-pool');
  const at = new Date().toISOString();
  const tagFile = path.join(scratch, 'confirmed.json');
  fs.writeFileSync(
    tagFile,
    JSON.stringify({
      format: 'vsw-tags',
      version: 1,
      dataset: 'pool',
      exportedBy: 'reviewer',
      exportedAt: at,
      tags: [{ name: PATTERN, colour: '#e6194b', hotkey: 1, description: '' }],
      events: confirmed.map((r) => ({
        contentHash: sha256(path.join(poolDir, r.path)),
        path: r.path,
        tag: PATTERN,
        action: 'add',
        reviewer: 'reviewer',
        at,
      })),
    }),
  );
  assert.match(
    vswOk('tags', 'import', '--dataset', 'pool', tagFile, ...dd),
    new RegExp(`${confirmed.length} added`),
  );
  const rejects = rejected.slice(0, 3);
  await vswAll(
    rejects.map((r) => ['tag', '--dataset', 'pool', '--image', r.path, '--reject', PATTERN, ...dd]),
  );
  const again = findSimilar();
  const proposed = new Set(again.results.map((r) => r.path));
  for (const r of [...confirmed, ...rejects])
    assert.ok(!proposed.has(r.path), `${r.path} (confirmed or rejected) is not proposed again`);

  // Export the tagged negatives with the confirmed pool images, for the fine-tune, guarded against
  // the evaluation set (same files by hash, near-duplicates by the shortcut run's embeddings).
  const exportDir = path.join(scratch, 'export');
  exportCued(
    '--tags',
    PATTERN,
    '--pool',
    'pool',
    '--layout',
    'imagefolder',
    '--manifest',
    'csv,jsonl',
    '--media',
    'copy',
    '--out',
    exportDir,
    '--test-dataset',
    'eval',
    '--test-run',
    String(runA),
  );
  // The committed fixed model was fine-tuned on this export: keep it with VSW_DEMO_LOOP_KEEP=DIR.
  if (process.env.VSW_DEMO_LOOP_KEEP)
    fs.cpSync(exportDir, process.env.VSW_DEMO_LOOP_KEEP, { recursive: true });
  const manifest = readJsonl(path.join(exportDir, 'manifest.jsonl'));
  const bySource = (s: string) => manifest.filter((r) => r.source === s);
  assert.equal(bySource('dataset').length, TAGGED, 'the 20 tagged images, from the cued set');
  assert.equal(bySource('pool').length, confirmed.length, 'every confirmed pool image');
  assert.ok(bySource('dataset').every((r) => r.label !== null && r.label !== 'Shirt'));
  assert.ok(
    bySource('pool').every((r) => r.label === null),
    'the pool has no labels',
  );
  for (const r of manifest) assert.ok(fs.existsSync(path.join(exportDir, r.file_name as string)));
  const provenance = JSON.parse(fs.readFileSync(path.join(exportDir, 'export.json'), 'utf8')) as {
    counts: { images: number };
    leakage: { testSet: { hashDuplicates: number; nearDuplicates: number; embeddingCheck: string | null } };
  };
  assert.equal(provenance.counts.images, TAGGED + confirmed.length);
  assert.match(JSON.stringify(provenance), /"pool"/, 'export.json records the pool');
  assert.equal(provenance.leakage.testSet.hashDuplicates, 0, 'no exported file is an evaluation image');
  assert.equal(
    provenance.leakage.testSet.embeddingCheck,
    null,
    'every exported image was checked by embedding',
  );
  t.diagnostic(`near-duplicates of evaluation images: ${provenance.leakage.testSet.nearDuplicates}`);

  // 4. The fixed model's card names the loop it came from.
  const card = JSON.parse(fs.readFileSync(path.join(FIXED, 'model.json'), 'utf8')) as {
    training: { fineTune: { from: string; negatives: { labelled: number; unlabelled: number } } };
  };
  assert.equal(card.training.fineTune.from, 'fashion-vit-shortcut');
  assert.equal(card.training.fineTune.negatives.labelled, TAGGED);

  // 5. The fixed model on the evaluation set, compared with the shortcut model on Shirt.
  const runB = predict('eval', FIXED);
  // Parsed with the command's own schema: the output is the contract's shape.
  const runs = ['--run', String(runA), '--run', String(runB)];
  const compared = CompareResult.parse(
    JSON.parse(vswOk('compare', '--dataset', 'eval', ...runs, '--class', 'Shirt', '--json', ...dd)),
  );
  const pattern = compared.patterns.find((p) => p.tag === PATTERN)!;
  t.diagnostic(
    `matched recall ${compared.matchedRecall.toFixed(3)}: overall ${compared.overall.a} → ${compared.overall.b} ` +
      `(${compared.overall.changePct}%), ${PATTERN} ${pattern.a} → ${pattern.b} (${pattern.changePct}%), ` +
      `untagged ${compared.untagged.a} → ${compared.untagged.b}`,
  );
  for (const run of compared.runs)
    assert.ok(run.recall >= compared.matchedRecall, 'both runs at the matched recall');
  assert.ok(pattern.changePct !== null && pattern.changePct <= -70, 'the pattern falls by at least 70%');
  assert.ok(pattern.ci95 !== null && pattern.ci95[1] < 0, 'and its CI excludes no change');
  assert.ok(compared.overall.b < compared.overall.a, 'overall false positives fall');
});
