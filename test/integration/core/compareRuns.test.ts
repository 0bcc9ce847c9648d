// `vsw compare` on real runs (the shortcut model, then the clean one, over the clean and cued demo
// sets in one dataset) against an independent count from the stored probability vectors: the
// matched recall, each threshold being the largest that reaches it, false positives overall, per
// tag and untagged; the bootstrap's seeding; and every refusal, with exit code 2 and its message.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { CompareResult } from '../../../electron/contract/compare';
import { decodeFloat16 } from '../../../electron/workstation/store/float16';
import { buildCompareDemo, CLEAN, compareDemoMissing, SHORTCUT } from '../../helpers/compareDemo';
import { tempDir } from '../../helpers/tempDir';
import { DEMO, lastLine, peek, vsw, vswOk } from './coreKit';

const skip = compareDemoMissing();
if (skip) console.log(`# skipping the compare integration test: ${skip}`);

interface Scored {
  id: number;
  relPath: string;
  positive: boolean;
  p: number;
  argmaxIsC: boolean;
}

/** Each image's p(Shirt) and arg-max under one run, decoded here from the stored BLOBs. */
function scored(dataDir: string, runId: number): Scored[] {
  const db = peek(dataDir);
  try {
    const labels = JSON.parse(
      db.prepare('SELECT labels FROM runs WHERE id = ?').pluck().get(runId) as string,
    ) as string[];
    const c = labels.indexOf('Shirt');
    const rows = db
      .prepare(
        `SELECT i.id, i.rel_path AS relPath, i.label, p.probs FROM predictions p JOIN images i ON i.id = p.image_id
         WHERE p.run_id = ? ORDER BY i.id`,
      )
      .all(runId) as { id: number; relPath: string; label: string; probs: Buffer }[];
    return rows.map((r) => {
      const probs = decodeFloat16(r.probs);
      const max = Math.max(...probs);
      return {
        id: r.id,
        relPath: r.relPath,
        positive: r.label === 'Shirt',
        p: probs[c],
        argmaxIsC: probs[c] === max,
      };
    });
  } finally {
    db.close();
  }
}

const recallAt = (images: Scored[], t: number) =>
  images.filter((x) => x.positive && x.p >= t).length / images.filter((x) => x.positive).length;

const fpAt = (images: Scored[], t: number, ids?: Set<number>) =>
  images.filter((x) => !x.positive && x.p >= t && (!ids || ids.has(x.id))).length;

/** The run reaches the recall at t, and at the next higher positive score it no longer would. */
function assertLargestThreshold(images: Scored[], t: number, recall: number, what: string): void {
  assert.ok(
    recallAt(images, t) >= recall - 1e-12,
    `${what}: recall ${recallAt(images, t)} at ${t} reaches ${recall}`,
  );
  const above = images.filter((x) => x.positive && x.p > t).map((x) => x.p);
  if (above.length) {
    const next = Math.min(...above);
    assert.ok(recallAt(images, next) < recall, `${what}: ${next} > ${t} would reach it too`);
  }
}

function compare(dataDir: string, ...args: string[]): CompareResult {
  return JSON.parse(
    vswOk('compare', '--dataset', 'demo', '--class', 'Shirt', '--json', '--data-dir', dataDir, ...args),
  ) as CompareResult;
}

function refused(dataDir: string, pattern: RegExp, ...args: string[]): string {
  const r = vsw('compare', '--dataset', 'demo', '--data-dir', dataDir, ...args);
  assert.equal(r.code, 2, `exit 2 for ${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  return r.stderr;
}

test(
  'vsw compare: matched recall, false positives per tag and untagged, against an independent count',
  { skip: skip ?? false, timeout: 240_000 },
  async (t) => {
    const scratch = tempDir(t, 'vsw-compare-');
    const dataDir = path.join(scratch, 'data');
    const { runA, runB, tagged } = await buildCompareDemo(dataDir);
    const a = scored(dataDir, runA);
    const b = scored(dataDir, runB);
    assert.equal(a.length, 2450);
    const runArgs = ['--run', String(runA), '--run', String(runB)];

    const result = compare(dataDir, ...runArgs);
    const positives = a.filter((x) => x.positive);
    const argmaxRecall = positives.filter((x) => x.argmaxIsC).length / positives.length;
    assert.equal(result.dataset, 'demo');
    assert.equal(result.class, 'Shirt');
    assert.equal(result.images, 2450);
    assert.equal(result.positives, 200);
    assert.equal(result.recallFrom, 'argmax');
    assert.equal(result.matchedRecall, argmaxRecall);
    assert.deepEqual(
      result.runs.map((r) => [r.id, r.model]),
      [
        [runA, path.basename(SHORTCUT)],
        [runB, path.basename(CLEAN)],
      ],
    );
    [a, b].forEach((images, k) => {
      const run = result.runs[k];
      assertLargestThreshold(images, run.threshold, result.matchedRecall, `run ${run.id}`);
      assert.equal(run.recall, recallAt(images, run.threshold));
      assert.equal(run.falsePositives, fpAt(images, run.threshold));
      const tp = Math.round(run.recall * 200);
      assert.equal(run.precision, tp / (tp + run.falsePositives));
    });
    const [tA, tB] = result.runs.map((r) => r.threshold);
    assert.deepEqual([result.overall.a, result.overall.b], [fpAt(a, tA), fpAt(b, tB)]);
    assert.equal(result.overall.changePct, (100 * (result.overall.b - result.overall.a)) / result.overall.a);

    // Per tag, and the images with no tag at all.
    assert.deepEqual(
      result.patterns.map((p) => [p.tag, p.images]),
      [
        ['checkerboard', 450],
        ['collar', 40],
      ],
    );
    for (const p of result.patterns) {
      const ids = new Set(tagged[p.tag]);
      assert.deepEqual([p.a, p.b], [fpAt(a, tA, ids), fpAt(b, tB, ids)], p.tag);
    }
    const anyTag = new Set(Object.values(tagged).flat());
    const untagged = new Set(a.filter((x) => !anyTag.has(x.id)).map((x) => x.id));
    assert.equal(result.untagged.images, untagged.size);
    assert.deepEqual([result.untagged.a, result.untagged.b], [fpAt(a, tA, untagged), fpAt(b, tB, untagged)]);
    // The shortcut model calls cued non-Shirts Shirt; the clean one hardly ever.
    const checker = result.patterns[0];
    assert.ok(checker.a > 20 && checker.changePct! < -70, `checkerboard: ${JSON.stringify(checker)}`);
    for (const c of [result.overall, checker]) {
      const [lo, hi] = c.ci95!;
      assert.ok(lo <= c.changePct! && c.changePct! <= hi, `CI [${lo}, ${hi}] holds ${c.changePct}`);
    }
    console.log(
      `# demo, Shirt, A = run ${runA} shortcut, B = run ${runB} clean: matched recall ${result.matchedRecall}; ` +
        `thresholds ${tA} / ${tB}; overall ${JSON.stringify(result.overall)}; ` +
        `patterns ${JSON.stringify(result.patterns)}; untagged ${JSON.stringify(result.untagged)}`,
    );
    // Curves: a few hundred points at most, from the highest threshold down to full recall.
    for (const curve of [result.curves.a, result.curves.b]) {
      assert.ok(curve.length > 10 && curve.length <= 300, `${curve.length} points`);
      assert.equal(curve[curve.length - 1][0], 1);
    }
    assert.deepEqual(result.bootstrap, { n: 1000, seed: 1, thresholds: 'per-resample', skipped: 0 });

    // The same seed gives the same numbers; another seed another interval.
    assert.deepEqual(compare(dataDir, ...runArgs), result);
    assert.notDeepEqual(compare(dataDir, ...runArgs, '--seed', '2').overall.ci95, result.overall.ci95);

    // A given recall: both thresholds move to reach it.
    const at90 = compare(dataDir, ...runArgs, '--recall', '0.9', '--bootstrap', '200');
    assert.equal(at90.recallFrom, 'given');
    assert.equal(at90.matchedRecall, 0.9);
    assertLargestThreshold(a, at90.runs[0].threshold, 0.9, 'run A at 0.9');
    assertLargestThreshold(b, at90.runs[1].threshold, 0.9, 'run B at 0.9');
    assert.equal(at90.overall.a, fpAt(a, at90.runs[0].threshold));

    // The readable table says the same numbers.
    const table = vswOk(
      'compare',
      '--dataset',
      'demo',
      '--class',
      'Shirt',
      ...runArgs,
      '--data-dir',
      dataDir,
    );
    assert.match(table, new RegExp(`matched recall ${result.matchedRecall.toFixed(4)}`));
    assert.match(
      table,
      new RegExp(
        `tag checkerboard\\s+450\\s+${checker.a}\\s+${checker.b}\\s+${checker.changePct!.toFixed(1)}%`,
      ),
    );

    // ---- Refusals: exit 2, what is wrong and what to do. ----
    refused(dataDir, /give exactly two runs/, '--class', 'Shirt', '--run', String(runA));
    refused(dataDir, /"Cat" is not a class of run .*Shirt/, '--class', 'Cat', ...runArgs);
    refused(
      dataDir,
      /--recall must be a number above 0 and at most 1/,
      '--class',
      'Shirt',
      '--recall',
      '1.5',
      ...runArgs,
    );

    const write = new Database(path.join(dataDir, 'vsw.sqlite'));
    t.after(() => write.close());
    write.prepare("UPDATE runs SET status = 'cancelled' WHERE id = ?").run(runB);
    refused(
      dataDir,
      new RegExp(`run ${runB} is partial \\(cancelled, 2450 predictions\\)`),
      '--class',
      'Shirt',
      ...runArgs,
    );
    write.prepare("UPDATE runs SET status = 'done' WHERE id = ?").run(runB);

    // Test images beside pool ones: refused, unless one split is chosen.
    const testIds = a.filter((x) => x.id % 3 === 0).map((x) => x.id);
    const setSplit = write.prepare('UPDATE images SET split = ? WHERE id = ?');
    for (const id of testIds) setSplit.run('test', id);
    refused(
      dataDir,
      new RegExp(`mix the test split with others: ${testIds.length} in test .*--split test`),
      '--class',
      'Shirt',
      ...runArgs,
    );
    const testOnly = compare(dataDir, ...runArgs, '--split', 'test', '--bootstrap', '100');
    assert.equal(testOnly.images, testIds.length);
    assert.equal(testOnly.split, 'test');
    const inTest = new Set(testIds);
    const aTest = a.filter((x) => inTest.has(x.id));
    assertLargestThreshold(
      aTest,
      testOnly.runs[0].threshold,
      testOnly.matchedRecall,
      'run A on the test split',
    );
    for (const id of testIds) setSplit.run('pool', id);

    // Images exported for fine-tuning are training data: refused until that export is gone.
    const out = path.join(scratch, 'export');
    vswOk(
      'export',
      '--dataset',
      'demo',
      '--tags',
      'collar',
      '--layout',
      'imagefolder',
      '--media',
      'symlink',
      '--out',
      out,
      '--data-dir',
      dataDir,
    );
    const jobId = write.prepare("SELECT MAX(id) FROM jobs WHERE kind = 'export'").pluck().get() as number;
    refused(
      dataDir,
      new RegExp(
        `40 compared image\\(s\\) were exported for fine-tuning \\(e\\.g\\. Coat/.*export job ${jobId}`,
      ),
      '--class',
      'Shirt',
      ...runArgs,
    );
    vswOk('jobs', 'delete', String(jobId), '--data-dir', dataDir);
    assert.ok(fs.existsSync(path.join(out, 'export.json')), 'deleting the job keeps the finished export');
    assert.equal(compare(dataDir, ...runArgs, '--bootstrap', '0').overall.a, result.overall.a);

    // Runs over different images.
    const dropped = a[5];
    write.prepare('DELETE FROM predictions WHERE run_id = ? AND image_id = ?').run(runB, dropped.id);
    refused(
      dataDir,
      new RegExp(
        `not made on the same images: 1 image\\(s\\) have a prediction in run ${runA} only \\(e\\.g\\. ${dropped.relPath}\\) and 0 in run ${runB} only`,
      ),
      '--class',
      'Shirt',
      ...runArgs,
    );

    // A dataset without labels: nothing to count false positives against.
    const flat = path.join(scratch, 'flat');
    fs.mkdirSync(flat);
    for (const file of fs.readdirSync(path.join(DEMO, 'Shirt')).slice(0, 3))
      fs.copyFileSync(path.join(DEMO, 'Shirt', file), path.join(flat, file));
    vswOk('import', flat, '--dataset', 'flat', '--data-dir', dataDir);
    const flatRuns = [SHORTCUT, CLEAN].map((m) =>
      lastLine(
        vswOk('predict', '--dataset', 'flat', '--model', m, '--provider', 'cpu', '--data-dir', dataDir),
      ),
    );
    const r = vsw(
      'compare',
      '--dataset',
      'flat',
      '--class',
      'Shirt',
      '--run',
      flatRuns[0],
      '--run',
      flatRuns[1],
      '--data-dir',
      dataDir,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /dataset "flat" has no labels/);
  },
);
